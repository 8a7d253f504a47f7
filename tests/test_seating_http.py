"""Seating pages through the real app: roles, CSRF, JSON/CSV, moves, live events, print cards."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.models import AuditEntry
from summit.seating import service as uc
from summit.seating.changes import move_participant
from tests.support.app import Client
from tests.support.http import csrf_of, login
from tests.support.seating import make_seated_summit

PASSWORD = "a long test password"


@pytest.fixture
def seated(client: Client) -> Iterator[tuple[Client, dict[str, str]]]:
    """A fresh app with an organiser, a moderator and a seated summit of 27; link tokens."""

    async def prepare() -> dict[str, str]:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            await repository.add_staff_user(session, "moderator", PASSWORD, "moderator")
        tokens: dict[str, str] = {}
        await make_seated_summit(client.db, tokens=tokens)
        return tokens

    yield client, client.run(prepare())


def as_organiser(client: Client) -> str:
    assert login(client, "organiser", PASSWORD).status_code == 303
    page = client.get("/seating?lang=en")
    assert page.status_code == 200
    return csrf_of(page.text)


def test_the_organiser_sees_a_grid_per_round_and_the_report(seated: Any) -> None:
    client, _tokens = seated
    csrf = as_organiser(client)
    page = client.get("/seating").text
    # One round's tables per page (the current round, else the first); the others on demand.
    assert len(re.findall(r'class="seat-card"', page)) == 3
    assert page.count('class="badge host"') == 3
    assert 'id="card-1-1"' in page and 'id="card-2-1"' not in page
    assert 'href="/seating?round=2#round-2"' in page and 'data-show-round="1"' not in page
    second = client.get("/seating?round=2").text
    assert 'id="card-2-1"' in second and 'id="card-1-1"' not in second
    assert len(re.findall(r'class="seat-card"', second)) == 3
    assert 'href="/seating?round=1#round-1"' in second
    # The move form offers the tables of the shown round; a round that does not exist shows
    # the default one.
    assert second.count('<option value="3"') >= 1
    assert 'id="card-1-1"' in client.get("/seating?round=9").text
    assert "Seating report" in page and 'data-report-item="repeated_pairs"' in page
    assert "/static/seating.js" in page and csrf
    data = client.get("/seating/rounds/1.json").json()
    assert data["round"] == 1 and data["status"] == "planned" and len(data["tables"]) == 3
    assert all(len(t["members"]) == 8 and t["host"].startswith("P-") for t in data["tables"])
    rows = list(csv.DictReader(io.StringIO(client.get("/seating/rounds/1.csv").text)))
    assert len(rows) == 27 and sum(r["host"] == "1" for r in rows) == 3
    assert {r["pseudonym"] for r in rows} == {
        m["pseudonym"] for t in data["tables"] for m in t["members"]
    } | {t["host"] for t in data["tables"]}
    verify = client.get("/seating/rounds/2/verify.json").json()
    assert verify["match"] is True and verify["seed"] == "dice 3 1 4 1 5"
    # The page's claim matches who may verify: staff (the inputs name participants' features).
    english = client.get("/seating?lang=en").text
    assert "anyone can re-run" not in english and "staff re-run a round with" in english
    cards = client.get("/seating/print").text
    assert cards.count('class="table-card"') == 6 and "Name0" in cards
    assert "P-" not in cards.split("<main", 1)[1]  # first names only
    client.cookies.clear()
    assert client.get("/seating/rounds/2/verify.json").status_code in (401, 403)


def test_a_manual_move_is_checked_live_and_refused_without_override(seated: Any) -> None:
    client, _tokens = seated
    csrf = as_organiser(client)
    table1 = client.get("/seating/rounds/1.json").json()["tables"][0]
    employer = next(m["pseudonym"] for m in table1["members"] if m["role"] == "employer")
    check = client.get(
        "/seating/check.json", params={"round": 1, "participant": employer, "table": 2}
    ).json()
    assert check["ok"] is False and {"pattern", "size"} <= {v["rule"] for v in check["violations"]}
    same = client.get(
        "/seating/check.json", params={"round": 1, "participant": employer, "table": 1}
    ).json()
    assert same == {"ok": True, "violations": []}
    bad = client.get("/seating/check.json", params={"round": 1, "participant": employer})
    assert bad.status_code == 400 and "table" in bad.json()["error"]
    form = {"csrf_token": csrf, "round": "1", "participant": employer, "table": "2"}
    refused = client.post("/seating/move", data=form)
    assert refused.status_code == 400 and 'data-rule="pattern"' in refused.text
    moved = client.post("/seating/move", data={**form, "override": "on"})
    assert moved.status_code == 303
    after = client.get("/seating/rounds/1.json").json()["tables"][1]
    assert employer in {m["pseudonym"] for m in after["members"]}

    async def logged() -> Any:
        async with client.db.session() as session:
            return await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "seating.move")
            )

    entry = client.run(logged())
    assert entry.subject == employer and entry.payload["override"] is True
    assert client.get("/seating/rounds/1/verify.json").json()["match"] is True


def test_participants_see_only_their_own_tables(seated: Any) -> None:
    client, tokens = seated
    pseudonym, token = next(iter(tokens.items()))
    assert client.get(f"/p/{token}").status_code == 303
    for path in ("/seating/rounds/1.json", "/seating/rounds/1.csv", "/seating/check.json"):
        assert client.get(path).status_code == 403, path
    assert client.get("/seating", headers={"accept": "text/html"}).status_code == 403
    page = client.get("/me/tables?lang=en")
    assert page.status_code == 200 and "Your tables" in page.text
    assert "/static/seating-live.js" in page.text
    assert len(re.findall(r'<tr data-round="\d"', page.text)) == 2
    assert "P-" not in page.text.split("<main", 1)[1]  # first names, never pseudonyms
    mine = client.get("/me/tables.json").json()
    assert [r["round"] for r in mine["rounds"]] == [1, 2]
    assert mine["current"]["round"] == 1 and len(mine["current"]["companions"]) == 8
    # nobody else's data: the companions are exactly the others at this table
    table = mine["current"]["table"]
    client.cookies.clear()
    as_organiser(client)
    data = client.get("/seating/rounds/1.json").json()
    at = next(t for t in data["tables"] if t["number"] == table)
    assert pseudonym in {m["pseudonym"] for m in at["members"]}
    client.cookies.clear()
    assert client.get("/seating/rounds/1.json").status_code == 401


def test_forms_need_the_csrf_token_and_the_right_role(seated: Any) -> None:
    client, _tokens = seated
    csrf = as_organiser(client)
    assert client.post("/seating/seat", data={"seed": "x"}).status_code == 403
    assert (
        client.post("/seating/seat", data={"seed": "x", "csrf_token": "forged"}).status_code == 403
    )
    assert (
        client.post("/seating/check.json", data={"csrf_token": csrf}).status_code == 405
    )  # read-only
    client.post("/logout", data={"csrf_token": csrf})
    assert login(client, "moderator", PASSWORD).status_code == 303
    page = client.get("/login")
    csrf = csrf_of(page.text)
    assert client.post("/seating/seat", data={"seed": "x", "csrf_token": csrf}).status_code == 403
    opened = client.post("/seating/rounds/1/open", data={"csrf_token": csrf, "minutes": "40"})
    assert opened.status_code == 303
    again = client.post("/seating/rounds/2/open", data={"csrf_token": csrf})
    assert again.status_code == 400 and "still open" in again.text
    client.post("/logout", data={"csrf_token": csrf})
    csrf = as_organiser(client)
    refused = client.post("/seating/seat", data={"seed": "new", "csrf_token": csrf})
    assert refused.status_code == 400 and "rounds" in refused.text


def test_a_move_reaches_the_participant_over_the_websocket(seated: Any) -> None:
    client, tokens = seated
    pseudonym, token = next(iter(tokens.items()))
    client.get(f"/p/{token}")
    before = client.get("/me/tables.json").json()["current"]["table"]
    target = 1 if before != 1 else 2

    async def move() -> None:
        async with client.db.session() as session:
            summit = await repository.current_summit(session)
            assert summit is not None
            outcome = await move_participant(
                session,
                summit,
                actor="S-org",
                round_number=1,
                pseudonym=pseudonym,
                to_table=target,
                override=True,
            )
        await uc.publish(client.app.state.bus, outcome.events)  # type: ignore[attr-defined]

    with client.websocket_connect("/ws") as socket:
        hello = socket.receive_json()
        assert hello["type"] == "hello"
        client.run(move())
        event = socket.receive_json()
        assert event["type"] == "seat" and event["table"] == target and event["round"] == 1
    assert client.get("/me/tables.json").json()["current"]["table"] == target


def test_participants_choose_topics_and_the_organiser_forms_topic_tables(seated: Any) -> None:
    client, tokens = seated
    csrf = as_organiser(client)
    settings = {
        "csrf_token": csrf,
        "rounds": "2",
        "table_size": "8",
        "features": ["age_band", "gender"],
        "hosts_stay": "on",
        "venue_areas": "Zaal A: 2\nZaal B: 5",
        "topics": "Wonen\nFietsen",
    }
    assert client.post("/seating/settings", data=settings).status_code == 303
    bad = client.post("/seating/settings", data={**settings, "venue_areas": "Zaal A"})
    assert bad.status_code == 400 and "venue_areas" in bad.text
    client.cookies.clear()
    for i, token in enumerate(list(tokens.values())[:6]):
        client.get(f"/p/{token}")
        page = client.get("/me/topics?lang=en")
        assert "First choice" in page.text
        saved = client.post(
            "/me/topics",
            data={"csrf_token": csrf_of(page.text), "first": "Wonen", "second": "Fietsen"}
            if i % 2
            else {"csrf_token": csrf_of(page.text), "first": "Fietsen"},
        )
        assert saved.status_code == 200 and "saved" in saved.text
        client.cookies.clear()
    csrf = as_organiser(client)
    formed = client.post("/seating/topics", data={"csrf_token": csrf, "seed": "topic seed"})
    assert formed.status_code == 303 and formed.headers["location"] == "/seating?round=3#round-3"
    data = client.get("/seating/rounds/3.json").json()
    assert data["kind"] == "topic" and {t["topic"] for t in data["tables"]} <= {"Wonen", "Fietsen"}
    assert sum(len(t["members"]) + (t["host"] is not None) for t in data["tables"]) == 27
    assert client.get("/seating/rounds/3/verify.json").json()["match"] is True


def test_topics_come_from_the_agenda_shortlist(seated: Any) -> None:
    from summit.core.models import Summit
    from summit.council.models import ShortlistItem
    from summit.ideas.models import Theme

    client, _tokens = seated
    token = as_organiser(client)
    refused = client.post("/seating/topics/from-agenda", data={"csrf_token": token})
    assert refused.status_code == 400 and "no shortlist yet" in refused.text

    async def shortlist() -> None:
        async with client.db.session() as session:
            summit = (await session.execute(select(Summit))).scalars().first()
            assert summit is not None
            labels = ["Fietsen", "Wonen voor starters", "Groen in de wijk"]
            themes = [Theme(summit_id=summit.id, label=label) for label in labels]
            session.add_all(themes)
            await session.flush()
            # Ranked: Groen first, then Fietsen; Wonen did not make the shortlist.
            session.add_all(
                [
                    ShortlistItem(
                        summit_id=summit.id, stage="agenda", theme_id=themes[2].id, rank=1
                    ),
                    ShortlistItem(
                        summit_id=summit.id, stage="agenda", theme_id=themes[0].id, rank=2
                    ),
                ]
            )

    client.run(shortlist())
    done = client.post("/seating/topics/from-agenda", data={"csrf_token": token})
    assert done.status_code == 303
    page = client.get("/seating?lang=en").text
    assert "Topics: Groen in de wijk, Fietsen" in page
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "seating.topics_from_agenda"
    assert entry["payload"] == {"topics": ["Groen in de wijk", "Fietsen"]}


def test_a_round_with_many_tables_is_paged(seated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from summit.seating import views

    client, _tokens = seated
    as_organiser(client)
    monkeypatch.setattr(views, "TABLES_PER_PAGE", 2)  # the demo round has 3 tables
    first = client.get("/seating?round=2&lang=en").text
    assert re.findall(r'id="card-2-(\d+)"', first) == ["1", "2"]
    assert 'href="/seating?round=2&amp;page=2#round-2"' in first
    assert '<strong aria-current="page">Page 1</strong>' in first
    second = client.get("/seating?round=2&page=2").text
    assert re.findall(r'id="card-2-(\d+)"', second) == ["3"]
    # The move form still offers every table of the round, not only the page's.
    select = re.search(r'<select id="move-table".*?</select>', second, re.S)
    assert select is not None and select.group(0).count("<option") == 3
    # A page past the end shows the last one; a bad page number the first.
    assert re.findall(r'id="card-2-(\d+)"', client.get("/seating?round=2&page=9").text) == ["3"]
    assert re.findall(r'id="card-2-(\d+)"', client.get("/seating?round=2&page=x").text) == [
        "1",
        "2",
    ]
