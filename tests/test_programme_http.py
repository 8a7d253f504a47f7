"""Programme pages through the real app: roles, CSRF, field errors, controls, live events, JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.models import AuditEntry, Round
from tests.support.app import Client
from tests.support.http import csrf_of, login
from tests.support.seating import make_seated_summit

PASSWORD = "a long test password"


@pytest.fixture
def seated(client: Client) -> Iterator[tuple[Client, dict[str, str]]]:
    """A fresh app with an organiser, a moderator and a seated summit of 27 (two rounds)."""

    async def prepare() -> dict[str, str]:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            await repository.add_staff_user(session, "moderator", PASSWORD, "moderator")
        tokens: dict[str, str] = {}
        await make_seated_summit(client.db, tokens=tokens)
        return tokens

    yield client, client.run(prepare())


def _as(client: Client, username: str) -> str:
    assert login(client, username, PASSWORD).status_code == 303
    page = client.get("/programme/manage?lang=en")
    assert page.status_code == 200
    return csrf_of(page.text)


def _add(client: Client, csrf: str, **fields: str) -> Any:
    return client.post("/programme/items", data={"csrf_token": csrf, **fields})


def _round_status(client: Client, number: int) -> str:
    async def read() -> str:
        async with client.db.session() as session:
            status = await session.scalar(select(Round.status).where(Round.number == number))
            return str(status)

    return str(client.run(read()))


def test_roles_and_csrf_guard_every_route(seated: Any) -> None:
    client, tokens = seated
    assert client.get("/programme.json").status_code == 200
    assert client.get("/programme?lang=en").status_code == 200
    manage = client.get("/programme/manage", headers={"accept": "text/html"})
    assert manage.status_code == 303 and "/login" in manage.headers["location"]
    token = client.csrf()
    for path in ("/programme/items", "/programme/advance", "/programme/pause"):
        assert client.post(path, data={"csrf_token": token}).status_code == 401
    client.get(f"/p/{next(iter(tokens.values()))}")
    assert client.get("/programme/manage").status_code == 403
    assert client.post("/programme/advance", data={"csrf_token": token}).status_code == 403

    csrf = _as(client, "moderator")
    assert "Add an item" not in client.get("/programme/manage?lang=en").text
    refused = _add(client, csrf, kind="welcome", title="W", start="09:00", duration="10")
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})

    csrf = _as(client, "organiser")
    forged = client.post(
        "/programme/items",
        data={"csrf_token": "forged", "kind": "welcome", "title": "W", "start": "09:00"},
    )
    assert forged.status_code == 403
    assert client.post("/programme/advance").status_code == 403


def test_field_errors_name_the_field_and_keep_the_input(seated: Any) -> None:
    client, _tokens = seated
    csrf = _as(client, "organiser")
    ok = _add(client, csrf, kind="welcome", title="Welkom", start="09:00", duration="30")
    assert ok.status_code == 303
    cases = [
        ({"duration": "0"}, "duration"),
        ({"duration": "601"}, "duration"),
        ({"duration": "lots"}, "duration"),
        ({"start": "9 o'clock"}, "start"),
        ({"start": "09:10"}, "start"),  # before "Welkom" ends
        ({"title": ""}, "title"),
        ({"kind": "round"}, "round"),
    ]
    for change, field in cases:
        fields = {"kind": "agenda", "title": "Agenda", "start": "10:00", "duration": "30"}
        fields.update(change)
        page = _add(client, csrf, **fields)
        assert page.status_code == 400, change
        assert f'id="f-{field}" ' in page.text or f'id="f-{field}"' in page.text
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page.text), change
        assert f'id="f-{field}-error"' in page.text, change
        assert 'value="Agenda"' in page.text or change == {"title": ""}
    page = client.get("/programme/manage?lang=en").text
    assert page.count('data-item="') == 1


def test_the_moderator_runs_the_day_and_linked_rounds_follow(seated: Any) -> None:
    client, _tokens = seated
    csrf = _as(client, "organiser")
    for fields in (
        {"kind": "welcome", "title": "Welkom", "start": "09:00", "duration": "15"},
        {"kind": "round", "title": "Ronde 1", "start": "09:15", "duration": "40", "round": "1"},
        {"kind": "closing", "title": "Afsluiting", "start": "10:00", "duration": "20"},
    ):
        assert _add(client, csrf, **fields).status_code == 303
    client.post("/logout", data={"csrf_token": csrf})
    csrf = _as(client, "moderator")
    assert client.get("/programme.json").json()["status"] == "not_started"
    with client.websocket_connect("/ws") as socket:
        assert socket.receive_json()["type"] == "hello"
        assert client.post("/programme/advance", data={"csrf_token": csrf}).status_code == 303
        event = socket.receive_json()
    assert event["type"] == "programme" and event["action"] == "advance" and event["ends_at"]
    data = client.get("/programme.json").json()
    assert data["current"]["title"] == "Welkom" and data["status"] == "running"
    assert _round_status(client, 1) == "planned"
    assert client.post("/programme/advance", data={"csrf_token": csrf}).status_code == 303
    assert _round_status(client, 1) == "open"
    bad = client.post("/programme/extend", data={"csrf_token": csrf, "minutes": "0"})
    assert bad.status_code == 400 and 'id="f-minutes-error"' in bad.text
    before = client.get("/programme.json").json()["current"]["ends_at"]
    assert (
        client.post("/programme/extend", data={"csrf_token": csrf, "minutes": "5"}).status_code
        == 303
    )
    data = client.get("/programme.json").json()
    assert data["current"]["ends_at"] > before and data["current"]["extended_minutes"] == 5
    assert client.post("/programme/pause", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/programme.json").json()["status"] == "paused"
    again = client.post("/programme/pause", data={"csrf_token": csrf})
    assert again.status_code == 400
    assert client.post("/programme/resume", data={"csrf_token": csrf}).status_code == 303
    assert client.post("/programme/advance", data={"csrf_token": csrf}).status_code == 303
    assert _round_status(client, 1) == "closed"
    data = client.get("/programme.json").json()
    assert data["current"]["title"] == "Afsluiting" and data["next"] == []
    assert [r["status"] for r in data["items"]] == ["done", "done", "current"]
    assert data["current"]["kind_label"] and data["server_time"]

    async def actions() -> list[str]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(AuditEntry.action, AuditEntry.actor)
                .where(AuditEntry.action.startswith("programme."))
                .order_by(AuditEntry.seq)
            )
            return [f"{a}:{who}" for a, who in rows.all()]

    logged = client.run(actions())
    assert [a.split(":")[0] for a in logged] == [
        *["programme.item.add"] * 3,
        "programme.advance",
        "programme.advance",
        "programme.extend",
        "programme.pause",
        "programme.resume",
        "programme.advance",
    ]
    assert len({a.split(":")[1] for a in logged}) == 2  # organiser's and moderator's pseudonyms


def test_the_venue_screen_and_json_show_no_personal_data(seated: Any) -> None:
    client, _tokens = seated
    csrf = _as(client, "organiser")
    _add(client, csrf, kind="welcome", title="Welkom", start="09:00", duration="15")
    client.post("/programme/advance", data={"csrf_token": csrf})
    client.post("/logout", data={"csrf_token": csrf})
    screen = client.get("/programme?lang=en")
    assert screen.status_code == 200
    assert "Welkom" in screen.text and "data-programme-now" in screen.text
    assert "/static/programme.js" in screen.text
    data = client.get("/programme.json").json()
    text = str(data)
    assert "Name0" not in text and "P-" not in text and "S-" not in text
    assert {"items", "current", "next", "server_time", "status"} <= set(data)


def test_the_moderator_sees_a_round_over_time_and_moves_on_in_one_step(seated: Any) -> None:
    import datetime as dt

    from summit.core.models import Summit
    from summit.seating import service as seating_uc

    client, _tokens = seated

    async def open_an_hour_ago() -> None:
        async with client.db.session() as session:
            summit = await session.scalar(select(Summit))
            assert summit is not None
            then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=70)
            await seating_uc.open_round(
                session, summit, actor="S-mod", number=1, minutes=40, now=then
            )

    client.run(open_an_hour_ago())
    csrf = _as(client, "organiser")
    added = _add(
        client, csrf, kind="round", title="Ronde 2", start="09:00", duration="40", round="2"
    )
    assert added.status_code == 303
    page = client.get("/moderator?lang=nl").text
    assert "<strong>open</strong>" in page
    assert re.search(r"Over tijd: (29|30|31) min\.", page), page
    moved = client.post("/programme/advance", data={"csrf_token": csrf_of(page)})
    assert moved.status_code in (200, 303)
    assert _round_status(client, 1) == "closed" and _round_status(client, 2) == "open"
    assert "Over tijd" not in client.get("/moderator?lang=nl").text
