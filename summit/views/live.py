"""Live updates over WebSocket: a signed-in page subscribes to its summit's events."""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.websockets import WebSocket, WebSocketDisconnect

from summit.domain.roles import Principal
from summit.events import EventBus
from summit.models import Summit
from summit.routing import Identity, socket


@socket("/ws", allow={Principal.PARTICIPANT, Principal.MODERATOR, Principal.ORGANISER})
async def live(websocket: WebSocket) -> None:
    identity: Identity = websocket.state.identity
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    bus: EventBus = websocket.app.state.bus
    channels = [f"summit:{summit.id}"]
    if identity.participant_id is not None:
        channels.append(f"participant:{identity.participant_id}")
    if identity.staff_id is not None:
        channels.append(f"staff:{summit.id}")
    await websocket.accept()
    async with bus.subscribe(*channels) as events:
        await websocket.send_text(json.dumps({"type": "hello", "channels": channels}))

        async def forward() -> None:
            async for event in events:
                await websocket.send_text(json.dumps(event))

        sender = asyncio.create_task(forward())
        try:
            while True:
                message = await websocket.receive_text()
                if message == "ping":
                    await websocket.send_text(json.dumps({"type": "pong"}))
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender


routes = [live]
