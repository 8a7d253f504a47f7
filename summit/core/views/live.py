"""Live updates over WebSocket: a signed-in page subscribes to its summit's events."""

from __future__ import annotations

from functools import partial

from starlette.websockets import WebSocket

from summit.core.models import Summit
from summit.core.routing import Identity, socket
from summit.core.rules.roles import Principal
from summit.core.web import forward_events, participant_link_valid


@socket("/ws", allow={Principal.PARTICIPANT, Principal.MODERATOR, Principal.ORGANISER})
async def live(websocket: WebSocket) -> None:
    identity: Identity = websocket.state.identity
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    channels = [f"summit:{summit.id}"]
    if identity.participant_id is not None:
        channels.append(f"participant:{identity.participant_id}")
    if identity.staff_id is not None:
        channels.append(f"staff:{summit.id}")
    # a participant's socket closes (4403) within a minute of their link being revoked
    await forward_events(
        websocket,
        channels,
        ("",),
        still_valid=partial(participant_link_valid, websocket),
        hello={"channels": channels},
    )


routes = [live]
