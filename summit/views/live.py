"""Live updates over WebSocket: a signed-in page subscribes to its summit's events."""

from __future__ import annotations

from sqlalchemy import select
from starlette.websockets import WebSocket

from summit.db import Database
from summit.domain.roles import Principal
from summit.models import Participant, PersonalLink, Summit
from summit.routing import Identity, socket
from summit.views._util import forward_events


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
    link_id = websocket.scope.get("session", {}).get("link_id")

    async def still_valid() -> bool:
        """A participant's socket ends within a minute of their link being revoked."""
        if identity.participant_id is None or not isinstance(link_id, int):
            return True
        database: Database = websocket.app.state.db
        async with database.session() as session:
            found = await session.scalar(
                select(PersonalLink.id)
                .join(Participant, Participant.id == PersonalLink.participant_id)
                .where(
                    PersonalLink.id == link_id,
                    PersonalLink.revoked_at.is_(None),
                    Participant.status != "withdrawn",
                )
            )
        return found is not None

    await forward_events(
        websocket, channels, ("",), still_valid=still_valid, hello={"channels": channels}
    )


routes = [live]
