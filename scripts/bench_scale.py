"""Benchmark: a soak of the production layout on loopback with app workers killed on schedule.

nginx (``deploy/nginx/summit-locations.conf``) in front of two ``summit serve`` workers on a
private throwaway PostgreSQL cluster and a private Redis (``deploy/stack.py``; the machine's own
servers are never touched unless ``--postgresql`` names a database, which is wiped). Worker 0
also hosts the video tables (upstream ``summit_video``).

For ``--minutes``:

* ``--participants`` simulated participants (``deploy/drill.py``) open their personal link, keep
  the live socket ``/ws`` open (reconnecting when it drops) and post ideas through
  ``/api/ideas`` with idempotency keys (``--ideas-per-minute`` each), retrying the same key
  until it is acknowledged;
* ``--tables`` online tables of ``--bots`` aiortc bots each publish and receive media through
  ``/ws/video`` (``summit.media.bots``), and rejoin when their signalling socket drops;
* every ``--kill-every`` seconds one process is killed with SIGKILL, alternately the plain app
  worker and the video worker, and started again ``--down`` seconds later (systemd's
  ``Restart=always`` with ``RestartSec=1``). With ``--media-nodes N`` (default 2) the tables
  live on N ``summit media-node run`` processes (``SUMMIT_MEDIA_NODES``) and the media kill is
  a whole media NODE, rotating over them: its tables are placed on the others and their bots
  get ``reconnect`` and offer again on the same socket, as the browser does.

Then a vote burst: every participant gets a voting key, the organiser opens a Burgerraad vote
and everyone casts a ballot at the same instant, while worker 1 is killed half a second in; a
ballot answered 502 is sent again (a ballot replaces itself). The vote is closed and its result
compared with what was acknowledged.

Measured: ``lost`` (ideas and ballots acknowledged but not in the database / result: the only
right answer is 0), ``socket_recover_p95_s`` (live socket dropped → new ``hello``),
``media_recover_p95_s`` (video worker or media node killed → a bot receives video from every
table mate again; with nodes this includes declaring the node dead, at most 4 s),
``tables_per_node_before`` / ``tables_per_node_after`` (tables each node carried just before the
first node kill and 6 s after it), ``burst_ballots_per_s``, ``burst_p99_ms``. The last line
is one JSON object; a value that could not be measured is null, with the reason in ``notes``.

Usage::

    .venv/bin/python scripts/bench_scale.py [--minutes 3] [--participants 96] [--tables 1]
        [--bots 4] [--kill-every 40] [--down 1] [--ideas-per-minute 4] [--media-nodes 2]
        [--postgresql postgresql+asyncpg://postgres@127.0.0.1/bench_scale]   # wiped first!
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import bench_voting as voting  # noqa: E402  (scripts/bench_voting.py: the voting client)

from deploy import drill  # noqa: E402
from deploy.stack import MediaNode, PrivatePostgres, PrivateRedis, Stack  # noqa: E402

SECRET = secrets.token_urlsafe(48)
NODE_KEY = secrets.token_urlsafe(48)
NODE = 100
"""Kills of media node n are recorded as worker index NODE + n."""
RESENT = [0]  # ballots the proxy answered 502/503/504 at least once (sent again)


@dataclass
class Kills:
    """The schedule's kills: (worker index, monotonic time)."""

    done: list[tuple[int, float]] = field(default_factory=list)
    nodes: int = 0
    tables_before: dict[str, int] | None = None
    tables_after: dict[str, int] | None = None

    def of(self, worker: int) -> list[float]:
        return [t for index, t in self.done if index == worker]

    def media(self) -> list[float]:
        """Kills that cut media: a media node's, or without nodes the video worker's."""
        if self.nodes:
            return [t for index, t in self.done if index >= NODE]
        return self.of(0)


# --- ideas and live sockets -----------------------------------------------------------------------


async def post_ideas(person: drill.Person, index: int, per_minute: float, until: float) -> None:
    period = 60.0 / per_minute
    await asyncio.sleep(period * (index % 97) / 97)  # spread the first posts
    n = 0
    while time.monotonic() < until:
        await person.post_idea(f"soak-{index}-{n}", f"Idee {index}.{n}")
        n += 1
        await asyncio.sleep(period)


async def tables_per_node(bus_url: str) -> dict[str, int]:
    from summit.media import NodeRegistry

    registry = NodeRegistry(bus_url)
    try:
        counts = dict.fromkeys((n.node_id for n in await registry.nodes()), 0)
        for node in (await registry.assignments()).values():
            counts[node] = counts.get(node, 0) + 1
        return counts
    finally:
        await registry.close()


async def kill_on_schedule(
    stack: Stack,
    kills: Kills,
    every: float,
    down: float,
    until: float,
    nodes: list[MediaNode] | None = None,
) -> None:
    worker, node = 1, 0
    while time.monotonic() + every + 30 < until:  # the last 30 s are left for recovering
        await asyncio.sleep(every)
        if worker == 0 and nodes:
            # the media kill: a whole media node; systemd restarts it (empty: its tables
            # have moved)
            if kills.tables_before is None:
                kills.tables_before = await tables_per_node(stack.bus_url)
            nodes[node].service.kill()
            kills.done.append((NODE + node, time.monotonic()))
            print(f"killed media node {nodes[node].node_id}", file=sys.stderr, flush=True)
            await asyncio.sleep(6.0)
            if kills.tables_after is None:
                kills.tables_after = await tables_per_node(stack.bus_url)
            nodes[node].start()
            await asyncio.to_thread(nodes[node].wait_ready)
            node = (node + 1) % len(nodes)
        else:
            stack.app[worker].service.kill()
            kills.done.append((worker, time.monotonic()))
            print(f"killed worker {worker}", file=sys.stderr, flush=True)
            await asyncio.sleep(down)
            await asyncio.to_thread(stack.restart, worker)
        worker = 1 - worker


# --- media bots -----------------------------------------------------------------------------------


class Signal:
    """A bot's ``/ws/video`` socket (protocol v1): numbered requests, their replies."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.count = 0
        self.closed = asyncio.Event()
        self.reconnect = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("type") == "reconnect":
                    self.reconnect.set()
                waiting = self.replies.pop(message.get("re", -1), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(message)
        self.closed.set()

    def offer(self, kind: str) -> Any:
        async def send(sdp: str) -> str:
            self.count += 1
            reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self.replies[self.count] = reply
            await self.ws.send(json.dumps({"v": 1, "type": kind, "id": self.count, "sdp": sdp}))
            answer = await asyncio.wait_for(reply, 20)
            if answer["type"] != "answer":
                raise RuntimeError(f"{kind}: {answer}")
            return str(answer["sdp"])

        return send


@dataclass
class MediaBot:
    person: drill.Person
    media_id: str
    width: int
    mates: list[int] = field(default_factory=list)  # the other bots' frame widths
    recoveries: list[float] = field(default_factory=list)
    recovered: set[float] = field(default_factory=set)  # the kills already timed
    bot: Any = None
    signal: Signal | None = None

    async def join(self, clip: Any) -> None:
        import websockets

        from summit.media import _aiortc_seam as seam
        from summit.media.bots import Bot

        ws = await websockets.connect(
            "ws" + self.person.base[4:] + "/ws/video",
            additional_headers={
                "Cookie": f"summit_session={self.person.cookie}",
                "Origin": self.person.base,
            },
            open_timeout=10,
        )
        self.signal = Signal(ws)
        seam.restrict_host_addresses(["127.0.0.1"])
        self.bot = Bot(self.media_id, clip, light=True)
        await self.offer()

    async def offer(self) -> None:
        """Publish and subscribe (again, after ``reconnect``: what the browser does)."""
        assert self.bot is not None and self.signal is not None
        self.signal.reconnect.clear()
        await self.bot.publish(self.signal.offer("publish"))
        await self.bot.subscribe(self.signal.offer("subscribe"), slots=len(self.mates) + 1)

    def sees_everyone(self) -> bool:
        received = self.bot.received("video") if self.bot is not None else {}
        return all(received.get(width, 0) > 0 for width in self.mates)

    async def leave(self) -> None:
        if self.bot is not None:
            with contextlib.suppress(Exception):
                await self.bot.close()
        if self.signal is not None:
            with contextlib.suppress(Exception):
                await self.signal.ws.close()
            self.signal.reader.cancel()
        self.bot = self.signal = None

    async def stay(self, clip: Any, kills: Kills, until: float) -> None:
        """Keep the seat: rejoin whenever the signalling socket drops, offer again on
        ``reconnect``; time each recovery from the kill of the video worker (or media node) to
        media from every table mate."""
        while time.monotonic() < until:
            try:
                joined = time.monotonic()
                await self.join(clip)
                assert self.signal is not None
                while not self.signal.closed.is_set() and time.monotonic() < until:
                    if self.signal.reconnect.is_set():
                        joined = time.monotonic()
                        await self.offer()
                    kill = kills.media()
                    rejoined = kill and joined > kill[-1]
                    fresh = kill and kill[-1] not in self.recovered
                    if rejoined and fresh and self.sees_everyone():
                        self.recovered.add(kill[-1])
                        self.recoveries.append(time.monotonic() - kill[-1])
                    await asyncio.sleep(0.1)
            except Exception as exc:  # the worker is restarting: try again shortly
                print(f"bot {self.media_id}: {type(exc).__name__}", file=sys.stderr)
            await self.leave()
            await asyncio.sleep(0.5)


async def media_bots(
    stack: Stack, prepared: drill.Prepared, tables: int, per_table: int
) -> list[MediaBot]:
    by_table: dict[int, list[int]] = {}
    for index, table in enumerate(prepared.tables):
        if table in prepared.online:
            by_table.setdefault(table, []).append(index)
    chosen = [indexes[:per_table] for indexes in by_table.values() if len(indexes) >= 2][:tables]
    bots = []
    for indexes in chosen:
        widths = {i: 64 + 16 * n for n, i in enumerate(indexes)}
        for i in indexes:
            person = drill.Person(prepared.tokens[i], stack.url)
            await person.open()
            mates = [w for j, w in widths.items() if j != i]
            bots.append(MediaBot(person, f"p{prepared.participants[i]}", widths[i], mates))
    return bots


# --- the vote burst -------------------------------------------------------------------------------


@dataclass
class Base:
    base: str
    port: int


async def prepare_vote(url: str, summit_id: int) -> voting.Setup:
    from summit.core.db import Database
    from summit.core.models import Summit
    from summit.council import service as uc
    from summit.council.rules.voting import receipt_key

    db = Database(url)
    try:
        async with db.session() as session:
            summit = await session.get(Summit, summit_id)
            assert summit is not None
            texts = [uc.ProposalText(title=f"Voorstel {i}", text="Doe iets") for i in (1, 2)]
            proposals = [
                (await uc.create_proposal(session, summit, actor="bench", content=t)).id
                for t in texts
            ]
            vote = await uc.create_council_vote(
                session,
                summit,
                actor="bench",
                title="Bench",
                proposal_ids=proposals,
                key=receipt_key(SECRET),
            )
            return voting.Setup(vote.id, proposals, [])
    finally:
        await db.dispose()


async def cast_until_acknowledged(
    voter: voting.Voter, vote_id: int, choices: dict[int, str]
) -> tuple[float, int]:
    """A ballot; sent again while the proxy answers 502/503/504 (a ballot replaces itself)."""
    started = time.perf_counter()
    status = 0
    for attempt in range(100):
        _elapsed, status = await voting.cast(voter, vote_id, choices)
        if status not in drill.RETRY_STATUSES or time.perf_counter() - started > 60:
            break
        RESENT[0] += attempt == 0
        await asyncio.sleep(0.2)
    return (time.perf_counter() - started) * 1000, status


async def organiser_client(base: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    page = await client.get("/login")
    form = {"username": "organiser", "password": password, "csrf_token": voting.csrf_of(page.text)}
    response = await client.post("/login", data=form)
    assert response.status_code == 303, response.status_code
    return client


async def vote_burst(
    stack: Stack, url: str, prepared: drill.Prepared, kill_during: bool
) -> dict[str, Any]:
    setup = await prepare_vote(url, prepared.summit_id)
    port = int(stack.url.rsplit(":", 1)[1])
    people = [voting.Voter(token, Base(stack.url, port)) for token in prepared.tokens]
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=len(people) + 20))
    organiser = await organiser_client(stack.url, prepared.organiser_password)
    gate = asyncio.Semaphore(32)

    async def gated(work: Any) -> Any:
        async with gate:
            return await work

    try:
        await asyncio.gather(*(gated(voting.sign_in(v, setup.vote_id, transport)) for v in people))
        await voting.open_vote(organiser, setup.vote_id)
        await asyncio.gather(*(gated(voting.ask_for_key(v, setup.vote_id)) for v in people))
        p1, p2 = setup.proposals
        start = time.perf_counter()
        burst = asyncio.gather(
            *(
                cast_until_acknowledged(
                    v, setup.vote_id, {p1: voting.CHOICES[i % 3], p2: voting.CHOICES[(i + 1) % 3]}
                )
                for i, v in enumerate(people)
            )
        )
        if kill_during:
            await asyncio.sleep(0.5)
            stack.app[1].service.kill()
        results = await burst
        wall = time.perf_counter() - start
        manage = await organiser.get(f"/council/votes/{setup.vote_id}/manage")
        closed = await organiser.post(
            f"/council/votes/{setup.vote_id}/close",
            data={"csrf_token": voting.csrf_of(manage.text)},
        )
        assert closed.status_code == 303, closed.status_code
        result = (await organiser.get(f"/council/votes/{setup.vote_id}/result.json")).json()
        return {
            **voting.summary(list(results), wall),
            "lost": voting.lost_ballots(people, setup, result),
            "ballots_sent_again": RESENT[0],
            "killed_worker_during_burst": kill_during,
        }
    finally:
        for client in [organiser, *(v.client for v in people)]:
            if client is not None:
                await client.aclose()
        for voter in people:
            if voter.box is not None:
                await voter.box.close()
        await transport.aclose()
        if kill_during and not stack.app[1].service.alive:
            await asyncio.to_thread(stack.restart, 1)


# --- the run --------------------------------------------------------------------------------------


async def soak(
    stack: Stack,
    prepared: drill.Prepared,
    args: argparse.Namespace,
    nodes: list[MediaNode] | None = None,
) -> dict[str, Any]:
    from summit.media.bots import make_clip

    people = await drill.open_all(prepared.tokens, stack.url)
    sockets = [p.listen() for p in people]
    await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in sockets)), 60)
    bots = await media_bots(stack, prepared, args.tables, args.bots)
    clips = {b.width: make_clip(b.width, 48, fps=10, seconds=2.0, bitrate=50_000) for b in bots}
    kills = Kills(nodes=len(nodes or []))
    until = time.monotonic() + args.minutes * 60
    tasks = [
        *(post_ideas(p, i, args.ideas_per_minute, until) for i, p in enumerate(people)),
        *(b.stay(clips[b.width], kills, until) for b in bots),
        kill_on_schedule(stack, kills, args.kill_every, args.down, until, nodes),
    ]
    await asyncio.gather(*tasks)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in sockets)), 30)
    acked = {key for p in people for key in p.acked}
    stored = await drill.stored_keys(stack.database_url, prepared.summit_id)
    recoveries = [r for s in sockets for r in s.recoveries]
    media = [r for b in bots for r in b.recoveries]
    for bot in bots:
        await bot.leave()
        await bot.person.close()
    for person in people:
        await person.close()
    latencies = [v for p in people for v in p.acked.values()]
    return {
        "participants": len(people),
        "kills": [index for index, _t in kills.done],
        "ideas_acknowledged": len(acked),
        "ideas_lost": len(acked - stored),
        "ideas_not_acknowledged": sum(len(p.failed) for p in people),
        "idea_p99_ms": round(1000 * (drill.percentile(latencies, 99) or 0), 1),
        "socket_drops": sum(s.drops for s in sockets),
        "socket_recoveries": len(recoveries),
        "socket_recover_p50_s": _round(drill.percentile(recoveries, 50)),
        "socket_recover_p95_s": _round(drill.percentile(recoveries, 95)),
        "media_bots": len(bots),
        "media_recoveries": len(media),
        "media_recover_p50_s": _round(drill.percentile(media, 50)),
        "media_recover_p95_s": _round(drill.percentile(media, 95)),
        "media_recover_max_s": _round(max(media) if media else None),
        "media_nodes": len(nodes or []),
        "tables_per_node_before": kills.tables_before,
        "tables_per_node_after": kills.tables_after,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    cluster: PrivatePostgres | None = None
    url = args.postgresql
    if url:
        await drill.wipe_postgres(url)
    else:
        cluster = PrivatePostgres(folder)
        cluster.init()
        cluster.start()
        url = cluster.url
    redis = PrivateRedis(folder)
    redis.start()
    prepared = await drill.prepare(url, args.participants)
    env = {"SUMMIT_SECRET_KEY": SECRET, "SUMMIT_MEDIA_LOOPBACK": "1"}
    nodes = [
        MediaNode(folder, f"media{n + 1}", redis.url, NODE_KEY) for n in range(args.media_nodes)
    ]
    if nodes:
        env |= {"SUMMIT_MEDIA_NODES": redis.url, "SUMMIT_MEDIA_NODE_KEY": NODE_KEY}
    stack = Stack(folder, url, redis.url, workers=2, env=env)
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            await asyncio.to_thread(node.wait_ready)
        await asyncio.to_thread(stack.start)
        soaked = await soak(stack, prepared, args, nodes)
        print(json.dumps(soaked), flush=True)
        burst = await vote_burst(stack, url, prepared, kill_during=not args.no_burst_kill)
        print(json.dumps(burst), flush=True)
        return {"soak": soaked, "burst": burst}
    finally:
        stack.stop()
        for node in nodes:
            node.service.stop()
        redis.stop()
        if cluster is not None:
            cluster.stop("fast")


def final(measured: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    soaked, burst = measured["soak"], measured["burst"]
    notes = []
    if soaked["media_recover_p95_s"] is None:
        notes.append(
            "media_recover_p95_s: no bot saw its table again after a kill of the video worker "
            "or media node"
            if soaked["media_bots"]
            else "media_recover_p95_s: no media bots (--tables 0 or no online table)"
        )
    if soaked["socket_recover_p95_s"] is None:
        notes.append("socket_recover_p95_s: no socket dropped (no kill within --minutes)")
    return {
        "minutes": args.minutes,
        "participants": soaked["participants"],
        "app_workers": 2,
        "kills": len(soaked["kills"]) + (1 if burst["killed_worker_during_burst"] else 0),
        "lost": soaked["ideas_lost"] + burst["lost"],
        "ideas_acknowledged": soaked["ideas_acknowledged"],
        "ballots": burst["ballots"],
        "socket_recover_p95_s": soaked["socket_recover_p95_s"],
        "media_recover_p95_s": soaked["media_recover_p95_s"],
        "media_nodes": soaked["media_nodes"],
        "tables_per_node_before": soaked["tables_per_node_before"],
        "tables_per_node_after": soaked["tables_per_node_after"],
        "burst_ballots_per_s": burst["throughput_per_s"],
        "burst_p99_ms": burst["p99_ms"],
        "idea_p99_ms": soaked["idea_p99_ms"],
        "notes": notes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--participants", type=int, default=96)
    parser.add_argument("--tables", type=int, default=1, help="online tables of media bots")
    parser.add_argument("--bots", type=int, default=4, help="media bots per table")
    parser.add_argument("--kill-every", type=float, default=40.0, help="seconds between kills")
    parser.add_argument("--down", type=float, default=1.0, help="seconds before the restart")
    parser.add_argument("--ideas-per-minute", type=float, default=4.0)
    parser.add_argument("--no-burst-kill", action="store_true", help="no kill in the burst")
    parser.add_argument(
        "--media-nodes",
        type=int,
        default=2,
        help="media node processes for the tables (0: the video worker's own media plane)",
    )
    parser.add_argument("--postgresql", default="", help="a database to use (WIPED first)")
    args = parser.parse_args()
    if not 0 < args.minutes <= 60 or not 32 <= args.participants <= 2000:
        parser.error("--minutes: 0-60; --participants: 32-2000")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        limit = args.minutes * 60 + 900  # the soak plus setup, burst and teardown
        measured = asyncio.run(asyncio.wait_for(run(args, Path(tmp)), limit))
    print(json.dumps(final(measured, args)))


if __name__ == "__main__":
    main()
