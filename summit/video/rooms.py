"""The signalling loop of one ``/ws/video``-style socket (protocol v1, docs/media.md), shared by
the summit's video tables and the fixed rooms other parts open (an online workshop meeting):
the caller is checked before; here the socket is accepted, registered with the hub and served
until it closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from summit.media.protocol import encode
from summit.video.hub import Connection, VideoHub, hub_for


async def serve(
    websocket: WebSocket,
    conn: Connection,
    watchdog: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Accept ``websocket`` as ``conn`` and answer its messages until it closes (or until
    ``watchdog`` returns, e.g. when a personal link is revoked)."""
    hub = await hub_for(websocket.app)
    conn.websocket = websocket
    await websocket.accept()
    await hub.connect(conn)

    async def send() -> None:
        while True:
            message = await conn.queue.get()
            if message is None:
                with contextlib.suppress(Exception):
                    await websocket.close(code=4409, reason="replaced")
                return
            await websocket.send_text(encode(message))

    tasks = {
        asyncio.create_task(send()),
        asyncio.create_task(_receive(websocket, hub, conn)),
    }
    if watchdog is not None:
        tasks.add(asyncio.create_task(watchdog()))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await hub.disconnect(conn)


async def _receive(websocket: WebSocket, hub: VideoHub, conn: Connection) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            raw = await websocket.receive_text()
            await hub.handle(conn, raw)


async def serve_room(
    websocket: WebSocket,
    *,
    media_id: str,
    summit_id: int,
    room: str,
    admit: Callable[[], Awaitable[None]],
    watchdog: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Serve a socket whose caller sits in the fixed video room ``room`` (a media table id of
    its own, never a summit table's ``t…``) as ``media_id``; ``admit`` is checked again before
    every publish and subscribe and raises ``AccessDenied`` once the caller may not be there;
    the socket is served until it closes or ``watchdog`` returns (e.g. when the room's time is
    over: the watchdog closes the socket)."""
    conn = Connection(media_id, summit_id, room=room, admit=admit)
    await serve(websocket, conn, watchdog)
