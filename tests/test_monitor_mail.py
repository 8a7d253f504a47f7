"""Following the Monitor by e-mail through a real SMTP server on loopback (aiosmtpd): double
opt-in, notifications with RFC 8058 headers, one-click unsubscribe, retries, no duplicates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from summit.app import create_app
from summit.core.models import utcnow
from summit.monitor import jobs, tracking
from summit.monitor.models import MonitorSubscription, OutboxMail
from tests.support.app import Client, make_settings
from tests.support.http import csrf_of
from tests.support.mail import Smtp, body
from tests.support.monitor import setup_monitor


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def mail_client(db_url: str, tmp_path: Path, smtp: Smtp) -> Iterator[Client]:
    app = create_app(make_settings(tmp_path, db_url, smtp_url=smtp.url))
    with Client(app, base_url="http://testserver", follow_redirects=False) as client:
        # the tests run the job's passes themselves, with their own clock
        client.run(client.app.state.monitor_jobs.stop())  # type: ignore[attr-defined]
        yield client


def run_jobs(client: Client, now: dt.datetime | None = None) -> jobs.JobReport:
    report: jobs.JobReport = client.run(
        jobs.run_once(client.db, client.app.state.settings, now=now)  # type: ignore[attr-defined]
    )
    return report


def link_in(message: EmailMessage, kind: str) -> str:
    match = re.search(rf"http://testserver(/monitor/follow/\d+/{kind}/\w+)", body(message))
    assert match, body(message)
    return match.group(1)


def report_status(client: Client, item_id: int, progress: str) -> None:
    async def go() -> None:
        async with client.db.session() as session:
            item = await tracking.get_item(session, 1, item_id)
            await tracking.report(
                session, item, status="in_progress", progress=progress, text="", actor="t"
            )

    client.run(go())


def test_follow_confirm_notify_and_unsubscribe_with_one_click(
    mail_client: Client, smtp: Smtp
) -> None:
    client = mail_client
    world = client.run(setup_monitor(client.db))
    bike = world.items["Veilige fietsroutes naar school"]
    page = client.get(f"/monitor/proposals/{bike}")
    sent = client.post(
        "/monitor/follow",
        data={"csrf_token": csrf_of(page.text), "email": "volger@example.org", "item": str(bike)},
    )
    assert sent.status_code == 200
    report_status(client, bike, "10")  # before confirming: nothing is sent about it
    run_jobs(client)
    assert len(smtp.inbox.messages) == 1
    confirmation = smtp.inbox.messages[0]
    assert confirmation["To"] == "volger@example.org" and "List-Unsubscribe" not in confirmation
    confirm = link_in(confirmation, "confirm")
    form = client.get(confirm)
    assert client.post(confirm, data={"csrf_token": csrf_of(form.text)}).status_code == 200

    report_status(client, bike, "40")
    run_jobs(client)
    run_jobs(client)  # a second pass (or a restarted worker) sends nothing twice
    assert len(smtp.inbox.messages) == 2
    notice = smtp.inbox.messages[1]
    stop = link_in(notice, "stop")
    assert notice["List-Unsubscribe"] == f"<http://testserver{stop}>"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Veilige fietsroutes naar school" in notice["Subject"] and "40" in body(notice)

    # The mail client's one-click POST (RFC 8058): no session, no CSRF token.
    client.cookies.clear()
    answer = client.post(stop, content=b"List-Unsubscribe=One-Click",
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 200
    assert client.post(stop.replace("/stop/", "/stop/0"), data={}).status_code == 404
    report_status(client, bike, "60")
    run_jobs(client)
    assert len(smtp.inbox.messages) == 2

    async def stored() -> MonitorSubscription:
        async with client.db.session() as session:
            found: MonitorSubscription = (
                await session.execute(select(MonitorSubscription))
            ).scalar_one()
            return found

    ended = client.run(stored())
    assert ended.status == "unsubscribed" and ended.email == ""


def test_a_mail_the_server_refuses_is_retried_later_and_sent_once(
    mail_client: Client, smtp: Smtp
) -> None:
    client = mail_client
    client.run(setup_monitor(client.db))
    page = client.get("/monitor")
    client.post(
        "/monitor/follow", data={"csrf_token": csrf_of(page.text), "email": "a@example.org"}
    )
    smtp.controller.stop()
    now = utcnow()
    assert run_jobs(client, now).sent == 0

    async def outbox() -> OutboxMail:
        async with client.db.session() as session:
            found: OutboxMail = (await session.execute(select(OutboxMail))).scalar_one()
            return found

    failed = client.run(outbox())
    assert failed.status == "pending" and failed.attempts == 1 and failed.last_error
    smtp.restart()
    assert run_jobs(client, now + dt.timedelta(seconds=30)).sent == 0  # not due yet
    assert run_jobs(client, now + dt.timedelta(minutes=2)).sent == 1
    assert run_jobs(client, now + dt.timedelta(minutes=10)).sent == 0
    assert len(smtp.inbox.messages) == 1 and client.run(outbox()).status == "sent"


def test_without_smtp_email_is_off_and_the_pages_say_so(client: Client) -> None:
    client.run(setup_monitor(client.db))
    page = client.get("/monitor?lang=en")
    assert (
        "E-mail is not set up on this platform" in page.text and "/monitor/feed.atom" in page.text
    )
    refused = client.post(
        "/monitor/follow", data={"csrf_token": client.csrf(), "email": "a@example.org"}
    )
    assert refused.status_code == 409
    assert (
        client.get("/monitor/feed.atom").headers["content-type"].startswith("application/atom+xml")
    )


def test_a_bad_address_is_refused_and_nothing_is_queued(mail_client: Client) -> None:
    client = mail_client
    client.run(setup_monitor(client.db))
    page = client.get("/monitor?lang=en")
    answer = client.post(
        "/monitor/follow", data={"csrf_token": csrf_of(page.text), "email": "not an address"}
    )
    assert answer.status_code == 400 and "e-mail address" in answer.text

    async def count() -> int:
        async with client.db.session() as session:
            return len((await session.execute(select(OutboxMail))).scalars().all())

    assert client.run(count()) == 0


def test_each_follower_gets_mail_in_the_language_of_the_page_they_followed_from(
    mail_client: Client, smtp: Smtp
) -> None:
    client = mail_client
    world = client.run(setup_monitor(client.db))
    bike = world.items["Veilige fietsroutes naar school"]
    for address, lang in (("reader@example.org", "en"), ("lezer@example.org", "nl")):
        client.cookies.clear()
        page = client.get(f"/monitor/proposals/{bike}?lang={lang}")
        assert f'<option value="{lang}" lang="{lang}" selected>' in page.text
        answer = client.post(
            "/monitor/follow",
            data={"csrf_token": csrf_of(page.text), "email": address, "item": str(bike)},
        )
        assert answer.status_code == 200
    run_jobs(client)
    confirmations = {m["To"]: m for m in smtp.inbox.messages}
    assert confirmations["reader@example.org"]["Subject"].startswith("Confirm that you follow")
    assert "To confirm, open this link" in body(confirmations["reader@example.org"])
    assert "To confirm" not in body(confirmations["lezer@example.org"])
    assert "Confirm" not in confirmations["lezer@example.org"]["Subject"]
    for address in confirmations:
        confirm = link_in(confirmations[address], "confirm")
        form = client.get(confirm)
        assert client.post(confirm, data={"csrf_token": csrf_of(form.text)}).status_code == 200

    report_status(client, bike, "30")
    run_jobs(client)
    notices = {m["To"]: m for m in smtp.inbox.messages[2:]}
    assert set(notices) == {"reader@example.org", "lezer@example.org"}
    english, dutch = notices["reader@example.org"], notices["lezer@example.org"]
    assert english["Subject"].endswith(": new status")
    assert "Status: in progress, 30 % done." in body(english)
    assert not dutch["Subject"].endswith(": new status")
    assert "in progress" not in body(dutch) and "30" in body(dutch)

    async def languages() -> dict[str, str]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(MonitorSubscription.email, MonitorSubscription.language)
            )
            return dict(rows.tuples().all())

    assert client.run(languages()) == {"reader@example.org": "en", "lezer@example.org": "nl"}
