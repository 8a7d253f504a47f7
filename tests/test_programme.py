"""Programme use cases on SQLite and PostgreSQL: ordering, advance/extend/pause logged, linked
rounds opened and closed; and the pure rules (times in order, swaps, lateness) as properties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.models import AuditEntry, Round, Summit
from summit.programme import service as uc
from tests.support.seating import make_seated_summit

pytestmark = pytest.mark.anyio
T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


# --- pure rules ---------------------------------------------------------------------------------


def test_times_parse_and_print() -> None:
    assert uc.parse_time("9:30") == 570
    assert uc.parse_time("23.59") == 23 * 60 + 59
    assert uc.format_time(570) == "09:30"
    for bad in ("24:00", "9", "09:60", "noon", ""):
        with pytest.raises(InvalidInput) as err:
            uc.parse_time(bad)
        assert err.value.field == "start"


def test_item_fields_are_checked_with_the_field_named() -> None:
    cases: list[tuple[tuple[str, str, int, int | None], str]] = [
        (("dance", "x", 10, None), "kind"),
        (("welcome", "  ", 10, None), "title"),
        (("welcome", "x", 0, None), "duration"),
        (("welcome", "x", 601, None), "duration"),
        (("round", "x", 40, None), "round"),
        (("break", "x", 10, 2), "round"),
        (("round", "x", 40, 13), "round"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidInput) as err:
            uc.check_item(*args)
        assert err.value.field == field, args
    uc.check_item("round", "Ronde 1", 600, 1)
    uc.check_item("topic_round", "Thema's", 1, None)


slots = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 60)), min_size=2, max_size=8).map(
    lambda pairs: [
        uc.Slot(f"item {i}", start, duration)
        for i, (start, duration) in enumerate(_accumulate(pairs))
    ]
)


def _accumulate(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, clock = [], 6 * 60
    for gap, duration in pairs:
        out.append((clock + gap, duration))
        clock += gap + duration
    return out


@given(slots, st.data())
def test_a_swap_keeps_the_day_in_order_and_every_other_item_in_place(
    day: list[uc.Slot], data: Any
) -> None:
    uc.check_order(day)
    i = data.draw(st.integers(0, len(day) - 2))
    first, second = uc.swap_slots(day[i], day[i + 1])
    swapped = [*day[:i], first, second, *day[i + 2 :]]
    uc.check_order(swapped)
    assert first.title == day[i + 1].title and second.title == day[i].title
    assert first.start_minute == day[i].start_minute
    end = second.start_minute + second.duration_minutes
    assert end == day[i + 1].start_minute + day[i + 1].duration_minutes


@given(slots, st.data())
def test_an_overlap_is_refused_naming_both_items(day: list[uc.Slot], data: Any) -> None:
    i = data.draw(st.integers(1, len(day) - 1))
    before = day[i - 1]
    early = data.draw(st.integers(0, before.start_minute + before.duration_minutes - 1))
    broken = [*day[:i], uc.Slot(day[i].title, early, day[i].duration_minutes), *day[i + 1 :]]
    with pytest.raises(InvalidInput) as err:
        uc.check_order(broken)
    assert err.value.field == "start"
    assert before.title in str(err.value) and day[i].title in str(err.value)


@given(
    st.integers(-3600, 3600),
    st.integers(-3600, 3600),
    st.one_of(st.none(), st.integers(0, 3600)),
)
def test_lateness_is_never_negative_and_grows_with_the_end(
    end_shift: int, now_shift: int, paused_ago: int | None
) -> None:
    planned = T0
    now = T0 + dt.timedelta(seconds=now_shift)
    paused = None if paused_ago is None else now - dt.timedelta(seconds=paused_ago)
    ends = T0 + dt.timedelta(seconds=end_shift)
    late = uc.behind_minutes(ends, paused, planned, now)
    later = uc.behind_minutes(ends + dt.timedelta(minutes=5), paused, planned, now)
    assert late >= 0 and later >= late
    # A pause moves the end by however long it has lasted so far.
    effective_end = end_shift + (paused_ago or 0)
    assert late == max(0, max(effective_end, now_shift) // 60)
    if paused is None and end_shift <= 0 and now_shift <= 0:
        assert late == 0


# --- use cases on the database ------------------------------------------------------------------


async def _summit(database: Any, summit_id: int) -> Summit:
    async with database.session() as session:
        summit = await session.get(Summit, summit_id)
        assert summit is not None
        session.expunge(summit)
        return summit


async def _plain_summit(database: Any) -> Summit:
    async with database.session() as session:
        summit = await repository.create_summit(
            session,
            actor="S-test",
            slug="day",
            name="Day",
            municipality="Testdorp",
            table_size=8,
            features=[],
            phase="summit",
        )
        await session.flush()
        summit_id = summit.id
    return await _summit(database, summit_id)


async def _actions(database: Any, prefix: str) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.seq)
        )
        return list(rows.scalars())


async def test_items_take_their_place_by_time_and_reorder_keeps_the_day(database: Any) -> None:
    summit = await _plain_summit(database)
    async with database.session() as session:
        for kind, title, start, minutes in (
            ("closing", "Afsluiting", "16:00", 30),
            ("welcome", "Welkom", "09:00", 30),
            ("break", "Lunch", "12:00", 45),
        ):
            await uc.add_item(
                session,
                summit,
                actor="S-org",
                kind=kind,
                title=title,
                start=start,
                duration=minutes,
            )
    async with database.session() as session:
        items = await uc.items_of(session, summit.id)
        assert [(i.title, i.position) for i in items] == [
            ("Welkom", 1),
            ("Lunch", 2),
            ("Afsluiting", 3),
        ]
        with pytest.raises(InvalidInput) as err:
            await uc.add_item(
                session,
                summit,
                actor="S-org",
                kind="agenda",
                title="Agenda",
                start="09:15",
                duration=30,
            )
        assert err.value.field == "start" and "Welkom" in str(err.value)
    async with database.session() as session:
        lunch = (await uc.items_of(session, summit.id))[1]
        await uc.move_item(session, summit, lunch.id, actor="S-org", direction="up")
    async with database.session() as session:
        items = await uc.items_of(session, summit.id)
        assert [(i.title, uc.format_time(i.start_minute)) for i in items] == [
            ("Lunch", "09:00"),
            ("Welkom", "12:15"),  # the 2h30 gap stays; the pair still ends at 12:45
            ("Afsluiting", "16:00"),
        ]
        with pytest.raises(InvalidInput) as err:
            await uc.move_item(session, summit, items[0].id, actor="S-org", direction="up")
        assert err.value.field == "direction"
        with pytest.raises(InvalidInput) as err:
            await uc.update_item(
                session,
                summit,
                items[1].id,
                actor="S-org",
                kind="welcome",
                title="Welkom",
                start="12:15",
                duration=600,
            )
        assert err.value.field == "start"
    async with database.session() as session:
        await uc.delete_item(session, summit, items[0].id, actor="S-org")
    async with database.session() as session:
        assert [i.position for i in await uc.items_of(session, summit.id)] == [1, 2]
    assert await _actions(database, "programme.item.") == [
        "programme.item.add",
        "programme.item.add",
        "programme.item.add",
        "programme.item.move",
        "programme.item.delete",
    ]


async def test_running_the_day_opens_and_closes_linked_rounds(database: Any) -> None:
    summit = await _summit(database, await make_seated_summit(database, rounds=2))
    async with database.session() as session:
        for kind, title, start, minutes, number in (
            ("welcome", "Welkom", "09:00", 15, None),
            ("round", "Ronde 1", "09:15", 40, 1),
            ("break", "Pauze", "10:00", 15, None),
            ("round", "Ronde 2", "10:15", 40, 2),
        ):
            await uc.add_item(
                session,
                summit,
                actor="S-org",
                kind=kind,
                title=title,
                start=start,
                duration=minutes,
                round_number=number,
            )

    async def step(action: str, now: dt.datetime, **kw: Any) -> list[tuple[str, dict]]:
        async with database.session() as session:
            _state, events = await getattr(uc, action)(
                session, summit, actor="S-mod", now=now, **kw
            )
            return events

    async def rounds() -> dict[int, str]:
        async with database.session() as session:
            rows = await session.execute(
                select(Round.number, Round.status).where(Round.summit_id == summit.id)
            )
            return {int(n): str(s) for n, s in rows.all()}

    events = await step("advance", T0)
    assert events[-1][1]["type"] == "programme" and events[-1][0] == f"summit:{summit.id}"
    assert await rounds() == {1: "planned", 2: "planned"}
    events = await step("advance", T0 + dt.timedelta(minutes=20))
    assert await rounds() == {1: "open", 2: "planned"}
    assert {"type": "round", "round": 1, "status": "open"}.items() <= events[0][1].items()

    await step("extend", T0 + dt.timedelta(minutes=30), minutes=5)
    await step("pause", T0 + dt.timedelta(minutes=31))
    await step("resume", T0 + dt.timedelta(minutes=41))
    async with database.session() as session:
        state = await uc.state_of(session, summit.id)
        # 40 planned + 5 extended + 10 paused, from the start at 09:20.
        assert state.ends_at == T0 + dt.timedelta(minutes=20 + 40 + 5 + 10)
        rnd = await session.scalar(
            select(Round).where(Round.summit_id == summit.id, Round.number == 1)
        )
        assert rnd is not None and rnd.ends_at == T0 + dt.timedelta(minutes=20 + 40 + 5)
        with pytest.raises(InvalidInput) as err:
            await uc.delete_item(session, summit, int(state.current_item_id or 0), actor="x")
        assert err.value.field == "item"

    await step("advance", T0 + dt.timedelta(minutes=75))
    assert await rounds() == {1: "closed", 2: "planned"}
    await step("advance", T0 + dt.timedelta(minutes=90))
    assert await rounds() == {1: "closed", 2: "open"}
    await step("advance", T0 + dt.timedelta(minutes=130))
    assert await rounds() == {1: "closed", 2: "closed"}
    async with database.session() as session:
        state = await uc.state_of(session, summit.id)
        assert state.finished and state.current_item_id is None
        with pytest.raises(InvalidInput):
            await uc.advance(session, summit, actor="S-mod")
    assert await _actions(database, "programme.") == [
        *["programme.item.add"] * 4,
        "programme.advance",
        "programme.advance",
        "programme.extend",
        "programme.pause",
        "programme.resume",
        "programme.advance",
        "programme.advance",
        "programme.advance",
    ]
    assert await _actions(database, "round.") == [
        "round.open",
        "round.extend",
        "round.close",
        "round.open",
        "round.close",
    ]


async def test_next_closes_a_round_left_open_elsewhere_and_opens_its_own(database: Any) -> None:
    """Round 1 was opened on the seating page, not by the programme, and ran over time: "next"
    into round 2 closes it and opens round 2 in one action, both logged."""
    from summit.seating import service as seating_uc

    summit = await _summit(database, await make_seated_summit(database, rounds=2))
    async with database.session() as session:
        await uc.add_item(
            session, summit, actor="S-org", kind="welcome", title="Welkom", start="09:00",
            duration=15,
        )
        await uc.add_item(
            session, summit, actor="S-org", kind="round", title="Ronde 2", start="09:15",
            duration=40, round_number=2,
        )
        await seating_uc.open_round(session, summit, actor="S-mod", number=1, minutes=10, now=T0)
        await uc.advance(session, summit, actor="S-mod", now=T0)  # the welcome item
    async with database.session() as session:
        _state, events = await uc.advance(
            session, summit, actor="S-mod", now=T0 + dt.timedelta(minutes=25)
        )
        statuses = dict(
            (await session.execute(
                select(Round.number, Round.status).where(Round.summit_id == summit.id)
            )).tuples().all()
        )
    assert statuses == {1: "closed", 2: "open"}
    kinds = [(e[1].get("round"), e[1].get("status")) for e in events if e[1]["type"] == "round"]
    assert kinds == [(1, "closed"), (2, "open")]
    assert (await _actions(database, "round."))[-2:] == ["round.close", "round.open"]


async def test_the_snapshot_counts_down_and_reports_lateness(database: Any) -> None:
    summit = await _plain_summit(database)
    async with database.session() as session:
        db_summit = await session.get(Summit, summit.id)
        assert db_summit is not None
        db_summit.date = dt.date(2026, 11, 28)
        summit.date = db_summit.date
        for title, start in (("Welkom", "10:00"), ("Agenda", "10:30"), ("Slot", "11:00")):
            await uc.add_item(
                session,
                summit,
                actor="S-org",
                kind="agenda" if title == "Agenda" else "welcome",
                title=title,
                start=start,
                duration=30,
            )
    async with database.session() as session:
        data = await uc.snapshot(session, summit, now=T0)
        assert data["status"] == "not_started" and data["current"] is None
        assert [r["title"] for r in data["next"]] == ["Welkom", "Agenda", "Slot"]
        # 10:00 in Amsterdam on 28 November is 09:00 UTC.
        assert data["items"][0]["planned_start_at"] == T0.isoformat()
    began = T0 + dt.timedelta(minutes=12)
    async with database.session() as session:
        await uc.advance(session, summit, actor="S-mod", now=began)
    async with database.session() as session:
        data = await uc.snapshot(session, summit, now=began + dt.timedelta(minutes=10))
        assert data["status"] == "running"
        assert data["current"]["title"] == "Welkom"
        assert data["current"]["remaining_seconds"] == 20 * 60
        assert data["current"]["behind_minutes"] == 12
        assert [r["title"] for r in data["next"]] == ["Agenda", "Slot"]
        assert [r["status"] for r in data["items"]] == ["current", "planned", "planned"]
        assert "Welkom" in str(data) and "S-mod" not in str(data)
