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


def _pg_admin_dsn(url: str) -> tuple[str, str]:
    """(a DSN of the server's ``postgres`` database, the test database's name)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    head, name = dsn.rsplit("/", 1)
    name = name.split("?", 1)[0]
    return f"{head}/postgres", name


def _worker_database(url: str) -> str:
    """The PostgreSQL test database of this process. Under pytest-xdist (``scripts/test`` runs
    two workers) each worker gets its own, ``<name>_gw0``, ``<name>_gw1`` …, made here when
    missing and dropped when the worker ends (tests/conftest.py)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    head, tail = url.rsplit("/", 1)
    name, sep, query = tail.partition("?")
    own = f"{head}/{name}_{worker}{sep}{query}"

    async def create() -> None:
        import asyncpg

        base, database = _pg_admin_dsn(own)
        admin = await asyncpg.connect(base)
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()

    asyncio.run(create())
    return own


def _drop_database(url: str, name: str) -> None:
    """Drop database ``name`` on ``url``'s server (open connections are ended)."""

    async def drop() -> None:
        import asyncpg

        base, _database = _pg_admin_dsn(url)
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


def drop_worker_database() -> None:
    """Drop this worker's own database (nothing when not under pytest-xdist)."""
    if not PG_URL or PG_URL == os.environ.get("SUMMIT_TEST_DATABASE_URL", ""):
        return
    _drop_database(PG_URL, _pg_admin_dsn(PG_URL)[1])


PG_URL = _worker_database(os.environ.get("SUMMIT_TEST_DATABASE_URL", ""))
REDIS_URL = os.environ.get("SUMMIT_TEST_REDIS_URL", "")


def redis_database(url: str, number: int) -> str:
    """``url`` on Redis database ``number``: a module whose processes write fixed keys (the
    media nodes' registry) gets its own, so that a process one test leaves behind cannot
    register itself into the next module's world."""
    base, _, last = url.rstrip("/").rpartition("/")
    return f"{base}/{number}" if last.isdigit() else f"{url.rstrip('/')}/{number}"


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


class MigratedTemplates:
    """The newest schema, migrated once per test session and copied for each test: a SQLite file
    copied with the backup API, a PostgreSQL database created from a template database (about
    0.1 s instead of running every migration again, 0.4-0.7 s per test)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sqlite: Path | None = None
        self.pg_template: str | None = None  # the template database's name, once made
        self.pg_failed = False

    def sqlite_copy(self, target: Path) -> str:
        from summit.core.db import upgrade

        if self.sqlite is None:
            template = self.directory / "template.db"
            asyncio.run(upgrade(f"sqlite+aiosqlite:///{template}"))
            self.sqlite = template
        _sqlite_backup(self.sqlite, target)
        return f"sqlite+aiosqlite:///{target}"

    def postgres_copy(self) -> str:
        """PG_URL's database, dropped and made anew from the migrated template; when the
        server refuses (no CREATEDB right), the schema is wiped and migrated as before."""
        from summit.core.db import upgrade

        if not self.pg_failed:
            try:
                asyncio.run(self._recreate_from_template())
                return PG_URL
            except Exception:  # e.g. no right to create databases: the slower way still works
                self.pg_failed = True
        asyncio.run(_reset_postgres(PG_URL))
        asyncio.run(upgrade(PG_URL))
        return PG_URL

    async def _recreate_from_template(self) -> None:
        import asyncpg

        from summit.core.db import upgrade

        base, name = _pg_admin_dsn(PG_URL)
        template = f"{name}_template"
        admin = await asyncpg.connect(base)
        try:
            if self.pg_template is None:
                await admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{template}"')
                await upgrade(PG_URL.rsplit("/", 1)[0] + "/" + template)
                self.pg_template = template
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()

    def close(self) -> None:
        if self.pg_template is not None:
            _drop_database(PG_URL, self.pg_template)


class DemoTemplates:
    """The demo summit (48 participants, round 1 open) built once per backend and copied into a
    test's database instead of being built again for every test (about 1-2 s each): a SQLite
    file copied with the backup API, a PostgreSQL database created from a template database.

    The demo opened its round 12 minutes before it was built and the app reads the real clock,
    so a template older than ``MAX_AGE`` is built anew: every test sees the round as young as a
    freshly built demo's. Each test gets its own copy of the demo's ``DemoInfo``."""

    MAX_AGE = 8 * 60.0

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.built: dict[str, tuple[float, Any]] = {}  # backend -> (monotonic time, DemoInfo)
        self.pg_failed = False

    def fill(self, backend: str, url: str) -> Any:
        """Replace the (empty, migrated) database at ``url`` by a copy of the demo; its info."""
        import copy
        import time

        if backend == "postgresql" and self.pg_failed:
            return asyncio.run(_build_demo(url))
        stamp = self.built.get(backend)
        if stamp is None or time.monotonic() - stamp[0] > self.MAX_AGE:
            info = asyncio.run(_build_demo(url))
            try:
                self._keep(backend, url)
            except Exception:  # e.g. no right to create databases: build the demo each time
                self.pg_failed = True
                return info
            self.built[backend] = (time.monotonic(), info)
            return copy.deepcopy(info)
        self._restore(backend, url)
        return copy.deepcopy(stamp[1])

    def _keep(self, backend: str, url: str) -> None:
        if backend == "sqlite":
            _sqlite_backup(_sqlite_path(url), self.directory / "demo.db")
        else:
            asyncio.run(_copy_database(url, _pg_admin_dsn(url)[1], self._pg_name(url)))

    def _restore(self, backend: str, url: str) -> None:
        if backend == "sqlite":
            _sqlite_backup(self.directory / "demo.db", _sqlite_path(url))
        else:
            asyncio.run(_copy_database(url, self._pg_name(url), _pg_admin_dsn(url)[1]))

    @staticmethod
    def _pg_name(url: str) -> str:
        return f"{_pg_admin_dsn(url)[1]}_demo"

    def close(self) -> None:
        if "postgresql" in self.built and PG_URL:
            _drop_database(PG_URL, self._pg_name(PG_URL))


async def _build_demo(url: str) -> Any:
    from summit.core.db import Database
    from summit.demo import create_demo

    db = Database(url)
    try:
        return await create_demo(db, participants=48, rounds=1)
    finally:
        await db.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _sqlite_backup(source_path: Path, target_path: Path) -> None:
    import sqlite3

    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


async def _copy_database(url: str, source: str, target: str) -> None:
    """``target`` dropped and made anew as a copy of ``source`` (no one may be connected)."""
    import asyncpg

    base, _name = _pg_admin_dsn(url)
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await admin.close()


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
