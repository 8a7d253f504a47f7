"""The organiser sets partner reports at intervals in a real Chromium against `summit serve`: a
refused interval and address are explained on the page (nothing stored), the accepted ones show on
the public page, and the organiser's page passes axe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)

pytestmark = [pytest.mark.browser, needs_chromium]
BIKE = "Veilige fietsroutes naar school"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("browser-monitor-reports")) as running:
        yield running


def test_the_organiser_sets_reports_at_intervals_and_a_partners_address(server: Server) -> None:
    with chromium() as browser:
        page = browser.new_context(locale="en-GB").new_page()
        log_in(page, server.url, "organiser", server.credential("organiser"), "/organiser/monitor")
        page.goto(f"{server.url}/organiser/monitor?lang=en")
        assert axe_violations(page) == []
        card = page.locator("article", has=page.get_by_role("heading", name=BIKE))
        weeks = card.get_by_label(
            "Partners report progress every (weeks, 1 to 52; empty: no reports)"
        )
        weeks.fill("0")
        card.get_by_role("button", name="Set the reports").click()
        page.get_by_role("alert").wait_for()
        assert (
            "must be a whole number of weeks from 1 to 52" in page.get_by_role("alert").inner_text()
        )
        assert axe_violations(page) == []

        card = page.locator("article", has=page.get_by_role("heading", name=BIKE))
        card.get_by_label(
            "Partners report progress every (weeks, 1 to 52; empty: no reports)"
        ).fill("3")
        card.get_by_role("button", name="Set the reports").click()
        page.wait_for_url("**/organiser/monitor")

        address = page.get_by_label("E-mail address of Gemeente Lindeveld for report reminders")
        address.fill("geen adres")
        address.press("Enter")
        page.get_by_role("alert").wait_for()
        assert (
            "enter an e-mail address like name@example.org"
            in page.get_by_role("alert").inner_text()
        )
        address = page.get_by_label("E-mail address of Gemeente Lindeveld for report reminders")
        address.fill("monitor@lindeveld.example")
        address.press("Enter")
        page.wait_for_url("**/organiser/monitor")
        shown = page.get_by_label("E-mail address of Gemeente Lindeveld for report reminders")
        assert shown.input_value() == "monitor@lindeveld.example"

        page.goto(f"{server.url}/monitor?lang=en")
        page.get_by_role("link", name=BIKE).click()
        page.wait_for_url("**/monitor/proposals/*")
        page.get_by_text("The partners report every 3 weeks").first.wait_for()
        assert axe_violations(page) == []
