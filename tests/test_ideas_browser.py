"""In a real Chromium: a table host adds ideas, a second member sees them live, the moderator
groups them into themes on the board and merges two; axe checks the pages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Route

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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("browser-ideas")
    with run_server(folder) as running:
        yield running, folder


def second_member_link(folder: Path, host_link: str) -> str:
    """A fresh personal link for another member of the host's table (written to the server's
    database, as the organiser's page would)."""
    from sqlalchemy import select

    from summit.core import service as repository
    from summit.core.db import Database
    from summit.core.models import Participant, Seat

    async def issue() -> str:
        db = Database(f"sqlite+aiosqlite:///{folder / 'summit.db'}")
        try:
            async with db.session() as session:
                host, _link = await repository.resolve_link(session, host_link.split("/p/")[1])
                seat = await session.scalar(
                    select(Seat).where(Seat.participant_id == host.id, Seat.is_host.is_(True))
                )
                assert seat is not None
                other = await session.scalar(
                    select(Seat).where(
                        Seat.round_id == seat.round_id,
                        Seat.table_id == seat.table_id,
                        Seat.is_host.is_(False),
                    )
                )
                assert other is not None
                member = await session.get(Participant, other.participant_id)
                assert member is not None
                return await repository.issue_link(session, member, actor="test", log=False)
        finally:
            await db.dispose()

    return asyncio.run(issue())


def test_host_adds_ideas_member_sees_them_moderator_groups_and_merges(
    server: tuple[Server, Path],
) -> None:
    running, folder = server
    host_link = running.links()["table host (online)"]
    member_token = second_member_link(folder, host_link)
    with chromium() as browser:
        host_ctx = browser.new_context(locale="en-GB")
        host = host_ctx.new_page()
        host.goto(host_link)
        host.goto(running.url + "/me/ideas?lang=en")
        member_ctx = browser.new_context(locale="en-GB")
        member = member_ctx.new_page()
        member.goto(f"{running.url}/p/{member_token}")
        member.goto(running.url + "/me/ideas?lang=en")
        assert member.locator("#idea-form").count() == 0  # only the host records
        member.wait_for_function("document.getElementById('idea-capture').dataset.live === '1'")
        assert axe_violations(host) == []

        titles = ["Fietsbrug over het kanaal", "Gratis fietsenstalling bij het station"]
        for title in titles:
            host.locator("#idea-title").fill(title)
            host.get_by_role("button", name="Add idea").click()
        for title in titles:
            member.wait_for_function(
                f"document.getElementById('idea-list').textContent.includes({title!r})",
                timeout=15000,
            )
        host.wait_for_function("document.querySelectorAll('#idea-pending li').length === 0")
        assert host.locator("#idea-list .idea").count() >= 2

        staff_ctx = browser.new_context(locale="en-GB")
        board = staff_ctx.new_page()
        password = running.credential("moderator")
        log_in(board, running.url, "moderator", password, "/moderator/themes")
        board.get_by_role("button", name="Group the ideas into themes").click()
        board.wait_for_function(
            "document.querySelectorAll('.theme-card').length >= 2", timeout=60000
        )
        text = board.locator("#theme-board").inner_text()
        assert all(title in text for title in titles)
        before = board.locator(".theme-card").count()
        assert axe_violations(board) == []

        # The public plenary screen is open before the merge and follows it without a reload.
        plenary = browser.new_context(locale="en-GB").new_page()
        plenary.goto(running.url + "/plenary")
        plenary.wait_for_function("document.body.dataset.plenaryLive === '1'", timeout=15000)
        assert plenary.locator("#plenary-themes li").count() == before

        first = board.locator(".theme-card").first
        first.locator("summary").click()
        target = first.locator("select[name=other] option").first.inner_text()
        first.get_by_role("button", name="Merge").click()
        board.wait_for_function(
            f"document.querySelectorAll('.theme-card').length === {before - 1}", timeout=15000
        )
        assert "Merged “" in board.locator(".decision-list").inner_text()
        assert target.split(" (")[0] not in [
            card.inner_text() for card in board.locator(".theme-label").all()
        ]

        plenary.wait_for_function(
            f"document.querySelectorAll('#plenary-themes li').length === {before - 1}",
            timeout=10000,
        )
        assert axe_violations(plenary) == []
        for context in (host_ctx, member_ctx, staff_ctx):
            context.close()


def test_a_tablet_keeps_ideas_through_a_network_drop_and_a_lost_answer(
    server: tuple[Server, Path],
) -> None:
    running, _folder = server
    with chromium() as browser:
        context = browser.new_context(locale="en-GB")
        host = context.new_page()
        host.goto(running.links()["table host (online)"])
        host.goto(running.url + "/me/ideas?lang=en")
        before = host.locator("#idea-list .idea").count()

        # The network drops: two ideas wait in the tablet's queue (localStorage), nothing is lost.
        context.set_offline(True)
        for title in ("Bankjes langs de rivier", "Waterpunt op het plein"):
            host.locator("#idea-title").fill(title)
            host.get_by_role("button", name="Add idea").click()
        host.wait_for_function("document.querySelectorAll('#idea-pending li').length === 2")
        context.set_offline(False)
        host.wait_for_function(
            "document.querySelectorAll('#idea-pending li').length === 0", timeout=15_000
        )
        host.wait_for_function(
            f"document.querySelectorAll('#idea-list .idea').length === {before + 2}",
            timeout=15_000,
        )

        # The server saves an idea but its answer is lost: the retry with the same idempotency
        # key does not add it twice.
        answered: list[int] = []

        def lose_first_answer(route: Route) -> None:
            response = route.fetch()
            answered.append(response.status)
            if len(answered) == 1:
                route.abort()
            else:
                route.fulfill(response=response)

        host.route("**/api/ideas", lose_first_answer)
        host.locator("#idea-title").fill("Schaduw op het schoolplein")
        host.get_by_role("button", name="Add idea").click()
        host.wait_for_function(
            "document.querySelectorAll('#idea-pending li').length === 0", timeout=20_000
        )
        assert len(answered) >= 2 and answered[0] in (200, 201)
        host.unroute("**/api/ideas")
        host.reload()
        titles = host.locator("#idea-list .idea").all_inner_texts()
        assert sum("Schaduw op het schoolplein" in t for t in titles) == 1
        assert sum("Bankjes langs de rivier" in t for t in titles) == 1
        assert len(titles) == before + 3
        context.close()
