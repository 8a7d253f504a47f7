"""The council story in a real Chromium: prioritisation with a live plenary screen, the Burgerraad
vote with receipts, and the signed Burgerbesluit (axe on every page a member sees)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from summit.core.db import Database
from summit.core.models import Participant
from summit.council import service as uc
from summit.council.rules.voting import receipt_key
from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-council")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Server]:
    # The server secret lives outside the data folder (cast_for_many needs it: it plays members).
    key_file = data_dir.parent / f"{data_dir.name}-secret.key"
    with run_server(data_dir, env={"SUMMIT_SECRET_KEY_FILE": str(key_file)}, args=[]) as running:
        yield running


def cast_for_many(data_dir: Path, vote_id: int, proposal: int, skip: str, count: int) -> None:
    """Members vote through the use case against the server's own database (same as the app)."""

    async def go() -> None:
        db = Database(f"sqlite+aiosqlite:///{data_dir / 'summit.db'}")
        key = receipt_key((data_dir.parent / f"{data_dir.name}-secret.key").read_text().strip())
        try:
            async with db.session() as session:
                vote = await session.get(uc.CouncilVote, vote_id)
                assert vote is not None
                ids = list(
                    (
                        await session.execute(
                            select(Participant.id)
                            .where(Participant.summit_id == vote.summit_id)
                            .order_by(Participant.id)
                        )
                    ).scalars()
                )
            skipped = await _participant_of_link(db, skip)
            for pid in [i for i in ids if i != skipped][:count]:
                async with db.session() as session:
                    await uc.cast_ballots(
                        session,
                        summit_id=vote.summit_id,
                        vote_id=vote_id,
                        participant_id=pid,
                        choices={proposal: "for"},
                        key=key,
                    )
        finally:
            await db.dispose()

    # Playwright's sync API owns this thread's event loop: run ours in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()


async def _participant_of_link(db: Database, link: str) -> int:
    from summit.core.models import PersonalLink
    from summit.core.security import token_hash

    async with db.session() as session:
        row = await session.scalar(
            select(PersonalLink).where(PersonalLink.token_hash == token_hash(link.split("/p/")[1]))
        )
        assert row is not None
        return row.participant_id


def wait_until(page: Any, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression (``wait_for_function`` evaluates strings, which the pages'
    content security policy forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(200)


def submit(page: Any, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def prioritise(organiser: Any, server: Server) -> str:
    """The organiser adds three themes and opens a prioritisation; returns its page."""
    log_in(organiser, server.url, "organiser", server.credential("organiser"), "/council")
    for label in ("Cycling", "Housing", "Green"):
        organiser.get_by_label("New theme").fill(label)
        submit(organiser, "Add theme")
    organiser.get_by_label("Votes per participant").fill("3")
    organiser.get_by_label("Shortlist size").fill("2")
    organiser.get_by_label("Public tie-break seed").fill("browser-seed")
    submit(organiser, "Create prioritisation")
    priority_url = str(organiser.url)
    submit(organiser, "Open voting")
    return priority_url


def open_the_screen(browser: Any, organiser: Any, server: Server) -> Any:
    """The plenary screen in the hall, through a display link (no login), with the theme board
    live while the moderator groups the day's ideas."""
    organiser.goto(server.url + "/council")
    organiser.get_by_label("Label (e.g. big screen, hall A)").fill("Hall")
    submit(organiser, "Issue a display link")
    display_url = organiser.get_by_label("Display link").input_value()
    screen = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
    screen.goto(display_url)
    screen.wait_for_selector("body[data-council-live='1']", state="attached")
    screen.wait_for_selector("[data-priority-items] li")
    total = (
        "[...document.querySelectorAll('[data-themes-list] li')]"
        ".reduce((n, li) => n + Number(li.dataset.count), 0)"
    )
    assert screen.evaluate(total) == 0  # the three themes above have no ideas yet
    organiser.goto(server.url + "/moderator/themes")
    organiser.locator("button[name=granularity][value=same]").click()  # group (again)
    wait_until(screen, f"{total} === 36", timeout=60)
    counts = screen.locator("[data-themes-list] li").evaluate_all(
        "items => items.map(li => Number(li.dataset.count))"
    )
    assert sum(counts) == 36 and counts == sorted(counts, reverse=True)
    assert axe_violations(screen) == []
    return screen


def dots_on_a_phone(browser: Any, server: Server, screen: Any) -> tuple[Any, str]:
    """A resident at home, on a phone, gives three votes; the big screen follows."""
    link = server.links()["resident (online)"]
    phone = browser.new_context(
        locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    phone.goto(link)
    phone.goto(server.url + "/council/mine?lang=en")
    phone.get_by_role("link", name="Which themes matter most?").click()
    phone.get_by_label("Cycling").fill("2")
    phone.get_by_label("Green").fill("2")
    assert phone.get_by_role("button", name="Save my votes").is_disabled()  # 4 > 3
    phone.get_by_label("Green").fill("1")
    assert "Votes left: 0" in phone.locator("[data-dots-left]").inner_text()
    assert axe_violations(phone) == []
    submit(phone, "Save my votes")
    assert phone.locator(".notice").is_visible()
    screen.wait_for_selector("[data-priority-items] li[data-votes='2']", timeout=15000)
    return phone, link


def set_up_the_vote(organiser: Any, phone: Any, server: Server) -> tuple[int, list[int]]:
    """Workshops write two proposals; the organiser puts them to the Burgerraad. The member
    opens the ballot before voting opens: their browser makes the anonymous voting key and asks
    for it; it is signed, with the others', when voting opens."""
    for title, text in (("Safe cycle routes", "Separate cycle paths"), ("Tiny houses", "Build")):
        organiser.goto(server.url + "/council/proposals")
        organiser.get_by_label("Title").fill(title)
        organiser.get_by_label("The proposal").fill(text)
        submit(organiser, "Save the proposal")
    organiser.goto(server.url + "/council")
    assert organiser.get_by_label("All participants of the summit").is_checked()
    assert axe_violations(organiser) == []  # the vote form with its membership choices
    organiser.locator("#cv-title").fill("Burgerraad December")
    submit(organiser, "Create vote")
    vote_id = int(re.search(r"/council/votes/(\d+)/manage", organiser.url).group(1))  # type: ignore[union-attr]
    phone.goto(server.url + f"/council/votes/{vote_id}?lang=en")
    wait_until(phone, "localStorage.length > 0")
    submit(organiser, "Open voting")
    proposal_ids = [
        int(href.rsplit("/", 1)[1])
        for href in organiser.locator("ol a[href^='/council/proposals/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    ]
    assert "101" in organiser.content()  # 200 members: 101 needed
    return vote_id, proposal_ids


def vote_on_the_phone(phone: Any, proposal_ids: list[int]) -> list[str]:
    phone.wait_for_selector("[data-ballot][data-key-ready='1']", timeout=30000)
    phone.reload()  # the key stays in this browser
    phone.wait_for_selector("[data-ballot][data-key-ready='1']")
    assert "at least 101 of the 200 members" in phone.content()
    phone.locator(f"input[name='choice-{proposal_ids[0]}'][value='for']").check()
    phone.locator(f"input[name='choice-{proposal_ids[1]}'][value='against']").check()
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Cast my vote").click()
    phone.wait_for_selector("[data-receipts-body] [data-receipt]")
    receipts: list[str] = phone.locator("[data-receipt]").all_inner_texts()
    assert len(receipts) == 2 and all(len(r) == 19 for r in receipts)
    assert phone.get_by_role("button", name="Change my vote").is_visible()
    return receipts


def check_and_sign(phone: Any, server: Server, vote_id: int, adopted_id: int, receipt: str) -> None:
    """The member finds their receipt counted and signs the Burgerbesluit."""
    phone.goto(server.url + f"/council/votes/{vote_id}/result?lang=en")
    adopted = phone.locator(f"tr[data-proposal='{adopted_id}'] [data-outcome]")
    assert adopted.get_attribute("data-outcome") == "adopted"
    phone.get_by_role("textbox", name="Receipt").fill(receipt.lower())
    submit(phone, "Check")
    assert phone.locator("[data-check=counted]").is_visible()
    assert axe_violations(phone) == []
    phone.get_by_role("link", name="The Burgerbesluit and its signatures").click()
    digest = phone.locator("[data-document-hash]").inner_text()
    document = phone.request.get(phone.url + "/document.html").body()
    assert hashlib.sha256(document).hexdigest() == digest
    assert b"Safe cycle routes" in document and b"Tiny houses" in document
    phone.get_by_label("I have read this Burgerbesluit and sign it.").check()
    assert axe_violations(phone) == []
    submit(phone, "Sign the Burgerbesluit")
    assert "1 of 200 members have signed" in phone.content()
    signatures = phone.request.get(phone.url.split("#")[0] + "/signatures.json").json()
    assert signatures["document_sha256"] == digest and len(signatures["signatures"]) == 1


def test_prioritise_vote_and_sign_the_burgerbesluit(server: Server, data_dir: Path) -> None:
    with chromium() as browser:
        organiser = browser.new_context(locale="en-GB").new_page()
        priority_url = prioritise(organiser, server)
        screen = open_the_screen(browser, organiser, server)
        phone, link = dots_on_a_phone(browser, server, screen)
        organiser.goto(priority_url)
        submit(organiser, "Close and make the shortlist")
        organiser.goto(priority_url + "/result")
        shortlist = organiser.locator(".shortlist li").all_inner_texts()
        assert len(shortlist) == 2 and shortlist[0].startswith("Cycling")

        vote_id, proposal_ids = set_up_the_vote(organiser, phone, server)
        receipts = vote_on_the_phone(phone, proposal_ids)
        cast_for_many(data_dir, vote_id, proposal_ids[0], link, 100)
        organiser.goto(server.url + f"/council/votes/{vote_id}/manage")
        submit(organiser, "Close voting and count")
        screen.wait_for_selector("[data-council-rows] td.adopted", timeout=15000)
        check_and_sign(phone, server, vote_id, proposal_ids[0], receipts[0])
