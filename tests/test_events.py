"""The event bus: in-process fan-out, and Redis across two real app processes."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from pathlib import Path

import httpx
import pytest

from summit.core.events import MemoryBus, make_bus
from tests.support.app import REDIS_URL
from tests.support.browser import run_server

pytestmark = pytest.mark.anyio


async def test_memory_bus_delivers_to_subscribers_of_the_channel_only() -> None:
    bus = MemoryBus()
    async with bus.subscribe("summit:1") as one, bus.subscribe("summit:2") as two:
        await bus.publish("summit:1", {"type": "phase", "phase": "forum"})
        await bus.publish("summit:2", {"type": "broadcast", "text": "hoi"})
        assert await asyncio.wait_for(one.__anext__(), 1) == {
            "channel": "summit:1",
            "type": "phase",
            "phase": "forum",
        }
        got = await asyncio.wait_for(two.__anext__(), 1)
        assert got["text"] == "hoi"
    assert not bus._subscribers  # unsubscribed on exit


async def test_a_slow_subscriber_loses_its_oldest_events_not_the_publisher() -> None:
    bus = MemoryBus()
    async with bus.subscribe("c") as events:
        for i in range(1005):
            await bus.publish("c", {"i": i})
        first = await asyncio.wait_for(events.__anext__(), 1)
    assert first["i"] == 5


def test_make_bus_picks_the_implementation() -> None:
    assert type(make_bus("memory://")).__name__ == "MemoryBus"
    assert type(make_bus("redis://127.0.0.1:6379/0")).__name__ == "RedisBus"


@pytest.mark.skipif(not REDIS_URL, reason="SUMMIT_TEST_REDIS_URL is not set")
def test_an_event_from_one_app_process_reaches_a_socket_on_another(
    db_url: str, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    shared = {
        "SUMMIT_DATABASE_URL": db_url,
        "SUMMIT_EVENT_BUS_URL": REDIS_URL,
        "SUMMIT_SECRET_KEY": secrets.token_urlsafe(48),
    }
    with (
        run_server(tmp_path / "a", env=shared) as worker_a,
        run_server(tmp_path / "b", env=shared, args=["--no-demo"]) as worker_b,
    ):
        link = next(iter(worker_a.links().values()))
        participant = httpx.Client(follow_redirects=False)
        assert participant.get(link).status_code == 303
        cookie = participant.cookies["summit_session"]

        organiser = httpx.Client(base_url=worker_b.url, follow_redirects=False)
        page = organiser.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        logged_in = organiser.post(
            "/login",
            data={
                "username": "organiser",
                "password": worker_a.credential("organiser"),
                "csrf_token": token,
            },
        )
        assert logged_in.status_code == 303
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', organiser.get("/organiser").text
        ).group(1)  # type: ignore[union-attr]

        ws_url = worker_a.url.replace("http://", "ws://") + "/ws"
        with connect(ws_url, additional_headers={"Cookie": f"summit_session={cookie}"}) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "hello"
            moved = organiser.post("/organiser/phase", data={"phase": "forum", "csrf_token": token})
            assert moved.status_code == 303
            event = json.loads(socket.recv(timeout=10))
        assert event["type"] == "phase" and event["phase"] == "forum"
