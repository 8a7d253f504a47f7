"""Simulated participants for the failure drills and the scale benchmark (docs/deploy.md).

A participant opens their personal link, keeps the live socket (``/ws``) open and reconnects it
when it drops (as ``web/static/app.js`` does), and posts ideas through ``/api/ideas`` with an
idempotency key, retrying the same key until the server acknowledges it (as ``ideas.js`` does
with its offline queue). What was acknowledged is compared with the database afterwards.
Only loopback addresses are ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from sqlalchemy import func, select

RETRY_STATUSES = {502, 503, 504}


@dataclass
class Prepared:
    summit_id: int
    tokens: list[str]  # personal link tokens of everyone seated in the open round
    tables: list[int]  # the table (id) of each of them, in the same order
    organiser_password: str
    participants: list[int] = field(default_factory=list)  # their ids, in the same order
    online: set[int] = field(default_factory=set)  # the online and hybrid tables


def _loopback(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"only loopback addresses, not {host!r}")
    return url


async def wipe_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def prepare(url: str, participants: int = 48) -> Prepared:
    """Migrate, load the demo summit (round 1 open), let every table member record ideas, and
    give every seated participant a personal link."""
    from summit.core import service as repository
    from summit.core.db import Database, upgrade
    from summit.core.models import Participant, Round, Seat, SummitTable
    from summit.demo import create_demo
    from summit.ideas import service as ideas

    await upgrade(url)
    db = Database(url)
    try:
        info = await create_demo(db, participants=participants, rounds=1)
        async with db.session() as session:
            await ideas.set_who_records(session, info.summit_id, "table", actor="drill")
            seated = (
                await session.execute(
                    select(Participant, Seat.table_id, SummitTable.kind)
                    .join(Seat, Seat.participant_id == Participant.id)
                    .join(SummitTable, SummitTable.id == Seat.table_id)
                    .join(Round, Round.id == Seat.round_id)
                    .where(Round.summit_id == info.summit_id, Round.status == "open")
                    .order_by(Participant.id)
                )
            ).all()
            tokens = [
                await repository.issue_link(session, person, actor="drill", log=False)
                for person, _table, _kind in seated
            ]
        return Prepared(
            info.summit_id,
            tokens,
            [int(table) for _person, table, _kind in seated],
            info.organiser_password,
            [person.id for person, _table, _kind in seated],
            {int(table) for _person, table, kind in seated if kind in {"online", "hybrid"}},
        )
    finally:
        await db.dispose()


async def stored_keys(url: str, summit_id: int) -> set[str]:
    """The idempotency keys of every idea the database holds for the summit."""
    from summit.core.db import Database
    from summit.ideas.models import Idea

    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.scalars(
                select(Idea.idempotency_key).where(
                    Idea.summit_id == summit_id, Idea.idempotency_key.is_not(None)
                )
            )
            return {key for key in rows if key is not None}
    finally:
        await db.dispose()


async def count_rows(url: str, model: Any) -> int:
    from summit.core.db import Database

    db = Database(url)
    try:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await db.dispose()


@dataclass
class LiveSocket:
    """The page's live socket: reconnects with a short back-off when it drops."""

    base: str
    cookie: str
    events: list[dict[str, Any]] = field(default_factory=list)
    drops: int = 0
    recoveries: list[float] = field(default_factory=list)  # seconds from drop to a new hello
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _connect(self) -> Any:
        url = "ws" + _loopback(self.base)[4:] + "/ws"
        return await websockets.connect(
            url,
            additional_headers={"Cookie": f"summit_session={self.cookie}", "Origin": self.base},
            open_timeout=10,
            max_queue=None,
        )

    async def _run(self) -> None:
        """Connect; after a drop, reconnect as app.js does: 0.25–0.5 s, then doubling (here at
        most 2 s) while the attempts fail."""
        dropped_at: float | None = None
        failures = 0
        for _attempt in range(10_000):  # bounded: a day of reconnects at the slowest back-off
            try:
                async with await self._connect() as ws:
                    hello = json.loads(await ws.recv())
                    assert hello["type"] == "hello", hello
                    if dropped_at is not None:
                        self.recoveries.append(time.monotonic() - dropped_at)
                    self.connected.set()
                    failures = 0
                    async for message in ws:
                        self.events.append(json.loads(message))
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                if dropped_at is None and failures > 50:  # never connected at all
                    raise
            if self.connected.is_set():
                self.connected.clear()
                self.drops += 1
                dropped_at = time.monotonic()
            delay = min(2.0, 0.5 * 2 ** min(failures, 3)) * (0.5 + random.random() / 2)
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


@dataclass
class Person:
    """One participant's browser, through ``base`` (nginx, or a worker directly)."""

    token: str
    base: str
    client: httpx.AsyncClient | None = None
    csrf: str = ""
    acked: dict[str, float] = field(default_factory=dict)  # idempotency key -> latency (s)
    failed: list[str] = field(default_factory=list)  # keys never acknowledged (not counted lost)
    statuses: list[int] = field(default_factory=list)
    live: LiveSocket | None = None

    async def open(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.client = httpx.AsyncClient(
            base_url=_loopback(self.base), transport=transport, timeout=30
        )
        opened = await self.request("GET", f"/p/{self.token}")
        assert opened.status_code == 303, opened.status_code
        page = (await self.request("GET", "/me/ideas")).text
        self.csrf = page.split('data-csrf="', 1)[1].split('"', 1)[0]

    @property
    def cookie(self) -> str:
        assert self.client is not None
        return self.client.cookies.get("summit_session") or ""

    def listen(self) -> LiveSocket:
        self.live = LiveSocket(self.base, self.cookie)
        self.live.start()
        return self.live

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, sent again (same body, same key) when the connection failed or the
        proxy had no worker for it, for up to 20 s."""
        assert self.client is not None
        deadline = time.monotonic() + 20
        while True:
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            else:
                self.statuses.append(response.status_code)
                if response.status_code not in RETRY_STATUSES or time.monotonic() > deadline:
                    return response
            await asyncio.sleep(0.2)

    async def post_idea(self, key: str, title: str) -> bool:
        """Post an idea under ``key``; True once the server acknowledged it (201, or 200 for a
        retry the server had already stored)."""
        started = time.monotonic()
        try:
            response = await self.request(
                "POST",
                "/api/ideas",
                json={"title": title, "body": "drill"},
                headers={
                    "idempotency-key": key,
                    "x-csrf-token": self.csrf,
                    "accept": "application/json",
                },
            )
        except httpx.TransportError:
            self.failed.append(key)
            return False
        if response.status_code in {200, 201}:
            self.acked[key] = time.monotonic() - started
            return True
        self.failed.append(key)
        return False

    async def close(self) -> None:
        if self.live is not None:
            await self.live.stop()
        if self.client is not None:
            await self.client.aclose()


async def open_all(
    tokens: list[str], base: str, limit: int = 16, transport: httpx.AsyncBaseTransport | None = None
) -> list[Person]:
    gate = asyncio.Semaphore(limit)
    people = [Person(token, base) for token in tokens]

    async def one(person: Person) -> None:
        async with gate:
            await person.open(transport)

    await asyncio.gather(*(one(p) for p in people))
    return people


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]
