"""An invitee registers with the code from the letter on a phone-sized screen (real Chromium)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.lottery import service as lottery
from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    log_in,
    needs_chromium,
    run_server,
)
from tests.support.lottery import DAY, MAPPING, SEED, register_csv

pytestmark = [pytest.mark.browser, needs_chromium]
SECRET = "browser-lottery-secret-0123456789abcdefgh"
PASSWORD = "a long browser password"


async def _prepare(url: str) -> str:
    await upgrade(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            summit = await repository.create_summit(
                session,
                actor="S-test",
                slug="phone",
                name="G1000 Telefoon",
                municipality="Telefoondorp",
                date=DAY,
                languages=["nl", "en"],
                features=[{"name": "gender", "values": []}, {"name": "age_band", "values": []}],
            )
            await lottery.import_register(
                session,
                summit,
                register_csv(30),
                MAPPING,
                actor="S-test",
                key=lottery.register_key(SECRET),
            )
            await lottery.commit_draw(session, summit, actor="S-test", sample_size=5)
        async with db.session() as session:
            summit = await repository.get_summit(session, summit.id)
            draw = await lottery.run_draw(
                session, summit, actor="S-test", seed=SEED, secret_key=SECRET
            )
            return lottery.format_code(
                lottery.invitation_code(SECRET, summit.id, draw.result["pseudonyms"][0])
            )
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def lottery_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    data_dir = tmp_path_factory.mktemp("browser-lottery")
    url = f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"
    code = asyncio.run(_prepare(url))
    with run_server(data_dir, env={"SUMMIT_SECRET_KEY": SECRET}, args=["--no-demo"]) as running:
        yield running, code


def test_an_invitee_registers_with_a_code_on_a_phone(lottery_server: tuple[Server, str]) -> None:
    server, code = lottery_server
    with chromium() as browser:
        phone = browser.new_context(
            locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = phone.new_page()
        page.goto(server.url + "/register?lang=en")
        assert axe_violations(page) == []
        page.get_by_label("Your code").fill(code.lower())
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("First name").fill("Sanne")
        assert axe_violations(page) == []
        # The form fits the phone's width: nothing scrolls sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        page.get_by_label("E-mail").fill("sanne@example.org")
        page.get_by_label("Online").check()
        page.get_by_label("Gender", exact=False).select_option("female")
        page.locator("#f-feature_age_band").select_option("35-49")
        page.get_by_role("button", name="Register").click()
        # Consent was not given: the form says so and keeps the answers.
        assert page.locator(".error").first.is_visible()
        assert page.get_by_label("First name").input_value() == "Sanne"
        page.get_by_label("I agree", exact=False).check()
        page.get_by_role("button", name="Register").click()
        page.wait_for_selector("text=Thank you, you are registered")
        assert "/register/withdraw/" in page.get_by_label("Withdrawal link").input_value()
        assert axe_violations(page) == []

        again = phone.new_page()
        again.goto(server.url + f"/register?code={code}&lang=en")
        assert "already been used" in again.content()


def test_the_organiser_pages_are_accessible(lottery_server: tuple[Server, str]) -> None:
    server, _code = lottery_server
    with chromium() as browser:
        page = browser.new_context(locale="en-GB").new_page()
        log_in(page, server.url, "organiser", PASSWORD, "/organiser/lottery")
        assert page.locator("table.shares").count() >= 2  # population shares per feature
        assert axe_violations(page) == []
        page.goto(server.url + "/organiser/selection")
        assert axe_violations(page) == []
        page.goto(server.url + "/lottery")
        assert page.locator("code").first.inner_text()  # the commitment hash is public
        assert axe_violations(page) == []
        letters = browser.new_context(locale="en-GB").new_page()
        letters.goto(server.url + "/organiser/lottery/letters")
        assert "/login" in letters.url  # letters are for the organiser only
