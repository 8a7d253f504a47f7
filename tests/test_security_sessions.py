"""Server-side sessions (finding 7) and expired links (finding 10): logging out, disabling an
account, or a link that expires ends the session for good, even for a copied cookie."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

from itsdangerous import TimestampSigner
from sqlalchemy import select, update

from summit.core.models import AuditEntry, LoginSession, PersonalLink
from summit.core.security import token_hash
from tests.support.app import Client
from tests.support.cli import summit
from tests.support.http import csrf_of, login


def test_logout_ends_the_session_even_for_a_copied_cookie(demo_client: Any) -> None:
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    copied = client.cookies.get("summit_session")
    assert client.get("/organiser/status.json").status_code == 200
    token = csrf_of(client.get("/organiser").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.set("summit_session", str(copied))  # the attacker's copy of the cookie
    assert client.get("/organiser/status.json").status_code == 401

    async def ended() -> list[str]:
        async with client.db.session() as session:
            return list((await session.execute(select(LoginSession.end_reason))).scalars())

    assert client.run(ended()) == ["logout"]


def test_a_cookie_naming_a_user_is_not_trusted_without_a_session(demo_client: Any) -> None:
    """Earlier versions trusted ``staff_id`` inside the signed cookie for 14 days; anyone who
    held the key (or an old cookie) could be anybody. Now only a live server session counts."""
    client, _info = demo_client
    secret = client.app.state.settings.secret_key
    payload = base64.b64encode(json.dumps({"staff_id": 1, "csrf": "x"}).encode())
    client.cookies.set("summit_session", TimestampSigner(secret).sign(payload).decode())
    assert client.get("/organiser/status.json").status_code == 401


def test_disabling_a_user_ends_their_sessions_at_once(
    demo_client: Any, db_url: str, tmp_path: Path
) -> None:
    client, info = demo_client
    assert login(client, "moderator", info.moderator_password).status_code == 303
    assert client.get("/moderator").status_code == 200
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": db_url}
    disabled = summit("user", "disable", "moderator", env=env)
    assert disabled.returncode == 0, disabled.stderr
    assert "1 sessions ended" in disabled.stdout
    assert client.get("/moderator", headers={"accept": "application/json"}).status_code == 401
    assert login(client, "moderator", info.moderator_password).status_code == 400
    unknown = summit("user", "disable", "nobody", env=env)
    assert unknown.returncode == 1 and "username" in unknown.stderr
    assert summit("user", "enable", "moderator", env=env).returncode == 0
    assert login(client, "moderator", info.moderator_password).status_code == 303

    async def logged() -> list[str]:
        async with client.db.session() as session:
            rows = await session.execute(
                select(AuditEntry.action).where(AuditEntry.action.like("staff.%able"))
            )
            return list(rows.scalars())

    assert client.run(logged()) == ["staff.disable", "staff.enable"]


def _expire(client: Client, path: str) -> None:
    async def go() -> None:
        async with client.db.session() as session:
            await session.execute(
                update(PersonalLink)
                .where(PersonalLink.token_hash == token_hash(path.split("/p/")[1]))
                .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
            )

    client.run(go())


def test_an_expired_link_ends_the_session_it_opened(demo_client: Any) -> None:
    client, info = demo_client
    path = dict(info.links)["resident (venue)"]
    assert client.get(path).status_code == 303
    assert client.get("/me").status_code == 200
    _expire(client, path)
    assert client.get("/me").status_code == 401
    again = client.get(path)
    assert again.status_code == 404 and "verlopen" in again.text

    async def reasons() -> list[str]:
        async with client.db.session() as session:
            return list((await session.execute(select(LoginSession.end_reason))).scalars())

    assert client.run(reasons()) == ["link"]


def test_a_session_expires_on_the_server(demo_client: Any) -> None:
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303

    async def age() -> None:
        async with client.db.session() as session:
            await session.execute(
                update(LoginSession).values(expires_at=dt.datetime.now(dt.UTC))
            )

    client.run(age())
    assert client.get("/organiser/status.json").status_code == 401
