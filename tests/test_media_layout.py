"""Slot layout: the access rule (only table-mates) and stable tiles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summit.media import assign_slots

names = st.sampled_from([f"p{i}" for i in range(12)])


@given(
    previous=st.lists(st.one_of(st.none(), names), max_size=10),
    candidates=st.lists(names, max_size=12),
    slots=st.integers(0, 10),
)
def test_layout_invariants(previous: list[str | None], candidates: list[str], slots: int) -> None:
    layout = assign_slots(previous, candidates, slots)
    shown = [p for p in layout if p is not None]
    assert len(layout) == slots
    assert set(shown) <= set(candidates)  # never anyone from another table
    assert len(shown) == len(set(shown))  # nobody twice
    assert len(shown) == min(slots, len(set(candidates)))  # no empty slot while someone waits
    first_position: dict[str, int] = {}
    for i, p in enumerate(previous[:slots]):
        if p is not None:
            first_position.setdefault(p, i)
    for who, i in first_position.items():
        if who in candidates:
            assert layout[i] == who  # stable tiles


def test_newcomer_takes_the_freed_slot() -> None:
    assert assign_slots(["a", "b", "c"], ["a", "c", "d"], 3) == ["a", "d", "c"]
    with pytest.raises(ValueError, match="slots"):
        assign_slots([], ["a"], -1)
