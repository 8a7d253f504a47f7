"""`summit register import`, `summit verify draw` and `summit select` as real processes."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from summit.core import service as repository
from summit.core.db import Database
from summit.lottery import service as lottery
from tests.support.cli import summit
from tests.support.lottery import DAY, SEED, register_csv

MAP = "id=BSN,gender=Geslacht,birth_date=Geboortedatum,postcode=Postcode,address=Adres"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sortition"


async def _summit(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            await repository.create_summit(
                session, actor="S-test", slug="cli", name="Cli", municipality="X", date=DAY
            )
    finally:
        await db.dispose()


async def _publish(url: str, out: Path, secret: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            s = await repository.current_summit(session)
            assert s is not None
            await lottery.commit_draw(session, s, actor="S-test", sample_size=10)
        async with db.session() as session:
            s = await repository.current_summit(session)
            assert s is not None
            draw = await lottery.run_draw(session, s, actor="S-test", seed=SEED, secret_key=secret)
            (out / "commitment.json").write_bytes(lottery.commitment_json(draw))
            entries = await lottery.extract(session, s.id)
            (out / "extract.csv").write_text(lottery.extract_csv(entries))
            (out / "result.csv").write_text(lottery.result_csv(draw.result["pseudonyms"]))
    finally:
        await db.dispose()


def test_import_rejects_bad_rows_then_imports_and_the_draw_verifies(
    db_url: str, tmp_path: Path
) -> None:
    secret = "cli-secret-key-abcdefghijklmnopqrstuvwxyz"
    env = {
        "SUMMIT_DATA_DIR": str(tmp_path),
        "SUMMIT_DATABASE_URL": db_url,
        "SUMMIT_SECRET_KEY": secret,
    }
    asyncio.run(_summit(db_url))
    bad = tmp_path / "bad.csv"
    bad.write_text(register_csv(8) + "77;Q;1980-01-01;1011 AB;X\r\n78;M;nope;1011 AB;Y\r\n")
    refused = summit("register", "import", str(bad), "--map", MAP, env=env)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert lines[0] == "error: row 10, gender: unknown value 'Q'"
    assert lines[1].startswith("error: row 11, birth_date:")
    assert "not imported (2 errors)" in lines[2]
    good = tmp_path / "good.csv"
    good.write_text(register_csv(30, young=2))
    imported = summit("register", "import", str(good), "--map", MAP, env=env)
    assert imported.returncode == 0, imported.stderr
    assert (
        "imported 30 residents from 32 rows (2 under 16 excluded; 15 households; read as UTF-8)"
        in imported.stdout
    )
    asyncio.run(_publish(db_url, tmp_path, secret))
    files = [
        "--commitment",
        str(tmp_path / "commitment.json"),
        "--extract",
        str(tmp_path / "extract.csv"),
        "--result",
        str(tmp_path / "result.csv"),
    ]
    match = summit("verify", "draw", *files, "--seed", SEED, env=env)
    assert match.returncode == 0 and match.stdout.strip() == "MATCH", match.stderr
    merged = tmp_path / "mm.csv"
    letters = summit("register", "letters", str(good), "--map", MAP, "--out", str(merged), env=env)
    assert letters.returncode == 0, letters.stderr
    with merged.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10 and all(100000 <= int(r["id"]) < 100030 for r in rows)
    assert [r["pseudonym"] for r in rows] == lottery.read_result_csv(
        (tmp_path / "result.csv").read_text()
    )
    other = tmp_path / "other.csv"
    other.write_text(register_csv(30).replace("\n1000", "\n2000"))  # other ids
    refused_letters = summit(
        "register", "letters", str(other), "--map", MAP, "--out", str(merged), env=env
    )
    assert refused_letters.returncode == 1 and "not the extract" in refused_letters.stderr
    wrong = summit("verify", "draw", *files, "--seed", "9" * 20, env=env)
    assert wrong.returncode == 1 and wrong.stdout.startswith("MISMATCH: position")


def test_select_from_files(tmp_path: Path) -> None:
    if not (SHARED / "example_small_20").is_dir():
        pytest.skip("../shared/data/sortition/example_small_20 is not beside the checkout")
    base = SHARED / "example_small_20"
    out = tmp_path / "out"
    done = summit(
        "select",
        "--features",
        str(base / "categories.csv"),
        "--people",
        str(base / "respondents.csv"),
        "--seats",
        "20",
        "--algorithm",
        "maximin",
        "--seed",
        "12345",
        "--panels",
        "100",
        "--out",
        str(out),
        env={},
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seats"] == 20 and summary["panels"] == 100
    with (out / "panel.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 20
    assert summary["panels_hash"] in done.stdout
    bad = summit(
        "select",
        "--features",
        str(base / "categories.csv"),
        "--people",
        str(base / "respondents.csv"),
        "--seats",
        "10",
        "--out",
        str(out),
        env={},
    )
    assert bad.returncode == 1 and "no panel meets the quotas" in bad.stderr
