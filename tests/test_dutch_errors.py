"""A Dutch user meets the errors of the seating rules, the seating's use cases, the Burgerraad's
voting keys and votes, and the summit's phases and staff roles in Dutch: each is raised here with
bad input, read in Dutch, and checked for English words and raw keys (the page walk's list,
tests/support/dutch.py). The roles and phases are named by their labels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.errors import SummitError
from summit.core.rules.roles import Phase, council_threshold, validate_mix
from summit.core.rules.summit_spec import SpecError, parse_summit_form, structural_changes
from summit.council.rules import credentials as cred
from summit.council.rules.voting import validate_allocation, validate_table_tally
from summit.lottery.rules.selection import (
    Person,
    Quota,
    find_distribution,
    quotas_from_shares,
    replace,
    reserve_order,
)
from summit.seating.rules import (
    ONLINE,
    Constraints,
    Host,
    Participant,
    SeatingError,
    SeatingSettings,
    VenueArea,
    apply_move,
    check_move,
    derive_pattern,
    rebalance,
    seat_rounds,
    seat_topics,
)
from summit.seating.service import as_invalid
from tests.support.dutch import english_in

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def dutch() -> Iterator[None]:
    i18n.load_catalogues(ROOT / "web" / "locale")
    with i18n.language("nl"):
        yield


def message_of(call: Callable[[], object]) -> str:
    """What the reader is shown of the error ``call`` raises: a seating rule's path (``settings.
    hosts: …``) becomes the field, as the seating's pages show it; the rest is the message."""
    try:
        call()
    except SeatingError as exc:
        return as_invalid(exc).detail
    except (SummitError, SpecError) as exc:
        return str(getattr(exc, "detail", exc))
    except ValueError as exc:
        return str(exc).split(": ", 1)[-1]
    raise AssertionError("no error was raised")


def people(n: int, mode: str = "venue", prefix: str = "p") -> list[Participant]:
    rng = np.random.default_rng(0)
    residents, each = n * 5 // 8, n // 8
    roles = (
        ["resident"] * residents
        + ["employer"] * each
        + ["civil_servant"] * each
        + ["free_thinker"] * (n - residents - 2 * each)
    )
    return [
        Participant(f"{prefix}{i:05d}", role, {"age": str(rng.integers(3))}, mode)
        for i, role in enumerate(roles)
    ]


def seating_errors() -> Iterator[tuple[str, Callable[[], object]]]:
    group = people(40)
    res = [p.id for p in group if p.role == "resident"]
    emp = [p.id for p in group if p.role == "employer"]
    online = people(16, mode=ONLINE, prefix="o")

    def rounds(
        who: list[Participant] = group, seed: Any = "x", **settings: Any
    ) -> Callable[[], object]:
        return lambda: seat_rounds(who, SeatingSettings(**settings), seed)

    yield "seed", rounds(seed=7)
    yield "role", rounds([Participant("zz", "mayor"), *group])
    yield "mode", rounds([Participant("zz", "resident", {}, "moon"), *group])
    yield "feature", rounds([Participant("zz", "resident"), *group], features=("age",))
    yield "rounds", rounds(rounds=0)
    yield "table size", rounds(table_size=1)
    yield "effort", rounds(effort=0)
    yield "features twice", rounds(features=("age", "age"))
    yield "weights", rounds(features=("age",), feature_weights={"wijk": 1.0})
    yield "negative weight", rounds(features=("age",), feature_weights={"age": -1.0})
    yield "id twice", rounds([*group, group[0]])
    yield "empty id", rounds([Participant("", "resident"), *group])
    yield "hybrid negative", rounds(hybrid_tables=-1)
    yield "hybrid half", rounds(hybrid_tables=2)
    yield "remote seats", rounds(hybrid_tables=1, remote_seats_per_hybrid_table=8)
    yield "remote people", rounds(hybrid_tables=2, remote_seats_per_hybrid_table=2)
    yield "too few", rounds(group[:5])
    yield "area negative", rounds(venue_areas=(VenueArea("Zaal A", -1),))
    yield "areas", rounds(venue_areas=(VenueArea("Zaal A", 1),))
    yield "hosts", rounds(hosts=(Host("h1"),))
    yield "host twice", rounds(hosts=(Host("h1"), Host("h1")))
    yield "host participant", rounds(hosts=(Host(res[0]),))
    yield "host mode", rounds(hosts=(Host("h1", "moon"),))
    yield "fixed unknown", rounds(constraints=Constraints(fixed_tables={"nobody": 1}))
    yield "fixed table", rounds(constraints=Constraints(fixed_tables={res[0]: 99}))
    yield (
        "fixed mode",
        rounds([*group, *online], constraints=Constraints(fixed_tables={"o00000": 1})),
    )
    yield (
        "fixed full",
        rounds(constraints=Constraints(fixed_tables={e: 1 for e in emp[:3]})),
    )
    yield "group big", rounds(constraints=Constraints(keep_together=(frozenset(res[:9]),)))
    yield "group seats", rounds(constraints=Constraints(keep_together=(frozenset(emp[:2]),)))
    yield "group unknown", rounds(constraints=Constraints(keep_together=(frozenset(["x", "y"]),)))
    yield (
        "group twice",
        rounds(
            constraints=Constraints(keep_together=(frozenset(res[:2]), frozenset([res[1], res[2]])))
        ),
    )
    yield (
        "together and apart",
        rounds(
            constraints=Constraints(
                keep_together=(frozenset(res[:2]),), keep_apart=(frozenset(res[:2]),)
            )
        ),
    )
    yield "apart unknown", rounds(constraints=Constraints(keep_apart=(frozenset(["x", "y"]),)))
    yield "pattern", lambda: derive_pattern({"resident": 3}, table_size=8)
    yield "pattern role", lambda: derive_pattern({"mayor": 30}, table_size=8)

    seated = seat_rounds(group, SeatingSettings(rounds=2), "x")
    yield "day round", lambda: check_move(seated, 9, res[0], 1)
    yield "move unknown", lambda: check_move(seated, 1, "nobody", 1)
    yield "move table", lambda: check_move(seated, 1, res[0], 99)
    yield "apply table", lambda: apply_move(seated, 1, res[0], 99)
    yield "absent unknown", lambda: rebalance(seated, 1, absent_ids=["nobody"])
    yield "arrived unknown", lambda: rebalance(seated, 1, arrived_ids=["nobody"])
    yield "arrived seated", lambda: rebalance(seated, 1, arrived_ids=[res[0]])
    yield "absent and arrived", lambda: rebalance(seated, 1, [res[0]], [res[0]])
    yield "new known", lambda: rebalance(seated, 1, new_participants=[group[0]])

    def topics(choices: dict[str, list[str]], names: list[str]) -> Callable[[], object]:
        return lambda: seat_topics(group, choices, names, SeatingSettings(), "x")

    yield "topics", topics({}, [])
    yield "topic unknown", topics({res[0]: ["Wonen", "Zorg", "Groen"]}, ["Wonen", "Zorg"])
    yield "topic choice", topics({res[0]: ["Verkeer"]}, ["Wonen", "Zorg"])
    yield "topic person", topics({"nobody": ["Wonen"]}, ["Wonen", "Zorg"])


def other_errors() -> Iterator[tuple[str, Callable[[], object]]]:
    yield "phase", lambda: Phase.CLOSED.next()
    yield "mix role", lambda: validate_mix({"mayor": 1.0})
    yield "council", lambda: council_threshold(0)
    spec = parse_summit_form(
        {
            "name": "G1000 Rivierstad",
            "municipality": "Rivierstad",
            "seats": "900",
            "mix_resident": "60",
            "mix_employer": "10",
            "mix_civil_servant": "10",
            "mix_politician": "10",
            "mix_free_thinker": "10",
            "language_nl": "on",
        }
    )
    yield "audit head", lambda: audit.parse_head("nope")
    yield "frozen", lambda: structural_changes("summit", {"seats": 1000}, spec)
    yield "secret", lambda: cred.parse_hex64("zz", "secret")
    key = cred.generate_key(1024).public
    yield "number", lambda: cred.parse_number("zz", "blinded", key)
    yield "modulus", lambda: cred.parse_number("f" * (2 * key.size), "blinded", key)
    yield "version", lambda: cred.ballot_receipt(1, "a" * 64, 1, 0)
    yield "dots", lambda: validate_allocation({"1": -1}, ["1"], 3)
    yield "tally", lambda: validate_table_tally({"1": -1}, ["1"], 3, 2)


def selection_errors() -> Iterator[tuple[str, Callable[[], object]]]:
    people = [Person(f"p{i}", {"g": "f" if i % 2 else "m"}) for i in range(12)]
    quotas = [Quota("g", "f", 3, 3), Quota("g", "m", 3, 3)]
    panel = ("p0", "p1", "p2", "p3", "p4", "p5")
    reserves = reserve_order(people, panel, quotas, "7")
    yield "seats", lambda: quotas_from_shares({"g": {"f": 1.0}}, 0)
    yield "tolerance", lambda: quotas_from_shares({"g": {"f": 1.0}}, 6, tolerance=2.0)
    yield "shares", lambda: quotas_from_shares({"g": {"f": 0.0}}, 6)
    yield "pool", lambda: find_distribution(people, quotas, 20)
    yield "twice", lambda: find_distribution(people, [*quotas, quotas[0]], 6)
    yield "bounds", lambda: find_distribution(people, [Quota("g", "f", 3, 1), quotas[1]], 6)
    yield "no quota", lambda: find_distribution(people, quotas[:1], 6)
    yield "algorithm", lambda: find_distribution(people, quotas, 6, algorithm="magic")
    yield "panel", lambda: replace(panel, "p9", people, quotas, reserves)
    everyone_f = [p.id for p in people if p.features["g"] == "f"]
    yield (
        "no reserve",
        lambda: replace(panel, "p1", people, quotas, reserves, unavailable=everyone_f),
    )


def test_the_selection_rules_speak_dutch() -> None:
    count, problems = _found(selection_errors())
    assert count >= 10 and not problems, "\n".join(problems)


def _found(cases: Iterator[tuple[str, Callable[[], object]]]) -> tuple[int, list[str]]:
    count, problems = 0, []
    for name, call in cases:
        text = message_of(call)
        count += 1
        if not text or english_in(text):
            problems.append(f"{name}: {text!r} {english_in(text)}")
    return count, problems


def test_the_seating_rules_speak_dutch() -> None:
    count, problems = _found(seating_errors())
    assert count >= 45 and not problems, "\n".join(problems)


def test_the_rules_of_phases_mixes_and_votes_speak_dutch() -> None:
    count, problems = _found(other_errors())
    assert count >= 7 and not problems, "\n".join(problems)
    assert message_of(lambda: Phase.CLOSED.next()) == (
        "een afgesloten Burgertop heeft geen volgende fase"
    )


@pytest.mark.anyio
async def test_phases_and_staff_roles_are_named_by_their_labels(database: Any) -> None:
    async with database.session() as session:
        summit = await repository.create_summit(
            session, actor="test", slug="rivierstad", name="G1000 Rivierstad", municipality="R"
        )
        try:
            await repository.advance_phase(session, summit, actor="test", to="selection")
        except SummitError as exc:
            phase = str(exc.detail)
        try:
            await repository.add_staff_user(session, "bea", "a long password", "admin")
        except SummitError as exc:
            role = str(exc.detail)
    assert phase == "een burgertop in fase Coalitie kan alleen door naar Uitnodigingen"
    assert role == "kies een van: Organisator, Moderator"
    assert not english_in(phase) and not english_in(role)


def test_the_warnings_of_a_manual_move_speak_dutch() -> None:
    group = people(40)
    res = [p.id for p in group if p.role == "resident"]
    settings = SeatingSettings(
        rounds=2, constraints=Constraints(keep_together=(frozenset(res[:2]),), fixed_tables={})
    )
    seated = seat_rounds(group, settings, "x")
    warnings = {
        v.message
        for pid in (res[0], group[-1].id)
        for table in range(1, len(seated.tables) + 1)
        for v in check_move(seated, 1, pid, table)
    }
    assert len(warnings) >= 3
    problems = [f"{text!r} {english_in(text)}" for text in warnings if english_in(text)]
    assert not problems, "\n".join(problems)
