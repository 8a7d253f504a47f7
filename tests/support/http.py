"""Acting on the app over HTTP: signing staff in and reading a page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from tests.support.app import Client


def login(client: Client, username: str, password: str) -> Any:
    token = client.csrf()
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in_organiser(client: Client) -> None:
    """Add the organiser "org" and sign them in."""
    from summit.core import service as repository

    async def add() -> None:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "org", "a long password", "organiser")

    client.run(add())
    response = login(client, "org", "a long password")
    assert response.status_code == 303
