"""Video tables: settings, TURN credentials, which round the rooms show, pages and roles, and the
moderator's logged actions (broadcast, extend, closing countdown, next round, calls, moves)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from summit.core.models import AuditEntry, Round
from summit.video import service as uc
from summit.video.config import VideoConfigError, VideoSettings

# --- settings -----------------------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    s = VideoSettings.from_env(
        {
            "SUMMIT_MEDIA_WORKERS": "0",
            "SUMMIT_MEDIA_LOOPBACK": "1",
            "SUMMIT_STUN_URLS": "stun:stun.example.org:3478",
            "SUMMIT_TURN_URLS": "turns:turn.example.org:443?transport=tcp, turn:turn.example.org",
            "SUMMIT_TURN_SECRET": "s3cret",
            "SUMMIT_TURN_TTL": "600",
        }
    )
    assert s.workers == 0 and s.host_addresses == ("127.0.0.1",)
    assert s.media_config().host_addresses == ("127.0.0.1",)
    servers = s.ice_servers("p1", now=1000.0)
    assert servers[0] == {"urls": ["stun:stun.example.org:3478"]}
    assert servers[1]["username"] == "1600:p1"
    assert len(s.media_config().ice_servers) == 2
    assert VideoSettings.from_env({}).ice_servers("p1") == []  # loopback/LAN: host candidates


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SUMMIT_MEDIA_WORKERS": "many"}, "SUMMIT_MEDIA_WORKERS"),
        ({"SUMMIT_MEDIA_WORKERS": "-1"}, "SUMMIT_MEDIA_WORKERS"),
        ({"SUMMIT_MEDIA_LOOPBACK": "perhaps"}, "SUMMIT_MEDIA_LOOPBACK"),
        ({"SUMMIT_STUN_URLS": "http://x"}, "SUMMIT_STUN_URLS"),
        ({"SUMMIT_TURN_URLS": "stun:x"}, "SUMMIT_TURN_URLS"),
        ({"SUMMIT_TURN_URLS": "turn:x"}, "SUMMIT_TURN_URLS"),  # no credentials
        ({"SUMMIT_TURN_TTL": "5"}, "SUMMIT_TURN_TTL"),
        ({"SUMMIT_MEDIA_GRACE_SECONDS": "x"}, "SUMMIT_MEDIA_GRACE_SECONDS"),
    ],
)
def test_a_bad_setting_names_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(VideoConfigError, match=named) as info:
        VideoSettings.from_env(env)
    assert isinstance(info.value, ValueError)


@given(
    secret=st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t),
    user=st.from_regex(r"[ps][0-9]{1,6}", fullmatch=True),
    now=st.integers(min_value=0, max_value=4_000_000_000),
    ttl=st.integers(min_value=60, max_value=7 * 86400),
)
def test_turn_credentials_are_what_coturn_checks(
    secret: str, user: str, now: int, ttl: int
) -> None:
    s = VideoSettings(turn_urls=("turn:t",), turn_secret=secret, turn_ttl=ttl)
    login = s.turn_login(user, now=float(now))
    assert login is not None
    username, credential = login
    expiry, _, who = username.partition(":")
    assert int(expiry) == now + ttl and who == user
    # coturn (use-auth-secret): base64(HMAC-SHA1(secret, username))
    expected = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


# --- which round the video rooms show ---------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["planned", "open", "closed"]), max_size=8))
def test_the_video_round_is_the_open_else_the_last_closed_else_the_first_planned(
    statuses: list[str],
) -> None:
    rounds = [Round(number=i + 1, status=s) for i, s in enumerate(statuses)]
    picked = uc.pick_video_round(list(reversed(rounds)))
    if not rounds:
        assert picked is None
    elif "open" in statuses:
        assert picked is not None and picked.status == "open"
        assert picked.number == statuses.index("open") + 1
    elif "closed" in statuses:
        assert picked is not None
        assert picked.number == len(statuses) - statuses[::-1].index("closed")
    else:
        assert picked is not None and picked.number == 1


# --- pages, roles and logged actions ---------------------------------------------------------


def _login_staff(client: Any, info: Any, role: str = "moderator") -> str:
    token = client.csrf()
    password = info.moderator_password if role == "moderator" else info.organiser_password
    response = client.post(
        "/login", data={"username": role, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303
    page = client.get("/moderator/video").text
    return page.split('data-csrf="', 1)[1].split('"', 1)[0]


def _actions(client: Any) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with client.db.session() as session:
            rows = await session.execute(select(AuditEntry).order_by(AuditEntry.seq))
            return list(rows.scalars())

    return list(client.run(read()))


JSON = {"accept": "application/json"}


def test_participant_page_shows_their_own_table_from_the_database(demo_client: Any) -> None:
    client, info = demo_client
    assert client.get("/me/video", headers={"accept": "text/html"}).status_code == 401
    online = next(path for desc, path in info.links if desc == "table host (online)")
    client.get(online)
    page = client.get("/me/video?lang=en")
    assert page.status_code == 200
    assert 'id="table-ideas"' in page.text and "Nothing is recorded" in page.text
    # The table's ideas sit alongside the video: the host can record one right there.
    assert 'id="idea-capture"' in page.text and 'id="idea-form"' in page.text
    token = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    added = client.post(
        "/api/ideas",
        json={"title": "Fietspad langs de haven", "body": "", "idempotency_key": "video-1"},
        headers={"X-CSRF-Token": token},
    )
    assert added.status_code in (200, 201), added.text
    assert "Fietspad langs de haven" in client.get("/me/video?lang=en").text
    data = client.get("/me/video.json").json()

    async def seat() -> Any:
        async with client.db.session() as session:
            from summit.core.models import Participant

            me = await session.get(Participant, int(data["me"]["media_id"][1:]))
            return await uc.video_seat(session, me)

    found = client.run(seat())
    assert found is not None and data["table"]["number"] == found.table_number
    assert data["me"]["is_host"] is True and data["round"]["status"] == "open"
    assert data["ice_servers"] == [] and 2 <= data["slots"] <= 16
    assert all(m["media_id"] != data["me"]["media_id"] for m in data["members"])
    # staff pages are not for participants
    assert client.get("/moderator/video").status_code == 403

    # Call the moderator: logged by pseudonym, one open call per person.
    csrf = page.text.split('data-csrf="', 1)[1].split('"', 1)[0]
    first = client.post("/me/video/call", headers={**JSON, "X-CSRF-Token": csrf}).json()
    again = client.post("/me/video/call", headers={**JSON, "X-CSRF-Token": csrf}).json()
    assert first["call"] == again["call"] and first["table"] == data["table"]["number"]
    assert client.post("/me/video/call", headers=JSON).status_code == 403  # no CSRF token
    calls = [e for e in _actions(client) if e.action == "video.call"]
    assert len(calls) == 1 and calls[0].actor.startswith("P-")


def test_a_revoked_link_leaves_the_video_table(demo_client: Any, monkeypatch: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    from summit.core import service as repository
    from summit.core import web as _util
    from summit.core.models import Participant, PersonalLink
    from summit.core.security import token_hash

    monkeypatch.setattr(_util, "REVALIDATE_SECONDS", 0.2)
    client, info = demo_client
    client.app.state.video_settings = VideoSettings.from_env(  # type: ignore[attr-defined]
        {"SUMMIT_MEDIA_WORKERS": "0", "SUMMIT_MEDIA_LOOPBACK": "1"}
    )
    online = next(path for desc, path in info.links if desc == "table host (online)")
    client.get(online)

    async def revoke() -> None:
        async with client.db.session() as session:
            link = await session.scalar(
                select(PersonalLink).where(
                    PersonalLink.token_hash == token_hash(online.rsplit("/", 1)[1])
                )
            )
            assert link is not None
            participant = await session.get(Participant, link.participant_id)
            await repository.revoke_links(session, participant, actor="test")

    with client.websocket_connect("/ws/video") as ws:
        ws.send_text('{"v": 1, "id": 1, "type": "ping"}')
        assert ws.receive_json()["type"] in {"pong", "welcome", "state"}
        client.run(revoke())
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 4403


def test_a_venue_participant_has_no_video_table(demo_client: Any) -> None:
    client, info = demo_client
    venue = next(path for desc, path in info.links if desc.endswith("(venue)"))
    client.get(venue)
    data = client.get("/me/video.json").json()
    assert data["table"] is None and data["members"] == []
    page = client.get("/me/video?lang=en").text
    assert "no seat at an online table" in page


def test_moderator_round_control_broadcast_and_calls_are_logged(demo_client: Any) -> None:
    client, info = demo_client
    csrf = _login_staff(client, info)
    headers = {**JSON, "X-CSRF-Token": csrf}
    state = client.get("/moderator/video.json").json()
    assert state["round"]["number"] == 1 and state["tables"]
    assert all(t["kind"] in uc.VIDEO_KINDS for t in state["tables"])
    before = dt.datetime.fromisoformat(state["round"]["ends_at"])

    bad = client.post("/moderator/video/broadcast", data={"text": "  "}, headers=headers)
    assert bad.status_code == 400 and "text" in bad.json()["error"]
    ok = client.post(
        "/moderator/video/broadcast", data={"text": "Five minutes left"}, headers=headers
    )
    assert ok.status_code == 200

    extended = client.post(
        "/moderator/video/round",
        data={"action": "extend", "round": "1", "minutes": "5"},
        headers=headers,
    ).json()
    after = dt.datetime.fromisoformat(extended["ends_at"])
    assert after - max(before, dt.datetime.now(dt.UTC)) >= dt.timedelta(minutes=4, seconds=59)
    too_long = client.post(
        "/moderator/video/round",
        data={"action": "extend", "round": "1", "minutes": "999"},
        headers=headers,
    )
    assert too_long.status_code == 400 and "minutes" in too_long.json()["error"]
    closing = client.post(
        "/moderator/video/round",
        data={"action": "closing", "round": "1", "minutes": "2"},
        headers=headers,
    ).json()
    left = dt.datetime.fromisoformat(closing["ends_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=1, seconds=55) < left <= dt.timedelta(minutes=2)
    unknown = client.post("/moderator/video/round", data={"action": "pause"}, headers=headers)
    assert unknown.status_code == 400 and "action" in unknown.json()["error"]

    answer = client.post("/moderator/video/calls/99999/answer", headers=headers)
    assert answer.status_code == 400

    # the demo here has one round: no next round to open, and nothing is half-done
    none_left = client.post("/moderator/video/round", data={"action": "next"}, headers=headers)
    assert none_left.status_code == 400 and "round" in none_left.json()["error"]
    assert client.get("/moderator/video.json").json()["round"]["status"] == "open"
    closed = client.post(
        "/moderator/video/round", data={"action": "close", "round": "1"}, headers=headers
    ).json()
    assert closed["round"] == 1 and closed["status"] == "closed"
    actions = [e.action for e in _actions(client) if e.actor != "demo"]
    for wanted in ("video.broadcast", "round.extend", "round.closing", "round.close"):
        assert wanted in actions
    assert "round.open" not in actions


def test_moves_go_through_the_seating_rules(demo_client: Any) -> None:
    client, info = demo_client
    csrf = _login_staff(client, info)
    headers = {**JSON, "X-CSRF-Token": csrf}
    state = client.get("/moderator/video.json").json()
    tables = [t["number"] for t in state["tables"]]
    person = next(m for m in state["tables"][0]["members"] if not m["is_host"])
    venue = client.post(
        "/moderator/video/move",
        data={"participant": person["pseudonym"], "table": "1"},
        headers=headers,
    )
    assert venue.status_code == 400 and "table" in venue.json()["error"]
    if len(tables) > 1:
        moved = client.post(
            "/moderator/video/move",
            data={"participant": person["pseudonym"], "table": str(tables[1]), "override": "on"},
            headers=headers,
        )
        # a moderator cannot override the seating rules; either the move is fine or refused
        assert moved.status_code in (200, 400)
        if moved.status_code == 400:
            assert "move" in moved.json()["error"]
        else:
            assert [e for e in _actions(client) if e.action == "seating.move"]


def test_repeated_first_names_at_a_table_are_numbered(demo_client: Any) -> None:
    from summit.core.models import Participant, Seat

    client, info = demo_client
    client.get(next(path for desc, path in info.links if desc == "table host (online)"))
    data = client.get("/me/video.json").json()
    me = int(data["me"]["media_id"][1:])
    others = [int(m["media_id"][1:]) for m in data["members"] if m["media_id"] != f"p{me}"]
    assert len(others) >= 2

    async def rename() -> None:
        async with client.db.session() as session:
            for pid in others[:2]:
                person = await session.get(Participant, pid)
                assert person is not None
                person.display_name = "Anna"
            assert await session.scalar(select(Seat.id).where(Seat.participant_id == me))
            await session.commit()

    client.run(rename())
    names = [m["name"] for m in client.get("/me/video.json").json()["members"]]
    assert "Anna" not in names and {"Anna (1)", "Anna (2)"} <= set(names)
    assert len(set(names)) == len(names)
    now = client.get("/me/tables.json").json()["current"]
    assert {"Anna (1)", "Anna (2)"} <= set(now["companions"])
