"""Database engine, sessions and migrations (SQLAlchemy 2 async, Alembic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from summit.core.errors import DatabaseError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """The engine and a session factory; one per application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # the driver's own exception types differ per backend
            raise DatabaseError(
                f"database unreachable ({_redact(self.url)}): {_first_line(exc)}"
            ) from None

    async def current_revision(self) -> str | None:
        def _rev(conn: Connection) -> str | None:
            return MigrationContext.configure(conn).get_current_revision()

        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(_rev)
        except Exception as exc:
            raise DatabaseError(
                f"database unreachable ({_redact(self.url)}): {_first_line(exc)}"
            ) from None

    async def check_revision(self) -> None:
        """Raise a clear DatabaseError unless the schema is at the code's head revision."""
        current = await self.current_revision()
        head = head_revision()
        if current == head:
            return
        known = {
            rev.revision
            for rev in ScriptDirectory.from_config(alembic_config(self.url)).walk_revisions()
        }
        if current is None:
            raise DatabaseError("database has no schema yet: run `summit db upgrade`")
        if current not in known:
            raise DatabaseError(
                f"database is at revision {current}, unknown to this version of the software "
                f"(expected {head}); it was migrated by a newer version"
            )
        raise DatabaseError(
            f"database is at revision {current}, the software expects {head}: "
            "run `summit db upgrade`"
        )


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _run_alembic(url: str, action: str, revision: str) -> None:
    cfg = alembic_config(url)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` in a worker thread (Alembic's env runs its own loop)."""
    try:
        await asyncio.to_thread(_run_alembic, url, "upgrade", revision)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(f"migration failed ({_redact(url)}): {_first_line(exc)}") from None


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(_run_alembic, url, "downgrade", revision)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _redact(url: str) -> str:
    # Never print a password from the URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
