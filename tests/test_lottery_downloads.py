"""The published files of the stage-2 draw and the selection reports, downloaded over HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from summit.core.rules.draw import sha256_hex
from summit.lottery import selection as sel
from tests.support.http import csrf_of, login
from tests.support.lottery_http import (
    PANEL_SEED,
    SEED,
    current_summit_id,
    register_csv,
    register_everyone,
    run_selection,
    upload,
)


def test_panel_files_are_published_and_the_reports_download_as_csv(demo_client: Any) -> None:
    client, info = demo_client
    client.get("/?lang=en")
    assert login(client, "organiser", info.organiser_password).status_code == 303
    assert upload(client, register_csv(60)).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text)
    client.post("/organiser/lottery/commit", data={"csrf_token": token, "sample_size": "20"})
    client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    register_everyone(client, current_summit_id(client))
    assert client.get("/lottery/resident/panels.json").status_code == 404
    run_selection(client, token)

    # Before the seed: the panels are public and hash to the published panels hash.
    public = client.get("/lottery").text
    panels = client.get("/lottery/resident/panels.json")
    assert panels.status_code == 200 and "attachment" in panels.headers["content-disposition"]
    panels_hash = sha256_hex(panels.content)
    assert panels_hash in public and "/lottery/resident/panels.json" in public
    assert client.get("/lottery/resident/selected.csv").status_code == 404
    assert client.get("/lottery/resident/report.csv").status_code == 404
    assert client.get("/lottery/nobody/panels.json").status_code == 404
    chances = client.get("/organiser/selection/resident/probabilities.csv")
    assert chances.status_code == 200
    rows = list(csv.DictReader(io.StringIO(chances.text)))
    assert len(rows) == 20 and all(r["pseudonym"].startswith("R") for r in rows)
    assert sum(float(r["probability"]) for r in rows) == pytest.approx(8, abs=1e-6)
    assert all(r["selected"] == "0" for r in rows)

    drawn = client.post(
        "/organiser/selection/draw",
        data={"csrf_token": token, "role": "resident", "seed": PANEL_SEED},
    )
    assert drawn.status_code == 200
    page = client.get("/organiser/selection").text
    assert "/lottery/resident/report.csv" in page
    assert "/organiser/selection/resident/probabilities.csv" in page

    # After the seed: anyone can check the draw from the downloads.
    selected = client.get("/lottery/resident/selected.csv")
    assert selected.status_code == 200
    outcome = sel.verify_panel_files(panels.content, panels_hash, PANEL_SEED, selected.text)
    assert outcome.ok and str(outcome.message).startswith("MATCH")
    assert "summit verify panel" in client.get("/lottery").text
    tampered = panels.content.replace(b"R", b"X", 1)
    assert not sel.verify_panel_files(tampered, panels_hash, PANEL_SEED, selected.text).ok

    report = client.get("/lottery/resident/report.csv")
    assert report.status_code == 200
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert lines and {r["feature"] for r in lines} >= {"gender", "age_band"}
    chosen = {
        r["pseudonym"]
        for r in csv.DictReader(
            io.StringIO(client.get("/organiser/selection/resident/probabilities.csv").text)
        )
        if r["selected"] == "1"
    }
    assert chosen == set(sel.read_selected_csv(selected.text)) and len(chosen) == 8

    # Per-registrant chances are for the organiser only; the aggregates stay public.
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/organiser/selection/resident/probabilities.csv").status_code in (401, 303)
    assert client.get("/lottery/resident/report.csv").status_code == 200
    assert client.get("/lottery/resident/selected.csv").status_code == 200
