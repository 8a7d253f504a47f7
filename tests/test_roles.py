from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summit.core.rules.roles import (
    DEFAULT_MIX,
    Phase,
    Role,
    council_threshold,
    seats_per_role,
    validate_mix,
)
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)


def test_default_mix_is_the_dutch_g1000_mix() -> None:
    assert seats_per_role(DEFAULT_MIX, 1000) == {
        "resident": 600,
        "employer": 100,
        "civil_servant": 100,
        "politician": 100,
        "free_thinker": 100,
    }


@given(
    weights=st.lists(st.integers(0, 100), min_size=5, max_size=5).filter(lambda w: sum(w) > 0),
    seats=st.integers(0, 5000),
)
def test_seats_per_role_fills_every_seat_and_stays_within_one_of_the_share(
    weights: list[int], seats: int
) -> None:
    total = sum(weights)
    mix = {role.value: w / total for role, w in zip(Role, weights, strict=True)}
    result = seats_per_role(mix, seats)
    assert sum(result.values()) == seats
    for role in Role:
        assert abs(result[role.value] - mix[role.value] * seats) < 1


def test_mix_must_add_up_and_name_known_roles() -> None:
    with pytest.raises(ValueError, match="100 %"):  # in the current language
        validate_mix({"resident": 0.5, "employer": 0.1})
    with pytest.raises(ValueError, match="unknown role"):
        validate_mix({"resident": 0.9, "mayor": 0.1})
    with pytest.raises(ValueError, match="negative"):
        validate_mix({"resident": 1.2, "employer": -0.2})


def test_council_threshold_is_half_of_the_members_plus_one() -> None:
    assert council_threshold(1000) == 501
    assert council_threshold(1) == 1
    with pytest.raises(ValueError):
        council_threshold(0)


@given(st.integers(1, 100_000))
def test_council_threshold_is_the_smallest_strict_majority_of_members(members: int) -> None:
    needed = council_threshold(members)
    assert needed > members / 2
    assert needed - 1 <= members / 2


def test_phases_follow_the_g1000_lifecycle() -> None:
    order = [Phase.COALITION]
    while order[-1] != Phase.CLOSED:
        order.append(order[-1].next())
    assert [p.value for p in order] == [
        "coalition",
        "invitations",
        "registration",
        "selection",
        "summit",
        "forum",
        "council",
        "monitor",
        "closed",
    ]
    with pytest.raises(ValueError):
        Phase.CLOSED.next()
