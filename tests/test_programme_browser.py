"""The organiser advances the programme; a participant's page follows with a running countdown,
without a reload."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.core.models import Summit
from summit.programme import service as uc
from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)
from tests.support.seating import make_seated_summit

pytestmark = [pytest.mark.browser, needs_chromium]
PASSWORD = "a long browser password"


# Until /me includes the panel (a shared template), the test adds it as that include would.
async def _prepare(url: str) -> dict[str, str]:
    await upgrade(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
        tokens: dict[str, str] = {}
        summit_id = await make_seated_summit(db, tokens=tokens)
        async with db.session() as session:
            summit = await session.get(Summit, summit_id)
            assert summit is not None
            for kind, title, start, minutes in (
                ("welcome", "Welkom en uitleg", "09:00", 20),
                ("agenda", "Agenda bepalen", "09:20", 30),
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
        return tokens
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def programme_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    data_dir = tmp_path_factory.mktemp("browser-programme")
    tokens = asyncio.run(_prepare(f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"))
    with run_server(data_dir, args=["--no-demo"]) as running:
        yield running, tokens


def test_the_participant_page_follows_the_programme_live(
    programme_server: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = programme_server
    with chromium() as browser:
        organiser = browser.new_context(locale="en-GB")
        page = organiser.new_page()
        log_in(page, server.url, "organiser", PASSWORD, "/programme/manage")
        assert page.locator("tr[data-item]").count() == 2
        assert axe_violations(page) == []

        participant = browser.new_context(locale="en-GB")
        mine = participant.new_page()
        mine.goto(server.url + f"/p/{next(iter(tokens.values()))}")
        mine.wait_for_url("**/me")
        mine.goto(server.url + "/me?lang=en")  # the link chose the participant's Dutch
        assert mine.locator("[data-programme-now]").count() == 1
        mine.wait_for_function("document.body.dataset.programmeLive === '1'")
        mine.wait_for_function("document.querySelector('[data-programme-now]').dataset.status")
        assert mine.locator("[data-programme-now]").get_attribute("data-status") == "not_started"
        mine.evaluate("window.__notReloaded = true")

        page.get_by_role("button", name="Next item: Welkom en uitleg").click()
        page.wait_for_url("**/programme/manage#now")

        mine.wait_for_function(
            "document.querySelector('[data-programme-title]').textContent === 'Welkom en uitleg'",
            timeout=15000,
        )
        countdown = mine.locator("[data-programme-countdown]")
        mine.wait_for_function(
            "document.querySelector('[data-programme-countdown]').dataset.remaining"
        )
        first = int(countdown.get_attribute("data-remaining") or 0)
        assert 0 < first <= 20 * 60
        assert countdown.inner_text().startswith("Ends in")
        assert "Agenda bepalen" in mine.locator("[data-programme-next]").inner_text()
        time.sleep(2.2)
        assert int(countdown.get_attribute("data-remaining") or 0) < first
        assert mine.evaluate("window.__notReloaded") is True

        screen = participant.new_page()
        screen.goto(server.url + "/programme?lang=en")
        screen.wait_for_function(
            "document.querySelector('[data-programme-now]').dataset.status === 'running'"
        )
        assert screen.locator('tr[data-status="current"]').inner_text().count("Welkom") == 1
        assert axe_violations(screen) == []
        organiser.close()
        participant.close()
