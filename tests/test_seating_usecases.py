"""Seating use cases on SQLite and PostgreSQL: seat, verify, rounds, the day, topic rounds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.models import AuditEntry, Participant, Round, Seat
from summit.seating import service as uc
from summit.seating import settings as seating_settings
from summit.seating import topic_rounds
from summit.seating import verify as seating_verify
from summit.seating.changes import (
    MoveRefused,
    check_manual_move,
    load_seating,
    move_participant,
    rebalance_round,
)
from summit.seating.models import SeatingRun
from summit.seating.rules import Table
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)
from tests.support.seating import make_seated_summit

pytestmark = pytest.mark.anyio


async def summit_of(session: Any, summit_id: int) -> Any:
    return await repository.get_summit(session, summit_id)


async def count(session: Any, action: str) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )
    )


async def test_seating_stores_every_round_logs_it_and_verifies(database: Any) -> None:
    summit_id = await make_seated_summit(database)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        rounds = await uc.rounds_of(session, summit_id)
        assert [r.number for r in rounds] == [1, 2] and {r.status for r in rounds} == {"planned"}
        for rnd in rounds:
            tables = await uc.round_tables(session, rnd)
            assert len(tables) == 3
            seated = [p.pseudonym for t in tables for p in t.people]
            assert len(seated) == len(set(seated)) == 27
            assert all(t.host is not None and len(t.members) == 8 for t in tables)
        entries = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "seating.round")
                    .order_by(AuditEntry.seq)
                )
            )
            .scalars()
            .all()
        )
        assert [e.payload["round"] for e in entries] == [1, 2]
        run = await uc.active_run(session, summit_id)
        assert entries[0].payload["inputs_hash"] == uc.inputs_hash(run.inputs) == run.inputs_hash
        assert entries[0].payload["seed"] == "dice 3 1 4 1 5"
        assert sum(len(v) for v in entries[0].payload["tables"].values()) == 24
        for number in (1, 2):
            result = await seating_verify.verify_round(session, summit, number)
            assert result.ok, result.message
            assert str(result).startswith("MATCH")


async def test_reseat_replaces_an_unstarted_seating_but_not_an_open_one(database: Any) -> None:
    summit_id = await make_seated_summit(database)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        first = await uc.active_run(session, summit_id)
        await uc.seat_summit(session, summit, actor="S-org", seed="another seed")
        second = await uc.active_run(session, summit_id)
        assert second.id != first.id and second.seed == "another seed"
        assert await session.scalar(select(func.count()).select_from(Round)) == 2
        assert await session.scalar(select(func.count()).select_from(Seat)) == 2 * 27
        await uc.open_round(session, summit, actor="S-org", number=1, minutes=40)
    with pytest.raises(InvalidInput) as err:
        async with database.session() as session:
            summit = await summit_of(session, summit_id)
            await uc.seat_summit(session, summit, actor="S-org", seed="third")
    assert err.value.field == "rounds" and "open" in str(err.value)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        assert (await uc.active_run(session, summit_id)).seed == "another seed"
        with pytest.raises(InvalidInput, match="still open"):
            await uc.open_round(session, summit, actor="S-org", number=2)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        rnd, events = await uc.close_round(session, summit, actor="S-org", number=1)
        assert rnd.status == "closed" and events[0][1]["status"] == "closed"
        rnd, _events = await uc.open_round(session, summit, actor="S-org", number=2, minutes=30)
        assert rnd.status == "open" and rnd.ends_at is not None and rnd.started_at is not None
        assert (rnd.ends_at - rnd.started_at).total_seconds() == 1800
        assert await count(session, "round.open") == 2 and await count(session, "round.close") == 1


async def test_a_tampered_input_or_seat_is_reported_by_the_verification(database: Any) -> None:
    summit_id = await make_seated_summit(database)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        run = await uc.active_run(session, summit_id)
        inputs = dict(run.inputs)
        people = [dict(p) for p in inputs["participants"]]
        people[0]["features"] = {**people[0]["features"], "gender": "x"}
        run.inputs = {**inputs, "participants": people}
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        result = await seating_verify.verify_round(session, summit, 1)
        assert not result.ok and result.message.startswith("inputs:")
        # a published inputs file that is the original still verifies
        assert (await seating_verify.verify_round(session, summit, 1, inputs=inputs)).ok
        run = await uc.active_run(session, summit_id)
        run.inputs = inputs
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        rnd = await uc.get_round(session, summit_id, 2)
        tables = await uc.round_tables(session, rnd)
        mover = tables[0].members[0]
        seat = await session.scalar(
            select(Seat).where(Seat.round_id == rnd.id, Seat.participant_id == mover.participant_id)
        )
        seat.table_id = tables[1].table_id  # behind the log's back
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        assert (await seating_verify.verify_round(session, summit, 1)).ok
        result = await seating_verify.verify_round(session, summit, 2)
        assert not result.ok and "database" in result.message and "table 1" in result.message


async def test_rebalance_logs_every_move_and_keeps_the_verification(database: Any) -> None:
    summit_id = await make_seated_summit(database)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        await uc.open_round(session, summit, actor="S-org", number=1)
        rnd = await uc.get_round(session, summit_id, 1)
        absent = (await uc.round_tables(session, rnd))[0].members[0]
        outcome = await rebalance_round(session, summit, actor="S-org", absent=[absent.pseudonym])
        assert outcome.moves and await count(session, "seating.move") == len(outcome.moves)
        assert {m.participant_id for m in outcome.moves if m.reason == "absent"} == {
            absent.pseudonym
        }
        channels = {channel for channel, _event in outcome.events}
        assert f"participant:{absent.participant_id}" in channels
        assert f"summit:{summit_id}" in channels
        seats = await session.scalar(
            select(func.count())
            .select_from(Seat)
            .where(Seat.participant_id == absent.participant_id)
        )
        assert seats == 0
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        for number in (1, 2):
            assert (await seating_verify.verify_round(session, summit, number)).ok
        outcome = await rebalance_round(session, summit, actor="S-org", arrived=[absent.pseudonym])
        assert [m.reason for m in outcome.moves if m.participant_id == absent.pseudonym] == [
            "arrived",
            "arrived",
        ]
        loaded = await load_seating(session, summit)
        assert loaded.seating.table_of(1, absent.pseudonym) is not None
        for number in (1, 2):
            assert (await seating_verify.verify_round(session, summit, number)).ok


async def test_a_manual_move_that_breaks_a_rule_needs_an_override(database: Any) -> None:
    summit_id = await make_seated_summit(database)
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        rnd = await uc.get_round(session, summit_id, 1)
        tables = await uc.round_tables(session, rnd)
        employer = next(p for p in tables[0].members if p.role == "employer")
        violations = await check_manual_move(
            session, summit, round_number=1, pseudonym=employer.pseudonym, to_table=2
        )
        assert {v.rule for v in violations} >= {"pattern", "size"}
    with pytest.raises(MoveRefused) as err:
        async with database.session() as session:
            summit = await summit_of(session, summit_id)
            await move_participant(
                session,
                summit,
                actor="S-org",
                round_number=1,
                pseudonym=employer.pseudonym,
                to_table=2,
            )
    assert err.value.violations and err.value.field == "move"
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        assert await count(session, "seating.move") == 0
        outcome = await move_participant(
            session,
            summit,
            actor="S-org",
            round_number=1,
            pseudonym=employer.pseudonym,
            to_table=2,
            override=True,
        )
        assert outcome.moves[0].to_table == 2
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "seating.move"))
        assert entry.payload["override"] is True and entry.payload["violations"]
        loaded = await load_seating(session, summit)
        assert loaded.seating.table_of(1, employer.pseudonym) == 2
        assert (await seating_verify.verify_round(session, summit, 1)).ok


async def test_topic_round_from_first_and_second_choices(database: Any) -> None:
    summit_id = await make_seated_summit(database, rounds=1)
    topics = ["Wonen", "Fietsen", "Groen"]
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        await seating_settings.save_settings(session, summit, actor="S-org", topics=topics)
        people = (
            (await session.execute(select(Participant).order_by(Participant.pseudonym)))
            .scalars()
            .all()
        )
        for i, person in enumerate(people):
            # most want housing: some must get their second choice
            first = "Wonen" if i % 3 else topics[i % 2 + 1]
            await topic_rounds.set_topic_choice(
                session, summit, person, first=first, second="Groen"
            )
        with pytest.raises(InvalidInput) as err:
            await topic_rounds.set_topic_choice(session, summit, people[0], first="Onbekend")
        assert err.value.field == "first"
    async with database.session() as session:
        summit = await summit_of(session, summit_id)
        outcome = await topic_rounds.seat_topic_round(
            session, summit, actor="S-org", seed="topic dice"
        )
        assert outcome.round.number == 2 and outcome.round.kind == "topic"
        tables = await uc.round_tables(session, outcome.round)
        assert sum(len(t.people) for t in tables) == 27
        assert {t.topic for t in tables} <= set(topics)
        chosen = await topic_rounds.topic_choices(session, summit_id)
        for table in tables:
            for person in table.people:
                assert (
                    table.topic in chosen[person.pseudonym] or person.pseudonym in outcome.unchosen
                )
        got_second = {
            p.pseudonym for t in tables for p in t.people if t.topic != chosen[p.pseudonym][0]
        }
        assert got_second == set(outcome.second_choice) | set(outcome.unchosen)
        assert (await seating_verify.verify_round(session, summit, 2)).ok
        # the same inputs and seed again: the same tables
        run = await session.scalar(select(SeatingRun).where(SeatingRun.kind == "topic"))
        again = uc.compute_topics(run.inputs, run.seed)
        assert [t.members for t in again.tables] == [
            t.members for t in uc.compute_topics(run.inputs, run.seed).tables
        ]


async def test_bad_settings_are_refused_by_field(database: Any) -> None:
    summit_id = await make_seated_summit(database, rounds=1)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"rounds": 0}, "rounds"),
        ({"table_size": 1}, "table_size"),
        ({"features": ["income"]}, "features"),
        ({"keep_apart": [["P-NOBODY", "P-NOONE"]]}, "constraints"),
        ({"keep_together": [["P-ONLY"]]}, "keep_together"),
        ({"topics": ["A", "A"]}, "topics"),
    ]
    for values, field in cases:
        with pytest.raises(InvalidInput) as err:
            async with database.session() as session:
                summit = await summit_of(session, summit_id)
                await seating_settings.save_settings(session, summit, actor="S-org", **values)
        assert err.value.field == field
    with pytest.raises(InvalidInput) as err:
        async with database.session() as session:
            summit = await summit_of(session, summit_id)
            await uc.seat_summit(session, summit, actor="S-org", seed="  ")
    assert err.value.field == "seed"


tables_strategy = st.lists(
    st.builds(
        Table,
        number=st.integers(1, 200),
        mode=st.sampled_from(["venue", "online"]),
        area=st.text(max_size=5),
        seats=st.lists(
            st.tuples(st.sampled_from(["resident", "employer", "public"]), st.integers(0, 6)),
            max_size=3,
        ).map(tuple),
        remote_seats=st.lists(
            st.tuples(st.sampled_from(["resident", "employer"]), st.integers(0, 2)), max_size=2
        ).map(tuple),
    ),
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(tables_strategy)
def test_table_layouts_survive_the_database_round_trip(tables: list[Table]) -> None:
    assert list(uc.tables_of_layout(uc.layout_of(tables))) == tables


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=6), max_size=8))
def test_the_inputs_hash_ignores_key_order_but_not_values(inputs: dict[str, Any]) -> None:
    reordered = dict(reversed(list(inputs.items())))
    assert uc.inputs_hash(inputs) == uc.inputs_hash(reordered)
    changed = {**inputs, "seed-extra": "x"}
    assert uc.inputs_hash(changed) != uc.inputs_hash(inputs)
