"""Failure drills on the production layout (docs/deploy.md#failure-drills): nginx in front of two
``summit serve`` workers on PostgreSQL and Redis, on loopback (deploy/stack.py).

1. **A worker is killed (-9) mid-round** while participants post ideas and keep their live
   sockets open: the sockets it held reconnect to the other worker through nginx; every idea the
   server acknowledged is in the database, exactly once; systemd's restart brings it back.
2. **Redis restarts mid-run**: ideas posted while it is away are acknowledged and stored; once
   it is back the workers re-subscribe, open pages get a ``resync`` and live updates cross
   between the workers again; the pages re-read from the database.
3. **PostgreSQL goes away** (a private throwaway cluster, never the machine's server): requests
   get 503 with ``Retry-After`` and a translated message, nothing half-stored; when it is back
   the same requests succeed without restarting anything.

They run when ``SUMMIT_TEST_DATABASE_URL`` (wiped) and ``SUMMIT_TEST_REDIS_URL`` are set, as
``.ci/run`` does; Redis is restarted on a private server (other tests use the shared one).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy import drill
from deploy.stack import NGINX, PrivatePostgres, PrivateRedis, Stack, ensure_package, postgres_bin
from tests.support.app import PG_URL, REDIS_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (PG_URL and REDIS_URL),
        reason="SUMMIT_TEST_DATABASE_URL and SUMMIT_TEST_REDIS_URL are not both set",
    ),
    pytest.mark.timeout(300),
]


@dataclass
class Layout:
    stack: Stack
    prepared: drill.Prepared
    redis: PrivateRedis


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    """nginx, two workers, the test database (wiped) and a private Redis."""
    if not ensure_package("nginx", NGINX):
        pytest.skip("nginx is not installed (scripts/install --test)")
    folder = tmp_path_factory.mktemp("drills")
    asyncio.run(drill.wipe_postgres(PG_URL))
    prepared = asyncio.run(drill.prepare(PG_URL, participants=48))
    redis = PrivateRedis(folder)
    redis.start()
    stack = Stack(folder, PG_URL, redis.url, workers=2)
    try:
        stack.start()
        yield Layout(stack, prepared, redis)
    finally:
        stack.stop()
        redis.stop()


async def _kill_mid_round(stack: Stack, prepared: drill.Prepared) -> dict[str, object]:
    people = await drill.open_all(prepared.tokens[:24], stack.url)
    try:
        sockets = [p.listen() for p in people]
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in sockets)), 30)

        async def post(index: int, person: drill.Person) -> None:
            for n in range(12):
                await person.post_idea(f"kill-{index}-{n}", f"Idee {index}.{n}")
                await asyncio.sleep(0.05)

        posting = asyncio.gather(*(post(i, p) for i, p in enumerate(people)))
        await asyncio.sleep(1.0)
        stack.app[1].service.kill()
        killed_at = time.monotonic()
        await posting
        with contextlib.suppress(TimeoutError):  # every socket is connected again
            await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in sockets)), 20)
        return {
            "acked": {key for p in people for key in p.acked},
            "failed": [key for p in people for key in p.failed],
            "drops": sum(s.drops for s in sockets),
            "recoveries": [r for s in sockets for r in s.recoveries],
            "connected": sum(s.connected.is_set() for s in sockets),
            "post_kill_acks": time.monotonic() - killed_at,
        }
    finally:
        for person in people:
            await person.close()


def test_killing_a_worker_mid_round_loses_no_acknowledged_idea(layout: Layout) -> None:
    stack, prepared = layout.stack, layout.prepared
    result = asyncio.run(_kill_mid_round(stack, prepared))
    assert not stack.app[1].service.alive
    acked = result["acked"]
    assert isinstance(acked, set) and len(acked) == 24 * 12, result["failed"]
    stored = asyncio.run(drill.stored_keys(PG_URL, prepared.summit_id))
    assert acked <= stored, f"lost: {sorted(acked - stored)[:10]}"
    assert {k for k in stored if k.startswith("kill-")} == acked  # nothing twice, nothing extra
    # the sockets on the killed worker dropped and came back through nginx, quickly
    recoveries = result["recoveries"]
    assert isinstance(recoveries, list)
    assert result["drops"] and len(recoveries) == result["drops"], result
    assert max(recoveries) < 10, recoveries
    assert result["connected"] == 24, result
    stack.restart(1)  # what Restart=always does
    assert stack.app[1].service.alive


async def _redis_restart(layout: Layout) -> dict[str, object]:
    """A watcher's socket on worker 0, a poster on worker 1 at the same table (so the poster's
    ideas reach the watcher only through Redis)."""
    stack, prepared, redis = layout.stack, layout.prepared, layout.redis
    table = prepared.tables[0]
    pairs = zip(prepared.tokens, prepared.tables, strict=True)
    mates = [token for token, table_id in pairs if table_id == table]
    watcher = drill.Person(mates[0], f"http://127.0.0.1:{stack.app[0].port}")
    poster = drill.Person(mates[1], f"http://127.0.0.1:{stack.app[1].port}")
    await watcher.open()
    await poster.open()
    live = watcher.listen()
    try:
        await asyncio.wait_for(live.connected.wait(), 15)
        assert await poster.post_idea("redis-before", "Voor de herstart")
        await _wait_for_idea(live, "redis-before", 10)
        redis.stop()
        during = await poster.post_idea("redis-during", "Terwijl Redis weg is")
        redis.start()
        started = time.monotonic()
        await _wait_for(live, lambda e: e.get("type") == "resync", 20)
        resync_s = time.monotonic() - started
        assert await poster.post_idea("redis-after", "Na de herstart")
        await _wait_for_idea(live, "redis-after", 10)
        assert watcher.client is not None
        table_now = (await watcher.client.get("/api/ideas/table")).json()
        return {
            "during": during,
            "resync_s": resync_s,
            "seen_by_watcher": [i["idempotency_key"] for i in table_now["ideas"]],
        }
    finally:
        await watcher.close()
        await poster.close()


async def _wait_for(
    live: drill.LiveSocket, check: Callable[[dict[str, Any]], bool], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not any(check(event) for event in live.events):
        assert time.monotonic() < deadline, [e.get("type") for e in live.events]
        await asyncio.sleep(0.05)


async def _wait_for_idea(live: drill.LiveSocket, key: str, timeout: float) -> None:
    await _wait_for(
        live,
        lambda e: e.get("type") == "idea" and e.get("idea", {}).get("idempotency_key") == key,
        timeout,
    )


def test_a_redis_restart_loses_nothing_and_live_updates_resume(layout: Layout) -> None:
    stack, prepared = layout.stack, layout.prepared
    for index, worker in enumerate(stack.app):
        if not worker.service.alive:
            stack.restart(index)
    result = asyncio.run(_redis_restart(layout))
    assert result["during"] is True  # acknowledged while Redis was away, not a 500
    resync = result["resync_s"]
    assert isinstance(resync, float) and resync < 15
    seen = result["seen_by_watcher"]
    assert isinstance(seen, list)
    assert {"redis-before", "redis-during", "redis-after"} <= set(seen)
    stored = asyncio.run(drill.stored_keys(PG_URL, prepared.summit_id))
    assert {"redis-before", "redis-during", "redis-after"} <= stored


# --- PostgreSQL away ------------------------------------------------------------------------------


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries (initdb): a benchmark-only drill here")
    cluster = PrivatePostgres(tmp_path)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        if cluster.running():
            cluster.stop()


@dataclass
class Outage:
    page: Any  # httpx.Response while the database is away
    posted: Any
    health: int
    back: int  # the page once the database is back
    again: int  # the same idea (same key) posted again


async def _while_postgres_is_away(
    stack: Stack, cluster: PrivatePostgres, prepared: drill.Prepared
) -> Outage:
    person = drill.Person(prepared.tokens[0], stack.url)
    await person.open()
    assert person.client is not None
    client = person.client
    headers = {"x-csrf-token": person.csrf, "accept": "application/json", "idempotency-key": "pg"}
    idea = {"title": "Tijdens de storing", "body": "drill"}
    try:
        cluster.stop("immediate")
        page = await client.get("/me/ideas?lang=nl")
        posted = await client.post("/api/ideas", json=idea, headers=headers)
        health = await client.get("/healthz")
        cluster.start()
        back = await client.get("/me/ideas")
        for _ in range(40):
            if back.status_code == 200:
                break
            await asyncio.sleep(0.5)
            back = await client.get("/me/ideas")
        again = await client.post("/api/ideas", json=idea, headers=headers)
        return Outage(page, posted, health.status_code, back.status_code, again.status_code)
    finally:
        await person.close()


def test_postgresql_away_means_503_with_retry_after_then_recovery(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    if not ensure_package("nginx", NGINX):
        pytest.skip("nginx is not installed (scripts/install --test)")
    url = private_postgres.url
    prepared = asyncio.run(drill.prepare(url, participants=32))
    stack = Stack(tmp_path, url, "memory://", workers=1)
    stack.start()
    try:
        outage = asyncio.run(_while_postgres_is_away(stack, private_postgres, prepared))
    finally:
        stack.stop()
    assert (outage.page.status_code, outage.page.headers.get("retry-after")) == (503, "5")
    assert "Probeer het over een paar seconden opnieuw" in outage.page.text  # Dutch first
    assert (outage.posted.status_code, outage.posted.headers.get("retry-after")) == (503, "5")
    assert outage.posted.json()["status"] == 503
    assert outage.health == 503
    assert outage.back == 200
    assert outage.again == 201  # not stored while the database was away: stored now, once
    assert "pg" in asyncio.run(drill.stored_keys(url, prepared.summit_id))
