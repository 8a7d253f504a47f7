"""The video room of an online workshop meeting: the workshop's members (drawn or confirmed
participants) and its experts and officials (through their personal links) meet at a video table
of their own, through the video part's signalling (protocol v1) and media workers.

``/forum/meetings/{id}/video`` is the room's page (the participant's video table page and its
script, pointed at this room); ``/forum/meetings/{id}/video.json`` says who is there and whether
the room is open; ``/ws/forum/meetings/{id}/video`` is its socket. All three admit only a confirmed
member or an unrevoked guest of the meeting's workshop, and only for an online meeting of this
summit; the socket's check runs again before every publish and subscribe, and a watchdog closes
the socket (4403) within ``RECHECK_SECONDS`` once a guest link is revoked, a membership ends or
the participant's personal link no longer holds, so their media stops too. Media ids are
``wp<participant id>`` and ``wg<guest id>``, the room ``w<meeting id>``: never a name.

The room is open only in its window (``summit.forum.rules.meetings``): from a set time before
the meeting's start until a set time after its end. Outside it the socket is accepted only to say
why (an ``error`` message, code ``access_denied`` with field ``time``, then close code 4423, both
with the translated text), and a socket still open when the window ends is closed the same way.
The time comes from ``app.state.forum_clock`` when set (tests inject it), else the real clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit, utcnow
from summit.core.routing import PUBLIC, page, socket
from summit.core.rules.names import distinct_names
from summit.core.templating import render
from summit.core.times import format_datetime, summit_time_zone
from summit.core.web import db, identity, participant_link_valid, summit_or_404
from summit.forum import access, workshops
from summit.forum.models import Meeting, Workshop, WorkshopGuest, WorkshopMember
from summit.forum.rules.meetings import RoomState, RoomWindow, room_window
from summit.video import AccessDenied, ice_servers, serve_room

REFUSED = "meeting: only the members, experts and officials of this workshop join its video room"
#: Close code of a socket refused or ended because the room is not open (its reason: the text).
CLOSED_CODE = 4423
#: How often an open socket checks that its room is still open (seconds).
RECHECK_SECONDS = 15.0
#: Download slots of a room: its people less oneself, within the protocol's limit.
MAX_SLOTS = 16


def room_id(meeting_id: int) -> str:
    return f"w{meeting_id}"


def now(app: Any) -> dt.datetime:
    """The time for the room's window: ``app.state.forum_clock()`` when set, else the clock."""
    clock = getattr(app.state, "forum_clock", None)
    return clock() if callable(clock) else utcnow()


def window_of(summit: Summit, meeting: Meeting) -> RoomWindow:
    starts = meeting.starts_at
    if starts.tzinfo is None:
        starts = starts.replace(tzinfo=dt.UTC)
    return room_window(starts, summit.settings)


def window_text(summit: Summit, window: RoomWindow, state: RoomState) -> str:
    """What the page and the refused socket say about the room's window (translated)."""
    zone = summit_time_zone(summit)
    values = {
        "opens": format_datetime(window.opens, zone),
        "closes": format_datetime(window.closes, zone),
    }
    if state is RoomState.EARLY:
        return _("The video room is not open yet. It opens at %(opens)s.") % values
    if state is RoomState.CLOSED:
        return _("This meeting is over: its video room closed at %(closes)s.") % values
    return _("The video room is open until %(closes)s.") % values


async def _online_meeting(
    session: AsyncSession, summit: Summit, meeting_id: int
) -> tuple[Meeting, Workshop] | None:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or not meeting.online:
        return None
    workshop = await session.get(Workshop, meeting.workshop_id)
    if workshop is None or workshop.summit_id != summit.id:
        return None
    return meeting, workshop


async def _seat(
    session: AsyncSession, workshop: Workshop, participant_id: int | None, guest_id: int | None
) -> str | None:
    if participant_id is not None:
        row = await workshops.membership(session, workshop.id, participant_id)
        if row is not None and row.status == "member":
            return f"wp{participant_id}"
    if guest_id is not None:
        guest = await session.get(WorkshopGuest, guest_id)
        if guest is not None and guest.revoked_at is None and guest.workshop_id == workshop.id:
            return f"wg{guest_id}"
    return None


async def seat_in_meeting(
    session: AsyncSession,
    summit: Summit,
    meeting_id: int,
    participant_id: int | None,
    guest_id: int | None,
) -> str | None:
    """The caller's media id in the meeting's room, or ``None`` if they may not be there."""
    found = await _online_meeting(session, summit, meeting_id)
    if found is None:
        return None
    return await _seat(session, found[1], participant_id, guest_id)


def _caller(conn: HTTPConnection, summit: Summit) -> tuple[int | None, int | None]:
    """(participant id, guest id) of the caller in this summit, from the signed session."""
    ident = identity(conn)  # type: ignore[arg-type]
    participant_id = ident.participant_id if ident.summit_id == summit.id else None
    raw_guest = conn.session.get(access.GUEST_KEY)
    return participant_id, raw_guest if isinstance(raw_guest, int) else None


@dataclass(frozen=True)
class Person:
    media_id: str
    name: str


async def room_people(session: AsyncSession, workshop: Workshop) -> list[Person]:
    """Everyone who may be in the room: members by first name (numbered when two share one),
    experts and officials by the name the organiser gave with their role."""
    rows = (
        await session.execute(
            select(Participant.id, Participant.display_name)
            .join(WorkshopMember, WorkshopMember.participant_id == Participant.id)
            .where(WorkshopMember.workshop_id == workshop.id, WorkshopMember.status == "member")
            .order_by(Participant.display_name, Participant.id)
        )
    ).all()
    names = distinct_names([name or "—" for _pid, name in rows])
    people = [Person(f"wp{pid}", label) for (pid, _n), label in zip(rows, names, strict=True)]
    roles = {"expert": _("expert"), "official": _("official")}
    for guest in await workshops.guests(session, workshop.id):
        if guest.revoked_at is None:
            name = guest.display_name or "—"
            people.append(Person(f"wg{guest.id}", f"{name} ({roles.get(guest.role, guest.role)})"))
    return people


@dataclass(frozen=True)
class Room:
    summit: Summit
    meeting: Meeting
    workshop: Workshop
    me: str
    people: list[Person]
    window: RoomWindow
    state: RoomState


async def _room_or_error(request: Request) -> Room:
    """The room as the caller sees it; 404 for no such online meeting, 403 for an outsider."""
    summit = summit_or_404(request)
    participant_id, guest_id = _caller(request, summit)
    async with db(request).session() as session:
        found = await _online_meeting(session, summit, int(request.path_params["mid"]))
        if found is None:
            raise HTTPException(404, _("There is no online meeting here."))
        meeting, workshop = found
        me = await _seat(session, workshop, participant_id, guest_id)
        if me is None:
            raise HTTPException(
                403,
                _(
                    "Only the workshop's members and its invited experts and officials join "
                    "this meeting's video room."
                ),
            )
        people = await room_people(session, workshop)
    window = window_of(summit, meeting)
    return Room(summit, meeting, workshop, me, people, window, window.state(now(request.app)))


@page("/forum/meetings/{mid:int}/video", allow=PUBLIC)
async def meeting_video_page(request: Request) -> Response:
    """The meeting's video room: preview, devices, tiles of the people there."""
    room = await _room_or_error(request)
    mine = next((p for p in room.people if p.media_id == room.me), None)
    return render(
        request,
        "forum/meeting_video.html",
        {
            "meeting": room.meeting,
            "workshop": room.workshop,
            "window": room.window,
            "open": room.state is RoomState.OPEN,
            "window_text": window_text(room.summit, room.window, room.state),
            "me": mine,
        },
    )


@page("/forum/meetings/{mid:int}/video.json", allow=PUBLIC)
async def meeting_video_json(request: Request) -> Response:
    """Who may be in the room (less the caller), whether it is open, and ICE servers; in the
    shape of ``/me/video.json`` so that the same script serves both pages."""
    room = await _room_or_error(request)
    is_open = room.state is RoomState.OPEN
    mine = next((p for p in room.people if p.media_id == room.me), None)
    return JSONResponse(
        {
            "me": {"media_id": room.me, "name": mine.name if mine else "", "is_host": False},
            "now": now(request.app).isoformat(),
            "round": None,
            "table": {"number": None, "kind": "meeting", "media_id": room_id(room.meeting.id)}
            if is_open
            else None,
            "room": {
                "state": str(room.state),
                "opens": room.window.opens.isoformat(),
                "ends": room.window.ends.isoformat(),
                "closes": room.window.closes.isoformat(),
            },
            "notice": "" if is_open else window_text(room.summit, room.window, room.state),
            "members": [
                {"media_id": p.media_id, "name": p.name, "is_host": False}
                for p in room.people
                if p.media_id != room.me
            ],
            "slots": max(2, min(MAX_SLOTS, len(room.people) - 1)),
            "ice_servers": ice_servers(request.app, room.me),
        }
    )


async def _refuse_closed(websocket: WebSocket, text: str, *, accepted: bool) -> None:
    """Say why the room is not open (an ``access_denied`` error on ``time``, then close code
    4423 with the same text as its reason)."""
    with contextlib.suppress(Exception):
        if not accepted:
            await websocket.accept()
        message = {"v": 1, "type": "error", "code": "access_denied", "field": "time"}
        await websocket.send_json({**message, "message": text})
        reason = text.encode()[:123].decode(errors="ignore")  # a close reason's limit
        await websocket.close(code=CLOSED_CODE, reason=reason)


@socket("/ws/forum/meetings/{mid:int}/video", allow=PUBLIC)
async def meeting_video_socket(websocket: WebSocket) -> None:
    summit = getattr(websocket.state, "summit", None)
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    meeting_id = int(websocket.path_params["mid"])
    participant_id, guest_id = _caller(websocket, summit)
    app = websocket.app

    async def find() -> tuple[str | None, RoomWindow | None]:
        async with db(websocket).session() as session:  # type: ignore[arg-type]
            found = await _online_meeting(session, summit, meeting_id)
            if found is None:
                return None, None
            seat = await _seat(session, found[1], participant_id, guest_id)
            # the summit's settings as they are now: a window changed by the organiser counts for
            # sockets already open too
            current = await session.get(Summit, summit.id)
            return seat, window_of(current or summit, found[0])

    media_id, window = await find()
    if media_id is None or window is None:
        await websocket.close(code=4403, reason="not a member of this meeting")
        return
    state = window.state(now(app))
    if state is not RoomState.OPEN:
        await _refuse_closed(websocket, window_text(summit, window, state), accepted=False)
        return

    async def admit() -> None:
        seat, current = await find()
        if seat != media_id or current is None:
            raise AccessDenied(REFUSED)
        state = current.state(now(app))
        if state is not RoomState.OPEN:
            raise AccessDenied(window_text(summit, current, state))

    async def until_closed() -> None:
        """Returns once the caller may no longer be in the room, after closing the socket: 4403
        when their membership, guest link or personal link no longer holds (or the meeting is
        gone), 4423 once the room's window has ended. It sleeps first: the socket was checked
        as it opened."""
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            seat_now, current = await find()
            if (
                seat_now != media_id
                or current is None
                or not await participant_link_valid(websocket)
            ):
                with contextlib.suppress(Exception):
                    await websocket.close(code=4403, reason="not a member of this meeting")
                return
            state = current.state(now(app))
            if state is not RoomState.OPEN:
                await _refuse_closed(websocket, window_text(summit, current, state), accepted=True)
                return

    await serve_room(
        websocket,
        media_id=media_id,
        summit_id=summit.id,
        room=room_id(meeting_id),
        admit=admit,
        watchdog=until_closed,
    )


routes: list[Callable[..., Any]] = [meeting_video_page, meeting_video_json, meeting_video_socket]
