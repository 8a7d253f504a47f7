"""An online workshop meeting in a real headless Chromium (fake camera and microphone) on a running
``summit serve`` with a media worker process: two workshop members open the workshop page on a
phone-sized screen, follow its link to the meeting's video room (the video table's script, pointed
at the room), join, and each sees the other's video playing; a participant outside the workshop
is refused the room with a clear message."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.browser import (
    Server,
    axe_violations,
    chromium,
    needs_chromium,
    run_server,
    wait_playing,
)

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.timeout(240)]

PHONE = {"width": 390, "height": 844}


@dataclass
class Prepared:
    links: dict[str, str]  # "a", "b" (members), "outsider" -> personal link path
    media: dict[str, str]  # "a", "b" -> media id in the room
    workshop: int
    meeting: int
    later: int  # an online meeting in two days: its room is not open yet


async def _prepare(data_dir: Path) -> Prepared:
    from summit.core import service as repository
    from summit.core.db import Database, upgrade
    from summit.core.models import Participant, Summit
    from summit.demo import create_demo
    from summit.forum import workshops
    from summit.forum.models import Workshop

    url = f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        info = await create_demo(db, participants=48, rounds=2)
        async with db.session() as session:
            summit = await session.get(Summit, info.summit_id)
            assert summit is not None
            people = list(
                (
                    await session.execute(
                        select(Participant)
                        .where(Participant.summit_id == summit.id)
                        .order_by(Participant.id.desc())
                    )
                ).scalars()
            )[:3]
            proposal = await session.scalar(
                select(Workshop.proposal_id).where(
                    Workshop.summit_id == summit.id, Workshop.proposal_id.is_not(None)
                )
            )
            form = workshops.WorkshopForm("Werkplaats online", "", 4, proposal, None)
            workshop = await workshops.create(session, summit, actor="test", form=form)
            for person in people[:2]:
                await workshops.volunteer(session, workshop, person)
                await workshops.confirm(session, workshop, person.pseudonym, actor="test")
            # starts in ten minutes: the room is open (it opens 30 minutes before the start)
            soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
            when = soon.strftime("%Y-%m-%dT%H:%M+00:00")
            for online, place in ((True, "Zoomzaal"), (False, "Bibliotheek")):
                meeting = workshops.MeetingForm("Avondoverleg", when, place, online)
                await workshops.plan(session, workshop, actor="test", form=meeting)
            later = (soon + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M+00:00")
            meeting = workshops.MeetingForm("Tweede overleg", later, "", online=True)
            await workshops.plan(session, workshop, actor="test", form=meeting)
            meetings = await workshops.meetings(session, workshop.id)
            online_id, later_id = (m.id for m in meetings if m.online)
            links = {}
            for key, person in zip(("a", "b", "outsider"), people, strict=True):
                links[key] = "/p/" + await repository.issue_link(session, person, actor="test")
            media = {"a": f"wp{people[0].id}", "b": f"wp{people[1].id}"}
            return Prepared(links, media, workshop.id, online_id, later_id)
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Prepared]]:
    data_dir = tmp_path_factory.mktemp("meeting-browser")
    ready = asyncio.run(_prepare(data_dir))
    env = {"SUMMIT_MEDIA_WORKERS": "1", "SUMMIT_MEDIA_LOOPBACK": "1"}
    with run_server(data_dir, env=env, args=["--no-demo"]) as server:
        yield server, ready


def test_two_members_meet_in_the_meetings_video_room_on_a_phone(
    prepared: tuple[Server, Prepared],
) -> None:
    server, ready = prepared
    room = f"/forum/meetings/{ready.meeting}/video"
    with chromium() as browser:
        pages = {}
        for key in ("a", "b"):
            page = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
            page.goto(server.url + ready.links[key])
            page.goto(f"{server.url}/forum/workshops/{ready.workshop}?lang=en")
            links = page.get_by_role("link", name="Open the video room")
            assert links.count() == 2  # the online meetings only, not the one in the library
            links.first.click()
            page.wait_for_url(f"**{room}")
            assert page.locator("h1").inner_text() == "Video room: Avondoverleg"
            assert "Nothing is recorded." in page.content()
            page.get_by_role("button", name="Join the meeting").click()
            pages[key] = page
        other = {"a": "b", "b": "a"}
        for key, page in pages.items():
            wait_playing(page, ready.media[other[key]])
            page.wait_for_function(
                "document.getElementById('video-app').dataset.state === 'live'", timeout=15_000
            )
            assert page.locator("#video-status").inner_text() == "You are in the meeting."
            # the other member's tile carries their name; the page fits a phone
            tile = page.locator(f'#video-tiles li[data-media-id="{ready.media[other[key]]}"]')
            assert tile.locator(".video-name").inner_text() not in ("", "…")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_violations(pages["a"]) == []
        history = pages["a"].evaluate("window.summitVideo.history")
        assert not any(" reconnect " in entry for entry in history), history

        # Someone outside the workshop sees no link and is refused the room, in Dutch by default.
        outsider = browser.new_context(viewport=PHONE).new_page()
        outsider.goto(server.url + ready.links["outsider"])
        outsider.goto(f"{server.url}/forum/workshops/{ready.workshop}")
        assert outsider.locator(f'a[href="{room}"]').count() == 0
        response = outsider.goto(server.url + room)
        assert response is not None and response.status == 403
        assert "Alleen de leden van de werkplaats" in outsider.content()
        assert outsider.locator("#video-join").count() == 0


def test_a_room_that_is_not_open_yet_says_when_it_opens(prepared: tuple[Server, Prepared]) -> None:
    server, ready = prepared
    with chromium() as browser:
        page = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
        page.goto(server.url + ready.links["a"])
        page.goto(f"{server.url}/forum/meetings/{ready.later}/video?lang=en")
        # the script has asked the room's JSON and still shows why joining is off
        page.wait_for_function("window.summitVideo && window.summitVideo.state.info !== null")
        assert page.locator("#video-app").get_attribute("data-state") == "no-seat"
        assert (
            "The video room is not open yet. It opens at"
            in page.locator("#video-status").inner_text()
        )
        assert page.locator("#video-join").is_disabled()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
