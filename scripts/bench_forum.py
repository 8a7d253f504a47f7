"""Benchmark of the Burgerforum: the opinion map at scale and a proposal page under many readers.

On a fresh SQLite database (the embedded default) the script stores a summit with ten proposals,
``--reactions`` reactions (10,000), 100 statements and ``--votes`` agree/disagree/pass votes
(200,000, from 10,000 voters in three opinion camps), then measures

1. *rebuild*: reading every vote from the database and building the map from scratch
   (``OpinionService.current`` on a cold process: the full build runs in a worker thread);
2. *vote to map*: ``--new-votes`` single votes, each stored in its own transaction and applied to
   the live map, until the map's view (groups, consensus) includes it: p50/p95 (goal ≤ 200 ms);
   the full rebuild that the builder asks for on 10 % growth runs in the background meanwhile;
3. *readers*: ``--readers`` GETs of one proposal's public page through the real app (ASGI, in
   process), all at the same moment (*burst*) and spread evenly over ten seconds (*paced*):
   p50/p99 of the server time per request (from the request's arrival at the app to its last
   byte, so the burst's figures include the wait behind the others) and the burst's wall time;
   and, one request at a time, the median server time of the page and of ``/healthz`` (the
   app's fixed cost per request: session, summit, headers);
4. *memory*: the process's peak resident set size.

The last line is one JSON object. Usage::

    .venv/bin/python scripts/bench_forum.py [--reactions 10000] [--votes 200000]
        [--new-votes 300] [--readers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROPOSALS = 10
STATEMENTS = 100
#: The paced run spreads the same readers evenly over this many seconds.
PACED_SECONDS = 10
#: Requests one after the other, for the cost of one page against the app's bare minimum.
SEQUENTIAL = 200
WORDS = [
    "fiets",
    "school",
    "veilig",
    "park",
    "bomen",
    "buurt",
    "huis",
    "ouderen",
    "jongeren",
    "bus",
    "markt",
    "geld",
    "gemeente",
    "parkeren",
    "verkeer",
    "groen",
    "tuin",
    "winkel",
    "centrum",
    "avond",
    "licht",
    "water",
    "haven",
    "sport",
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _seed(
    db: Any, reactions: int, votes: int, rng: random.Random
) -> tuple[int, list[int], int]:
    """The summit, proposals, reactors, reactions, statements and votes (bulk inserts)."""
    from sqlalchemy import insert

    from summit.core import service as repository
    from summit.core.models import utcnow
    from summit.council import proposals as council
    from summit.forum.models import ForumSettings, Reaction, Reactor, Statement, StatementVote

    voters = max(1, votes // (STATEMENTS // 5))
    async with db.session() as session:
        summit = await repository.create_summit(
            session,
            actor="bench",
            slug="bench",
            name="Bench",
            municipality="Bench",
            languages=["nl", "en"],
            default_language="nl",
            public_seed="bench-seed",
        )
        ids = []
        for n in range(PROPOSALS):
            content = council.ProposalText(title=f"Voorstel {n}", text=f"Tekst van voorstel {n}")
            ids.append(
                (await council.create_proposal(session, summit, actor="b", content=content)).id
            )
        session.add(
            ForumSettings(
                summit_id=summit.id,
                open=True,
                methods=["postcode"],
                postcodes=["1234"],
                max_length=1000,
                per_hour=10,
                map_seed="",
            )
        )
        now = utcnow()
        await session.execute(
            insert(Reactor),
            [
                {
                    "summit_id": summit.id,
                    "kind": "postcode",
                    "key_hash": f"{i:064x}",
                    "pseudonym": f"R-{i:08X}",
                    "confirmed_at": now,
                    "created_at": now,
                }
                for i in range(max(voters, reactions))
            ],
        )
        await session.execute(
            insert(Reaction),
            [
                {
                    "summit_id": summit.id,
                    "proposal_id": ids[i % PROPOSALS],
                    "reactor_id": i + 1,
                    "stance": rng.choice(("support", "concerns", "question")),
                    "text": " ".join(rng.choice(WORDS) for _ in range(12)),
                    "text_sha256": f"{i:064x}",
                    "source": "online",
                    "author_role": "resident",
                    "status": "visible",
                    "created_at": now,
                }
                for i in range(reactions)
            ],
        )
        await session.execute(
            insert(Statement),
            [
                {
                    "summit_id": summit.id,
                    "proposal_id": ids[i % PROPOSALS],
                    "kind": "key_point",
                    "text": f"Stelling {i}",
                    "status": "active",
                    "created_by": "b",
                    "created_at": now,
                }
                for i in range(STATEMENTS)
            ],
        )
        camps = [[rng.choice((1, -1)) for _ in range(STATEMENTS)] for _ in range(3)]
        rows = []
        for voter in range(voters):
            lean = camps[voter % 3]
            for s in rng.sample(range(STATEMENTS), min(STATEMENTS, votes // voters)):
                value = 0 if rng.random() < 0.1 else (lean[s] if rng.random() < 0.8 else -lean[s])
                rows.append(
                    {
                        "summit_id": summit.id,
                        "statement_id": s + 1,
                        "reactor_id": voter + 1,
                        "value": value,
                        "updated_at": now,
                    }
                )
        for start in range(0, len(rows), 20_000):
            await session.execute(insert(StatementVote), rows[start : start + 20_000])
        return summit.id, ids, max(voters, reactions)


async def _rebuild(app: Any, summit_id: int) -> dict[str, Any]:
    from summit.core.models import Summit
    from summit.forum import mapping, opinion

    async with app.state.db.session() as session:
        summit = await session.get(Summit, summit_id)
        started = time.perf_counter()
        view = await opinion.service(app).current(session, summit)
        cold = time.perf_counter() - started
        votes, retired, seed = await opinion.inputs(session, summit)
    started = time.perf_counter()
    mapping.LiveMap.build(votes, retired, seed)
    build = time.perf_counter() - started
    return {
        "rebuild_s": round(cold, 2),
        "build_only_s": round(build, 2),
        "voters": view.voters,
        "votes": view.votes,
        "groups": len(view.groups),
        "consensus": len(view.consensus),
    }


async def _votes(
    app: Any, summit_id: int, n: int, people: int, rng: random.Random
) -> dict[str, Any]:
    from summit.core.models import Summit
    from summit.forum import opinion
    from summit.forum.models import Reactor

    service = opinion.service(app)
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        async with app.state.db.session() as session:
            reactor = await session.get(Reactor, rng.randint(1, people))
            row = await opinion.vote(
                session,
                summit_id,
                reactor=reactor,
                statement_id=rng.randint(1, STATEMENTS),
                choice=rng.choice(("agree", "disagree", "pass")),
            )
            vote = (row.reactor_id, row.statement_id, row.value)
        service.apply(summit_id, *vote)
        async with app.state.db.session() as session:
            summit = await session.get(Summit, summit_id)
            await service.current(session, summit)
        timings.append(time.perf_counter() - started)
    await service.drain()
    ms = [t * 1000 for t in timings]
    return {
        "vote_to_map_p50_ms": round(statistics.median(ms), 1),
        "vote_to_map_p95_ms": round(_percentile(ms, 0.95), 1),
        "vote_to_map_max_ms": round(max(ms), 1),
    }


async def _readers(app: Any, proposal_id: int, n: int) -> dict[str, Any]:
    import httpx

    served: list[float] = []

    async def timed(scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await app(scope, receive, send)
        if scope["type"] == "http":
            served.append(time.perf_counter() - started)

    transport = httpx.ASGITransport(app=timed)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        warm = await client.get(f"/forum/proposals/{proposal_id}")
        assert warm.status_code == 200, warm.status_code
        alone = {}
        for name, path in (("page", f"/forum/proposals/{proposal_id}"), ("healthz", "/healthz")):
            served.clear()
            for _ in range(SEQUENTIAL):
                await client.get(path)
            alone[name] = statistics.median(served) * 1000
        served.clear()
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(client.get(f"/forum/proposals/{proposal_id}") for _ in range(n))
        )
        wall = time.perf_counter() - started
        burst = [t * 1000 for t in served]
        served.clear()
        rate = n / PACED_SECONDS

        async def paced(i: int) -> Any:
            await asyncio.sleep(i / rate)
            return await client.get(f"/forum/proposals/{proposal_id}")

        await asyncio.gather(*(paced(i) for i in range(n)))
        spread = [t * 1000 for t in served]
    assert all(a.status_code == 200 for a in answers)
    return {
        "readers": n,
        "one_page_ms": round(alone["page"], 1),
        "one_healthz_ms": round(alone["healthz"], 1),
        "burst_p50_ms": round(statistics.median(burst), 1),
        "burst_p99_ms": round(_percentile(burst, 0.99), 1),
        "burst_wall_s": round(wall, 2),
        "paced_per_s": round(rate),
        "paced_p50_ms": round(statistics.median(spread), 1),
        "paced_p99_ms": round(_percentile(spread, 0.99), 1),
        "page_kb": round(len(answers[0].content) / 1000, 1),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from summit.app import create_app
    from summit.config import Settings
    from summit.core.db import upgrade

    rng = random.Random(2026)
    folder = Path(tempfile.mkdtemp(prefix="bench-forum-"))
    url = f"sqlite+aiosqlite:///{folder / 'summit.db'}"
    await upgrade(url)
    app = create_app(
        Settings(data_dir=folder, database_url=url, secret_key="b" * 48, base_url="http://bench")
    )
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        summit_id, ids, people = await _seed(app.state.db, args.reactions, args.votes, rng)
        result: dict[str, Any] = {
            "seed_s": round(time.perf_counter() - started, 1),
            "reactions": args.reactions,
        }
        result.update(await _rebuild(app, summit_id))
        result.update(await _votes(app, summit_id, args.new_votes, people, rng))
        result.update(await _readers(app, ids[0], args.readers))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reactions", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=200_000)
    parser.add_argument("--new-votes", type=int, default=300)
    parser.add_argument("--readers", type=int, default=1000)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
