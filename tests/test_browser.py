"""The demo in a real headless Chromium: organiser and participant side by side, plus axe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Server, axe_violations, chromium, needs_chromium, run_server

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("browser-demo")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_organiser_and_participant_each_see_their_own_view(server: Server, browser: Any) -> None:
    organiser = browser.new_context(locale="nl-NL")
    page = organiser.new_page()
    page.goto(server.url + "/organiser")
    assert page.url.endswith("/login?next=/organiser")
    page.get_by_label("Gebruikersnaam").fill("organiser")
    page.get_by_label("Wachtwoord").fill(server.credential("organiser"))
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/organiser")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Overzicht")
    assert page.locator('[data-count="participants_total"]').inner_text() == "200"
    assert page.locator("[aria-current=step]").inner_text() == "Burgertop"
    assert axe_violations(page) == []

    participant = browser.new_context(locale="nl-NL")
    mine = participant.new_page()
    link = server.links()["resident (online)"]
    mine.goto(link)
    mine.wait_for_url("**/me")
    assert mine.get_by_role("heading", name="Jouw tafel").is_visible()
    table = mine.locator("[data-table-number]").get_attribute("data-table-number")
    assert table and int(table) > 0
    assert mine.locator(".companions li").count() >= 5
    assert "online vanuit huis" in mine.content()
    assert mine.get_by_role("link", name="Overzicht").count() == 0  # no organiser navigation
    assert axe_violations(mine) == []

    # The participant cannot reach the organiser's page, even by typing its address.
    response = mine.goto(server.url + "/organiser")
    assert response is not None and response.status == 403

    # Live: the organiser moves the summit on; the participant's page follows without a click.
    mine.goto(server.url + "/me")
    mine.wait_for_function("document.body.dataset.connected === '1'")
    page.get_by_role("button", name="Door naar").click()
    page.wait_for_url("**/organiser")
    mine.wait_for_function(
        "document.querySelector('[data-next-step]').textContent.includes('forum')", timeout=15000
    )
    organiser.close()
    participant.close()


def test_public_pages_are_accessible_in_both_languages(server: Server, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    for path in ("/?lang=en", "/audit", "/login", "/?lang=nl", "/audit", "/p/not-a-real-link"):
        page.goto(server.url + path)
        assert axe_violations(page) == [], path
    page.goto(server.url + "/audit?lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "Public log of every choice"
    head = page.locator("[data-head-hash]").inner_text()
    assert len(head) == 64
    context.close()


def test_screenshot_of_the_dashboard_renders(server: Server, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Gebruikersnaam").fill("moderator")
    page.get_by_label("Wachtwoord").fill(server.credential("moderator"))
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/moderator")
    rows = page.locator("tbody tr")
    assert rows.count() >= 200 // 9  # 200 people at tables of 8 guests and a host
    shot = tmp_path / "moderator.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    context.close()
