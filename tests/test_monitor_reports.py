"""Partner reports at intervals: the organiser sets a partner's e-mail address and a report interval
per adopted proposal; the background job reminds the partner through a real SMTP server on loopback
(aiosmtpd) once, even after a restart, and marks a missing report overdue on time (clock injected,
not slept), on the public pages, in the Atom feed and in the followers' mail."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from summit.app import create_app
from summit.cli import main
from summit.core.db import Database
from summit.core.models import AuditEntry, Partner, Summit, utcnow
from summit.core.times import local_date, summit_time_zone
from summit.monitor import jobs, reports, tracking
from summit.monitor.models import (
    MonitorChange,
    MonitorItem,
    MonitorSubscription,
    OutboxMail,
    PartnerAccount,
    ReportDue,
)
from tests.support.app import Client, make_settings
from tests.support.http import csrf_of, login
from tests.support.mail import Smtp, body
from tests.support.monitor import T0, World, setup_monitor

BIKE = "Veilige fietsroutes naar school"


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def _app_client(db_url: str, tmp_path: Path, smtp: Smtp) -> Client:
    app = create_app(make_settings(tmp_path, db_url, smtp_url=smtp.url))
    return Client(app, base_url="http://testserver", follow_redirects=False)


@pytest.fixture
def mail_client(db_url: str, tmp_path: Path, smtp: Smtp) -> Iterator[Client]:
    with _app_client(db_url, tmp_path, smtp) as client:
        # the tests run the job's passes themselves, with their own clock
        client.run(client.app.state.monitor_jobs.stop())  # type: ignore[attr-defined]
        yield client


def run_jobs(client: Client, now: dt.datetime) -> jobs.JobReport:
    report: jobs.JobReport = client.run(
        jobs.run_once(client.db, client.app.state.settings, now=now)  # type: ignore[attr-defined]
    )
    return report


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


async def _arrange(client: Client, world: World) -> int:
    """Gemeente Test (mobility) gets an address; the bike routes are reported every 4 weeks, the
    first report due on 2027-03-29. An English follower of the whole Burgerbesluit."""
    async with client.db.session() as session:
        town = await session.get(Partner, world.partners["Gemeente Test"])
        assert town is not None
        await reports.set_partner_email(session, town, " gemeente@test.example ", actor="org")
        item = await tracking.get_item(session, world.summit_id, world.items[BIKE])
        await reports.set_interval(
            session, item, every_weeks="4", first_due="2027-03-29", actor="org", today=T0.date()
        )
        session.add(
            MonitorSubscription(
                summit_id=world.summit_id, email="volger@example.org", status="active",
                language="en", confirmed_at=T0,
            )
        )  # fmt: skip
        return item.id


def _actions(client: Client, prefix: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(AuditEntry.action, AuditEntry.payload)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.seq)
            )
            return [{"action": a, **(p or {})} for a, p in rows.tuples().all()]

    found: list[dict[str, Any]] = client.run(go())
    return found


def _to(smtp: Smtp, address: str) -> list[Any]:
    return [m for m in smtp.inbox.messages if m["To"] == address]


def test_a_due_report_is_reminded_once_and_a_missing_one_turns_overdue_on_time(
    mail_client: Client, smtp: Smtp, db_url: str, tmp_path: Path
) -> None:
    client = mail_client
    world = client.run(setup_monitor(client.db))
    bike = client.run(_arrange(client, world))
    partner_mail = "gemeente@test.example"

    assert run_jobs(client, at("2027-03-21")).reminded == 0  # more than 7 days before the date
    assert _to(smtp, partner_mail) == []
    first = run_jobs(client, at("2027-03-22"))
    assert first.reminded == 1 and first.reports_overdue == 0
    [reminder] = _to(smtp, partner_mail)
    assert "2027-03-29" in reminder["Subject"] and BIKE in reminder["Subject"]
    assert f"http://testserver/partner/proposals/{bike}" in body(reminder)
    assert run_jobs(client, at("2027-03-23")).reminded == 0

    # A restarted app (a fresh job on the same database) sends no second reminder.
    with _app_client(db_url, tmp_path / "again", smtp) as restarted:
        restarted.run(restarted.app.state.monitor_jobs.stop())  # type: ignore[attr-defined]
        assert run_jobs(restarted, at("2027-03-24")).reminded == 0
    assert len(_to(smtp, partner_mail)) == 1

    # Not overdue on its due date, overdue from the next day on the summit's clock
    # (Europe/Amsterdam, UTC+2 in summer): 21:59 UTC is still 29 March there, 22:00 UTC is the
    # 30th. Marked once; the period moves on.
    on_the_day = run_jobs(client, at("2027-03-29", 21).replace(minute=59))
    assert on_the_day.reports_overdue == 0
    assert "data-report-overdue" not in client.get(f"/monitor/proposals/{bike}").text
    next_day = run_jobs(client, at("2027-03-29", 22))
    assert next_day.reports_overdue == 1
    assert run_jobs(client, at("2027-03-30", 1)).reports_overdue == 0

    page = client.get(f"/monitor/proposals/{bike}?lang=en")
    assert 'data-report-overdue="Gemeente Test"' in page.text
    assert "the progress report due on 2027-03-29 has not come in" in page.text
    assert 'data-report-due="2027-04-26"' in page.text
    overview = client.get("/monitor?lang=en")
    row = overview.text.split(f'data-item="{bike}"')[1].split("</tr>")[0]
    assert "progress report overdue" in row and "badge-late" in row
    feed = client.get("/monitor/feed.atom?lang=en").text
    assert "The progress report of Gemeente Test is overdue (due 2027-03-29)." in feed
    [notice] = [
        m for m in _to(smtp, "volger@example.org") if "progress report" in str(m["Subject"])
    ]
    assert notice["Subject"] == f"{BIKE}: a progress report is overdue"
    assert "List-Unsubscribe" in notice
    exported = client.get("/open-data/proposals.json").json()["rows"]
    bike_row = next(r for r in exported if r["item_id"] == bike)
    assert bike_row["report_every_weeks"] == 4 and bike_row["report_due"] == "2027-04-26"
    assert bike_row["overdue_reports"] == 1 and "gemeente@test.example" not in str(exported)
    [owed] = client.get("/open-data/report-dues.json").json()["rows"]
    assert owed["partner"] == "Gemeente Test" and owed["due_on"] == "2027-03-29"
    assert owed["reminded"] is True and owed["overdue_at"] and owed["reported_at"] is None
    assert "gemeente@test.example" not in client.get("/open-data/report-dues.csv").text

    # The partner reports (late): the mark goes, and the report counts for the next period.
    async def partner_reports() -> None:
        async with client.db.session() as session:
            item = await tracking.get_item(session, world.summit_id, bike)
            town = await session.get(Partner, world.partners["Gemeente Test"])
            await tracking.report(
                session, item, status="in_progress", progress="20", text="Eerste fietspad ligt.",
                actor="partner", partner=town, now=at("2027-03-31"),
            )  # fmt: skip

    client.run(partner_reports())
    assert "data-report-overdue" not in client.get(f"/monitor/proposals/{bike}").text
    [owed] = client.get("/open-data/report-dues.json").json()["rows"]
    assert owed["reported_at"].startswith("2027-03-31")
    assert run_jobs(client, at("2027-04-20")).reminded == 0  # reported in this period already
    assert run_jobs(client, at("2027-04-27")).reports_overdue == 0
    # The period after that: reminded again, once.
    assert run_jobs(client, at("2027-05-17")).reminded == 1
    assert len(_to(smtp, partner_mail)) == 2

    logged = _actions(client, "partner.report") + _actions(client, "monitor.report")
    assert [e["action"] for e in logged].count("partner.report_reminder") == 2
    overdue_entry = {"partner": "Gemeente Test", "due": "2027-03-29"}
    assert {"action": "partner.report_overdue", **overdue_entry} in logged
    assert {"action": "monitor.report_interval", "every_weeks": 4, "first_due": "2027-03-29"} in (
        logged
    )
    email_log = _actions(client, "partner.email")
    assert email_log[0]["email"] == "set" and "gemeente@test.example" not in str(email_log)


def test_a_partner_without_an_address_is_still_marked_overdue_and_refusers_owe_nothing(
    mail_client: Client, smtp: Smtp
) -> None:
    client = mail_client
    world = client.run(setup_monitor(client.db))

    async def arrange() -> int:
        async with client.db.session() as session:
            item = await tracking.get_item(session, world.summit_id, world.items[BIKE])
            await reports.set_interval(
                session, item, every_weeks="1", first_due="", actor="org", today=T0.date()
            )
            return item.id

    bike = client.run(arrange())
    first = run_jobs(client, T0)
    assert first.reminded == 1 and _to(smtp, "gemeente@test.example") == []  # logged, no mail
    assert _actions(client, "partner.report_reminder")[0]["mailed"] is False
    # three weeks without the job running: each missed week is marked once
    late = run_jobs(client, T0 + dt.timedelta(days=22))
    assert late.reports_overdue == 3

    async def dues() -> list[tuple[str, bool]]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(ReportDue.due_on, ReportDue.overdue_at).where(ReportDue.item_id == bike)
            )
            return [(str(d), o is not None) for d, o in rows.tuples().all()]

    assert sorted(client.run(dues())) == [
        ("2027-03-08", True), ("2027-03-15", True), ("2027-03-22", True), ("2027-03-29", False),
    ]  # fmt: skip

    async def refuse() -> None:
        async with client.db.session() as session:
            item = await tracking.get_item(session, world.summit_id, bike)
            town = await session.get(Partner, world.partners["Gemeente Test"])
            assert town is not None
            await tracking.respond(
                session, item, town,
                {"answer": "wont", "reasons": "Geen budget in de begroting van 2027 en 2028.",
                 "contact_name": "A. de Vries", "contact_role": "Wethouder"},
                now=T0 + dt.timedelta(days=23),
            )  # fmt: skip
            assert await reports.reporting_partners(session, item) == []

    client.run(refuse())
    assert run_jobs(client, T0 + dt.timedelta(days=40)).reports_overdue == 0


def _stored(client: Client, bike: int) -> tuple[Any, Any, Any, int]:
    async def go() -> tuple[Any, Any, Any, int]:
        async with client.db.session() as session:
            item = await session.get(MonitorItem, bike)
            assert item is not None
            emails = (await session.execute(select(PartnerAccount.email))).scalars().all()
            logged = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.in_(("partner.email", "monitor.report_interval")))
            )
            return item.report_every_weeks, item.report_due, sorted(emails), int(logged or 0)

    found: tuple[Any, Any, Any, int] = client.run(go())
    return found


def test_bad_addresses_and_intervals_get_a_clear_translated_error_and_store_nothing(
    demo_client: Any,
) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/monitor?lang=en")
    token = csrf_of(page.text)

    async def bike_id() -> int:
        async with client.db.session() as session:
            return next(i.id for i in await tracking.items(session, 1) if i.title == BIKE)

    bike = client.run(bike_id())
    before = _stored(client, bike)
    bad_email = client.post(
        "/organiser/monitor/partners/1/email", data={"csrf_token": token, "email": "geen adres"}
    )
    assert bad_email.status_code == 400
    assert "enter an e-mail address like name@example.org" in bad_email.text
    base = f"/organiser/monitor/proposals/{bike}/reports"
    for weeks in ("0", "-2", "53", "1000000", "vier", "2.5"):
        answer = client.post(base, data={"csrf_token": token, "report_every_weeks": weeks})
        assert answer.status_code == 400, weeks
        assert "must be a whole number of weeks from 1 to 52" in answer.text
    past = client.post(
        base, data={"csrf_token": token, "report_every_weeks": "4", "report_due": "2020-01-01"}
    )
    assert past.status_code == 400 and "cannot be due in the past" in past.text
    wrong_date = client.post(
        base, data={"csrf_token": token, "report_every_weeks": "4", "report_due": "2027-02-30"}
    )
    assert wrong_date.status_code == 400 and "use a date like" in wrong_date.text
    assert _stored(client, bike) == before

    dutch = client.get("/organiser/monitor?lang=nl")
    refused = client.post(base, data={"csrf_token": csrf_of(dutch.text), "report_every_weeks": "0"})
    assert refused.status_code == 400
    assert "must be a whole number of weeks" not in refused.text and "weken" in refused.text

    good_email = client.post(
        "/organiser/monitor/partners/1/email",
        data={"csrf_token": token, "email": "contact@gemeente.example"},
    )
    assert good_email.status_code == 303
    good = client.post(base, data={"csrf_token": token, "report_every_weeks": "6"})
    assert good.status_code == 303
    weeks, due, emails, logged = _stored(client, bike)
    assert weeks == 6 and due is not None and "contact@gemeente.example" in emails
    assert logged == before[3] + 2
    shown = client.get("/organiser/monitor?lang=en").text
    assert 'value="contact@gemeente.example"' in shown
    assert "reminders of due progress reports are logged, not mailed" in shown
    stop = client.post(base, data={"csrf_token": token, "report_every_weeks": ""})
    assert stop.status_code == 303 and _stored(client, bike)[:2] == (None, None)


def test_the_change_kind_is_described_in_the_feed(mail_client: Client) -> None:
    """A report that became overdue is a change of its own kind in the open data's changes."""
    client = mail_client
    world = client.run(setup_monitor(client.db))
    client.run(_arrange(client, world))
    run_jobs(client, at("2027-03-30"))

    async def kinds() -> list[str]:
        async with client.db.session() as session:
            return list((await session.execute(select(MonitorChange.kind))).scalars())

    assert "report_overdue" in client.run(kinds())
    rows = client.get("/open-data/changes.json").json()["rows"]
    assert any(r["kind"] == "report_overdue" for r in rows)


def test_the_demo_shows_reports_at_intervals_and_an_overdue_one(demo_client: Any) -> None:
    client, info = demo_client

    async def ids() -> dict[str, int]:
        async with client.db.session() as session:
            return {i.title: i.id for i in await tracking.items(session, 1)}

    items = client.run(ids())
    houses = client.get(f"/monitor/proposals/{items['Starterswoningen bouwen']}?lang=en").text
    assert 'data-report-overdue="Woonstichting Thuis"' in houses
    assert "every 6 weeks" in houses
    bike = client.get(f"/monitor/proposals/{items[BIKE]}?lang=en").text
    assert "every 4 weeks" in bike and "data-report-overdue" not in bike
    feed = client.get("/monitor/feed.atom?lang=en").text
    assert "The progress report of Woonstichting Thuis is overdue" in feed
    client.get(dict(info.links)["monitor (member)"])
    workspace = client.get(f"/me/monitor/proposals/{items['Starterswoningen bouwen']}?lang=en")
    assert 'data-report-overdue="Woonstichting Thuis"' in workspace.text
    client.cookies.clear()
    login(client, "organiser", info.organiser_password)
    organiser = client.get("/organiser/monitor?lang=en").text
    assert 'value="verslagen@lindeveld.example"' in organiser
    assert "verslagen@lindeveld.example" not in client.get("/open-data/audit.json").text


def test_followers_hear_when_a_response_becomes_overdue(mail_client: Client, smtp: Smtp) -> None:
    """Like an overdue report, an overdue response reaches the feed and the followers' mail."""
    client = mail_client
    world = client.run(setup_monitor(client.db))
    client.run(_arrange(client, world))
    assert run_jobs(client, at("2027-03-31", 21)).overdue == 0  # due that day (23:00 in Amsterdam)
    assert run_jobs(client, at("2027-03-31", 22)).overdue == 3  # 1 April there
    subjects = [str(m["Subject"]) for m in _to(smtp, "volger@example.org")]
    assert f"{BIKE}: a response is overdue" in subjects
    assert len([s for s in subjects if s.endswith(": a response is overdue")]) == 3
    run_jobs(client, at("2027-04-01", 1))
    assert len(_to(smtp, "volger@example.org")) == len(subjects)
    feed = client.get("/monitor/feed.atom?lang=en").text
    assert "The response of Gemeente Test is overdue (due 2027-03-31)." in feed


def test_summit_monitor_run_jobs_reminds_once_and_says_so(
    db_url: str, tmp_path: Path, smtp: Smtp
) -> None:
    """`summit monitor run-jobs` (the real clock): a report due today is reminded once."""

    async def arrange() -> None:
        db = Database(db_url)
        try:
            world = await setup_monitor(db)
            async with db.session() as session:
                town = await session.get(Partner, world.partners["Gemeente Test"])
                assert town is not None
                await reports.set_partner_email(session, town, "gemeente@test.example", actor="t")
                item = await tracking.get_item(session, world.summit_id, world.items[BIKE])
                summit = await session.get(Summit, world.summit_id)
                # the summit's day, not UTC's: from 23:00 UTC it is already tomorrow in Amsterdam
                today = local_date(utcnow(), summit_time_zone(summit))
                await reports.set_interval(
                    session, item, every_weeks="2", first_due=str(today), actor="t", today=today
                )
        finally:
            await db.dispose()

    asyncio.run(arrange())
    env = {"SUMMIT_DATABASE_URL": db_url, "SUMMIT_DATA_DIR": str(tmp_path),
           "SUMMIT_SMTP_URL": smtp.url}  # fmt: skip
    first = CliRunner().invoke(main, ["monitor", "run-jobs"], env=env)
    assert first.exit_code == 0, first.output
    assert "reports reminded 1, overdue 0" in first.output and "sent 1" in first.output
    again = CliRunner().invoke(main, ["monitor", "run-jobs"], env=env)
    assert "reports reminded 0" in again.output and "sent 0" in again.output
    assert len(_to(smtp, "gemeente@test.example")) == 1


def test_without_smtp_reminders_are_logged_not_queued(client: Client) -> None:
    client.run(client.app.state.monitor_jobs.stop())  # type: ignore[attr-defined]
    world = client.run(setup_monitor(client.db))
    client.run(_arrange(client, world))
    assert run_jobs(client, at("2027-03-22")).reminded == 1
    assert _actions(client, "partner.report_reminder")[0]["mailed"] is False

    async def outbox() -> int:
        async with client.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxMail)) or 0)

    assert client.run(outbox()) == 0


def test_two_workers_at_once_send_one_reminder(mail_client: Client, smtp: Smtp) -> None:
    """Two app workers running the job's pass at the same moment: the claim lets one remind."""
    client = mail_client
    world = client.run(setup_monitor(client.db))
    client.run(_arrange(client, world))
    settings = client.app.state.settings  # type: ignore[attr-defined]

    async def both(now: dt.datetime) -> list[jobs.JobReport]:
        other = Database(settings.database_url)
        try:
            return list(
                await asyncio.gather(
                    jobs.run_once(client.db, settings, now=now),
                    jobs.run_once(other, settings, now=now),
                )
            )
        finally:
            await other.dispose()

    assert sum(r.reminded for r in client.run(both(at("2027-03-22")))) == 1
    assert len(_to(smtp, "gemeente@test.example")) == 1
    assert sum(r.reports_overdue for r in client.run(both(at("2027-03-30")))) == 1
    assert len(_actions(client, "partner.report_overdue")) == 1


def test_a_late_report_made_while_the_job_was_down_is_still_marked_late(
    mail_client: Client,
) -> None:
    """Reports count for their own period only: one report after several missed weeks is late for
    each of them (marked, with when it came in) and counts for the week it was made in."""
    client = mail_client
    world = client.run(setup_monitor(client.db))

    async def arrange() -> int:
        async with client.db.session() as session:
            item = await tracking.get_item(session, world.summit_id, world.items[BIKE])
            await reports.set_interval(
                session, item, every_weeks="1", first_due="2027-03-08", actor="o", today=T0.date()
            )
            town = await session.get(Partner, world.partners["Gemeente Test"])
            await tracking.report(
                session, item, status="in_progress", progress="10", text="Laat.",
                actor="partner", partner=town, now=at("2027-03-17"),
            )  # fmt: skip
            return item.id

    bike = client.run(arrange())
    assert run_jobs(client, at("2027-03-18")).reports_overdue == 2  # due 03-08 and 03-15
    rows = {r["due_on"]: r for r in client.get("/open-data/report-dues.json").json()["rows"]}
    assert set(rows) == {"2027-03-08", "2027-03-15"}
    assert all(r["overdue_at"] and r["reported_at"].startswith("2027-03-17") for r in rows.values())
    assert "data-report-overdue" not in client.get(f"/monitor/proposals/{bike}").text
    assert run_jobs(client, at("2027-03-23")).reports_overdue == 0  # 03-22: reported on 03-17


def test_a_proposal_taken_up_again_is_not_overdue_for_the_weeks_it_was_done(
    mail_client: Client,
) -> None:
    """While a proposal is done (or stopped) nobody owes its reports: when a partner takes it up
    again, the weeks in between are not marked overdue (publicly, and to the followers)."""
    client = mail_client
    world = client.run(setup_monitor(client.db))

    async def partner_says(status: str, when: dt.datetime, interval: bool = False) -> None:
        async with client.db.session() as session:
            item = await tracking.get_item(session, world.summit_id, world.items[BIKE])
            if interval:
                await reports.set_interval(
                    session, item, every_weeks="1", first_due="2027-03-08", actor="o",
                    today=T0.date(),
                )  # fmt: skip
            town = await session.get(Partner, world.partners["Gemeente Test"])
            await tracking.report(
                session, item, status=status, progress="50", text="Klaar.", actor="partner",
                partner=town, now=when,
            )  # fmt: skip

    client.run(partner_says("done", at("2027-03-05"), interval=True))
    for day in ("2027-03-09", "2027-03-20", "2027-04-20", "2027-04-30"):
        assert run_jobs(client, at(day)).reports_overdue == 0
    client.run(partner_says("in_progress", at("2027-05-01")))
    assert run_jobs(client, at("2027-05-02")).reports_overdue == 0
    assert not _actions(client, "partner.report_overdue")
    # from then on the reports are owed again: the week after is reminded and marked
    assert run_jobs(client, at("2027-05-11")).reports_overdue == 1
