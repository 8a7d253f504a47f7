"""The Monitor's use cases on a real database: the partner agreement, responses and overdue
answers (clock injected), progress, the Monitor group's draw, the state of the whole decision."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from summit.core import audit
from summit.core.db import Database
from summit.core.errors import InvalidInput, PermissionDenied
from summit.core.models import AuditEntry, Participant, Partner, Summit
from summit.monitor import group, partners, tracking
from summit.monitor.models import MonitorChange, MonitorDraw, MonitorVolunteer
from summit.monitor.rules.lifecycle import current_step, steps
from summit.monitor.rules.progress import (
    Event,
    ItemHistory,
    check_response,
    sample_days,
    state_series,
)
from tests.support.monitor import T0, setup_monitor

pytestmark = pytest.mark.anyio


async def _get(session: Any, model: Any, row_id: int) -> Any:
    row = await session.get(model, row_id)
    assert row is not None
    return row


WILL = {
    "answer": "will", "plan": "Drie fietspaden.", "starts_on": "2027-04-01",
    "ends_on": "2027-12-31", "contact_name": "A. de Vries", "contact_role": "Wethouder",
}  # fmt: skip


async def test_a_partner_signs_the_agreement_and_it_is_logged_and_public(
    database: Database,
) -> None:
    world = await setup_monitor(database, sign=False)
    async with database.session() as session:
        partner = await _get(session, Partner, world.partners["Gemeente Test"])
        with pytest.raises(InvalidInput, match="agree"):
            await partners.sign(
                session, partner, signatory="Burgemeester", agreed=False, area_keys=["wonen"]
            )
        with pytest.raises(InvalidInput, match="areas"):
            await partners.sign(
                session, partner, signatory="Burgemeester", agreed=True, area_keys=["nope"]
            )
        await partners.sign(
            session, partner, signatory="Burgemeester", agreed=True, area_keys=["wonen"], now=T0
        )
    async with database.session() as session:
        signed = await partners.signatures(session, world.summit_id)
        entry = (await audit.recent(session, limit=1))[0]
        partner = await _get(session, Partner, world.partners["Gemeente Test"])
    assert [(s.partner, s.signed_at, s.version) for s in signed] == [("Gemeente Test", T0, 1)]
    assert entry.action == "agreement.sign" and entry.payload["areas"] == ["wonen"]
    assert entry.payload["text_sha256"] == signed[0].text_sha256 and entry.created_at.startswith(
        "2027-03-01"
    )
    assert partner.signed_on == T0.date()


async def test_responses_follow_the_rules_of_the_agreement(database: Database) -> None:
    world = await setup_monitor(database)
    async with database.session() as session:
        item = await tracking.get_item(
            session, world.summit_id, world.items["Veilige fietsroutes naar school"]
        )
        town = await _get(session, Partner, world.partners["Gemeente Test"])
        housing = await _get(session, Partner, world.partners["Woonstichting Test"])
        with pytest.raises(InvalidInput, match="outside the policy areas"):
            await tracking.respond(session, item, housing, WILL, now=T0)
        await tracking.respond(session, item, town, WILL, now=T0)
        again = {**WILL, "answer": "wont", "reasons": "Te kort."}
        with pytest.raises(InvalidInput, match="reasons"):
            await tracking.respond(session, item, town, again, now=T0)
    with pytest.raises(InvalidInput, match="not_doing"):
        check_response({**WILL, "answer": "partly"})
    with pytest.raises(InvalidInput, match="ends_on"):
        check_response({**WILL, "ends_on": "2027-01-01"})
    with pytest.raises(InvalidInput, match="contact_name"):
        check_response({**WILL, "contact_name": ""})
    async with database.session() as session:
        answered = await tracking.responses(session, item.id)
    assert [(r.answer, p.name) for r, p in answered] == [("will", "Gemeente Test")]


async def test_an_unanswered_response_is_overdue_the_day_after_it_was_due(
    database: Database,
) -> None:
    world = await setup_monitor(database)
    # Due dates are the summit's days (Europe/Amsterdam, summer time from 28 March 2027): the
    # last minute of 31 March there is 21:59 UTC, and at 22:01 UTC it is 1 April, overdue.
    due = dt.datetime(2027, 3, 31, 21, 59, tzinfo=dt.UTC)
    async with database.session() as session:
        assert await tracking.scan_overdue(session, world.summit_id, now=due) == 0
        item = await tracking.get_item(
            session, world.summit_id, world.items["Starterswoningen bouwen"]
        )
        assert (await tracking.item_view(session, item, due.date())).overdue == []
    next_day = due + dt.timedelta(minutes=2)
    async with database.session() as session:
        # three items have a signed partner in their area (mobility, green, housing): all owe
        assert await tracking.scan_overdue(session, world.summit_id, now=next_day) == 3
        assert await tracking.scan_overdue(session, world.summit_id, now=next_day) == 0
        view = await tracking.item_view(session, item, dt.date(2027, 4, 1))
        changes = (
            (await session.execute(select(MonitorChange).where(MonitorChange.kind == "overdue")))
            .scalars()
            .all()
        )
        overdue_logged = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "partner.overdue")
        )
    assert [p.name for p in view.overdue] == ["Woonstichting Test"] and view.state == "late"
    assert len(changes) == 3 and overdue_logged == 3
    async with database.session() as session:
        housing = await _get(session, Partner, world.partners["Woonstichting Test"])
        item = await tracking.get_item(session, world.summit_id, item.id)
        await tracking.respond(
            session,
            item,
            housing,
            {**WILL, "answer": "partly", "not_doing": "De helft."},
            now=next_day,
        )
        view = await tracking.item_view(session, item, dt.date(2027, 4, 1))
    assert view.overdue == [] and view.state == "on_track"


async def test_progress_updates_keep_their_history_and_refusal_shows(database: Database) -> None:
    world = await setup_monitor(database)
    async with database.session() as session:
        item = await tracking.get_item(
            session, world.summit_id, world.items["Veilige fietsroutes naar school"]
        )
        with pytest.raises(InvalidInput, match="progress"):
            await tracking.report(
                session, item, status="in_progress", progress="150", text="", actor="t"
            )
        with pytest.raises(InvalidInput, match="due_on"):
            await tracking.add_milestone(
                session, item, title="Ontwerp", due_on="31-03-2027", actor="t"
            )
        await tracking.report(
            session, item, status="in_progress", progress="40", text="Loopt.", actor="t", now=T0
        )
        await tracking.report(
            session,
            item,
            status="done",
            progress="100",
            text="",
            actor="t",
            now=T0 + dt.timedelta(days=9),
        )
        history = await tracking.updates(session, item.id)
        view = await tracking.item_view(session, item, T0.date())
        solar = await tracking.get_item(
            session, world.summit_id, world.items["Zonnepanelen op alle scholen"]
        )
        await tracking.report(
            session, solar, status="stopped", progress="0", text="", actor="t", now=T0
        )
        assert (await tracking.item_view(session, solar, T0.date())).state == "refused"
    assert [(u.status, u.progress) for u in history] == [("in_progress", 40), ("done", 100)]
    assert view.state == "done" and item.progress == 100


async def test_the_group_is_drawn_by_lot_when_oversubscribed_and_anyone_can_rerun_it(
    database: Database,
) -> None:
    world = await setup_monitor(database)
    async with database.session() as session:
        summit = await _get(session, Summit, world.summit_id)
        for pid in world.people[:7]:
            await group.volunteer(session, await _get(session, Participant, pid))
        with pytest.raises(InvalidInput, match="seed"):
            await group.compose(session, summit, seats=5, seed="12", actor="t")
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(MonitorDraw)) == 0
        statuses = set((await session.execute(select(MonitorVolunteer.status))).scalars())
        assert statuses == {"volunteered"}
        summit = await _get(session, Summit, world.summit_id)
        draw = await group.compose(session, summit, seats=5, seed="3141592653", actor="t")
        members = await group.members(session, world.summit_id)
    assert draw is not None and group.verify_draw(draw) and sorted(draw.drawn) == members
    assert len(members) == 5
    draw.drawn = list(reversed(draw.drawn))
    assert not group.verify_draw(draw)


async def test_only_members_assess_and_only_members_and_partners_discuss(
    database: Database,
) -> None:
    world = await setup_monitor(database)
    async with database.session() as session:
        summit = await _get(session, Summit, world.summit_id)
        person = await _get(session, Participant, world.people[0])
        outsider = await _get(session, Participant, world.people[1])
        await group.volunteer(session, person)
        await group.compose(session, summit, seats=3, seed="", actor="t")
        item = await tracking.get_item(
            session, world.summit_id, world.items["Starterswoningen bouwen"]
        )
        with pytest.raises(PermissionDenied, match="only members"):
            await group.assess(session, item, outsider, verdict="delayed", text="Te laat.")
        await group.assess(session, item, person, verdict="delayed", text="Te laat.", now=T0)
        town = await _get(session, Partner, world.partners["Gemeente Test"])
        housing = await _get(session, Partner, world.partners["Woonstichting Test"])
        assert await group.may_discuss(session, item, partner=housing)
        assert not await group.may_discuss(session, item, partner=town)
        assert not await group.may_discuss(session, item, participant=outsider)
        view = await tracking.item_view(session, item, T0.date())
    assert (
        view.assessment is not None
        and view.assessment.verdict == "delayed"
        and view.state == "late"
    )


def test_the_lifecycle_marks_the_current_phase() -> None:
    assert current_step("registration", False) == "invitations"
    assert current_step("council", False) == "burgerraad"
    assert current_step("council", True) == "burgerbesluit"
    states = {s.key: s.state for s in steps("forum", False)}
    assert states["burgertop"] == "done" and states["burgerforum"] == "current"
    assert states["monitor"] == "upcoming"


def test_the_state_of_the_decision_is_rebuilt_for_every_day() -> None:
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    history = ItemHistory(
        created=start,
        response_due=dt.date(2027, 1, 10),
        partners=("1",),
        events=(
            Event(start + dt.timedelta(days=20), "answer:1", "will"),
            Event(start + dt.timedelta(days=40), "status", "done"),
        ),
        milestones=(),
    )
    days = sample_days(dt.date(2027, 1, 1), dt.date(2027, 3, 1), points=4)
    assert len(days) == 4 and days[0] == dt.date(2027, 1, 1) and days[-1] == dt.date(2027, 3, 1)
    checked = [
        dt.date(2027, 1, 5),
        dt.date(2027, 1, 12),
        dt.date(2027, 1, 25),
        dt.date(2027, 2, 15),
    ]
    series = state_series([history], checked)
    states = [next(k for k, n in counts.items() if n) for _d, counts in series]
    assert states == ["on_track", "late", "on_track", "done"]

    # a progress report marked overdue on 1 February counts as late until it comes in on the 10th
    missed = dataclasses.replace(
        history,
        missed_reports=((start + dt.timedelta(days=31), start + dt.timedelta(days=40, hours=-1)),),
        events=(Event(start + dt.timedelta(days=20), "answer:1", "will"),),
    )
    days = [dt.date(2027, 1, 25), dt.date(2027, 2, 5), dt.date(2027, 2, 15)]
    states = [next(k for k, n in c.items() if n) for _d, c in state_series([missed], days)]
    assert states == ["on_track", "late", "on_track"]
    # a day ends at midnight on the summit's clock: an answer at 23:30 UTC on 20 January is
    # the 21st in Amsterdam, so on the 20th the response (due the 10th) was still overdue there
    late_answer = dataclasses.replace(
        history,
        events=(Event(dt.datetime(2027, 1, 20, 23, 30, tzinfo=dt.UTC), "answer:1", "will"),),
    )
    ((_d, amsterdam),) = state_series([late_answer], [dt.date(2027, 1, 20)])
    ((_d, london),) = state_series(
        [dataclasses.replace(late_answer, zone="Europe/London")], [dt.date(2027, 1, 20)]
    )
    assert amsterdam["late"] == 1 and london["late"] == 0
