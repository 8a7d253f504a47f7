"""The organiser runs both stages in a real browser: upload, commitment, invitation draw, then
(after residents registered) the stage-2 selection with its progress bar, the panel draw and the
report of panel vs population."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.lottery import service as lottery
from summit.lottery.models import RegisterEntry
from tests.support.browser import axe_violations, chromium, log_in, needs_chromium, run_server
from tests.support.lottery import DAY, SEED, form, register_csv

pytestmark = [pytest.mark.browser, needs_chromium]
SECRET = "browser-selection-secret-0123456789abcdef"
PASSWORD = "a long browser password"


async def _prepare(url: str) -> None:
    await upgrade(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            await repository.create_summit(
                session,
                actor="S-test",
                slug="two-stages",
                name="G1000 Twee rondes",
                municipality="Lotdorp",
                date=DAY,
                languages=["nl", "en"],
                features=[{"name": "gender", "values": []}, {"name": "age_band", "values": []}],
            )
    finally:
        await db.dispose()


async def _everyone_registers(url: str) -> int:
    """Every invited resident registers with the code from their letter (as on /register)."""
    db = Database(url)
    try:
        async with db.session() as session:
            summit = await repository.current_summit(session)
            assert summit is not None
            draw = await lottery.invitation_draw(session, summit.id)
            assert draw is not None and draw.status == "drawn"
            entries = {
                e.pseudonym: e.features
                for e in (await session.execute(select(RegisterEntry))).scalars()
            }
            for pseudonym in draw.result["pseudonyms"]:
                features = entries[pseudonym]
                parsed = lottery.parse_registration_form(
                    form(feature_gender=features["gender"], feature_age_band=features["age_band"]),
                    summit,
                    languages=["nl"],
                )
                code = lottery.invitation_code(SECRET, summit.id, pseudonym)
                await lottery.register_with_code(
                    session, summit, code, parsed, actor="public", secret_key=SECRET
                )
            return len(draw.result["pseudonyms"])
    finally:
        await db.dispose()


def test_the_organiser_runs_both_stages_and_sees_the_report(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'summit.db'}"
    asyncio.run(_prepare(url))
    register_file = tmp_path / "register.csv"
    register_file.write_text(register_csv(60), encoding="utf-8")
    with (
        run_server(tmp_path, env={"SUMMIT_SECRET_KEY": SECRET}, args=["--no-demo"]) as server,
        chromium() as browser,
    ):
        page = browser.new_context(locale="en-GB").new_page()
        log_in(page, server.url, "organiser", PASSWORD, "/organiser/lottery")

        page.get_by_label("Register file (CSV)").set_input_files(str(register_file))
        page.get_by_role("button", name="Import the register").click()
        page.wait_for_selector("text=eligible residents")
        page.get_by_label("Number of invitations").fill("24")
        page.get_by_role("button", name="Publish the commitment").click()
        page.get_by_label("Dice digits rolled in public").fill(SEED)
        page.get_by_role("button", name="Draw the invitations").click()
        page.wait_for_selector("a[href='/organiser/lottery/letters']")

        # Playwright's sync API holds an event loop in this thread: register from another one.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, _everyone_registers(url)).result() == 24

        page.goto(server.url + "/organiser/selection")
        resident = page.locator("section[data-role='resident']")
        resident.locator("#seats-resident").fill("8")
        resident.locator("#tol-resident").fill("0.3")
        resident.locator("#panels-resident").fill("200")
        resident.get_by_role("button", name="Compute the selection").click()
        # The page shows a progress bar, polls, and reloads with the panels hash when done.
        page.wait_for_selector("#seed-resident", timeout=120_000)
        assert "Panels hash" in resident.inner_text()
        page.get_by_label("Dice digits rolled in public (20)").first.fill(
            "9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0"
        )
        resident.get_by_role("button", name="Draw the panel").click()
        page.wait_for_selector("text=The resident panel is drawn")
        assert page.locator("tbody tr").count() == 8  # one personal link per seat

        page.goto(server.url + "/organiser/selection")
        report = page.locator("table.shares", has_text="Panel and population per feature")
        assert report.count() == 1
        assert report.locator("tbody tr").count() >= 4  # gender and age bands
        assert page.get_by_role("link", name="Panel and population per feature (CSV)").count() == 1
        assert axe_violations(page) == []
        page.goto(server.url + "/lottery")
        assert page.get_by_role("link", name="selected.csv").count() == 1
