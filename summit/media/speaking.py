"""Speaking time (spreektijd) from the RTP audio-level header extension — no decoding.

Every Opus packet a browser sends carries its level as ``-dBov`` (RFC 6464: 0 is the loudest,
127 silence). A participant speaks while the level is at or below ``threshold``; pauses shorter
than ``hangover`` between loud packets count as speech (breathing, short consonants), so the
speaking time of one participant is the length of the union of ``[t, t + packet_duration]`` over
loud packets, after bridging gaps shorter than the hangover.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import MediaValueError

MAX_LEVEL = 127


@dataclass
class _Track:
    closed: float = 0.0
    start: float | None = None
    end: float = 0.0
    last_t: float = -math.inf


@dataclass(frozen=True)
class TableSpeaking:
    """Speaking time at one table in one round."""

    table_id: str
    seconds: Mapping[str, float]
    gini: float
    silent: tuple[str, ...]
    """Members who have spoken less than ``min_seconds`` (in seating order)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "table_id": self.table_id,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "gini": round(self.gini, 4),
            "silent": list(self.silent),
        }


@dataclass
class SpeakingMeter:
    """Accumulates speaking seconds per key (e.g. ``(table_id, participant_id)``)."""

    threshold: int = 50
    hangover: float = 0.3
    packet_duration: float = 0.02
    _tracks: dict[Hashable, _Track] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= MAX_LEVEL:
            raise MediaValueError(f"threshold: must be 0..127, got {self.threshold!r}")
        if self.hangover < 0 or not math.isfinite(self.hangover):
            raise MediaValueError(f"hangover: must be >= 0 seconds, got {self.hangover!r}")
        if self.packet_duration <= 0 or not math.isfinite(self.packet_duration):
            raise MediaValueError(
                f"packet_duration: must be > 0 seconds, got {self.packet_duration!r}"
            )

    def feed(self, key: Hashable, t: float, level: int) -> None:
        """Record one audio packet of ``key`` received at time ``t`` (seconds) with ``level``."""
        if not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
            raise MediaValueError(f"level: must be an integer 0..127, got {level!r}")
        if not math.isfinite(t):
            raise MediaValueError(f"t: must be a finite time in seconds, got {t!r}")
        track = self._tracks.setdefault(key, _Track())
        if t < track.last_t:
            raise MediaValueError(
                f"t: packets of {key!r} must arrive in time order ({t} < {track.last_t})"
            )
        track.last_t = t
        if level > self.threshold:
            return
        if track.start is not None and t - track.end <= self.hangover:
            track.end = max(track.end, t + self.packet_duration)
            return
        if track.start is not None:
            track.closed += track.end - track.start
        track.start, track.end = t, t + self.packet_duration

    def seconds(self, key: Hashable) -> float:
        track = self._tracks.get(key)
        if track is None:
            return 0.0
        open_part = 0.0 if track.start is None else track.end - track.start
        return track.closed + open_part

    def tracked(self) -> list[Hashable]:
        return list(self._tracks)


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative values: 0 when everyone speaks equally long, towards 1
    when one person does all the talking. Zero when nobody has spoken."""
    xs = sorted(float(v) for v in values)
    for v in xs:
        if v < 0 or not math.isfinite(v):
            raise MediaValueError(f"values: must be finite and >= 0, got {v!r}")
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    # Sorted-order formula: G = sum_i (2i - n - 1) x_i / (n * sum x), i = 1..n.
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(xs, start=1))
    return max(0.0, weighted / (n * total))


def table_speaking(
    table_id: str,
    members: Sequence[str],
    seconds: Mapping[str, float],
    min_seconds: float = 5.0,
) -> TableSpeaking:
    """Summarise one table: seconds per member, their Gini coefficient, and who is still silent."""
    per_member = {m: float(seconds.get(m, 0.0)) for m in members}
    return TableSpeaking(
        table_id=table_id,
        seconds=per_member,
        gini=gini(per_member.values()),
        silent=tuple(m for m in members if per_member[m] < min_seconds),
    )
