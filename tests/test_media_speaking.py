"""Speaking time from RFC 6464 levels, per-table equity (Gini) and who is still silent."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summit.media import MediaValueError, SpeakingMeter, gini, table_speaking


def test_steady_speech_counts_its_duration_and_silence_counts_nothing() -> None:
    meter = SpeakingMeter(threshold=50, hangover=0.3, packet_duration=0.02)
    for i in range(150):  # 3 s of 20 ms packets
        meter.feed("loud", i * 0.02, 20)
        meter.feed("quiet", i * 0.02, 127)
    assert meter.seconds("loud") == pytest.approx(3.0, abs=1e-9)
    assert meter.seconds("quiet") == 0.0
    assert meter.seconds("absent") == 0.0


def test_hangover_bridges_short_pauses_only() -> None:
    meter = SpeakingMeter(threshold=50, hangover=0.3, packet_duration=0.02)
    meter.feed("a", 0.0, 10)
    meter.feed("a", 0.2, 10)  # 0.18 s pause: bridged
    assert meter.seconds("a") == pytest.approx(0.22)
    meter.feed("a", 1.0, 10)  # 0.78 s pause: a new segment
    assert meter.seconds("a") == pytest.approx(0.24)


@given(
    st.lists(st.tuples(st.floats(0, 0.5), st.integers(0, 127)), min_size=1, max_size=80),
    st.integers(0, 127),
    st.floats(0, 1),
)
def test_meter_bounds(steps: list[tuple[float, int]], threshold: int, hangover: float) -> None:
    meter = SpeakingMeter(threshold=threshold, hangover=hangover, packet_duration=0.02)
    t = 0.0
    times = []
    for dt, level in steps:
        t += dt
        times.append((t, level))
        meter.feed("p", t, level)
    loud = [x for x, lvl in times if lvl <= threshold]
    seconds = meter.seconds("p")
    if not loud:
        assert seconds == 0.0
    else:
        # At least one packet's worth per distinct loud instant, at most the loud span.
        assert seconds >= 0.02 - 1e-9
        assert seconds <= loud[-1] - loud[0] + 0.02 + 1e-9
        assert seconds <= 0.02 * len(loud) + hangover * (len(loud) - 1) + 1e-9
    quieter = SpeakingMeter(threshold=max(0, threshold - 10), hangover=hangover)
    for x, lvl in times:
        quieter.feed("p", x, lvl)
    assert quieter.seconds("p") <= seconds + 1e-9  # a stricter threshold never counts more


def test_meter_rejects_bad_input() -> None:
    meter = SpeakingMeter()
    with pytest.raises(MediaValueError, match="level"):
        meter.feed("p", 0.0, 128)
    meter.feed("p", 1.0, 10)
    with pytest.raises(MediaValueError, match="time order"):
        meter.feed("p", 0.5, 10)
    with pytest.raises(MediaValueError, match="threshold"):
        SpeakingMeter(threshold=200)


values = st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=20)


@given(values)
def test_gini_bounds_and_invariances(xs: list[float]) -> None:
    g = gini(xs)
    n = len(xs)
    assert 0.0 <= g <= 1 - 1 / n + 1e-9
    assert gini(list(reversed(xs))) == pytest.approx(g, abs=1e-9)
    if sum(xs) > 1e-6:
        assert gini([3 * x for x in xs]) == pytest.approx(g, abs=1e-9)


def test_gini_extremes() -> None:
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)
    assert gini([]) == 0.0
    with pytest.raises(MediaValueError):
        gini([1, -1])
    assert math.isclose(gini([1, 2, 3, 4]), 0.25)


def test_table_summary_names_the_silent_members() -> None:
    summary = table_speaking("t97", ["a", "b", "c"], {"a": 60.0, "b": 2.0}, min_seconds=5)
    assert summary.silent == ("b", "c")
    assert summary.seconds == {"a": 60.0, "b": 2.0, "c": 0.0}
    assert summary.gini == pytest.approx(gini([60, 2, 0]))
    assert summary.as_dict()["silent"] == ["b", "c"]
