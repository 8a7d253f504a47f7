"""Video tables end to end: aiortc bots log in with personal links and speak protocol v1 through
the real ``/ws/video`` endpoint of a running server (uvicorn on loopback, media in process).

Whose media a slot carries is read from the stream itself: each bot's VP8 frame width and RFC
6464 audio level are its own, so these tests check routing, not just that packets flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from websockets.asyncio.client import connect

from summit.core import service as repository
from summit.core.models import AuditEntry, Participant, Round, Seat, SummitTable
from summit.media import _aiortc_seam as seam
from summit.media.bots import Bot
from summit.video.config import VideoSettings
from summit.video.hub import VideoHub, hub_for, shutdown
from tests.support.app import make_settings
from tests.support.browser import free_port
from tests.support.video import Signal, clip, level, wait_until, width

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

SWITCH_BOUND_S = 6.0
"""A round switch re-points every slot; media of the new table must flow within this bound."""


@dataclass
class Person:
    index: int
    participant: Participant
    token: str
    table1: int
    table2: int | None
    cookie: str = ""
    bot: Bot | None = None
    signal: Signal | None = None

    @property
    def media_id(self) -> str:
        return f"p{self.participant.id}"


@dataclass
class World:
    url: str
    app: Any
    hub: VideoHub
    info: Any
    table: list[Person]
    other: Person
    venue: Person
    http: httpx.AsyncClient
    people: list[Person] = field(default_factory=list)


async def _seats(session: Any, summit_id: int, number: int) -> dict[int, int]:
    rnd = await session.scalar(
        select(Round).where(Round.summit_id == summit_id, Round.number == number)
    )
    rows = await session.execute(
        select(Seat.participant_id, SummitTable.number)
        .join(SummitTable, SummitTable.id == Seat.table_id)
        .where(Seat.round_id == rnd.id)
    )
    return dict(rows.all())


@contextlib.asynccontextmanager
async def world(tmp_path: Path, db_url: str, bots: int = 6) -> AsyncIterator[World]:
    from summit.app import create_app
    from summit.demo import create_demo

    seam.restrict_host_addresses(["127.0.0.1"])
    app = create_app(make_settings(tmp_path, db_url, link_rate_per_minute=1000))
    info = await create_demo(app.state.db, participants=48, rounds=2)
    async with app.state.db.session() as session:
        one = await _seats(session, info.summit_id, 1)
        two = await _seats(session, info.summit_id, 2)
        kinds = dict((await session.execute(select(SummitTable.number, SummitTable.kind))).all())
        people = {
            p.id: p
            for p in (
                await session.execute(
                    select(Participant).where(Participant.summit_id == info.summit_id)
                )
            ).scalars()
        }
        online = sorted({n for n in one.values() if kinds[n] == "online"})
        first = [pid for pid, n in sorted(one.items()) if n == online[0]][:bots]
        second = next(pid for pid, n in sorted(one.items()) if n == online[1])
        venue = next(pid for pid, n in sorted(one.items()) if kinds[n] == "venue")
        chosen: list[Person] = []
        for i, pid in enumerate([*first, second, venue]):
            token = await repository.issue_link(session, people[pid], actor="test")
            chosen.append(Person(i, people[pid], token, one[pid], two.get(pid)))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    hub = await hub_for(
        app, VideoSettings(workers=0, host_addresses=("127.0.0.1",), grace_seconds=1.0)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for person in chosen:
                async with httpx.AsyncClient(base_url=url) as login:
                    response = await login.get(f"/p/{person.token}")
                    assert response.status_code == 303
                    person.cookie = login.cookies["summit_session"]
            yield World(url, app, hub, info, chosen[:-2], chosen[-2], chosen[-1], http, chosen)
    finally:
        for person in chosen:
            if person.bot is not None:
                await person.bot.close()
            if person.signal is not None:
                await person.signal.close()
        await shutdown(app)
        server.should_exit = True
        await task
        seam.restrict_host_addresses(None)


async def open_signal(w: World, cookie: str) -> Signal:
    ws = await connect(
        w.url.replace("http", "ws") + "/ws/video",
        additional_headers={"Cookie": f"summit_session={cookie}"},
    )
    return Signal(ws)


async def join(w: World, person: Person, slots: int = 8) -> None:
    person.signal = await open_signal(w, person.cookie)
    person.bot = Bot(person.media_id, clip(person.index), audio_level=level(person.index))
    await person.bot.publish(person.signal.offer("publish"))
    await person.bot.subscribe(person.signal.offer("subscribe"), slots=slots)


def sees(person: Person, others: list[Person]) -> bool:
    assert person.bot is not None
    video = person.bot.received("video")
    audio = person.bot.received("audio")
    return all(video.get(width(o.index), 0) >= 1 for o in others) and all(
        audio.get(level(o.index), 0) >= 1 for o in others
    )


async def staff_login(w: World, role: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=w.url)
    page = (await client.get("/login")).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    password = w.info.moderator_password if role == "moderator" else w.info.organiser_password
    response = await client.post(
        "/login", data={"username": role, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303
    page = (await client.get("/moderator/video")).text
    csrf = re.search(r'data-csrf="([^"]+)"', page)
    assert csrf is not None
    return client, csrf.group(1)


async def test_a_table_of_bots_sees_and_hears_each_other_and_moves_with_the_round(
    tmp_path: Path, db_url: str
) -> None:
    async with world(tmp_path, db_url) as w:
        await asyncio.gather(*(join(w, p) for p in w.table))
        await join(w, w.other)
        ok = await wait_until(
            lambda: all(sees(p, [o for o in w.table if o is not p]) for p in w.table), 20
        )
        assert ok, {p.media_id: p.bot.received("video") for p in w.table if p.bot}

        # Each bot's layout names its table-mates only, and the other table's bot gets none of
        # this table's media (its seat is in the database; the browser never names a table).
        mates = {p.media_id for p in w.table}
        for person in w.table:
            assert person.signal is not None
            layouts = person.signal.of_type("layout")
            shown = {s["participant_id"] for s in layouts[-1]["slots"]} - {None}
            assert shown == mates - {person.media_id}
        assert w.other.bot is not None and w.other.signal is not None
        await asyncio.sleep(0.5)
        other_video = w.other.bot.received("video")
        assert not [p for p in w.table if other_video.get(width(p.index))], other_video
        assert not (
            {s["participant_id"] for s in w.other.signal.of_type("layout")[-1]["slots"]} & mates
        )

        # A forged table is refused by the protocol; a venue participant has no video seat.
        forged = await w.other.signal.request(
            "subscribe", sdp="v=0\r\n", table_id=f"t{w.table[0].table1}"
        )
        assert forged["type"] == "error" and forged["field"] == "table_id"
        venue = await open_signal(w, w.venue.cookie)
        try:
            try:
                refused = await venue.request("subscribe", sdp="v=0\r\n")
            except TimeoutError:
                raise AssertionError(venue.messages) from None
            assert refused["type"] == "error" and refused["code"] == "access_denied"
        finally:
            await venue.close()

        # The moderator visits the table: members are told, and the moderator hears them.
        moderator, csrf = await staff_login(w, "moderator")
        try:
            response = await moderator.post(
                "/moderator/video/visit",
                data={"table": str(w.table[0].table1)},
                headers={"X-CSRF-Token": csrf, "accept": "application/json"},
            )
            assert response.status_code == 200, response.text
            assert await wait_until(
                lambda: all(
                    any(m["present"] for m in p.signal.of_type("visitor"))  # type: ignore[union-attr]
                    for p in w.table
                ),
                5,
            )
            listener = Person(
                15, w.table[0].participant, "", 0, None, moderator.cookies["summit_session"]
            )
            listener.signal = await open_signal(w, listener.cookie)
            listener.bot = Bot("moderator", clip(15))
            await listener.bot.subscribe(listener.signal.offer("subscribe"), slots=8)
            assert await wait_until(lambda: sees(listener, w.table), 15)
            await listener.bot.close()
            await listener.signal.close()
            response = await moderator.post(
                "/moderator/video/visit",
                data={"table": ""},
                headers={"X-CSRF-Token": csrf, "accept": "application/json"},
            )
            assert response.status_code == 200
            assert await wait_until(
                lambda: all(
                    not p.signal.of_type("visitor")[-1]["present"]  # type: ignore[union-attr]
                    for p in w.table
                ),
                5,
            )

            # The round switch: every slot is re-pointed at the new table, no reconnect.
            for p in [*w.table, w.other]:
                assert p.bot is not None
                p.bot.mark()
            start = time.monotonic()
            response = await moderator.post(
                "/moderator/video/round",
                data={"action": "next"},
                headers={"X-CSRF-Token": csrf, "accept": "application/json"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["round"] == 2
        finally:
            await moderator.aclose()
        connected = [*w.table, w.other]
        expect = {
            p.media_id: [o for o in connected if o is not p and o.table2 == p.table2]
            for p in connected
        }
        # waiting only (a loaded machine): how fast the media switched is asserted below
        switched = await wait_until(lambda: all(sees(p, expect[p.media_id]) for p in connected), 40)
        elapsed = time.monotonic() - start
        assert switched, {p.media_id: p.bot.received("video") for p in connected if p.bot}
        first_seen = [
            p.bot.first_seen("video")[width(o.index)] - start
            for p in connected
            for o in expect[p.media_id]
            if p.bot is not None
        ]
        print(f"round switch: media of the new table after {max(first_seen, default=0):.2f} s")
        assert max(first_seen, default=0.0) < SWITCH_BOUND_S, (first_seen, elapsed)
        assert not [p for p in connected if p.signal and p.signal.of_type("reconnect")]
        # After the switch only the new table's media arrives.
        for p in connected:
            assert p.bot is not None
            p.bot.mark()
        await asyncio.sleep(1.5)
        for p in connected:
            assert p.bot is not None
            widths = set(p.bot.received("video"))
            assert widths <= {width(o.index) for o in expect[p.media_id]}, (p.media_id, widths)

        async with w.app.state.db.session() as session:
            actions = set(
                (
                    await session.execute(
                        select(AuditEntry.action).where(AuditEntry.actor != "demo")
                    )
                ).scalars()
            )
        assert {"video.visit", "video.visit.end", "round.close", "round.open"} <= actions
