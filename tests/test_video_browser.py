"""Two participants in a real headless Chromium (fake camera and microphone) at one online table
of a running ``summit serve`` with a media worker process: each sees the other's video playing;
the organiser opens the next round and both see their new table without a reload."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.browser import Server, chromium, log_in, needs_chromium, run_server, wait_playing

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.timeout(240)]


@dataclass
class Prepared:
    links: dict[str, str]  # "a"/"b" -> personal link path
    media: dict[str, str]  # "a"/"b" -> media id
    tables: dict[str, tuple[int, int]]  # "a"/"b" -> (round 1 table, round 2 table)
    organiser_password: str


async def _prepare(data_dir: Path) -> Prepared:
    from summit.core import service as repository
    from summit.core.db import Database, upgrade
    from summit.core.models import Round, Seat, Summit, SummitTable
    from summit.demo import create_demo
    from summit.seating.changes import move_participant

    url = f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        info = await create_demo(db, participants=48, rounds=2)
        async with db.session() as session:
            summit = await session.get(Summit, info.summit_id)
            assert summit is not None
            seats: dict[int, dict[int, int]] = {}
            for number in (1, 2):
                rnd = await session.scalar(select(Round).where(Round.number == number))
                assert rnd is not None
                rows = await session.execute(
                    select(Seat.participant_id, SummitTable.number, SummitTable.kind)
                    .join(SummitTable, SummitTable.id == Seat.table_id)
                    .where(Seat.round_id == rnd.id, ~Seat.is_host)
                )
                seats[number] = {pid: n for pid, n, kind in rows.all() if kind == "online"}
            table = min(seats[1].values())
            at_table = sorted(pid for pid, n in seats[1].items() if n == table)
            # A changes table in round 2; B is moved along with A, so both must see a new table
            a = next(pid for pid in at_table if seats[2].get(pid, table) != table)
            b = next(pid for pid in at_table if pid != a)
            a_people = {p.id: p for p in (await repository_people(session, summit.id))}
            # Seat B with A in round 2 too (a logged manual move), so media must flow again.
            if seats[2][b] != seats[2][a]:
                await move_participant(
                    session,
                    summit,
                    actor="test",
                    round_number=2,
                    pseudonym=a_people[b].pseudonym,
                    to_table=seats[2][a],
                    override=True,
                )
            links = {}
            for key, pid in (("a", a), ("b", b)):
                links[key] = "/p/" + await repository.issue_link(
                    session, a_people[pid], actor="test"
                )
        return Prepared(
            links,
            {"a": f"p{a}", "b": f"p{b}"},
            {"a": (table, seats[2][a]), "b": (table, seats[2][a])},
            info.organiser_password,
        )
    finally:
        await db.dispose()


async def repository_people(session: Any, summit_id: int) -> list[Any]:
    from summit.core.models import Participant

    return list(
        (await session.execute(select(Participant).where(Participant.summit_id == summit_id)))
        .scalars()
        .all()
    )


# With one media worker a round change re-points the slots; with two, the new table lives on the
# other worker and the browsers are told to reconnect (the default runs one worker per core).
@pytest.fixture(scope="module", params=[1, 2], ids=["one-media-worker", "two-media-workers"])
def prepared(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, Prepared, int]]:
    data_dir = tmp_path_factory.mktemp("video-browser")
    ready = asyncio.run(_prepare(data_dir))
    env = {"SUMMIT_MEDIA_WORKERS": str(request.param), "SUMMIT_MEDIA_LOOPBACK": "1"}
    with run_server(data_dir, env=env, args=["--no-demo"]) as server:
        yield server, ready, request.param


def organiser_switches_round(server: Server, password: str) -> None:
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login", data={"username": "organiser", "password": password, "csrf_token": token}
        )
        assert response.status_code == 303
        csrf = re.search(r'data-csrf="([^"]+)"', client.get("/seating").text)
        assert csrf is not None
        headers = {"X-CSRF-Token": csrf.group(1)}
        for path in ("/seating/rounds/1/close", "/seating/rounds/2/open"):
            response = client.post(path, headers=headers, data={"back": "/seating"})
            assert response.status_code == 303, response.text


def test_two_browsers_see_each_other_and_follow_the_round_change(
    prepared: tuple[Server, Prepared, int],
) -> None:
    server, ready, workers = prepared
    with chromium() as browser:
        pages = {}
        for key in ("a", "b"):
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            page.goto(server.url + ready.links[key])
            page.goto(server.url + "/me/video?lang=en")
            heading = page.locator("[data-video-table]")
            assert heading.inner_text() == f"Table {ready.tables[key][0]}"
            assert ready.tables[key][0] != ready.tables[key][1]
            assert "Nothing is recorded" in page.content()
            assert page.locator("section#table-ideas").count() == 1
            page.locator("#video-join").click()
            pages[key] = page
        other = {"a": "b", "b": "a"}
        for key, page in pages.items():
            wait_playing(page, ready.media[other[key]])
            page.evaluate("window.__noReload = true")

        organiser_switches_round(server, ready.organiser_password)

        for key, page in pages.items():
            page.wait_for_function(
                "([t]) => document.querySelector('[data-video-table]').textContent === t",
                arg=[f"Table {ready.tables[key][1]}"],
                timeout=20_000,
            )
            wait_playing(page, ready.media[other[key]])
            assert page.evaluate("window.__noReload === true")  # the page was not reloaded
            page.wait_for_function(
                "document.getElementById('video-app').dataset.state === 'live'", timeout=15_000
            )
            history = page.evaluate("window.summitVideo.history")
            assert any(entry.endswith(" moving") for entry in history), history
            reconnects = [entry for entry in history if " reconnect " in entry]
            if workers == 1:
                assert reconnects == [], history
            else:
                assert reconnects and reconnects[0].endswith("reconnect moved"), history


def test_the_moderator_sees_a_call_at_once(prepared: tuple[Server, Prepared, int]) -> None:
    server, ready, _workers = prepared
    with chromium() as browser:
        moderator = browser.new_context(locale="en-GB").new_page()
        log_in(moderator, server.url, "organiser", ready.organiser_password, "/moderator/video")
        moderator.wait_for_function(
            "document.getElementById('moderator-video').dataset.live === '1'", timeout=10_000
        )
        calls = moderator.locator("[data-calls] li")
        before = calls.count()
        participant = browser.new_context(locale="en-GB").new_page()
        participant.goto(server.url + ready.links["a"])
        participant.goto(server.url + "/me/video?lang=en")
        participant.get_by_role("button", name="Call the moderator").click()
        # The call reaches the moderator through /ws, not the next five-second poll.
        moderator.wait_for_function(
            f"document.querySelectorAll('[data-calls] li button').length > 0"
            f" && document.querySelectorAll('[data-calls] li').length >= {max(before, 1)}",
            timeout=10_000,
        )
        assert (
            moderator.evaluate("document.getElementById('moderator-video').dataset.refreshedBy")
            == "event"
        )
        assert "Table" in calls.first.inner_text()
        # Tables where no one is online do not claim that "nobody" is still silent.
        empty = moderator.evaluate(
            """[...document.querySelectorAll('[data-table]')]
            .filter((card) => card.querySelector('[data-connected]').textContent === '0')
            .map((card) => card.querySelector('[data-silent]').textContent)"""
        )
        assert empty and set(empty) == {"–"}
