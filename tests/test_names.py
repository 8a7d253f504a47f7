"""Repeated first names at one table are numbered so people can be told apart (pure rule)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from summit.core.rules.names import distinct_names


def test_only_repeated_names_get_a_number_in_order() -> None:
    assert distinct_names(["Anna", "Bram", "Anna", "Cem"]) == [
        "Anna (1)",
        "Bram",
        "Anna (2)",
        "Cem",
    ]
    assert distinct_names([]) == []


def test_a_number_never_collides_with_a_real_name() -> None:
    out = distinct_names(["Anna", "Anna", "Anna (1)"])
    assert len(set(out)) == 3 and out[2] == "Anna (1)"


@given(st.lists(st.sampled_from(["Anna", "Bram", "Anna (1)", "Anna (2)", "—"]), max_size=12))
def test_the_names_come_out_distinct_and_in_the_same_order(names: list[str]) -> None:
    out = distinct_names(names)
    assert len(out) == len(names) and len(set(out)) == len(out)
    for before, after in zip(names, out, strict=True):
        assert after == before or after.startswith(before + " (")
