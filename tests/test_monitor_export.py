"""`summit export --all DIR`: the whole public record with a manifest anchored in the audit log;
`summit export --verify DIR` catches a changed file, a changed file with a rewritten manifest, and
a changed audit log."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from summit.cli import main
from summit.core.db import Database
from summit.demo import create_demo
from summit.monitor.opendata import verify_folder


@pytest.fixture
def exported(db_url: str, tmp_path: Path) -> tuple[CliRunner, dict[str, str], Path]:
    async def demo() -> None:
        db = Database(db_url)
        try:
            await create_demo(db, participants=32, rounds=1)
        finally:
            await db.dispose()

    asyncio.run(demo())
    env = {"SUMMIT_DATABASE_URL": db_url, "SUMMIT_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    folder = tmp_path / "record"
    result = runner.invoke(main, ["export", "--all", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    return runner, env, folder


def test_the_export_holds_the_whole_record_and_verifies(
    exported: tuple[CliRunner, dict[str, str], Path],
) -> None:
    runner, env, folder = exported
    names = {p.name for p in folder.iterdir()}
    for dataset in (
        "partners",
        "responses",
        "proposals",
        "assessments",
        "council-results",
        "audit",
    ):
        assert {f"{dataset}.json", f"{dataset}.csv"} <= names
    assert "manifest.json" in names and "partner-agreement.txt" in names
    assert any(n.startswith("decision-") for n in names)
    manifest = json.loads((folder / "manifest.json").read_text())
    audit = json.loads((folder / "audit.json").read_text())["rows"]
    assert manifest["audit_head"] == {"seq": audit[-1]["seq"], "hash": audit[-1]["entry_hash"]}
    assert audit[-1]["action"] == "export.publish"
    result = runner.invoke(main, ["export", "--verify", str(folder)], env=env)
    assert result.exit_code == 0 and "is in this database's audit chain" in result.output


def test_a_tampered_file_is_caught(exported: tuple[CliRunner, dict[str, str], Path]) -> None:
    runner, env, folder = exported
    target = folder / "responses.csv"
    target.write_text(target.read_text().replace("wont", "will"))
    result = runner.invoke(main, ["export", "--verify", str(folder)], env=env)
    assert result.exit_code == 1 and "responses.csv: changed" in result.output


def test_a_tampered_file_with_a_rewritten_manifest_is_caught_by_the_audit_head(
    exported: tuple[CliRunner, dict[str, str], Path],
) -> None:
    _runner, _env, folder = exported
    target = folder / "responses.json"
    target.write_text(target.read_text().replace("wont", "will"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["responses.json"]["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert verify_folder(folder) == [
        "the data files do not match the digest logged in the audit head"
    ]


def test_a_tampered_audit_log_breaks_the_chain(
    exported: tuple[CliRunner, dict[str, str], Path],
) -> None:
    _runner, _env, folder = exported
    data = json.loads((folder / "audit.json").read_text())
    data["rows"][3]["actor"] = "someone-else"
    (folder / "audit.json").write_text(json.dumps(data))
    problems = verify_folder(folder)
    assert "audit.json: changed (SHA-256 differs from the manifest)" in problems
    assert any("entry #4" in p for p in problems)


def test_export_needs_one_of_its_options() -> None:
    result = CliRunner().invoke(main, ["export"])
    assert result.exit_code == 2 and "--all DIR or --verify DIR" in result.output
