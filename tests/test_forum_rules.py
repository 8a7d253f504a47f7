"""The forum's pure rules: reaction texts and their duplicate hash, postcodes, keyed reactor
hashes, the workshop draw (the lottery's committed draw: reproducible and verifiable), and the
time window of an online meeting's video room."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summit.core.errors import InvalidInput
from summit.core.rules.draw import DrawEntry, verify_draw
from summit.forum.rules import reactions as rules
from summit.forum.rules.meetings import RoomState, room_window
from summit.forum.rules.workshops import commit_draw, run_draw


@given(st.text(alphabet="abcdefghij XYZ éë", min_size=3, max_size=50))
def test_spacing_and_case_do_not_make_a_new_reaction(text: str) -> None:
    spaced = "  " + text.upper().replace(" ", " \t ") + "\n"
    assert rules.text_digest(text) == rules.text_digest(spaced)
    assert rules.text_digest(text) != rules.text_digest(text + " anders")


def test_reaction_texts_are_checked() -> None:
    assert rules.clean_text("  Goed plan  ", 100) == "Goed plan"
    for bad in ("", "  ", "ab", "x" * 101):
        with pytest.raises(InvalidInput) as err:
            rules.clean_text(bad, 100)
        assert err.value.field == "text"


@pytest.mark.parametrize(
    ("typed", "allowed", "ok"),
    [
        ("1234 ab", ["1234"], True),
        ("1234AB", ["1234AB"], True),
        ("1234 AC", ["1234AB"], False),
        ("4321 AB", ["1234"], False),
        ("1234", ["1234"], True),
    ],
)
def test_postcodes_match_a_full_code_or_its_area(typed: str, allowed: list[str], ok: bool) -> None:
    assert rules.postcode_allowed(rules.normalise_postcode(typed), allowed) is ok


def test_the_postcode_list_is_parsed_and_bad_entries_named() -> None:
    assert rules.parse_postcodes(["1234, 5678 ab\n9999"]) == ["1234", "5678AB", "9999"]
    with pytest.raises(InvalidInput, match="12X"):
        rules.parse_postcodes(["1234, 12X"])


def test_reactor_keys_depend_on_the_secret_and_hide_the_value() -> None:
    a = rules.reactor_key("secret-1", "email", "ann@example.org")
    assert a == rules.reactor_key("secret-1", "email", "ann@example.org")
    assert a != rules.reactor_key("secret-2", "email", "ann@example.org")
    assert "ann" not in a and len(a) == 64


@given(
    st.lists(st.from_regex(r"P-[0-9A-F]{8}", fullmatch=True), min_size=2, max_size=30, unique=True),
    st.integers(min_value=1, max_value=29),
    st.from_regex(r"[0-9]{10}", fullmatch=True),
)
def test_the_workshop_draw_is_reproducible_and_verifies(
    volunteers: list[str], seats: int, seed: str
) -> None:
    if seats >= len(volunteers):
        with pytest.raises(InvalidInput):
            commit_draw(volunteers, seats, software_version="test")
        return
    commitment = commit_draw(volunteers, seats, software_version="test")
    drawn = run_draw(list(reversed(volunteers)), commitment, seed)  # order does not matter
    assert drawn == run_draw(volunteers, commitment, seed)
    assert len(drawn) == seats and set(drawn) <= set(volunteers)
    assert verify_draw([DrawEntry(v) for v in volunteers], commitment, seed, drawn).ok


def test_a_meeting_room_opens_before_the_start_and_closes_after_the_end() -> None:
    start = dt.datetime(2030, 1, 10, 19, 30, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    window = room_window(start, {})  # defaults: 120 minutes, open 30 before and 30 after
    assert window.opens == start - 30 * minute
    assert window.ends == start + 120 * minute and window.closes == start + 150 * minute
    assert window.state(window.opens - dt.timedelta(seconds=1)) is RoomState.EARLY
    assert window.state(window.opens) is RoomState.OPEN
    assert window.state(window.closes - dt.timedelta(seconds=1)) is RoomState.OPEN
    assert window.state(window.closes) is RoomState.CLOSED
    given_settings = {
        "forum_meeting_minutes": 45,
        "forum_room_opens_before": 0,
        "forum_room_closes_after": 5,
    }
    window = room_window(start, given_settings)
    assert (window.opens, window.closes) == (start, start + 50 * minute)
    # A setting that is not a whole number of minutes within a day takes its default.
    for bad in (-1, 24 * 60 + 1, "15", True, None, 2.5):
        odd = room_window(start, {"forum_room_opens_before": bad, "forum_meeting_minutes": bad})
        assert odd == room_window(start, None)
