"""What the views share: the request's database, bus, identity and summit, the current
participant, publishing events after commit, and the live-socket loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from summit.core.db import Database
from summit.core.events import EventBus
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit
from summit.core.routing import Identity


def db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def bus(request: Request) -> EventBus:
    event_bus: EventBus = request.app.state.bus
    return event_bus


def identity(request: Request) -> Identity:
    ident = getattr(request.state, "identity", None)
    return ident if isinstance(ident, Identity) else Identity()


def summit_or_404(request: Request) -> Summit:
    summit = getattr(request.state, "summit", None)
    if not isinstance(summit, Summit):
        raise HTTPException(404, "summit: " + _("No summit has been created yet."))
    return summit


async def current_participant(request: Request, session: AsyncSession) -> Participant:
    """The participant whose personal link opened this session; 401 when there is none."""
    participant_id = identity(request).participant_id
    participant = await session.get(Participant, participant_id) if participant_id else None
    if participant is None:
        raise HTTPException(401, "login: " + _("Open your personal link again."))
    return participant


async def publish(request: Request, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Publish what a use case returned, after its transaction has committed."""
    for channel, event in events:
        await bus(request).publish(channel, {**event, "published_at": time.time()})


def client_key(request: Request, route: str) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{route}:{host}"


def safe_next(value: str | None, default: str) -> str:
    # Only same-site paths: an open redirect would let a phishing page borrow our login.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


#: A public live socket (no login) is capped per client address and per process, so nobody can
#: hold the server's connections; the venue's screens use display links, which are not capped.
PUBLIC_SOCKETS_PER_ADDRESS = 200
PUBLIC_SOCKETS_PER_PROCESS = 5000
#: How often a quiet socket checks that its link still holds (seconds).
REVALIDATE_SECONDS = 60.0


async def forward_events(
    websocket: WebSocket,
    channels: Sequence[str],
    types: tuple[str, ...],
    *,
    still_valid: Callable[[], Awaitable[bool]] | None = None,
    public: bool = False,
    strip: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    hello: dict[str, Any] | None = None,
) -> None:
    """Accept the socket and send it the events on ``channels`` whose type starts with one of
    ``types`` (optionally reduced by ``strip``), until the client leaves. Every
    ``REVALIDATE_SECONDS``, ``still_valid`` is asked again (a revoked link closes the socket with
    4403). Answers "ping" with a "pong"; the first message is
    ``{"type": "hello", **hello}``. ``public`` sockets are counted against the caps above (4429
    when full).
    """
    state = websocket.app.state
    counts: dict[str, int] | None = getattr(state, "public_sockets", None)
    if counts is None:
        counts = state.public_sockets = {}
    address = websocket.client.host if websocket.client else "unknown"
    if public:
        if (
            counts.get(address, 0) >= PUBLIC_SOCKETS_PER_ADDRESS
            or sum(counts.values()) >= PUBLIC_SOCKETS_PER_PROCESS
        ):
            await websocket.close(code=4429, reason="too many live connections")
            return
        counts[address] = counts.get(address, 0) + 1
    try:
        event_bus: EventBus = websocket.app.state.bus
        await websocket.accept()
        async with event_bus.subscribe(*channels) as events:
            await websocket.send_text(json.dumps({"type": "hello", **(hello or {})}))

            async def forward(stream: AsyncIterator[dict[str, Any]]) -> None:
                async for event in stream:
                    if str(event.get("type", "")).startswith(types):
                        await websocket.send_text(json.dumps(strip(event) if strip else event))

            sender = asyncio.create_task(forward(events))
            next_check = time.monotonic() + REVALIDATE_SECONDS
            try:
                while True:
                    # the link is re-checked on schedule, however chatty the client is
                    wait = max(0.0, next_check - time.monotonic())
                    try:
                        message = await asyncio.wait_for(websocket.receive_text(), timeout=wait)
                    except TimeoutError:
                        message = None
                    if time.monotonic() >= next_check:
                        next_check = time.monotonic() + REVALIDATE_SECONDS
                        if still_valid is not None and not await still_valid():
                            await websocket.close(code=4403, reason="link revoked")
                            return
                    if message == "ping":
                        await websocket.send_text(json.dumps({"type": "pong"}))
            except WebSocketDisconnect:
                pass
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
    finally:
        if public:
            counts[address] -= 1
            if counts[address] <= 0:
                del counts[address]


async def participant_link_valid(websocket: WebSocket) -> bool:
    """Whether the session this socket was opened in still stands: not ended (logout, a
    disabled account) or expired, and a participant's link still holds (not revoked or expired,
    the participant not withdrawn)."""
    from summit.core.context import still_holds

    ident = getattr(websocket.state, "identity", None)
    if not isinstance(ident, Identity):
        return True
    return await still_holds(websocket.app.state.db, ident)


async def close_when_link_revoked(websocket: WebSocket) -> None:
    """Returns (after closing the socket with 4403) once the participant's link stops holding."""
    while True:
        await asyncio.sleep(REVALIDATE_SECONDS)
        if not await participant_link_valid(websocket):
            with contextlib.suppress(Exception):
                await websocket.close(code=4403, reason="link revoked")
            return
