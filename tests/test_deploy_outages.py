"""Outages of the services behind the app, in one process (fast; the drills through nginx are in
tests/test_deploy_drills.py):

* the database cannot be opened: every request gets 503 with ``Retry-After`` and a translated
  message, never 500; it works again once the database is back, without a restart;
* Redis goes away under the event bus: publishing does not fail (the change is already stored;
  this process's own subscribers still get the event), and when Redis is back the bus is
  subscribed again and tells every subscriber to re-read (``resync``).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from deploy.stack import REDIS_SERVER, PrivateRedis
from summit.core.events import RedisBus
from tests.support.app import Client, make_settings


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path: Path) -> None:
    """The SQLite file's folder is moved away: every new connection fails to open it."""
    from summit.app import create_app
    from summit.core.db import upgrade

    database = tmp_path / "db" / "summit.db"
    db_url = f"sqlite+aiosqlite:///{database}"
    asyncio.run(upgrade(db_url))
    app = create_app(make_settings(tmp_path, db_url))
    with Client(app, base_url="http://testserver", follow_redirects=False) as client:
        assert client.get("/audit").status_code == 200
        moved = database.parent.with_name("elsewhere")
        database.parent.rename(moved)
        client.run(client.db.dispose())  # no pooled connection keeps the old file open
        try:
            page = client.get("/audit?lang=nl")
            api = client.get("/audit.json", headers={"accept": "application/json"})
        finally:
            moved.rename(database.parent)
        back = client.get("/audit")
    assert (page.status_code, page.headers.get("retry-after")) == (503, "5")
    assert "Probeer het over een paar seconden opnieuw" in page.text
    assert (api.status_code, api.json()["status"]) == (503, 503)
    assert back.status_code == 200


async def _through_an_outage(redis: PrivateRedis) -> dict[str, Any]:
    here, there = RedisBus(redis.url), RedisBus(redis.url)
    await here.start()
    await there.start()
    try:
        async with here.subscribe("summit:1") as events:
            stream = aiter(events)
            await there.publish("summit:1", {"type": "before"})
            before = await asyncio.wait_for(anext(stream), 10)
            redis.stop()
            await here.publish("summit:1", {"type": "during"})  # must not raise
            during = await asyncio.wait_for(anext(stream), 5)  # this process still sees it
            redis.start()
            resync = await asyncio.wait_for(anext(stream), 20)
            await there.publish("summit:1", {"type": "after"})
            after = await asyncio.wait_for(anext(stream), 10)
            return {"events": [before, during, resync, after]}
    finally:
        await here.stop()
        await there.stop()


def test_the_redis_bus_survives_a_restart_and_asks_pages_to_re_read(tmp_path: Path) -> None:
    if shutil.which(REDIS_SERVER) is None and not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        result = asyncio.run(_through_an_outage(redis))
    finally:
        redis.stop()
    kinds = [event["type"] for event in result["events"]]
    assert kinds == ["before", "during", "resync", "after"]
    assert all(event["channel"] == "summit:1" for event in result["events"])
