"""Keys apart from data (finding 4) and invitation codes under a keyed hash (finding 15)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.core.errors import DatabaseError
from summit.core.security import token_hash
from summit.lottery import service as lottery
from summit.lottery.models import Invitation
from tests.support.cli import summit

SECRET = "a-secret-key-for-codes-0123456789abcdef"


def _files_containing(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_the_key_is_never_in_the_data_folder_or_its_backup(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "config"
    env = {"SUMMIT_DATA_DIR": str(data), "XDG_CONFIG_HOME": str(config)}
    made = summit("demo", "--participants", "48", "--rounds", "1", env=env)
    assert made.returncode == 0, made.stderr
    key_file = config / "g1000-summit" / "secret.key"
    secret = key_file.read_text().strip()
    assert len(secret) >= 32 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (data / "summit.db").exists() and not _files_containing(data, secret)
    doctor = summit("doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "outside the data folder" in doctor.stdout
    (tmp_path / "backups").mkdir()
    backup = summit("backup", str(tmp_path / "backups"), env=env)
    assert backup.returncode == 0, backup.stderr
    (copy,) = (tmp_path / "backups").iterdir()
    assert secret.encode() not in copy.read_bytes()
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM summits").fetchone() == (1,)
    again = summit("backup", str(copy), env=env)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_doctor_warns_about_a_key_beside_the_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_text("k" * 48)  # where earlier versions kept it
    env = {"SUMMIT_DATA_DIR": str(data), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    doctor = summit("doctor", env=env)
    assert doctor.returncode == 1 and "beside the database" in doctor.stdout
    outside = tmp_path / "keys" / "secret.key"
    moved = {**env, "SUMMIT_SECRET_KEY_FILE": str(outside)}
    (data / "secret.key").rename(tmp_path / "old.key")
    fixed = summit("doctor", env=moved)
    assert fixed.returncode == 0, fixed.stdout
    assert outside.exists() and not (data / "secret.key").exists()


def test_a_postgresql_backup_is_left_to_pg_dump(tmp_path: Path) -> None:
    env = {
        "SUMMIT_DATA_DIR": str(tmp_path),
        "SUMMIT_DATABASE_URL": "postgresql+asyncpg://someone@127.0.0.1:1/summit",
        "SUMMIT_SECRET_KEY": SECRET,
    }
    result = summit("backup", str(tmp_path / "x.db"), env=env)
    assert result.returncode == 1 and "pg_dump" in result.stderr


@pytest.mark.anyio
async def test_a_database_copy_cannot_be_searched_for_codes(database: Any) -> None:
    async with database.session() as session:
        summit_row = await repository.create_summit(
            session, actor="S-test", slug="codes", name="Codes", municipality="Dorp"
        )
        invitation, code = await lottery.invite_named(
            session, summit_row, actor="S-test", role="politician", secret_key=SECRET
        )
    # what a brute-forcer with only the database would compare against: not there
    assert invitation.code_hash != token_hash(code)
    async with database.session() as session:
        with pytest.raises(lottery.CodeRejected):
            await lottery.find_invitation(session, summit_row, code, secret_key="x" * 40)
        found = await lottery.find_invitation(session, summit_row, code, secret_key=SECRET)
        assert found.id == invitation.id


async def _at_0011_with_a_plain_code(url: str) -> tuple[int, str]:
    await upgrade(url, "0011")
    database = Database(url)
    try:
        async with database.session() as session:
            summit_row = await repository.create_summit(
                session, actor="S-test", slug="old", name="Old", municipality="Dorp"
            )
            code = "ABCDE23456"
            session.add(
                Invitation(
                    summit_id=summit_row.id,
                    kind="named",
                    role="politician",
                    code_hash=token_hash(code),  # how earlier versions stored it
                    status="sent",
                )
            )
        return summit_row.id, code
    finally:
        await database.dispose()


def test_the_migration_rekeys_stored_codes_and_old_letters_keep_working(
    empty_db_url: str,
) -> None:
    summit_id, code = asyncio.run(_at_0011_with_a_plain_code(empty_db_url))
    with pytest.raises(DatabaseError, match="secret"):
        asyncio.run(upgrade(empty_db_url))
    asyncio.run(upgrade(empty_db_url, secret_key=SECRET))

    async def check() -> None:
        database = Database(empty_db_url)
        try:
            async with database.session() as session:
                stored = list(await session.scalars(select(Invitation.code_hash)))
                assert stored and token_hash(code) not in stored
                summit_row = await repository.get_summit(session, summit_id)
                found = await lottery.find_invitation(
                    session, summit_row, "abcde-23456", secret_key=SECRET
                )
                assert found.status == "sent"
        finally:
            await database.dispose()

    asyncio.run(check())
