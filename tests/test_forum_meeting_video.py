"""An online workshop meeting's video room, end to end: aiortc bots of two workshop members (and
the workshop's expert, through their personal link) meet through ``/ws/forum/meetings/{id}/video``
on a running server; people outside the workshop, and an offline meeting, are refused; a member
taken out of the workshop is refused at their next request. The room's time window (open a set
time before the start until a set time after the end) is checked with an injected clock
(``app.state.forum_clock``): the socket is refused with a translated message outside it, and a
socket still open when it ends is closed. The room's page and its JSON follow the same rules."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from summit.core import service as repository
from summit.core.models import Participant, Summit
from summit.forum import meeting_video, workshops
from summit.forum.models import Workshop, WorkshopMember
from summit.media import _aiortc_seam as seam
from summit.media.bots import Bot
from summit.video.config import VideoSettings
from summit.video.hub import hub_for, shutdown
from tests.support.app import make_settings
from tests.support.browser import free_port
from tests.support.video import Signal, clip, level, wait_until, width

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

START = dt.datetime(2030, 1, 10, 19, 30, tzinfo=dt.UTC)


@dataclass
class Room:
    url: str
    app: Any
    online: int  # the online meeting's id
    offline: int
    workshop: int
    cookies: dict[str, str]  # member1, member2, outsider, expert -> session cookie
    ids: dict[str, int]  # member1, member2, outsider -> participant id
    clock: list[dt.datetime]  # the injected clock's time (``clock[0]``)


async def _login(url: str, path: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get(path)
        assert response.status_code == 303, response.text
        return str(client.cookies["summit_session"])


@contextlib.asynccontextmanager
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    from summit.app import create_app
    from summit.demo import create_demo

    seam.restrict_host_addresses(["127.0.0.1"])
    app = create_app(make_settings(tmp_path, db_url, link_rate_per_minute=1000))
    clock = [START]  # the meeting's start: its room is open
    app.state.forum_clock = lambda: clock[0]
    info = await create_demo(app.state.db, participants=48, rounds=2)
    async with app.state.db.session() as session:
        summit = await session.get(Summit, info.summit_id)
        assert summit is not None
        people = list(
            (
                await session.execute(
                    select(Participant)
                    .where(Participant.summit_id == info.summit_id)
                    .order_by(Participant.id.desc())
                )
            ).scalars()
        )[:3]
        proposal = await session.scalar(
            select(Workshop.proposal_id).where(
                Workshop.summit_id == summit.id, Workshop.proposal_id.is_not(None)
            )
        )
        workshop = await workshops.create(
            session,
            summit,
            actor="test",
            form=workshops.WorkshopForm("Werkplaats video", "", 4, proposal, None),
        )
        for person in people[:2]:
            await workshops.volunteer(session, workshop, person)
            await workshops.confirm(session, workshop, person.pseudonym, actor="test")
        _guest, guest_token = await workshops.invite(
            session, workshop, actor="test", role="expert", name="Verkeerskundige"
        )
        meetings = []
        for online in (True, False):
            place = "" if online else "Bibliotheek"
            when = START.strftime("%Y-%m-%dT%H:%M+00:00")  # aware: not on the summit's clock
            form = workshops.MeetingForm("Avond", when, place, online)
            await workshops.plan(session, workshop, actor="test", form=form)
        meetings = await workshops.meetings(session, workshop.id)
        online_id = next(m.id for m in meetings if m.online)
        offline_id = next(m.id for m in meetings if not m.online)
        tokens = [await repository.issue_link(session, p, actor="test") for p in people]
        names = ("member1", "member2", "outsider")
        ids = {name: p.id for name, p in zip(names, people, strict=True)}
        workshop_id = workshop.id
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    await hub_for(app, VideoSettings(workers=0, host_addresses=("127.0.0.1",), grace_seconds=1.0))
    url = f"http://127.0.0.1:{port}"
    try:
        cookies = {
            name: await _login(url, f"/p/{token}")
            for name, token in zip(names, tokens, strict=True)
        }
        cookies["expert"] = await _login(url, f"/forum/guest/{guest_token}")
        yield Room(url, app, online_id, offline_id, workshop_id, cookies, ids, clock)
    finally:
        await shutdown(app)
        server.should_exit = True
        await task
        seam.restrict_host_addresses(None)


async def open_room(r: Room, who: str, meeting: int | None = None) -> Signal:
    ws = await connect(
        r.url.replace("http", "ws") + f"/ws/forum/meetings/{meeting or r.online}/video",
        additional_headers={"Cookie": f"summit_session={r.cookies[who]}"},
    )
    return Signal(ws)


async def refused(r: Room, who: str, meeting: int | None = None) -> int:
    """The HTTP status with which the socket's handshake is refused."""
    with pytest.raises(InvalidStatus) as caught:
        await open_room(r, who, meeting)
    return caught.value.response.status_code


def sees(bot: Bot, others: list[int]) -> bool:
    video = bot.received("video")
    audio = bot.received("audio")
    return all(video.get(width(i), 0) >= 1 for i in others) and all(
        audio.get(level(i), 0) >= 1 for i in others
    )


async def test_workshop_members_meet_in_their_meetings_video_room(
    tmp_path: Path, db_url: str
) -> None:
    async with room(tmp_path, db_url) as r:
        bots: dict[str, Bot] = {}
        signals: dict[str, Signal] = {}
        try:
            for i, who in enumerate(("member1", "member2", "expert")):
                signals[who] = await open_room(r, who)
                bots[who] = Bot(who, clip(i), audio_level=level(i))
                await bots[who].publish(signals[who].offer("publish"))
                await bots[who].subscribe(signals[who].offer("subscribe"), slots=4)
            everyone = {"member1": 0, "member2": 1, "expert": 2}
            ok = await wait_until(
                lambda: all(
                    sees(bots[who], [i for other, i in everyone.items() if other != who])
                    for who in everyone
                ),
                25,
            )
            assert ok, {who: bot.received("video") for who, bot in bots.items()}
            # The layout names the room's people by media id only (no names).
            layouts = [m for m in signals["member1"].messages if m["type"] == "layout"]
            shown = {s["participant_id"] for s in layouts[-1]["slots"]} - {None}
            expected = {f"wp{r.ids['member2']}"} | {m for m in shown if m.startswith("wg")}
            assert shown == expected and len(shown) == 2

            # Someone outside the workshop, and everyone at an offline meeting, is refused.
            assert await refused(r, "outsider") == 403
            assert await refused(r, "member1", r.offline) == 403
            assert await refused(r, "member1", 999_999) == 403

            # A member taken out of the workshop is refused at their next request.
            async with r.app.state.db.session() as session:
                row = await session.scalar(
                    select(WorkshopMember).where(
                        WorkshopMember.workshop_id == r.workshop,
                        WorkshopMember.participant_id == r.ids["member2"],
                    )
                )
                assert row is not None
                row.status = "not_drawn"
            answer = await signals["member2"].request("subscribe", sdp="v=0\r\n")
            assert answer["type"] == "error" and answer["code"] == "access_denied"
        finally:
            for bot in bots.values():
                await bot.close()
            for signal in signals.values():
                await signal.close()


async def _closed_socket(r: Room, who: str) -> tuple[dict[str, Any], int, str]:
    """Open the room's socket while it is closed: (the error message, close code, reason)."""
    ws = await connect(
        r.url.replace("http", "ws") + f"/ws/forum/meetings/{r.online}/video",
        additional_headers={"Cookie": f"summit_session={r.cookies[who]}"},
    )
    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code is not None and ws.close_reason is not None
    return message, ws.close_code, ws.close_reason


async def test_the_room_opens_and_closes_with_the_meetings_window(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with room(tmp_path, db_url) as r:
        # 31 minutes before the start (it opens 30 minutes before): refused, in Dutch, saying when
        r.clock[0] = START - dt.timedelta(minutes=31)
        message, code, reason = await _closed_socket(r, "member1")
        assert message["type"] == "error" and message["code"] == "access_denied"
        assert message["field"] == "time"
        assert (
            message["message"]
            == reason
            == ("De videoruimte is nog niet open. Ze gaat open om 2030-01-10 20:00 CET.")
        )
        assert code == meeting_video.CLOSED_CODE
        # the page says when it opens too, and offers no join yet
        async with httpx.AsyncClient(
            base_url=r.url, cookies={"summit_session": r.cookies["member1"]}
        ) as client:
            page = await client.get(f"/forum/meetings/{r.online}/video?lang=en")
            assert page.status_code == 200
            assert "It opens at 2030-01-10 20:00 CET." in page.text
            assert 'id="video-join" disabled' in page.text
            info = (await client.get(f"/forum/meetings/{r.online}/video.json")).json()
            assert info["table"] is None and info["room"]["state"] == "early"
            assert "20:00 CET" in info["notice"]

            # 29 minutes before: open; the expert joins through their link too
            r.clock[0] = START - dt.timedelta(minutes=29)
            info = (await client.get(f"/forum/meetings/{r.online}/video.json")).json()
            assert info["table"] == {"number": None, "kind": "meeting", "media_id": f"w{r.online}"}
            assert info["notice"] == "" and info["me"]["media_id"] == f"wp{r.ids['member1']}"
            names = [m["name"] for m in info["members"]]
            assert "Verkeerskundige (expert)" in names and len(names) == 2
        # While its watchdog sleeps, a socket's next request is checked against the window.
        # The meeting lasts 120 minutes and the room closes 30 minutes after: at 149 minutes it
        # is still open; at 150 the next request is refused.
        monkeypatch.setattr(meeting_video, "RECHECK_SECONDS", 3600.0)
        r.clock[0] = START + dt.timedelta(minutes=149)
        expert = await open_room(r, "expert")
        try:
            answer = await expert.request("subscribe", sdp="v=0\r\n")
            assert answer.get("code") != "access_denied", answer
            r.clock[0] = START + dt.timedelta(minutes=150)
            answer = await expert.request("subscribe", sdp="v=0\r\n")
            assert answer["type"] == "error" and answer["code"] == "access_denied"
            assert answer["message"] == (
                "Deze bijeenkomst is voorbij: de videoruimte ging dicht om 2030-01-10 23:00 CET."
            )
        finally:
            await expert.close()
        # A socket still open when the window ends is closed with the same message.
        monkeypatch.setattr(meeting_video, "RECHECK_SECONDS", 0.05)
        r.clock[0] = START + dt.timedelta(minutes=149)
        signal = await open_room(r, "member1")
        try:
            r.clock[0] = START + dt.timedelta(minutes=150)
            assert await wait_until(lambda: signal.ws.close_code is not None, 10)
            assert signal.ws.close_code == meeting_video.CLOSED_CODE
            assert "voorbij" in (signal.ws.close_reason or "")
            assert signal.of_type("error")[-1]["field"] == "time"
        finally:
            await signal.close()
        # and a new socket is refused with the same message
        message, code, _reason = await _closed_socket(r, "expert")
        assert code == meeting_video.CLOSED_CODE and "23:00 CET" in message["message"]

        # Summit settings move the window: a 60-minute meeting, open 10 minutes before and after.
        async with r.app.state.db.session() as session:
            summit = await session.scalar(select(Summit))
            assert summit is not None
            summit.settings = {
                **(summit.settings or {}),
                "forum_meeting_minutes": 60,
                "forum_room_opens_before": 10,
                "forum_room_closes_after": 10,
            }
        r.clock[0] = START - dt.timedelta(minutes=11)
        _message, code, reason = await _closed_socket(r, "member2")
        assert code == meeting_video.CLOSED_CODE and "20:20 CET" in reason
        r.clock[0] = START + dt.timedelta(minutes=69)
        signal = await open_room(r, "member2")
        await signal.close()

        # A socket already open sees a window the organiser shortens while it is open.
        monkeypatch.setattr(meeting_video, "RECHECK_SECONDS", 0.05)
        signal = await open_room(r, "member2")
        try:
            async with r.app.state.db.session() as session:
                summit = await session.scalar(select(Summit))
                assert summit is not None
                summit.settings = {**(summit.settings or {}), "forum_room_closes_after": 5}
            assert await wait_until(lambda: signal.ws.close_code is not None, 10)
            assert signal.ws.close_code == meeting_video.CLOSED_CODE
            assert "21:35 CET" in (signal.ws.close_reason or "")
            assert "voorbij" in (signal.ws.close_reason or "")
        finally:
            await signal.close()


async def test_the_rooms_page_admits_members_and_guests_only(tmp_path: Path, db_url: str) -> None:
    async with room(tmp_path, db_url) as r:

        async def get(who: str | None, path: str) -> httpx.Response:
            cookies = {"summit_session": r.cookies[who]} if who else {}
            async with httpx.AsyncClient(base_url=r.url, cookies=cookies) as client:
                return await client.get(path)

        video = f"/forum/meetings/{r.online}/video"
        for who in ("member1", "expert"):
            page = await get(who, video + "?lang=en")
            assert page.status_code == 200, page.text
            # the table's script, pointed at this room (not a copy of it)
            assert 'src="/static/video.js"' in page.text
            assert f'data-config="{video}.json"' in page.text
            assert f'data-socket="/ws/forum/meetings/{r.online}/video"' in page.text
            assert 'id="video-join">' in page.text  # open now: join enabled
            assert "Nothing is recorded." in page.text
            assert (await get(who, video + ".json")).status_code == 200
        expert_page = await get("expert", video + "?lang=en")
        assert "You join as Verkeerskundige (expert)." in expert_page.text
        for who in ("outsider", None):
            for path in (video + "?lang=en", video + ".json"):
                refused_page = await get(who, path)
                assert refused_page.status_code == 403, (who, path)
            refusal = html.unescape((await get(who, video + "?lang=en")).text)
            assert "Only the workshop's members and its invited experts" in refusal
        dutch = await get("outsider", video + "?lang=nl")
        assert "Alleen de leden van de werkplaats" in dutch.text
        assert (await get("member1", f"/forum/meetings/{r.offline}/video")).status_code == 404
        assert (await get("member1", "/forum/meetings/999999/video")).status_code == 404

        # The workshop page and the guest's working page link to the room of the online meeting
        # only, and only for those who may join it.
        links = f'href="{video}"'
        offline = f'href="/forum/meetings/{r.offline}/video"'
        workshop = f"/forum/workshops/{r.workshop}"
        for who, path in (
            ("member1", workshop),
            ("member1", workshop + "/work"),
            ("expert", workshop + "/work"),
        ):
            text = (await get(who, path)).text
            assert text.count(links) == 1 and offline not in text, (who, path)
        for who in ("outsider", None):
            assert links not in (await get(who, workshop)).text


async def test_a_revoked_guest_link_or_membership_leaves_the_room_while_in_it(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone already in the room whose guest link is revoked, who is taken out of the workshop
    or whose personal link is revoked, is sent away by the socket's watchdog (4403), not only
    refused at their next publish or subscribe: their media would otherwise keep flowing until
    the room closes."""
    monkeypatch.setattr(meeting_video, "RECHECK_SECONDS", 0.05)
    async with room(tmp_path, db_url) as r:
        expert = await open_room(r, "expert")
        member = await open_room(r, "member2")
        first = await open_room(r, "member1")
        try:
            await asyncio.sleep(0.3)
            assert expert.ws.close_code is None and member.ws.close_code is None
            async with r.app.state.db.session() as session:
                workshop = await session.get(Workshop, r.workshop)
                assert workshop is not None
                [guest] = await workshops.guests(session, r.workshop)
                await workshops.revoke(session, workshop, guest.id, actor="test")
            assert await wait_until(lambda: expert.ws.close_code is not None, 10)
            assert expert.ws.close_code == 4403
            assert member.ws.close_code is None
            async with r.app.state.db.session() as session:
                row = await session.scalar(
                    select(WorkshopMember).where(
                        WorkshopMember.workshop_id == r.workshop,
                        WorkshopMember.participant_id == r.ids["member2"],
                    )
                )
                assert row is not None
                row.status = "not_drawn"
            assert await wait_until(lambda: member.ws.close_code is not None, 10)
            assert member.ws.close_code == 4403
            # a member whose personal link is replaced (the old one revoked) leaves too
            assert first.ws.close_code is None
            async with r.app.state.db.session() as session:
                person = await session.get(Participant, r.ids["member1"])
                assert person is not None
                await repository.issue_link(session, person, actor="test")
            assert await wait_until(lambda: first.ws.close_code is not None, 10)
            assert first.ws.close_code == 4403
        finally:
            await expert.close()
            await member.close()
            await first.close()
