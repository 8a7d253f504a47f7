"""HTTP behaviour through the real app: roles, CSRF, links, rate limits, errors, languages."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from starlette.routing import Mount

from summit.app import create_app
from summit.core import service as repository
from summit.core.routing import access_of
from tests.support.app import Client, make_settings
from tests.support.http import csrf_of, login


def test_every_route_names_the_principals_it_allows(tmp_path: Any) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        access = access_of(route)
        assert access is not None and access.principals, f"{route.path} declares no access"


def test_home_and_health_are_public(demo_client: Any) -> None:
    client, _info = demo_client
    home = client.get("/")
    assert home.status_code == 200
    assert "G1000 Lindeveld" in home.text and "Gemeente Lindeveld" in home.text
    health = client.get("/healthz").json()
    assert health == {
        "status": "ok",
        "version": health["version"],
        "database": "ok",
        "event_bus": "MemoryBus",
    }


def test_favicon_is_served_and_linked_from_every_page(demo_client: Any) -> None:
    client, _info = demo_client
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    home = client.get("/").text
    assert 'rel="icon" href="/static/favicon.svg"' in home
    assert client.get("/static/favicon.svg").status_code == 200


def test_organiser_login_dashboard_and_logout(demo_client: Any) -> None:
    client, info = demo_client
    assert client.get("/organiser", headers={"accept": "text/html"}).status_code == 303
    response = login(client, "organiser", info.organiser_password)
    assert response.status_code == 303 and response.headers["location"] == "/organiser"
    page = client.get("/organiser")
    assert page.status_code == 200
    assert 'data-count="participants_total">48<' in page.text
    status = client.get("/organiser/status.json").json()
    assert status["phase"] == "summit" and status["counts"]["participants"]["resident"] > 0
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert client.get("/organiser/status.json").status_code == 401


def test_wrong_password_is_refused_without_saying_which_part(demo_client: Any) -> None:
    client, _info = demo_client
    response = login(client, "organiser", "not the password")
    assert response.status_code == 400
    assert "Verkeerde gebruikersnaam of wachtwoord" in response.text
    assert login(client, "nobody", "not the password").status_code == 400


def test_forms_without_a_valid_csrf_token_are_refused(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    response = client.post("/organiser/phase", data={"phase": "forum", "csrf_token": "forged"})
    assert response.status_code == 403 and "csrf" in response.text
    response = client.post(
        "/login", data={"username": "organiser", "password": info.organiser_password}
    )
    assert response.status_code == 403


def test_login_is_rate_limited(db_url: str, tmp_path: Any) -> None:
    app = create_app(make_settings(tmp_path, db_url, login_rate_per_minute=3))
    with Client(app, base_url="http://testserver", follow_redirects=False) as client:
        codes = [login(client, "x", "wrong password").status_code for _ in range(5)]
    assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429]


def test_participant_link_opens_their_home_with_their_table(demo_client: Any) -> None:
    client, info = demo_client
    _desc, path = info.links[0]
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/me"
    page = client.get("/me")
    assert page.status_code == 200
    assert "Jouw tafel" in page.text and "Ronde 1: tafel" in page.text
    assert re.search(r'data-table-number="\d+"', page.text)
    # A participant is not an organiser.
    assert client.get("/organiser", headers={"accept": "text/html"}).status_code == 403
    assert client.get("/organiser/status.json").status_code == 403


def test_a_forged_link_gets_a_clear_page(demo_client: Any) -> None:
    client, info = demo_client
    _desc, path = info.links[0]
    forged = client.get(path[:-4] + "AAAA")
    assert forged.status_code == 404
    assert "niet geldig" in forged.text
    assert client.get("/me").status_code in (401, 403)


def test_revoking_a_link_ends_the_open_session_too(demo_client: Any) -> None:
    client, info = demo_client
    _desc, path = info.links[1]
    client.get(path)
    assert client.get("/me").status_code == 200

    async def revoke() -> None:
        async with client.db.session() as session:
            participant, _link = await repository.resolve_link(session, path.split("/p/")[1])
            await repository.revoke_links(session, participant, actor="S-test")

    client.run(revoke())
    assert client.get("/me").status_code == 401
    again = client.get(path)
    assert again.status_code == 404 and "ingetrokken" in again.text


def test_organiser_issues_a_new_link_which_replaces_the_old(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/participants")
    pid = re.search(r"/organiser/participants/(\d+)/link", page.text).group(1)  # type: ignore[union-attr]
    shown = client.post(
        f"/organiser/participants/{pid}/link",
        data={"action": "issue", "csrf_token": csrf_of(page.text)},
    )
    assert shown.status_code == 200
    new_link = re.search(r'value="http://testserver(/p/[^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
    bad = client.post(
        f"/organiser/participants/{pid}/link",
        data={"action": "explode", "csrf_token": csrf_of(page.text)},
    )
    assert bad.status_code == 400 and "action" in bad.text
    client.cookies.clear()
    assert client.get(new_link).status_code == 303
    assert client.get("/me").status_code == 200


def test_phase_change_is_logged_and_refused_when_skipping(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser").text
    token = csrf_of(page)
    skip = client.post("/organiser/phase", data={"phase": "monitor", "csrf_token": token})
    assert skip.status_code == 400 and "kan alleen door naar Burgerforum" in skip.text
    # the dashboard again, the message by the phase button (summit.core.forms)
    assert 'id="f-phase" aria-invalid="true"' in skip.text
    ok = client.post("/organiser/phase", data={"phase": "forum", "csrf_token": token})
    assert ok.status_code == 303
    audit_json = client.get("/audit.json").json()
    assert audit_json["entries"][0]["action"] == "summit.phase"
    assert audit_json["entries"][0]["payload"] == {"from": "summit", "to": "forum"}


def test_moderator_sees_tables_but_not_the_organiser_dashboard(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "moderator", info.moderator_password)
    assert client.get("/moderator").status_code == 200
    assert client.get("/organiser", headers={"accept": "text/html"}).status_code == 403
    token = csrf_of(client.get("/moderator").text)
    refused = client.post("/organiser/phase", data={"phase": "forum", "csrf_token": token})
    assert refused.status_code == 403


def test_public_audit_page_shows_the_head_and_no_personal_data(demo_client: Any) -> None:
    client, _info = demo_client

    async def names() -> list[str]:
        from sqlalchemy import select

        from summit.core.models import Person

        async with client.db.session() as session:
            return [
                p.first_name + " " + p.last_name
                for p in (await session.execute(select(Person))).scalars()
            ]

    people = client.run(names())
    page = client.get("/audit?limit=1000")
    data = client.get("/audit.json?limit=1000").json()
    assert page.status_code == 200 and data["head"]["hash"] in page.text
    blob = page.text + str(data)
    assert not [name for name in people if name in blob]
    assert client.get("/audit.json?limit=abc").status_code == 400


def test_errors_are_json_for_the_api_and_pages_for_people(demo_client: Any) -> None:
    client, _info = demo_client
    missing = client.get("/nope", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "<html" in missing.text
    api = client.get("/nope.json")
    assert api.status_code == 404 and api.json()["status"] == 404


def test_dutch_by_default_and_english_on_request(demo_client: Any) -> None:
    client, _info = demo_client
    assert re.search(r"<html lang=\"nl\"[ >]", client.get("/").text)
    english = client.get("/?lang=en").text
    assert re.search(r"<html lang=\"en\"[ >]", english)
    assert "Partners and their commitment" in english
    assert re.search(r"<html lang=\"en\"[ >]", client.get("/audit").text)  # the choice sticks
    assert "Partners en hun toezegging" in client.get("/?lang=nl").text


def test_live_updates_reach_a_signed_in_page(demo_client: Any) -> None:
    client, info = demo_client
    _desc, path = info.links[0]
    client.get(path)
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        summit_channel = hello["channels"][0]
        client.run(
            client.app.state.bus.publish(
                summit_channel, {"type": "broadcast", "text": "10 minuten"}
            )
        )
        assert ws.receive_json() == {
            "channel": summit_channel,
            "type": "broadcast",
            "text": "10 minuten",
        }


def test_a_revoked_link_ends_the_live_socket(demo_client: Any, monkeypatch: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    from summit.core import service as repository
    from summit.core import web as _util
    from summit.core.models import Participant

    monkeypatch.setattr(_util, "REVALIDATE_SECONDS", 0.2)
    client, info = demo_client
    _desc, path = info.links[0]
    client.get(path)

    async def revoke(pid: int) -> None:
        async with client.db.session() as session:
            participant = await session.get(Participant, pid)
            await repository.revoke_links(session, participant, actor="test")

    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        pid = int(next(c for c in hello["channels"] if c.startswith("participant:")).split(":")[1])
        ws.send_text("ping")
        assert ws.receive_json()["type"] == "pong"  # still open after a quiet check
        client.run(revoke(pid))
        # A chatty client (a ping every 50 ms) is re-checked all the same.
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(100):
                time.sleep(0.05)
                ws.send_text("ping")
                assert ws.receive_json()["type"] == "pong"
        assert closed.value.code == 4403


def test_live_updates_need_a_session(demo_client: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    client, _info = demo_client
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws") as ws:
        ws.receive_json()
    assert closed.value.code == 4403


def test_organiser_erases_a_person_and_the_pseudonym_stays(demo_client: Any) -> None:
    client, info = demo_client
    login(client, "organiser", info.organiser_password)
    page = client.get("/organiser/participants").text
    pid = re.search(r"/organiser/participants/(\d+)/erase", page).group(1)  # type: ignore[union-attr]
    before = client.get("/organiser/status.json").json()["counts"]
    erased = client.post(f"/organiser/participants/{pid}/erase", data={"csrf_token": csrf_of(page)})
    assert erased.status_code == 303
    after_page = client.get("/organiser/participants").text
    assert f"/organiser/participants/{pid}/erase" not in after_page
    assert (
        client.get("/organiser/status.json").json()["counts"]["participants"]
        == before["participants"]
    )
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "person.erase" and entry["subject"].startswith("P-")


def test_logs_carry_route_templates_and_pseudonyms_never_tokens_or_names(
    demo_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from summit.core.logs import JsonFormatter

    client, info = demo_client
    _desc, path = info.links[0]
    with caplog.at_level(logging.INFO, logger="summit"):
        client.get(path)
        client.get("/me")
        client.get(path[:-3] + "zzz")
        login(client, "organiser", "a wrong password")
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(record) for record in caplog.records)
    token = path.split("/p/")[1]
    assert '"route": "/p/{token}"' in text and '"route": "/me"' in text
    assert token not in text and token[:-3] not in text
    assert '"actor": "P-' in text

    async def names() -> list[str]:
        from sqlalchemy import select

        from summit.core.models import Person

        async with client.db.session() as session:
            return [p.first_name for p in (await session.execute(select(Person))).scalars()]

    assert not [
        name for name in set(client.run(names())) if f'"{name}"' in text or f" {name} " in text
    ]
