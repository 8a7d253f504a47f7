"""The app under test and its databases: SQLite always, PostgreSQL and Redis when configured."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from summit.config import Settings

PG_URL = os.environ.get("SUMMIT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("SUMMIT_TEST_REDIS_URL", "")
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="SUMMIT_TEST_DATABASE_URL is not set"),
        ],
    ),
]


async def _reset_postgres(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty database of the given backend (PostgreSQL: the test database, wiped)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'summit.db'}"
    asyncio.run(_reset_postgres(PG_URL))
    return PG_URL


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": db_url,
        "secret_key": secrets.token_urlsafe(48),
        "base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


class Client(TestClient):
    """A test client whose ``run`` executes a coroutine on the app's own event loop."""

    def run(self, coro: Any) -> Any:
        async def call() -> Any:
            return await coro

        assert self.portal is not None
        return self.portal.call(call)

    @property
    def db(self) -> Any:
        return self.app.state.db  # type: ignore[attr-defined]

    def csrf(self) -> str:
        self.get("/login")
        token = self.cookies.get("summit_session")
        assert token
        page = self.get("/login").text
        return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
