"""The forum's measurement scripts run and print what docs/benchmarks.md and the issue ask for:
``scripts/eval_opinion_map.py --data DIR`` on any folder of Pol.is exports (last line: one JSON
object per conversation with ari, groups, groups_polis, participants) and
``scripts/bench_forum.py`` at a small size (rebuild time, vote-to-map latency, readers, memory)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OPINION_DATA = ROOT.parent / "shared" / "data" / "opinion"

pytestmark = pytest.mark.timeout(180)


def _run(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=150, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()


def test_the_evaluation_runs_on_any_folder_of_polis_exports(tmp_path: Path) -> None:
    source = OPINION_DATA / "london.youth.policing"
    if not (source / "votes.csv").exists():
        pytest.skip(f"no opinion data at {source}")
    shutil.copytree(source, tmp_path / "one-conversation")
    lines = _run("scripts/eval_opinion_map.py", "--data", str(tmp_path))
    last = json.loads(lines[-1])
    assert list(last) == ["one-conversation"]
    row = last["one-conversation"]
    assert set(row) == {"ari", "groups", "groups_polis", "participants"}
    assert row["participants"] > 0 and row["groups_polis"] >= 2 and -1 <= row["ari"] <= 1


def test_the_forum_benchmark_reports_its_numbers() -> None:
    args = ("--reactions", "100", "--votes", "2000", "--new-votes", "10", "--readers", "20")
    lines = _run("scripts/bench_forum.py", *args)
    result = json.loads(lines[-1])
    assert result["reactions"] == 100 and result["votes"] == 2000 and result["readers"] == 20
    for key in ("rebuild_s", "vote_to_map_p95_ms", "burst_p99_ms", "peak_rss_mb"):
        assert result[key] > 0, key
