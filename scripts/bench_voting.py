"""Benchmark: 1,000 Burgerraad members voting against a running server on loopback.

For each backend (SQLite, the embedded default; PostgreSQL when a URL is given) the script
prepares a summit with N members, each with a personal link, and a vote on two proposals;
starts ``python -m summit serve`` as a subprocess; opens every member's link (a session), the
ballot page and a WebSocket per member; every member's "browser" makes its anonymous voting key
and asks for it (blind signature, ``summit.council.rules.credentials``); the organiser opens the
vote, which signs all keys as one batch; the browsers unblind them; then

1. *paced*: every member casts a ballot on both proposals, arrivals spread evenly at ``--rate``
   ballots per second (everyone votes within N / rate seconds), each without a session (as
   ``council.js`` sends it: the key in the body, no cookie);
2. *burst*: every member changes their vote on the first proposal at the same moment;
3. the organiser closes the vote: the ``council.closed`` event reaches all N WebSockets, and the
   delay from its publication (server clock, same machine) to its arrival is measured;
4. the published result is compared with what the members cast: ``ballots_lost`` counts every
   ballot missing or counted differently (0 is the only right answer).

The last line is one JSON object. Usage::

    .venv/bin/python scripts/bench_voting.py [--voters 1000] [--rate 25]
        [--postgresql postgresql+asyncpg://postgres@127.0.0.1/bench]   # wiped first!
        [--app-workers 2 [--redis redis://127.0.0.1:6379/14]]     # PostgreSQL, several processes
        [--app-root DIR]      # serve another checkout's ``summit`` (before/after in one run)
        [--profile DIR]       # cProfile and SQL statements of the app during the burst
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHOICES = ("for", "against", "abstain")
PASSWORD = "bench-organiser-password"


@dataclass
class Setup:
    vote_id: int
    proposals: list[int]
    tokens: list[str]


@dataclass
class Voter:
    token: str
    server: Any = None
    client: Any = None  # the member's session (link, ballot page, voting key)
    box: Any = None  # BallotConnection: no cookies, the ballot box
    csrf: str = ""
    cookie: str = ""
    key: Any = None  # summit.council.rules.credentials.VotingKey
    choices: dict[int, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def prepare(url: str, voters: int, secret: str) -> Setup:
    """A summit, N members with personal links, two proposals and an open vote."""
    from summit.core import service as repository
    from summit.core.db import Database, upgrade
    from summit.core.models import Participant, PersonalLink
    from summit.core.security import new_token, token_hash
    from summit.council import service as uc
    from summit.council.rules.voting import receipt_key

    if url.startswith("postgresql"):
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()
    await upgrade(url)
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            summit = await repository.create_summit(
                session, actor="bench", slug="bench", name="G1000 Bench", municipality="Bench"
            )
            people = [
                Participant(
                    summit_id=summit.id,
                    pseudonym=f"P-{secrets.token_hex(4).upper()}",
                    role="resident",
                    display_name=f"Member {i}",
                )
                for i in range(voters)
            ]
            session.add_all(people)
            await session.flush()
            tokens = []
            for person in people:
                token = new_token()
                tokens.append(token)
                session.add(PersonalLink(participant_id=person.id, token_hash=token_hash(token)))
            proposals = [
                (
                    await uc.create_proposal(
                        session,
                        summit,
                        actor="bench",
                        content=uc.ProposalText(title=f"Voorstel {i}", text="Doe iets"),
                    )
                ).id
                for i in (1, 2)
            ]
            vote = await uc.create_council_vote(
                session,
                summit,
                actor="bench",
                title="Bench",
                proposal_ids=proposals,
                key=receipt_key(secret),
            )
            return Setup(vote.id, proposals, tokens)
    finally:
        await db.dispose()


#: The app under ``--profile``: ``python -m summit serve`` whose SIGUSR1 starts cProfile and a
#: count of the SQL statements sent, and SIGUSR2 writes both to the folder given first.
PROFILED_SERVE = """
import collections, cProfile, json, os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
out = sys.argv.pop(1)
profile, statements, on = cProfile.Profile(), collections.Counter(), [False]
@event.listens_for(Engine, "before_cursor_execute")
def count(conn, cursor, statement, params, context, executemany):
    if on[0]:
        statements[" ".join(statement.split())[:200]] += 1
def start(*_):
    statements.clear()
    on[0] = True
    profile.enable()
def stop(*_):
    profile.disable()
    on[0] = False
    profile.dump_stats(os.path.join(out, f"server-{os.getpid()}.prof"))
    with open(os.path.join(out, f"statements-{os.getpid()}.json"), "w") as f:
        json.dump(statements.most_common(), f, indent=1)
signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv[0] = "summit"
from summit.cli import main
main()
"""


class Server:
    def __init__(
        self,
        data_dir: Path,
        url: str,
        secret: str,
        bus_url: str = "",
        *,
        app_root: Path = ROOT,
        profile: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SUMMIT_DATA_DIR": str(data_dir),
            "SUMMIT_DATABASE_URL": url,
            "SUMMIT_SECRET_KEY": secret,
            "SUMMIT_LINK_RATE_PER_MINUTE": "1000000",
            "SUMMIT_LOGIN_RATE_PER_MINUTE": "1000",
            "SUMMIT_LOG_LEVEL": "warning",
            **({"SUMMIT_EVENT_BUS_URL": bus_url} if bus_url else {}),
        }
        if app_root != ROOT:
            env["PYTHONPATH"] = str(app_root)
        serve = ["serve", "--port", str(self.port), "--no-demo"]
        command = [sys.executable, "-m", "summit", *serve]
        if profile is not None:
            command = [sys.executable, "-c", PROFILED_SERVE, str(profile), *serve]
        # The server's log goes to a file: an unread pipe would fill up and stall the server.
        self.log_path = data_dir / f"server-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=app_root, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 90 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        errors = self.log_path.read_text().count("Traceback")
        if errors:
            print(f"server logged {errors} tracebacks", file=sys.stderr)


async def send(client: Any, method: str, url: str, **kwargs: Any) -> Any:
    """One request; resent when the server had just closed the idle keep-alive connection.

    Resending is harmless here: opening a link or a page is read-only, and a ballot sent twice
    replaces itself, it never adds.
    """
    import httpx

    for attempt in range(3):
        try:
            return await client.request(method, url, **kwargs)
        except httpx.TransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def csrf_of(page: str) -> str:
    marker = 'name="csrf_token" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def attribute(page: str, name: str) -> str:
    return page.split(f'{name}="', 1)[1].split('"', 1)[0]


async def ask_for_key(voter: Voter, vote_id: int) -> str:
    """The voter's browser asks for its voting key; unblinds it once signed."""
    response = await send(
        voter.client,
        "POST",
        f"/council/votes/{vote_id}/key",
        json={"blinded": format(voter.key.blinded, "x")},
        headers={"x-csrf-token": voter.csrf, "accept": "application/json"},
    )
    assert response.status_code == 200, response.text[:300]
    answer = response.json()
    if answer["status"] == "signed":
        voter.key.unblind(int(answer["blind_signature"], 16))
    return str(answer["status"])


async def log_in(organiser: Any) -> None:
    login_page = await organiser.get("/login")
    await organiser.post(
        "/login",
        data={
            "username": "organiser",
            "password": PASSWORD,
            "csrf_token": csrf_of(login_page.text),
        },
    )


async def sign_in(voter: Voter, vote_id: int, transport: Any) -> None:
    """The member opens their link and the ballot page; the browser makes its voting key and
    asks for it (it waits: keys are signed when the vote opens)."""
    import httpx

    from summit.council.rules.credentials import PublicKey, VotingKey

    base = voter.server.base
    voter.client = httpx.AsyncClient(base_url=base, transport=transport, timeout=120)
    opened = await send(voter.client, "GET", f"/p/{voter.token}")
    assert opened.status_code == 303, opened.status_code
    page = (await send(voter.client, "GET", f"/council/votes/{vote_id}")).text
    voter.csrf = attribute(page, "data-csrf")
    voter.cookie = voter.client.cookies.get("summit_session") or ""
    public = PublicKey(int(attribute(page, "data-key-n"), 16), int(attribute(page, "data-key-e")))
    voter.key = VotingKey.new(public, vote_id)
    assert await ask_for_key(voter, vote_id) == "pending"


async def open_vote(organiser: Any, vote_id: int) -> float:
    """The organiser opens the vote (signing every waiting key); returns how long it took."""
    manage = await organiser.get(f"/council/votes/{vote_id}/manage")
    started = time.perf_counter()
    opened = await organiser.post(
        f"/council/votes/{vote_id}/open", data={"csrf_token": csrf_of(manage.text)}
    )
    assert opened.status_code == 303, opened.text[:500]
    return (time.perf_counter() - started) * 1000


async def listen(voter: Voter) -> Any:
    import websockets

    ws = await websockets.connect(
        f"ws://127.0.0.1:{voter.server.port}/ws",
        additional_headers={"Cookie": f"summit_session={voter.cookie}"},
        max_queue=None,
    )
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"
    return ws


class Fanout:
    """When ``council.closed`` reaches each WebSocket (delay from its publication)."""

    def __init__(self, sockets: list[Any]) -> None:
        self.received: list[float] = []
        self.done = asyncio.Event()
        self.total = len(sockets)
        self.tasks = [asyncio.create_task(self.watch(ws)) for ws in sockets]

    async def watch(self, ws: Any) -> None:
        async for message in ws:
            event = json.loads(message)
            if event.get("type") == "council.closed":
                self.received.append(time.time() - float(event["published_at"]))
                if len(self.received) == self.total:
                    self.done.set()
                return

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()

    def as_json(self) -> dict[str, Any]:
        received = self.received
        return {
            "sockets": self.total,
            "received": len(received),
            "p50_ms": round(statistics.median(received) * 1000, 1) if received else None,
            "max_ms": round(max(received) * 1000, 1) if received else None,
        }


class BallotConnection:
    """A member's keep-alive HTTP/1.1 connection to the ballot box, without cookies.

    The ballots go through this small client rather than httpx: with 1,000 connections open,
    httpx's pool spends ~13 ms of CPU per request, so on a shared 2-core machine the load
    generator, not the server, set the pace. A request is sent again on a fresh connection when
    the server had closed the idle one (harmless: a ballot sent twice replaces itself).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: dict[str, Any]) -> int:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        for attempt in range(3):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                assert self.reader is not None
                self.writer.write(head + payload)
                return await self._answer(self.reader)
            except (OSError, asyncio.IncompleteReadError, ConnectionError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self, reader: asyncio.StreamReader) -> int:
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed by the server")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            elif name.strip().lower() == "connection" and "close" in value.lower():
                close = True
        await reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def cast(voter: Voter, vote_id: int, choices: dict[int, str]) -> tuple[float, int]:
    """One ballot, as council.js sends it: the key in the body, no session, no cookie."""
    body = {
        "secret": voter.key.secret,
        "signature": format(voter.key.signature, "x"),
        "choices": {str(p): c for p, c in choices.items()},
    }
    if voter.box is None:
        voter.box = BallotConnection(voter.server.port)
    t0 = time.perf_counter()
    status = await voter.box.post_json(f"/council/votes/{vote_id}/ballot", body)
    elapsed = (time.perf_counter() - t0) * 1000
    if status == 200:
        voter.choices.update(choices)
    return elapsed, status


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(results: list[tuple[float, int]], wall: float) -> dict[str, Any]:
    latencies = [ms for ms, _status in results]
    return {
        "ballots": len(results),
        "refused": sum(1 for _ms, status in results if status != 200),
        "throughput_per_s": round(len(results) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "wall_s": round(wall, 2),
    }


async def vote_all(
    people: list[Voter], setup: Setup, rate: float, *, profile: bool = False
) -> dict[str, Any]:
    """1. paced arrivals on both proposals; 2. everyone changes the first at the same moment."""
    p1, p2 = setup.proposals
    start = time.perf_counter()

    async def paced(i: int, voter: Voter) -> tuple[float, int]:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        return await cast(voter, setup.vote_id, {p1: CHOICES[i % 3], p2: CHOICES[(i + 1) % 3]})

    paced_results = await asyncio.gather(*(paced(i, v) for i, v in enumerate(people)))
    paced_wall = time.perf_counter() - start
    servers = {v.server.process.pid for v in people}
    if profile:
        for pid in servers:
            os.kill(pid, signal.SIGUSR1)
        await asyncio.sleep(0.2)
    cpu_before = time.process_time(), sum(cpu_seconds(pid) for pid in servers)
    start = time.perf_counter()
    burst_results = await asyncio.gather(
        *(cast(v, setup.vote_id, {p1: CHOICES[(i + 2) % 3]}) for i, v in enumerate(people))
    )
    burst_wall = time.perf_counter() - start
    app_cpu = sum(cpu_seconds(pid) for pid in servers) - cpu_before[1]
    if profile:
        for pid in servers:
            os.kill(pid, signal.SIGUSR2)
        await asyncio.sleep(1.0)
    # Where the burst's CPU went: the load generator (this process) and the app processes.
    cpu = {
        "load_generator_cpu_s": round(time.process_time() - cpu_before[0], 2),
        "app_cpu_s": round(app_cpu, 2),
        "app_cpu_ms_per_ballot": round(app_cpu * 1000 / max(1, len(burst_results)), 2),
    }
    return {
        "paced": {"rate_per_s": rate, **summary(list(paced_results), paced_wall)},
        "burst": {**summary(list(burst_results), burst_wall), **cpu},
    }


def lost_ballots(people: list[Voter], setup: Setup, result: dict[str, Any]) -> int:
    """Every ballot missing or counted differently from what the members cast."""
    cast_counts = {
        p: Counter(v.choices[p] for v in people if p in v.choices) for p in setup.proposals
    }
    lost = 0
    for row in result["proposals"]:
        expected = cast_counts[row["proposal"]]
        lost += sum(abs(expected[c] - row[c]) for c in CHOICES)
    expected_total = sum(sum(c.values()) for c in cast_counts.values())
    return lost + max(0, expected_total - int(result["ballots_counted"]))


async def close_vote(organiser: Any, vote_id: int, fanout: Fanout) -> tuple[float, Any]:
    """3. the organiser closes; the event fans out to every WebSocket."""
    manage = await organiser.get(f"/council/votes/{vote_id}/manage")
    t0 = time.perf_counter()
    closed = await organiser.post(
        f"/council/votes/{vote_id}/close", data={"csrf_token": csrf_of(manage.text)}
    )
    close_ms = (time.perf_counter() - t0) * 1000
    assert closed.status_code == 303, closed.text[:500]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fanout.done.wait(), 60)
    result = (await organiser.get(f"/council/votes/{vote_id}/result.json")).json()
    return close_ms, result


async def run_backend(
    name: str,
    url: str,
    voters: int,
    rate: float,
    workers: int = 1,
    bus_url: str = "",
    *,
    app_root: Path = ROOT,
    profile: Path | None = None,
) -> dict[str, Any]:
    import httpx

    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory(prefix=f"bench-voting-{name}-") as tmp:
        data_dir = Path(tmp)
        url = url or f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"
        started = time.perf_counter()
        setup = await prepare(url, voters, secret)
        prepare_s = time.perf_counter() - started
        # Several app workers (PostgreSQL only) share events through Redis; each member is sent
        # to one of them, as a reverse proxy would spread them.
        servers = [
            Server(
                data_dir,
                url,
                secret,
                bus_url if workers > 1 else "",
                app_root=app_root,
                profile=profile,
            )
            for _ in range(workers)
        ]
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=voters + 50, max_keepalive_connections=voters + 50)
        )
        organiser = httpx.AsyncClient(base_url=servers[0].base, timeout=300)
        people = [Voter(t, servers[i % workers]) for i, t in enumerate(setup.tokens)]
        sockets: list[Any] = []
        try:
            gate = asyncio.Semaphore(64)

            async def gated(work: Any) -> Any:
                async with gate:
                    return await work

            await asyncio.gather(*(gated(sign_in(v, setup.vote_id, transport)) for v in people))
            await log_in(organiser)
            open_ms = await open_vote(organiser, setup.vote_id)
            statuses = await asyncio.gather(*(gated(ask_for_key(v, setup.vote_id)) for v in people))
            assert set(statuses) == {"signed"}, set(statuses)
            sockets = list(await asyncio.gather(*(gated(listen(v)) for v in people)))
            fanout = Fanout(sockets)
            phases = await vote_all(people, setup, rate, profile=profile is not None)
            close_ms, result = await close_vote(organiser, setup.vote_id, fanout)
            fanout.stop()
            return {
                "backend": name,
                "voters": voters,
                "app_workers": workers,
                "prepare_s": round(prepare_s, 1),
                "open_ms": round(open_ms, 1),
                **phases,
                "close_ms": round(close_ms, 1),
                "fanout": fanout.as_json(),
                "ballots_counted": result["ballots_counted"],
                "ballots_superseded": result["ballots_superseded"],
                "ballots_lost": lost_ballots(people, setup, result),
            }
        finally:
            for ws in sockets:
                with contextlib.suppress(Exception):
                    await ws.close()
            for client in [organiser, *(v.client for v in people)]:
                if client is not None:
                    await client.aclose()
            for voter in people:
                if voter.box is not None:
                    await voter.box.close()
            await transport.aclose()
            for running in servers:
                running.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25.0, help="paced ballots per second")
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("SUMMIT_BENCH_DATABASE_URL", ""),
        help="postgresql+asyncpg://… (WIPED first); empty: SQLite only",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--app-workers",
        type=int,
        default=1,
        help="PostgreSQL: also run with this many app processes sharing events through Redis",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("SUMMIT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="the event bus of the app workers (with --app-workers > 1)",
    )
    parser.add_argument(
        "--app-root",
        type=Path,
        default=ROOT,
        help="serve the summit package of this folder (e.g. an export of an earlier commit)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write the app's cProfile and SQL statement counts of the burst to this folder",
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    options = {"app_root": args.app_root.resolve(), "profile": args.profile}
    runs = []
    if not args.no_sqlite:
        runs.append(await run_backend("sqlite", "", args.voters, args.rate, **options))
        print(json.dumps(runs[-1]), flush=True)
    if args.postgresql:
        runs.append(
            await run_backend("postgresql", args.postgresql, args.voters, args.rate, **options)
        )
        print(json.dumps(runs[-1]), flush=True)
    workers = None
    if args.postgresql and args.app_workers > 1:
        workers = await run_backend(
            "postgresql",
            args.postgresql,
            args.voters,
            args.rate,
            args.app_workers,
            args.redis,
            **options,
        )
        print(json.dumps(workers), flush=True)
    by = {run["backend"]: run for run in runs}
    pg = by.get("postgresql")
    lite = by.get("sqlite")
    final = {
        "voters": args.voters,
        "rate_per_s": args.rate,
        "p99_ms_sqlite": lite["paced"]["p99_ms"] if lite else None,
        "p99_ms_postgresql": pg["paced"]["p99_ms"] if pg else None,
        "p99_ms_sqlite_burst": lite["burst"]["p99_ms"] if lite else None,
        "p99_ms_postgresql_burst": pg["burst"]["p99_ms"] if pg else None,
        "throughput_burst_sqlite": lite["burst"]["throughput_per_s"] if lite else None,
        "throughput_burst_postgresql": pg["burst"]["throughput_per_s"] if pg else None,
        "app_cpu_ms_per_ballot_postgresql_burst": (
            pg["burst"]["app_cpu_ms_per_ballot"] if pg else None
        ),
        "ballots_lost": sum(run["ballots_lost"] for run in runs + ([workers] if workers else [])),
        "fanout_ms_1000": max((run["fanout"]["max_ms"] or 0.0) for run in runs),
        "fanout_ms_sqlite": lite["fanout"]["max_ms"] if lite else None,
        "fanout_ms_postgresql": pg["fanout"]["max_ms"] if pg else None,
        "goal_p99_ms_postgresql": 200,
    }
    if workers:
        n = workers["app_workers"]
        final[f"p99_ms_postgresql_{n}_workers"] = workers["paced"]["p99_ms"]
        final[f"p99_ms_postgresql_burst_{n}_workers"] = workers["burst"]["p99_ms"]
        final[f"throughput_burst_postgresql_{n}_workers"] = workers["burst"]["throughput_per_s"]
        final[f"fanout_ms_postgresql_{n}_workers"] = workers["fanout"]["max_ms"]
    print(json.dumps(final))


if __name__ == "__main__":
    asyncio.run(main())
