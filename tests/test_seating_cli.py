"""`summit seat` and `summit seating verify`, run as real processes against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from summit.core.db import Database
from summit.seating.models import SeatingRun
from tests.support.cli import summit
from tests.support.seating import make_seated_summit


async def _prepare(url: str) -> None:
    db = Database(url)
    try:
        await make_seated_summit(db, rounds=1)
    finally:
        await db.dispose()


async def _tamper(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            run = await session.scalar(select(SeatingRun).where(SeatingRun.active))
            assert run is not None
            inputs = dict(run.inputs)
            inputs["settings"] = {**inputs["settings"], "table_size": 7}
            run.inputs = inputs
    finally:
        await db.dispose()


def test_seat_then_verify_match_and_a_tampered_input(db_url: str, tmp_path: Path) -> None:
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": db_url}
    asyncio.run(_prepare(db_url))
    seated = summit("seat", "--rounds", "2", "--seed", "1 6 2 6 5", env=env)
    assert seated.returncode == 0, seated.stderr
    assert "seated 24 people and 3 hosts at 3 tables for 2 rounds" in seated.stdout
    verified = summit("seating", "verify", "--round", "2", env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("MATCH"), verified.stderr
    missing = summit("seating", "verify", "--round", "9", env=env)
    assert missing.returncode == 1 and "round 9" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    asyncio.run(_tamper(db_url))
    tampered = summit("seating", "verify", "--round", "1", env=env)
    assert tampered.returncode == 1 and tampered.stderr.startswith("DIFFERENT: inputs")
