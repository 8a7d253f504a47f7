"""Database engine, sessions and migrations (SQLAlchemy 2 async, Alembic)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from summit.core.errors import DatabaseError, InvalidInput
from summit.core.i18n import gettext as _

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # personal data: readable by this account only (SQLite gives -wal/-shm the same)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
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


def alembic_config(url: str, secret_key: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if secret_key:
        # data migrations that re-key stored hashes read it (never written anywhere)
        cfg.attributes["summit.secret_key"] = secret_key
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _run_alembic(url: str, action: str, revision: str, secret_key: str | None = None) -> None:
    cfg = alembic_config(url, secret_key)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


async def upgrade(url: str, revision: str = "head", *, secret_key: str | None = None) -> None:
    """Migrate the database to ``revision`` in a worker thread (Alembic's env runs its own loop).

    ``secret_key`` is the installation's secret, for data migrations that re-key stored hashes
    (revision 0012: invitation codes); a database holding such data cannot pass without it.
    """
    try:
        await asyncio.to_thread(_run_alembic, url, "upgrade", revision, secret_key)
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


# --- Use cases that race each other: row locks, upserts, retries ------------------------------


class Retry(Exception):
    """Another transaction changed the same rows first; ``with_retries`` runs the work again."""


async def rows_of(session: AsyncSession, model: type[T], *where: Any, order_by: Any) -> list[T]:
    """Every ``model`` row matching ``where``, in ``order_by`` order."""
    return list((await session.execute(select(model).where(*where).order_by(order_by))).scalars())


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def upsert(session: AsyncSession, model: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on both backends."""
    return pg_insert(model) if dialect(session) == "postgresql" else sqlite_insert(model)


async def lock_row(
    session: AsyncSession, model: Any, row_id: int, *, exclusive: bool, space: int
) -> Any:
    """Load a row (with a ``status`` column) that cannot change under us until we commit.

    PostgreSQL: a transaction-scoped advisory lock on ``(space, row_id)`` (shared or exclusive),
    taken before the row is read; cheaper than ``FOR SHARE``, which writes the tuple every time.
    SQLite: the driver runs reads outside the transaction until its first write, so a no-op write
    comes first and takes the database's write lock; every later read is then current.
    """
    if dialect(session) == "sqlite":
        result = await session.execute(
            update(model)
            .where(model.id == row_id)
            .values(status=model.status)
            .returning(model)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return result.scalars().one_or_none()
    # Taken once per transaction: a group commit's items share the lock (and the row read
    # under it) of their batch. ``GroupCommit`` forgets them when a savepoint is rolled back.
    transaction = session.get_transaction()
    owner, held = session.info.get("advisory_locks", (None, {}))
    if owner is not transaction:
        held = {}
        session.info["advisory_locks"] = (transaction, held)
    for mode in (True, False) if not exclusive else (True,):
        if (space, row_id, mode) in held:
            return held[(space, row_id, mode)]
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {function}(:space, :row)"), {"space": space, "row": row_id})
    query = select(model).where(model.id == row_id)
    row = await session.scalar(query.execution_options(populate_existing=True))
    held[(space, row_id, exclusive)] = row
    return row


#: SQLSTATEs after which a transaction is simply run again: serialisation failure, deadlock.
_RETRY_SQLSTATES = {"40001", "40P01"}


def retryable(exc: BaseException) -> bool:
    """A unique-key race, a ``Retry``, a deadlock or serialisation failure, a busy SQLite."""
    if isinstance(exc, IntegrityError | Retry):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        return state in _RETRY_SQLSTATES or "database is locked" in str(orig)
    return False


async def with_retries(
    db: Database,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 8,
    field: str = "request",
) -> T:
    """Run ``work`` in a transaction; on a race (``retryable``) roll back and run it again.

    Safe when ``work`` decides everything from what it reads inside its own transaction. After
    ``attempts`` races: ``InvalidInput(field, "too many simultaneous changes …")``.
    """
    for attempt in range(attempts):
        try:
            async with db.session() as session:
                return await work(session)
        except Exception as exc:
            if not retryable(exc):
                raise
            if attempt == attempts - 1:
                raise InvalidInput(
                    field, _("too many simultaneous changes; please submit again")
                ) from None
        await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
