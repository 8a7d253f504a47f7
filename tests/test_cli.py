"""The `summit` command, run as a real process against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import summit

COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["user"],
    ["user", "add"],
    ["audit"],
    ["audit", "verify"],
]


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": db_url}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "summit")
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = summit(*command, "--help", env={"SUMMIT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and len(result.stdout.splitlines()) >= 4


def test_version(tmp_path: Path) -> None:
    from summit import __version__

    result = summit("--version", env={"SUMMIT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0 and __version__ in result.stdout


def test_user_add_then_verify_the_audit_log(env: dict[str, str]) -> None:
    added = summit(
        "user",
        "add",
        "Jan",
        "--role",
        "moderator",
        "--password-stdin",
        env=env,
        stdin="a long password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added moderator jan (S-" in added.stdout
    again = summit(
        "user",
        "add",
        "jan",
        "--role",
        "moderator",
        "--password-stdin",
        env=env,
        stdin="a long password\n",
    )
    assert again.returncode != 0
    assert again.stderr.strip().splitlines()[-1] == "Error: username: 'jan' already exists"
    short = summit(
        "user", "add", "piet", "--role", "organiser", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode != 0 and "password: use at least 10 characters" in short.stderr
    verified = summit("audit", "verify", env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("OK: 1 entries; head ")


def test_audit_verify_names_the_first_broken_entry(env: dict[str, str], db_url: str) -> None:
    import asyncio

    from sqlalchemy import text

    from summit.core.db import Database

    for name in ("ann", "ben", "cas"):
        summit(
            "user",
            "add",
            name,
            "--role",
            "moderator",
            "--password-stdin",
            env=env,
            stdin="a long password\n",
        )

    async def tamper() -> None:
        db = Database(db_url)
        async with db.session() as session:
            if db.is_postgresql:
                await session.execute(
                    text("DROP TRIGGER audit_entries_append_only ON audit_entries")
                )
            else:
                await session.execute(text("DROP TRIGGER audit_entries_no_update"))
            await session.execute(
                text("UPDATE audit_entries SET payload_digest = 'x' WHERE seq = 2")
            )
        await db.dispose()

    asyncio.run(tamper())
    result = summit("audit", "verify", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "BROKEN at entry #2: payload does not match its digest (1 entries before it check out)"
    )


def test_db_upgrade_and_current(empty_db_url: str, tmp_path: Path) -> None:
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": empty_db_url}
    before = summit("db", "current", env=env)
    assert before.returncode == 1 and before.stdout.startswith("current (empty)")
    upgraded = summit("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and upgraded.stdout.startswith("database at revision ")
    after = summit("db", "current", env=env)
    assert after.returncode == 0


def test_commands_refuse_an_unmigrated_database(empty_db_url: str, tmp_path: Path) -> None:
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": empty_db_url}
    result = summit("audit", "verify", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: database has no schema yet: run `summit db upgrade`"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SUMMIT_DATABASE_URL", "mysql://x/y", "SUMMIT_DATABASE_URL: use sqlite+aiosqlite"),
        ("SUMMIT_EVENT_BUS_URL", "kafka://x", "SUMMIT_EVENT_BUS_URL: use memory:// or redis://"),
        ("SUMMIT_SECRET_KEY", "short", "SUMMIT_SECRET_KEY: must be at least 32 characters"),
        ("SUMMIT_COOKIE_SECURE", "maybe", "SUMMIT_COOKIE_SECURE: expected true or false"),
        ("SUMMIT_BASE_URL", "ftp://x", "SUMMIT_BASE_URL: must start with http"),
        ("SUMMIT_LOGIN_RATE_PER_MINUTE", "0", "SUMMIT_LOGIN_RATE_PER_MINUTE: must be at least 1"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    result = summit("audit", "verify", env={"SUMMIT_DATA_DIR": str(tmp_path), variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"
    result = summit(
        "serve",
        "--port",
        "8999",
        env={"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": url},
    )
    assert result.returncode != 0
    assert "database unreachable (postgresql+asyncpg://nobody@127.0.0.1:1/none)" in result.stderr
    assert "secret" not in result.stderr


def test_demo_refuses_a_database_that_already_has_a_summit(env: dict[str, str]) -> None:
    first = summit("demo", "--participants", "24", "--rounds", "1", env=env)
    assert first.returncode == 0, first.stderr
    assert "organiser login: organiser / " in first.stdout
    assert first.stdout.count("/p/") >= 5
    second = summit("demo", env=env)
    assert second.returncode != 0 and "already holds a summit" in second.stderr
