"""The video room of an online workshop meeting: the workshop's members (drawn or confirmed
participants) and its experts and officials (through their personal links) meet at a video table
of their own, through the video part's signalling (protocol v1) and media workers.

``/ws/forum/meetings/{id}/video`` admits only a confirmed member or an unrevoked guest of the
meeting's workshop, and only for an online meeting of this summit; the check runs again before
every publish and subscribe, so a revoked link or membership stops there. Media ids are
``wp<participant id>`` and ``wg<guest id>``, the room ``w<meeting id>``: never a name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket

from summit.core.models import Summit
from summit.core.routing import PUBLIC, socket
from summit.core.web import db, identity
from summit.forum import access, workshops
from summit.forum.models import Meeting, Workshop, WorkshopGuest
from summit.video import AccessDenied, serve_room

REFUSED = "meeting: only the members, experts and officials of this workshop join its video room"


def room_id(meeting_id: int) -> str:
    return f"w{meeting_id}"


async def seat_in_meeting(
    session: AsyncSession,
    summit: Summit,
    meeting_id: int,
    participant_id: int | None,
    guest_id: int | None,
) -> str | None:
    """The caller's media id in the meeting's room, or ``None`` if they may not be there."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or not meeting.online:
        return None
    workshop = await session.get(Workshop, meeting.workshop_id)
    if workshop is None or workshop.summit_id != summit.id:
        return None
    if participant_id is not None:
        row = await workshops.membership(session, workshop.id, participant_id)
        if row is not None and row.status == "member":
            return f"wp{participant_id}"
    if guest_id is not None:
        guest = await session.get(WorkshopGuest, guest_id)
        if guest is not None and guest.revoked_at is None and guest.workshop_id == workshop.id:
            return f"wg{guest_id}"
    return None


@socket("/ws/forum/meetings/{mid:int}/video", allow=PUBLIC)
async def meeting_video_socket(websocket: WebSocket) -> None:
    summit = getattr(websocket.state, "summit", None)
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    meeting_id = int(websocket.path_params["mid"])
    ident = identity(websocket)  # type: ignore[arg-type]
    participant_id = ident.participant_id if ident.summit_id == summit.id else None
    raw_guest = websocket.session.get(access.GUEST_KEY)
    guest_id = raw_guest if isinstance(raw_guest, int) else None

    async def find() -> str | None:
        async with db(websocket).session() as session:  # type: ignore[arg-type]
            return await seat_in_meeting(session, summit, meeting_id, participant_id, guest_id)

    media_id = await find()
    if media_id is None:
        await websocket.close(code=4403, reason="not a member of this meeting")
        return

    async def admit() -> None:
        if await find() != media_id:
            raise AccessDenied(REFUSED)

    await serve_room(
        websocket, media_id=media_id, summit_id=summit.id, room=room_id(meeting_id), admit=admit
    )


routes = [meeting_video_socket]
