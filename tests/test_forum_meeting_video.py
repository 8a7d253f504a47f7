"""An online workshop meeting's video room, end to end: aiortc bots of two workshop members (and
the workshop's expert, through their personal link) meet through ``/ws/forum/meetings/{id}/video``
on a running server; people outside the workshop, and an offline meeting, are refused; a member
taken out of the workshop is refused at their next request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from summit.core import service as repository
from summit.core.models import Participant, Summit
from summit.forum import workshops
from summit.forum.models import Workshop, WorkshopMember
from summit.media import _aiortc_seam as seam
from summit.media.bots import Bot
from summit.video.hub import VideoSettings, hub_for, shutdown
from tests.support.app import make_settings
from tests.support.browser import free_port
from tests.support.video import Signal, clip, level, wait_until, width

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]


@dataclass
class Room:
    url: str
    app: Any
    online: int  # the online meeting's id
    offline: int
    workshop: int
    cookies: dict[str, str]  # member1, member2, outsider, expert -> session cookie
    ids: dict[str, int]  # member1, member2, outsider -> participant id


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
            form = workshops.MeetingForm("Avond", "2030-01-10T19:30", place, online=online)
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
        yield Room(url, app, online_id, offline_id, workshop_id, cookies, ids)
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
