from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect

from summit.core.db import Database, downgrade, head_revision, upgrade
from summit.core.errors import DatabaseError
from summit.schema import Base

pytestmark = pytest.mark.anyio


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _columns(db: Database) -> dict[str, set[str]]:
    def read(conn: Any) -> dict[str, set[str]]:
        inspector = inspect(conn)
        tables = inspector.get_table_names()
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in tables}

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_the_migrations_create_every_column_of_the_models(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        await upgrade(empty_db_url)
        found = await _columns(db)
        missing = [
            f"{name}.{column.name}"
            for name, table in Base.metadata.tables.items()
            for column in table.columns
            if column.name not in found.get(name, set())
        ]
        assert not missing
    finally:
        await db.dispose()


async def test_upgrade_an_empty_database_to_head_and_back(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        with pytest.raises(DatabaseError, match="no schema yet"):
            await db.check_revision()
        await upgrade(empty_db_url)
        assert await db.current_revision() == head_revision()
        await db.check_revision()
        assert set(Base.metadata.tables) <= await _tables(db)
        await downgrade(empty_db_url, "base")
        assert await db.current_revision() is None
        assert not (set(Base.metadata.tables) & await _tables(db))
        await upgrade(empty_db_url)
        assert await db.current_revision() == head_revision()
    finally:
        await db.dispose()


async def test_a_database_from_a_newer_version_is_refused_clearly(db_url: str) -> None:
    from sqlalchemy import text

    db = Database(db_url)
    try:
        async with db.session() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
        with pytest.raises(DatabaseError, match="unknown to this version"):
            await db.check_revision()
    finally:
        await db.dispose()


async def test_an_unreachable_database_is_named_without_its_password() -> None:
    db = Database("postgresql+asyncpg://someone:s3cret@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(DatabaseError) as err:
            await db.ping()
        assert "database unreachable" in str(err.value)
        assert "s3cret" not in str(err.value)
    finally:
        await db.dispose()
