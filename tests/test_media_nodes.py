"""Media nodes: placement by load, drain and failover, seat tokens, and real node processes
registering through Redis (a private redis-server started by the test; skipped without one).

Two ``summit media-node run`` processes on loopback stand for two hosts: what is tested here is
the heartbeat through Redis and the control plane's reaction to a node that stops, which do not
depend on the nodes' addresses.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summit.media.errors import AccessDenied, MediaValueError
from summit.media.nodes import (
    DEAD_AFTER,
    NodeInfo,
    NodeRegistry,
    SeatClaim,
    failover,
    node_key,
    node_request,
    place_table,
    replan,
    sign_seat,
    verify_seat,
)
from tests.support.app import redis_database
from tests.support.cli import stop_processes

NOW = 1000.0
SUMMIT = str(Path(sys.executable).with_name("summit"))


def _node(
    node_id: str, *, capacity: int = 10, load: int = 0, draining: bool = False, seen: float = NOW
) -> NodeInfo:
    return NodeInfo(node_id, f"{node_id}:7000", capacity, load, draining, seen)


def test_tables_spread_by_load_and_a_whole_table_stays_on_one_node() -> None:
    nodes = [_node("a"), _node("b", capacity=20)]
    assignments: dict[str, str] = {}
    for n in range(12):
        target = place_table(nodes, assignments, NOW)
        assert target is not None
        assignments[f"t{n}"] = target
    counts = {k: list(assignments.values()).count(k) for k in ("a", "b")}
    assert counts == {"a": 4, "b": 8}  # same share of capacity in use
    # a reported load counts too (tables the node hosts that this plane has not placed)
    assert place_table([_node("a", load=9), _node("b")], {}, NOW) == "b"


def test_draining_and_dead_nodes_get_no_new_tables() -> None:
    nodes = [_node("a", draining=True), _node("b", seen=NOW - DEAD_AFTER - 0.1), _node("c")]
    assert place_table(nodes, {}, NOW) == "c"
    assert place_table(nodes[:2], {}, NOW) is None


def test_drain_moves_tables_at_the_round_change_and_failover_only_moves_dead_nodes() -> None:
    nodes = [_node("a", draining=True), _node("b"), _node("c")]
    assignments = {"t1": "a", "t2": "a", "t3": "b", "t4": "c"}
    assert failover(nodes, assignments, NOW) == {}  # draining tables stay until the round ends
    moves = replan(nodes, assignments, NOW)
    assert set(moves) == {"t1", "t2"}
    assert sorted(moves.values()) == ["b", "c"]  # spread, not both on one node
    dead = [_node("a", seen=NOW - 10), _node("b"), _node("c")]
    assert set(failover(dead, assignments, NOW)) == {"t1", "t2"}
    assert failover(dead, {"t9": "gone"}, NOW) == {"t9": "b"}


KEY = node_key("k" * 40)


def _token(**changes: object) -> str:
    fields: dict[str, object] = {
        "participant_id": "p1",
        "table_id": "t1",
        "node_id": "a",
        "expires": int(NOW) + 60,
    }
    fields.update(changes)
    return sign_seat(KEY, SeatClaim(**fields))  # type: ignore[arg-type]


def _verify(token: str, *, node: str = "a", table: str = "t1", who: str = "p1") -> SeatClaim:
    return verify_seat(KEY, token, node_id=node, table_id=table, participant_id=who, now=NOW)


def test_a_seat_token_admits_only_its_participant_table_and_node() -> None:
    assert _verify(_token()).table_id == "t1"
    with pytest.raises(AccessDenied, match="another media node"):
        _verify(_token(), node="b")
    with pytest.raises(AccessDenied, match="another seat"):
        _verify(_token(), table="t2")
    with pytest.raises(AccessDenied, match="another seat"):
        _verify(_token(), who="p2")  # borrowed from another participant
    with pytest.raises(AccessDenied, match="expired"):
        _verify(_token(expires=int(NOW) - 1))
    forged = sign_seat(node_key("x" * 40), SeatClaim("p1", "t1", "a", int(NOW) + 60))
    with pytest.raises(AccessDenied, match="signature"):
        _verify(forged)
    payload, mac = _token().split(".")
    other_payload = _token(table_id="t2").split(".")[0]
    with pytest.raises(AccessDenied, match="signature"):
        _verify(f"{other_payload}.{mac}", table="t2")  # payload swapped under a valid mac
    with pytest.raises(AccessDenied, match="malformed"):
        _verify("nonsense")
    with pytest.raises(MediaValueError, match="SUMMIT_MEDIA_NODE_KEY"):
        node_key("short")


# -- real node processes through Redis ---------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if os.environ.get("SUMMIT_TEST_REDIS_URL"):
        # this module's own database: see redis_database
        yield redis_database(os.environ["SUMMIT_TEST_REDIS_URL"], 14)
        return
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server and no SUMMIT_TEST_REDIS_URL")
    from deploy.stack import PrivateRedis

    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis.url
    finally:
        redis.stop()


async def _clear(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url)
    await client.delete("summit:media:nodes", "summit:media:drain", "summit:media:tables")
    await client.aclose()


ADDRESSES: dict[str, str] = {}


def _spawn(url: str, node_id: str) -> subprocess.Popen[bytes]:
    from deploy.stack import free_port

    ADDRESSES[node_id] = f"127.0.0.1:{free_port()}"
    return subprocess.Popen(
        [
            SUMMIT,
            "media-node",
            "run",
            "--redis",
            url,
            "--node-id",
            node_id,
            "--address",
            ADDRESSES[node_id],
            "--capacity",
            "8",
            "--workers",
            "1",
            "--host-address",
            "127.0.0.1",
        ],
        env={**os.environ, "SUMMIT_MEDIA_NODE_KEY": KEY.decode()},
    )


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SUMMIT, "media-node", *args, "--redis", url],
        capture_output=True,
        text=True,
        check=False,
    )


async def _wait(registry: NodeRegistry, test: object, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        now = await registry.now()
        if test(await registry.nodes(), now):  # type: ignore[operator]
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


def test_two_node_processes_spread_drain_and_a_killed_node_is_dead_within_5_s(
    redis_url: str,
) -> None:
    asyncio.run(_clear(redis_url))
    a, b = _spawn(redis_url, "node-a"), _spawn(redis_url, "node-b")
    try:
        asyncio.run(_scenario(redis_url, a, b))
    finally:
        stop_processes(a, b)


async def _scenario(url: str, a: subprocess.Popen[bytes], b: subprocess.Popen[bytes]) -> None:
    registry = NodeRegistry(url)
    try:
        await _wait(registry, lambda ns, now: sum(n.alive(now) for n in ns) == 2, 30)
        placed = {f"t{n}": await registry.node_for(f"t{n}") for n in range(12)}
        counts = {node: list(placed.values()).count(node) for node in ("node-a", "node-b")}
        assert counts == {"node-a": 6, "node-b": 6}
        assert await registry.node_for("t0") == placed["t0"]  # a table stays where it is

        listing = _cli(url, "list")
        assert f"node-a\t{ADDRESSES['node-a']}\t6/8\tup" in listing.stdout
        refused = _cli(url, "drain", "node-z")
        assert refused.returncode == 1 and "node_id" in refused.stderr
        assert _cli(url, "drain", "node-a").returncode == 0
        await _wait(registry, lambda ns, now: ns[0].draining, 5)
        assert await registry.node_for("t-new") == "node-b"  # new tables go elsewhere
        assert await registry.failover() == {}  # nothing moves before the round change
        moved = await registry.replan()  # the round change
        assert set(moved) == {t for t, n in placed.items() if n == "node-a"}
        assert set((await registry.assignments()).values()) == {"node-b"}
        assert _cli(url, "drain", "node-a", "--undo").returncode == 0

        b.send_signal(signal.SIGKILL)  # kill -9: no goodbye, only missing heartbeats
        b.wait()
        declared = await _wait(
            registry,
            lambda ns, now: not [n for n in ns if n.node_id == "node-b"][0].alive(now),
            10,
        )
        assert declared <= 5.0
        moves = await registry.failover()
        assert moves and set(moves.values()) == {"node-a"}
        assert set((await registry.assignments()).values()) == {"node-a"}
        assert "node-b" in _cli(url, "list").stdout and "\tdead" in _cli(url, "list").stdout
    finally:
        await registry.close()


# -- aiortc bots through two nodes -------------------------------------------------------------


def _clip(i: int) -> Any:
    from summit.media.bots import make_clip

    return make_clip(
        64 + 16 * i, 48, fps=10, seconds=2.0, bitrate=60_000, seed=i, audio_frame_ms=60
    )


def _seat(pid: str, table: str, node: str) -> str:
    return sign_seat(KEY, SeatClaim(pid, table, node, int(time.time()) + 600))


async def _join(bot: Any, table: str, node: str, token: str | None = None) -> None:
    pid = bot.participant_id
    seat = token or _seat(pid, table, node)
    base = {"participant_id": pid, "table_id": table, "token": seat}
    address = ADDRESSES[node]
    await bot.publish(lambda sdp: node_request(address, {**base, "op": "publish", "sdp": sdp}))
    await bot.subscribe(
        lambda sdp: node_request(address, {**base, "op": "subscribe", "sdp": sdp}), slots=1
    )


def _sees(bot: Any, other: int) -> bool:
    return bool(bot.received("video").get(64 + 16 * other, 0) > 0)


def test_bots_get_media_through_their_node_a_token_is_checked_and_a_killed_node_fails_over(
    redis_url: str,
) -> None:
    from summit.media import _aiortc_seam as seam

    seam.restrict_host_addresses(["127.0.0.1"])
    asyncio.run(_clear(redis_url))
    a, b = _spawn(redis_url, "node-a"), _spawn(redis_url, "node-b")
    try:
        asyncio.run(_bots(redis_url, {"node-a": a, "node-b": b}))
    finally:
        seam.restrict_host_addresses(None)
        stop_processes(a, b)


async def _until(check: Any, limit: float) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return True
        await asyncio.sleep(0.05)
    return False


async def _bots(url: str, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    from summit.media.bots import Bot

    registry = NodeRegistry(url)
    bots = [Bot(f"p{i}", _clip(i), audio_level=20 + i) for i in range(2)]
    try:
        await _wait(registry, lambda ns, now: sum(n.alive(now) for n in ns) == 2, 30)
        home = await registry.node_for("t1")
        other = "node-b" if home == "node-a" else "node-a"
        assert home is not None
        for bot in bots:
            await _join(bot, "t1", home)
        assert await _until(lambda: _sees(bots[0], 1) and _sees(bots[1], 0), 15)

        intruder = Bot("p9", _clip(3))
        with pytest.raises(AccessDenied, match="signature"):  # forged: signed with another key
            forged = sign_seat(node_key("x" * 40), SeatClaim("p9", "t1", home, 2**40))
            await _join(intruder, "t1", home, forged)
        with pytest.raises(AccessDenied, match="another seat"):  # p0's token borrowed by p9
            await _join(intruder, "t1", home, _seat("p0", "t1", home))
        with pytest.raises(AccessDenied, match="another media node"):
            await _join(intruder, "t1", home, _seat("p9", "t1", other))
        with pytest.raises(AccessDenied, match="not assigned"):  # a valid token, wrong node
            await _join(intruder, "t1", other, _seat("p9", "t1", other))
        await intruder.close()

        killed = time.monotonic()
        procs[home].send_signal(signal.SIGKILL)
        procs[home].wait()
        # the participants' side: try again until the plane has a node for the table
        while (await registry.failover()).get("t1") != other:
            assert time.monotonic() - killed < 10
            await asyncio.sleep(0.2)
        for bot in bots:
            bot.mark()
            await _join(bot, "t1", other)
        assert await _until(lambda: _sees(bots[0], 1) and _sees(bots[1], 0), 10)
        recovered = time.monotonic() - killed
        print(f"media_recover_s={recovered:.2f}")
        assert recovered <= 5.0
    finally:
        for bot in bots:
            await bot.close()
        await registry.close()
