"""The Burgerforum in a real Chromium on the demo summit: a resident takes part and reacts on a
phone (no horizontal scrolling at 390 px, axe-clean); a moderator hides a reaction with a public
reason; a workshop member sees the reactions grouped into themes and writes a revision citing
two of them; the organiser submits it, and the submitted version is the one on the Burgerraad's
ballot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from summit.core.db import Database
from summit.core.models import Summit
from summit.council import vote as council_vote
from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)

pytestmark = [pytest.mark.browser, needs_chromium]
PHONE = {"width": 390, "height": 844}
REVISED = "Buurtmoestuinen met een contract"
REVISION = (
    "Moestuinen op braakliggende grond, met een contract van vijf jaar en een vaste beheerder."
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-forum")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Server]:
    with run_server(data_dir) as running:
        yield running


def submit(page: Any, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def vote_on(data_dir: Path, title: str) -> int:
    """The organiser puts the proposal on a Burgerraad vote (the council's use case, against the
    server's own database)."""

    async def go() -> int:
        db = Database(f"sqlite+aiosqlite:///{data_dir / 'summit.db'}")
        try:
            async with db.session() as session:
                summit = await session.scalar(select(Summit))
                assert summit is not None
                from summit.council.models import Proposal

                pid = await session.scalar(select(Proposal.id).where(Proposal.title == title))
                assert pid is not None
                vote = await council_vote.create_council_vote(
                    session, summit, actor="test", title="Burgerraad forum", proposal_ids=[pid]
                )
                return int(vote.id)
        finally:
            await db.dispose()

    # Playwright's sync API owns this thread's event loop: run ours in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        return int(pool.submit(asyncio.run, go()).result())


TITLE = "Buurtmoestuinen op braakliggende grond"


def resident_reacts(browser: Any, server: Server) -> Any:
    """On a phone: read the proposal, take part with a postcode (a wrong one first), react."""
    phone = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    phone.goto(server.url + "/forum?lang=en")
    no_sideways_scroll(phone)
    phone.get_by_role("link", name=TITLE).click()
    phone.wait_for_load_state()
    no_sideways_scroll(phone)
    assert axe_violations(phone) == []
    phone.get_by_role("link", name="Take part", exact=True).click()
    phone.get_by_label("Your postcode", exact=True).fill("9999 ZZ")
    submit(phone, "Check my postcode")
    assert "is not in Lindeveld" in phone.locator(".error").first.inner_text()
    phone.get_by_label("Your postcode", exact=True).fill("9903 KL")
    submit(phone, "Check my postcode")
    assert phone.get_by_role("heading", level=1).inner_text() == TITLE
    for stance, text in (
        ("Support", "Mijn buurt heeft een braakliggend veld, ideaal!"),
        ("Concerns", "Wie ruimt de tuin op als er toch gebouwd wordt?"),
    ):
        phone.get_by_label(stance, exact=True).check()
        phone.get_by_label("Your reaction").fill(text)
        submit(phone, "Place my reaction")
        assert phone.locator(".notice").is_visible()
        assert text in phone.locator(".reactions").inner_text()
    no_sideways_scroll(phone)
    assert axe_violations(phone) == []
    return phone


def moderator_hides(browser: Any, server: Server, phone: Any) -> None:
    desk = browser.new_context(locale="en-GB").new_page()
    log_in(desk, server.url, "moderator", server.credential("moderator"), "/forum/moderate")
    item = desk.locator("li.reaction", has_text="ideaal!")
    item.get_by_label("Reason for hiding").select_option("off_topic")
    item.get_by_role("button", name="Hide").click()
    desk.wait_for_load_state()
    assert "The reaction is hidden" in desk.locator(".notice").inner_text()
    phone.reload()
    assert "ideaal!" not in phone.locator(".reactions").inner_text()
    assert "Not about this proposal (1)" in phone.locator("[data-hidden-count]").inner_text()


def workshop_with_a_member(browser: Any, server: Server) -> tuple[Any, Any, str]:
    """The organiser sets up a workshop on the proposal; a participant volunteers and is
    confirmed. Returns (organiser page, member page, workshop address)."""
    organiser = browser.new_context(locale="en-GB").new_page()
    log_in(organiser, server.url, "organiser", server.credential("organiser"), "/forum/manage")
    organiser.get_by_label("Name of the workshop").fill("Werkplaats moestuinen")
    organiser.get_by_label("It reworks").select_option(label=TITLE)
    organiser.get_by_label("Places for participants").fill("2")
    submit(organiser, "Create the workshop")
    workshop_url = organiser.url
    member = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    member.goto(server.links()["resident (online)"])
    member.goto(workshop_url + "?lang=en")
    submit(member, "Volunteer for this workshop")
    organiser.reload()
    organiser.locator("#members").get_by_role("button", name=re.compile("^Confirm ")).click()
    organiser.wait_for_load_state()
    return organiser, member, workshop_url


def member_revises(member: Any) -> None:
    """The working page groups the reactions; the member cites two of them in a revision."""
    member.reload()
    member.get_by_role("link", name="Open the workshop's working page").click()
    member.wait_for_load_state()
    groups = member.locator("[data-group]")
    assert groups.count() >= 1
    assert "Most typical:" in groups.first.inner_text()
    no_sideways_scroll(member)
    assert axe_violations(member) == []
    member.get_by_label("Title", exact=True).fill(REVISED)
    member.get_by_label("What we propose").fill(REVISION)
    cites = member.locator("input[name=cites]")
    assert cites.count() >= 2
    cites.nth(0).check()
    cites.nth(1).check()
    submit(member, "Save the revision")
    assert "Answers reactions:" in member.locator("#revisions").inner_text()


def test_react_moderate_rework_and_submit_to_the_burgerraad(server: Server, data_dir: Path) -> None:
    with chromium() as browser:
        phone = resident_reacts(browser, server)
        moderator_hides(browser, server, phone)
        organiser, member, workshop_url = workshop_with_a_member(browser, server)
        member_revises(member)
        # Submitted: the frozen version is the one the Burgerraad votes on.
        organiser.goto(workshop_url + "?lang=en")
        submit(organiser, "Submit to the Burgerraad")
        submitted = organiser.locator("[data-submitted]").inner_text()
        assert "Submitted to the Burgerraad as version 2" in submitted
        vote_id = vote_on(data_dir, REVISED)  # the proposal now has the workshop's title
        member.goto(server.url + f"/council/votes/{vote_id}?lang=en")
        on_ballot = member.locator("fieldset.ballot-item").first.text_content() or ""
        assert REVISION in on_ballot
        phone.goto(server.url + "/forum/mine")
        assert "Werkplaats moestuinen, revision 1" in phone.locator(".reactions").inner_text()
