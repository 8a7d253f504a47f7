"""The Monitor's whole path in a real Chromium against `summit serve` with a real SMTP server on
loopback: a follower subscribes (double opt-in), a partner signs the agreement and responds to two
proposals, a Monitor member posts an assessment, the follower gets the mail and unsubscribes with
one click, and the public pages show it all (axe on every page)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from tests.support.browser import Server, axe_violations, chromium, needs_chromium, run_server
from tests.support.mail import Smtp, body

pytestmark = [pytest.mark.browser, needs_chromium]
BIKE = "Veilige fietsroutes naar school"
GREEN = "Groene schoolpleinen"
VISITOR = "bezoeker@example.org"


@pytest.fixture(scope="module")
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: Smtp) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("browser-monitor")
    with run_server(data, env={"SUMMIT_SMTP_URL": smtp.url}) as running:
        yield running


def wait_for_mail(smtp: Smtp, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    """The visitor's mails, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(mine(smtp)) >= count:
            return mine(smtp)
        time.sleep(0.2)
    raise AssertionError(f"expected {count} mails, got {len(mine(smtp))}")


def link_of(message: EmailMessage, base: str, kind: str) -> str:
    match = re.search(rf"{re.escape(base)}/monitor/follow/\d+/{kind}/\w+", body(message))
    assert match, body(message)
    return match.group(0)


def mine(smtp: Smtp) -> list[EmailMessage]:
    return [m for m in smtp.inbox.messages if m["To"] == VISITOR]


def assert_accessible(page: Any) -> None:
    assert axe_violations(page) == [], page.url


def follow_by_mail(visitor: Any, server: Server, smtp: Smtp) -> None:
    """A visitor follows the bike routes by e-mail and confirms (double opt-in)."""
    visitor.goto(f"{server.url}/monitor?lang=en")
    assert_accessible(visitor)
    visitor.get_by_role("link", name=BIKE).click()
    assert_accessible(visitor)
    visitor.get_by_label("Your e-mail address").fill(VISITOR)
    # the form starts at the page's language; this visitor reads English but wants Dutch mail
    assert visitor.get_by_label("Language of the mails").input_value() == "en"
    visitor.get_by_label("Language of the mails").select_option("nl")
    visitor.get_by_role("button", name="Follow by e-mail").click()
    visitor.get_by_role("heading", name="Check your mailbox").wait_for()
    confirmation = wait_for_mail(smtp, 1)[0]
    visitor.goto(link_of(confirmation, server.url, "confirm"))
    visitor.get_by_role("button", name="Confirm").click()
    visitor.get_by_role("heading", name="You follow it now").wait_for()


def sign_agreement(partner: Any, server: Server) -> None:
    partner.goto(server.links()["partner (unsigned)"])
    partner.goto(f"{server.url}/partner?lang=en")
    assert_accessible(partner)
    partner.get_by_label("Signed on behalf of the partner by (function, e.g. mayor)").fill(
        "Voorzitter"
    )
    partner.get_by_label("Mobiliteit").check()
    partner.get_by_label("Groen en klimaat").check()
    partner.get_by_label(re.compile("We sign this agreement")).check()
    partner.get_by_role("button", name="Sign the agreement").click()
    partner.locator("[data-signed]").wait_for()


def respond(partner: Any, server: Server, title: str, answer: str) -> None:
    partner.goto(f"{server.url}/partner?lang=en")
    partner.get_by_role("link", name=title).click()
    partner.get_by_label(answer, exact=True).check()
    partner.get_by_label("Plan: what you will do").fill(f"Ons plan voor {title}.")
    partner.get_by_label("Start date").fill("2027-01-15")
    partner.get_by_label("End date").fill("2027-09-30")
    if answer == "partly":
        partner.get_by_label("Partly: what you do not carry out, and why").fill(
            "Alleen de pleinen in Noord: elders is de grond niet van ons."
        )
    partner.get_by_label("Contact person").fill("K. Smit")
    partner.get_by_label("Contact's function").fill("Voorzitter")
    assert_accessible(partner)
    partner.get_by_role("button", name="Publish the response").click()
    partner.locator("[data-response]").first.wait_for()


def assess(member: Any, server: Server) -> None:
    member.goto(server.links()["monitor (member)"])
    member.goto(f"{server.url}/me/monitor?lang=en")
    member.get_by_role("link", name=BIKE).click()
    assert_accessible(member)
    member.get_by_label("delayed").check()
    member.get_by_label("Explanation (public)").fill("De aanbesteding loopt drie maanden uit.")
    member.get_by_role("button", name="Publish the assessment").click()
    member.get_by_text("De aanbesteding loopt drie maanden uit.").first.wait_for()


def unsubscribe_with_one_click(visitor: Any, server: Server, smtp: Smtp) -> None:
    """The follower hears of the response and the assessment, and stops with one click."""
    deadline = time.monotonic() + 30
    while not any("Monitorgroep" in m["Subject"] for m in mine(smtp)):
        assert time.monotonic() < deadline, [m["Subject"] for m in mine(smtp)]
        time.sleep(0.2)
    # in the language chosen on the follow form (Dutch): the response and the group's
    # assessment, and nothing about the green schoolyards, which this visitor does not follow
    subjects = [m["Subject"] for m in mine(smtp)[1:]]
    assert f"{BIKE}: een partner heeft gereageerd" in subjects
    assert not [s for s in subjects if GREEN in s]
    notice = next(m for m in mine(smtp) if "Monitorgroep" in m["Subject"])
    assert BIKE in notice["Subject"]
    stop = link_of(notice, server.url, "stop")
    assert notice["List-Unsubscribe"] == f"<{stop}>"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    visitor.goto(stop + "?lang=en")
    visitor.get_by_role("button", name="Unsubscribe").click()
    visitor.get_by_role("heading", name="You are unsubscribed").wait_for()


def check_the_public_record(visitor: Any, server: Server) -> None:
    visitor.goto(f"{server.url}/monitor?lang=en")
    assert visitor.locator("figure svg").count() == 1
    visitor.get_by_role("link", name=BIKE).click()
    assert visitor.locator('[data-assessment="delayed"]').count() == 1
    assert "Ons plan voor Veilige fietsroutes naar school." in visitor.content()
    assert visitor.locator("svg[role=img]").count() >= 1
    visitor.goto(f"{server.url}/monitor/partners?lang=en")
    assert visitor.locator('[data-signed="Ondernemersvereniging Lindeveld"]').count() == 1
    visitor.goto(f"{server.url}/g1000?lang=en")
    assert visitor.locator("[aria-current=step]").count() == 1
    assert_accessible(visitor)


def test_the_monitor_from_signature_to_one_click_unsubscribe(server: Server, smtp: Smtp) -> None:
    with chromium() as browser:
        visitor, partner, member = (browser.new_context(locale="en-GB").new_page() for _ in "abc")
        follow_by_mail(visitor, server, smtp)
        sign_agreement(partner, server)
        respond(partner, server, BIKE, "will carry out")
        respond(partner, server, GREEN, "partly")
        assess(member, server)
        unsubscribe_with_one_click(visitor, server, smtp)
        check_the_public_record(visitor, server)
        sent_before = len(mine(smtp))
        partner.goto(f"{server.url}/partner?lang=en")
        partner.get_by_role("link", name=BIKE).click()
        partner.get_by_label("Report", exact=True).fill("Eerste stalling geplaatst.")
        partner.get_by_role("button", name="Publish the report").click()
        partner.get_by_text("Eerste stalling geplaatst.").first.wait_for()
        time.sleep(6)  # a full pass of the background job: nothing goes to an unsubscribed address
        assert len(mine(smtp)) == sent_before


def test_the_partner_pages_are_in_dutch_by_default(server: Server, smtp: Smtp) -> None:
    with chromium() as browser:
        page = browser.new_context(locale="nl-NL").new_page()
        page.goto(f"{server.url}/monitor")
        assert page.get_by_role("heading", level=1).inner_text() == "Monitor van het Burgerbesluit"
        page.goto(f"{server.url}/g1000")
        assert_accessible(page)
