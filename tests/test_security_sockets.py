"""Live sockets check their Origin and are capped per person (finding 12)."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from summit.core.routing import SOCKETS_PER_PERSON
from tests.support.http import login


def _refused(client: Any, path: str, **headers: str) -> int:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(path, headers=headers) as socket,
    ):
        socket.receive_text()
    return int(closed.value.code)


def test_every_socket_refuses_another_sites_page(demo_client: Any) -> None:
    """Cross-site WebSocket hijacking: a page elsewhere opens our socket with the visitor's
    cookie. Browsers always send Origin, so the socket refuses a foreign one."""
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    client.get(dict(info.links)["resident (venue)"])
    sockets = [r.path for r in client.app.routes if isinstance(r, WebSocketRoute)]
    assert "/ws" in sockets and len(sockets) >= 4
    for template in sockets:
        path = re.sub(r"\{\w+(?::\w+)?\}", "1", template)
        assert _refused(client, path, origin="https://evil.example") == 4403, template
        assert _refused(client, path, origin="null") == 4403, template
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as socket:
        assert json.loads(socket.receive_text())["type"] == "hello"


def test_one_person_cannot_hold_hundreds_of_sockets(demo_client: Any) -> None:
    client, info = demo_client
    client.get(dict(info.links)["resident (venue)"])
    with contextlib.ExitStack() as stack:
        for _ in range(SOCKETS_PER_PERSON):
            socket = stack.enter_context(client.websocket_connect("/ws"))
            assert json.loads(socket.receive_text())["type"] == "hello"
        assert _refused(client, "/ws") == 4429
    # closed ones are counted back
    with client.websocket_connect("/ws") as socket:
        assert json.loads(socket.receive_text())["type"] == "hello"
