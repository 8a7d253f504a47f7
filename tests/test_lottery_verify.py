"""Checking the final draw of stage 2 from its published files (`summit verify panel`), and the
selection's reports as CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.rules.draw import canonical_json, draw_index, normalise_seed, sha256_hex
from summit.lottery import selection as sel
from tests.support.cli import summit as run_summit
from tests.support.lottery import SEED, registered_pool

OTHER_SEED = "2718 2818 2845 9045 2353"


async def _drawn_selection(database: Any) -> Any:
    summit = await registered_pool(database, 30)
    async with database.session() as session:
        data = await sel.selection_input(
            session,
            summit,
            role="resident",
            seats=10,
            tolerance=0.3,
            algorithm="maximin",
            panels=100,
        )
    result = sel.compute_selection(data)
    async with database.session() as session:
        await sel.store_selection(session, summit, data, result, actor="S-test")
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        draw, _links = await sel.finalise_selection(
            session, summit, role="resident", seed=SEED, actor="S-test"
        )
    return draw


def _write(tmp_path: Path, draw: Any) -> dict[str, Path]:
    files = {"panels": tmp_path / "panels.json", "selected": tmp_path / "selected.csv"}
    files["panels"].write_bytes(sel.panels_json(draw))
    files["selected"].write_text(sel.selected_csv(sel.drawn_panel(draw)), encoding="utf-8")
    return files


def _verify(files: dict[str, Path], panels_hash: str, seed: str) -> Any:
    return run_summit(
        "verify",
        "panel",
        "--panels",
        str(files["panels"]),
        "--panels-hash",
        panels_hash,
        "--seed",
        seed,
        "--selected",
        str(files["selected"]),
        env={},
    )


@pytest.mark.anyio
async def test_the_published_panel_draw_verifies_and_tampering_is_caught(
    database: Any, tmp_path: Path
) -> None:
    draw = await _drawn_selection(database)
    published_hash = draw.commitment["panels_hash"]
    files = _write(tmp_path, draw)
    assert sha256_hex(files["panels"].read_bytes()) == published_hash
    # The drawn panel is the one the seed picks among the m published panels.
    index = draw_index(normalise_seed(SEED, sel.SEED_SPEC), draw.commitment["panels"])
    assert index == draw.result["index"]

    match = _verify(files, published_hash, SEED)
    assert match.returncode == 0, match.stderr
    assert match.stdout.splitlines()[0] == "MATCH"
    assert f"panel {index} of 100" in match.stdout

    # A wrong seed (one whose index holds another panel) is a mismatch naming that panel.
    lists = sel.read_panels_json(files["panels"].read_bytes())
    wrong = next(
        seed
        for seed in (OTHER_SEED, *(f"{k:020d}" for k in range(50)))
        if sorted(lists[draw_index(normalise_seed(seed, sel.SEED_SPEC), 100)])
        != sorted(lists[index])
    )
    other = draw_index(normalise_seed(wrong, sel.SEED_SPEC), 100)
    wrong_seed = _verify(files, published_hash, wrong)
    assert wrong_seed.returncode == 1
    assert wrong_seed.stdout.startswith(f"MISMATCH: panel {other} of 100")
    bad_seed = _verify(files, published_hash, "12345")
    assert bad_seed.returncode == 1 and "expected 20 dice digits" in bad_seed.stdout

    # A panels file changed after the hash was published: one id swapped in the drawn panel.
    tampered = [list(p) for p in lists]
    outsider = next(pid for pid in draw.result["people"] if pid not in tampered[index])
    tampered[index][0] = outsider
    files["panels"].write_bytes(canonical_json({"panels": tampered}))
    changed = _verify(files, published_hash, SEED)
    assert changed.returncode == 1
    assert changed.stdout.strip() == "MISMATCH: panels hash differs from the published one"
    # Even when the hash is swapped too, the published list no longer matches the panel.
    rehashed = _verify(files, sha256_hex(files["panels"].read_bytes()), SEED)
    assert rehashed.returncode == 1 and "published" in rehashed.stdout

    files["panels"].write_text("not json", encoding="utf-8")
    broken = _verify(files, sha256_hex(b"not json"), SEED)
    assert broken.returncode == 1 and "panels" in broken.stderr


@pytest.mark.anyio
async def test_reports_as_csv(database: Any) -> None:
    draw = await _drawn_selection(database)
    rows = list(csv.DictReader(io.StringIO(sel.report_csv(sel.panel_report(draw)))))
    assert rows and set(rows[0]) == {"feature", "value", "population_share", "panel_share", "quota"}
    panel = draw.result["panel"]
    people = draw.result["people"]
    for row in rows:
        n = sum(1 for pid in panel if people[pid].get(row["feature"]) == row["value"])
        assert float(row["panel_share"]) == pytest.approx(n / len(panel), abs=1e-6)
        share = draw.result["shares"][row["feature"]][row["value"]]
        assert float(row["population_share"]) == pytest.approx(share, abs=1e-6)
    for feature in {r["feature"] for r in rows}:
        total = sum(float(r["panel_share"]) for r in rows if r["feature"] == feature)
        assert total == pytest.approx(1.0, abs=1e-5)

    chances = list(csv.DictReader(io.StringIO(sel.probabilities_csv(draw))))
    assert len(chances) == 30
    assert sum(float(r["probability"]) for r in chances) == pytest.approx(10, abs=1e-6)
    assert sum(float(r["lottery_share"]) for r in chances) == pytest.approx(10, abs=1e-6)
    assert {r["pseudonym"] for r in chances if r["selected"] == "1"} == set(sel.drawn_panel(draw))


ids = st.lists(st.from_regex(r"R[1-9][0-9]{0,3}", fullmatch=True), min_size=1, max_size=6)
seeds = st.lists(st.integers(0, 9), min_size=20, max_size=20).map(
    lambda ds: " ".join(str(d) for d in ds)
)


@settings(max_examples=60, deadline=None)
@given(panels=st.lists(ids.map(sorted), min_size=1, max_size=12), seed=seeds, data=st.data())
def test_a_published_panel_verifies_only_when_it_is_the_drawn_one(
    panels: list[list[str]], seed: str, data: st.DataObject
) -> None:
    body = canonical_json({"panels": panels})
    digest = sha256_hex(body)
    index = draw_index(normalise_seed(seed, sel.SEED_SPEC), len(panels))
    drawn = panels[index]
    assert sel.verify_panel_files(body, digest, seed, sel.selected_csv(drawn)).ok
    assert sel.read_selected_csv(sel.selected_csv(drawn)) == drawn
    other = data.draw(st.lists(st.from_regex(r"R[0-9]{1,4}", fullmatch=True), max_size=7))
    outcome = sel.verify_panel_files(body, digest, seed, sel.selected_csv(other))
    assert outcome.ok == (sorted(other) == sorted(drawn))
    # Any change to the published panels file breaks the hash.
    assert not sel.verify_panel_files(body + b" ", digest, seed, sel.selected_csv(drawn)).ok


def test_bad_published_files_name_the_file() -> None:
    with pytest.raises(InvalidInput, match="selected"):
        sel.read_selected_csv("pseudonym\nR1\n")
    with pytest.raises(InvalidInput, match="panels"):
        sel.read_panels_json(json.dumps({"panels": []}).encode())
    with pytest.raises(InvalidInput, match="panel 1"):
        sel.read_panels_json(json.dumps({"panels": [["R1"], [3]]}).encode())
