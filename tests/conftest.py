"""Fixtures shared by the suite: databases (SQLite always, PostgreSQL when configured) and apps."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from summit.config import Settings

# Property tests: no per-example deadline (a loaded CI machine is not a failing property), and
# in CI (.ci/run sets SUMMIT_TEST_CI=1) the same examples every run, so a red CI is always
# reproducible; locally every run explores new examples.
hypothesis_settings.register_profile("summit", deadline=None, print_blob=True)
hypothesis_settings.register_profile("summit-ci", deadline=None, print_blob=True, derandomize=True)
hypothesis_settings.load_profile(
    "summit-ci" if os.environ.get("SUMMIT_TEST_CI") == "1" else "summit"
)

PG_URL = os.environ.get("SUMMIT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("SUMMIT_TEST_REDIS_URL", "")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> str:
    return fresh_database_url(backend, tmp_path)


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A database migrated to the newest schema."""
    from summit.core.db import upgrade

    asyncio.run(upgrade(empty_db_url))
    return empty_db_url


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Any]:
    from summit.core.db import Database

    db = Database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


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


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[Client]:
    from summit.app import create_app

    app = create_app(make_settings(tmp_path, db_url))
    with Client(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def demo_client(client: Client) -> Iterator[tuple[Client, Any]]:
    """The app with the demo summit loaded; yields (client, DemoInfo)."""
    from summit.demo import create_demo

    info = client.run(create_demo(client.db, participants=48, rounds=1))
    yield client, info


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
