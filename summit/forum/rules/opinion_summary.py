"""What the opinion map shows, and the statistics behind it: each group's representative
statements (Pol.is's repness) and the group-informed consensus, from the agree / disagree / pass
tallies per group and statement; the map's output types and their JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

AGREE, DISAGREE, PASS = 1, -1, 0
#: One-sided 90 % significance of a z statistic (Pol.is's threshold).
_Z90 = 1.2816
_DIGITS = 6


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MapSettings:
    """The method's knobs; the defaults are the measured ones (``docs/opinion-map.md``)."""

    #: Votes a voter needs to join the map (or all statements, when there are fewer).
    min_votes: int = 7
    #: While fewer voters qualify, the most active ones are added up to this many.
    min_voters: int = 15
    base_clusters: int = 100
    max_groups: int = 5
    #: Smallest group, as a share of the voters on the map, and absolutely.
    min_group_share: float = 0.05
    min_group_size: int = 3
    #: Seeded k-means starts per number of groups.
    restarts: int = 20
    #: A larger number of groups must beat the smaller one's silhouette by more than this.
    k_tolerance: float = 0.01
    #: Consensus: every group's smoothed agree (or disagree) share at least this.
    consensus_share: float = 0.6
    #: Representative statements listed per group.
    representatives: int = 5
    #: The builder rebuilds when votes grew by this share since the last build (at least
    #: ``rebuild_min_votes`` votes).
    rebuild_growth: float = 0.1
    rebuild_min_votes: int = 50

    def __post_init__(self) -> None:
        for name in (
            "min_votes",
            "min_voters",
            "base_clusters",
            "max_groups",
            "min_group_size",
            "restarts",
            "representatives",
            "rebuild_min_votes",
        ):
            _check(name, getattr(self, name), 1, None, integer=True)
        _check("min_group_share", self.min_group_share, 0.0, 0.5)
        _check("k_tolerance", self.k_tolerance, 0.0, 1.0)
        _check("consensus_share", self.consensus_share, 0.5, 1.0)
        _check("rebuild_growth", self.rebuild_growth, 0.0, None)


def _check(
    name: str, value: float, low: float, high: float | None, *, integer: bool = False
) -> None:
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"MapSettings.{name} must be {kind}, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"MapSettings.{name} must be {bound}, got {value!r}")


# --- outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementStance:
    """A statement that sets a group apart, with the group's shares of agree/disagree/pass."""

    statement: str
    stance: str
    agree: float
    disagree: float
    passed: float
    votes: int
    #: How much likelier the stance is inside the group than outside it (smoothed).
    ratio: float
    #: Two-proportion z statistic of the stance, group against the other groups.
    z: float


@dataclass(frozen=True, slots=True)
class GroupSummary:
    id: int
    size: int
    center: tuple[float, float]
    representative: tuple[StatementStance, ...]


@dataclass(frozen=True, slots=True)
class ConsensusStatement:
    """A statement every group leans the same way on; ``shares`` per group, smoothed."""

    statement: str
    stance: str
    score: float
    shares: tuple[float, ...]


@dataclass(frozen=True)
class OpinionMap:
    """One state of the map. ``groups`` and ``coordinates`` cover the voters on the map."""

    seed: int
    groups: Mapping[str, int]
    coordinates: Mapping[str, tuple[float, float]]
    summaries: tuple[GroupSummary, ...]
    consensus: tuple[ConsensusStatement, ...]
    silhouette: float
    voters: int
    votes: int
    statements: int
    excluded: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return len(self.summaries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "voters": self.voters,
            "votes": self.votes,
            "statements": self.statements,
            "excluded": list(self.excluded),
            "silhouette": round_float(self.silhouette),
            "participants": {
                voter: {
                    "group": group,
                    "x": self.coordinates[voter][0],
                    "y": self.coordinates[voter][1],
                }
                for voter, group in self.groups.items()
            },
            "groups": [
                {
                    "id": g.id,
                    "size": g.size,
                    "center": list(g.center),
                    "representative": [_stance_dict(s) for s in g.representative],
                }
                for g in self.summaries
            ],
            "consensus": [
                {
                    "statement": c.statement,
                    "stance": c.stance,
                    "score": c.score,
                    "shares": list(c.shares),
                }
                for c in self.consensus
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def _stance_dict(s: StatementStance) -> dict[str, Any]:
    return {
        "statement": s.statement,
        "stance": s.stance,
        "agree": s.agree,
        "disagree": s.disagree,
        "pass": s.passed,
        "votes": s.votes,
        "ratio": s.ratio,
        "z": s.z,
    }


def round_float(x: float) -> float:
    value = round(float(x), _DIGITS)
    return 0.0 if value == 0 else value


def rounded(values: Floats) -> Floats:
    """Rounded for export, without negative zeros."""
    return np.asarray(np.round(values, _DIGITS) + 0.0)


# --- statistics from tallies --------------------------------------------------------------------


def _prop_z(success: Floats, trials: Floats) -> Floats:
    """Pol.is's one-proportion z (against one half), with a pseudo-count."""
    return np.asarray(2 * np.sqrt(trials + 1) * ((success + 1) / (trials + 1) - 0.5))


def _two_prop_z(
    success_in: Floats, success_out: Floats, trials_in: Floats, trials_out: Floats
) -> Floats:
    s1, s2, n1, n2 = success_in + 1, success_out + 1, trials_in + 1, trials_out + 1
    pooled = (s1 + s2) / (n1 + n2)
    spread = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / n1 + 1 / n2), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s1 / n1 - s2 / n2) / spread
    return np.asarray(np.where(spread > 0, z, 0.0))


def group_consensus(tally: Floats, share: float) -> tuple[Floats, Floats, Floats, Floats]:
    """Group-informed consensus from a statements x groups x (agree, disagree, pass) tally.

    Returns the agree and disagree scores (product over groups of ``(n+1)/(S+2)``, Pol.is's
    group-aware consensus) and whether every group's smoothed share reaches ``share``.
    """
    seen = tally.sum(axis=2)
    agree = (tally[:, :, 0] + 1) / (seen + 2)
    disagree = (tally[:, :, 1] + 1) / (seen + 2)
    return (
        agree.prod(axis=1),
        disagree.prod(axis=1),
        (agree >= share).all(axis=1).astype(np.float64),
        (disagree >= share).all(axis=1).astype(np.float64),
    )


def consensus(
    statements: list[str], tally: Floats, settings: MapSettings
) -> tuple[ConsensusStatement, ...]:
    if tally.shape[1] == 0:
        return ()
    agree, disagree, agreed, rejected = group_consensus(tally, settings.consensus_share)
    seen = tally.sum(axis=2) + 2
    found: list[tuple[float, int, ConsensusStatement]] = []
    for stance, score, passed, slot in (
        ("agree", agree, agreed, 0),
        ("disagree", disagree, rejected, 1),
    ):
        rows = np.flatnonzero(passed)
        shares = rounded((tally[rows, :, slot] + 1) / seen[rows]).tolist()
        scores = rounded(score[rows]).tolist()
        found.extend(
            (-float(score[i]), int(i), ConsensusStatement(statements[i], stance, sc, tuple(sh)))
            for i, sc, sh in zip(rows, scores, shares, strict=True)
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(item[2] for item in found)


def representatives(
    statements: list[str], tally: Floats, group: int, settings: MapSettings
) -> tuple[StatementStance, ...]:
    """Pol.is's repness for one group: significant and distinctive statements, best first."""
    inside = tally[:, group, :]
    outside = tally.sum(axis=1) - inside
    n_in, n_out = inside.sum(axis=1), outside.sum(axis=1)
    stats = {}
    for name, slot in (("agree", 0), ("disagree", 1)):
        p = (inside[:, slot] + 1) / (n_in + 2)
        ratio = p / ((outside[:, slot] + 1) / (n_out + 2))
        z_share = _prop_z(inside[:, slot], n_in)
        z_rest = _two_prop_z(inside[:, slot], outside[:, slot], n_in, n_out)
        significant = (z_rest > _Z90) & (z_share > _Z90)
        stats[name] = (ratio, z_rest, ratio * z_rest * p * z_share, significant)
    agree_first = stats["agree"][1] > stats["disagree"][1]
    voted = n_in > 0
    passing = voted & np.where(agree_first, stats["agree"][3], stats["disagree"][3])
    metric = np.where(agree_first, stats["agree"][2], stats["disagree"][2])
    rows = np.flatnonzero(passing)
    chosen = [int(i) for i in rows[np.lexsort((rows, -metric[rows]))]]
    if not chosen and voted.any():
        strongest = np.where(voted, np.maximum(stats["agree"][1], stats["disagree"][1]), -np.inf)
        chosen = [int(np.argmax(strongest))]
    found = []
    for i in chosen[: settings.representatives]:
        name = "agree" if agree_first[i] else "disagree"
        votes = max(int(n_in[i]), 1)
        found.append(
            StatementStance(
                statement=statements[i],
                stance=name,
                agree=round_float(inside[i, 0] / votes),
                disagree=round_float(inside[i, 1] / votes),
                passed=round_float(inside[i, 2] / votes),
                votes=int(n_in[i]),
                ratio=round_float(stats[name][0][i]),
                z=round_float(stats[name][1][i]),
            )
        )
    return tuple(found)
