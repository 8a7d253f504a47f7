"""Pages and API of the video part: the participant's video table, the moderator's overview of
the online tables, and the signalling WebSocket ``/ws/video`` (protocol v1, docs/media.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from summit import seating
from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.forms import form_int, form_optional_int, form_text
from summit.core.i18n import gettext
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit, utcnow
from summit.core.routing import ORGANISER, PARTICIPANT, STAFF, Identity, page, socket
from summit.core.rules.roles import Principal
from summit.core.templating import render
from summit.core.times import format_datetime, summit_time_zone
from summit.core.web import (
    bus,
    close_when_link_revoked,
    current_participant,
    db,
    identity,
    summit_or_404,
)
from summit.ideas import table_panel_data
from summit.media import NodeRegistry
from summit.seating import MoveRefused, move_participant
from summit.video import service as uc
from summit.video.hub import Connection, Visit, hub_for, running_hub, settings_for
from summit.video.rooms import serve

BACK = "/moderator/video"
_EMPTY: dict[str, Any] = {
    "placed": [],
    "connected": [],
    "publishing": [],
    "speaking": None,
    "visitors": [],
}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _done(request: Request, data: dict[str, Any] | None = None, anchor: str = "") -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": True, **(data or {})})
    return RedirectResponse(BACK + anchor, status_code=303)


# --- the participant ----------------------------------------------------------------------------


@page("/me/video", allow=PARTICIPANT)
async def my_video(request: Request) -> Response:
    """The video table: preview, devices, tiles of the table's members, timer, calls."""
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        seat = await uc.video_seat(session, participant)
    context = await table_panel_data(request)  # the table's ideas alongside the video
    context.update({"participant": participant, "seat": seat, "error": None})
    return render(request, "video/participant.html", context)


@page("/me/video.json", allow=PARTICIPANT)
async def my_video_json(request: Request) -> Response:
    """Where the participant sits now (from the database), who sits there, and ICE servers."""
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        seat = await uc.video_seat(session, participant)
        rnd = await uc.video_round(session, participant.summit_id)
        members = await uc.table_members(session, seat.round_id, seat.table_id) if seat else []
        slots = await uc.slot_count(session, participant.summit_id)
    me = uc.participant_media_id(participant.id)
    return JSONResponse(
        {
            "me": {
                "media_id": me,
                "name": participant.display_name,
                "is_host": bool(seat and seat.is_host),
            },
            "now": utcnow().isoformat(),
            "round": {
                "number": rnd.number,
                "title": rnd.title,
                "status": rnd.status,
                "ends_at": _iso(rnd.ends_at) if rnd.status == "open" else None,
            }
            if rnd
            else None,
            "table": {
                "number": seat.table_number,
                "kind": seat.table_kind,
                "media_id": seat.media_table,
            }
            if seat
            else None,
            "members": [
                {"media_id": m.media_id, "name": m.name, "is_host": m.is_host}
                for m in members
                if m.media_id != me
            ],
            "slots": slots,
            "ice_servers": settings_for(request.app).ice_servers(me),
        }
    )


@page("/me/video/call", allow=PARTICIPANT, methods=("POST",))
async def call_moderator(request: Request) -> Response:
    """Ask for the moderator at your table."""
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        fresh = await session.get(Participant, participant.id)
        assert fresh is not None
        seat = await uc.video_seat(session, fresh)
        if seat is None:
            raise InvalidInput("table", _("you have no seat at an online table in this round"))
        call, events = await uc.call_moderator(session, fresh, seat)
    await seating.publish(bus(request), events)
    if _wants_json(request):
        return JSONResponse({"ok": True, "call": call.seq, "table": call.table_number})
    return RedirectResponse("/me/video", status_code=303)


# --- the moderator ------------------------------------------------------------------------------


@page(BACK, allow=STAFF)
async def moderator_video(request: Request) -> Response:
    """All online tables: who is connected, speaking balance, calls; round control, broadcast,
    moves and visits."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rnd, tables = await uc.video_tables(session, summit.id)
        rounds = await seating.rounds_of(session, summit.id)
        calls = await uc.calls(session, summit.id)
    return render(
        request,
        "video/moderator.html",
        {"round": rnd, "rounds": rounds, "tables": tables, "calls": calls},
    )


@page("/moderator/video.json", allow=STAFF)
async def moderator_video_json(request: Request) -> Response:
    summit = summit_or_404(request)
    ident = identity(request)
    hub = running_hub(request.app)
    async with db(request).session() as session:
        rnd, tables = await uc.video_tables(session, summit.id)
        calls = await uc.calls(session, summit.id)
        slots = await uc.slot_count(session, summit.id)
    me = uc.staff_media_id(ident.staff_id or 0)
    visit = hub.visits.get(me) if hub else None
    out_tables = []
    for table in tables:
        state = hub.table_state(table.media_table) if hub else _EMPTY
        speaking = state["speaking"] or {}
        seconds = dict(speaking.get("seconds", {}))
        silent = set(speaking.get("silent", []))
        members = []
        for person, is_host in table.members:
            media_id = uc.participant_media_id(person.id)
            members.append(
                {
                    "media_id": media_id,
                    "name": person.display_name or "—",
                    "pseudonym": person.pseudonym,
                    "is_host": is_host,
                    "connected": media_id in state["connected"],
                    "publishing": media_id in state["publishing"],
                    "seconds": round(float(seconds.get(media_id, 0.0)), 1),
                    "silent": media_id in silent or media_id not in seconds,
                }
            )
        out_tables.append(
            {
                "number": table.number,
                "kind": table.kind,
                "media_id": table.media_table,
                "members": members,
                "connected": len(state["connected"]),
                "gini": round(float(speaking.get("gini", 0.0)), 3) if speaking else None,
                "visitors": len(state["visitors"]),
            }
        )
    return JSONResponse(
        {
            "now": utcnow().isoformat(),
            "round": {
                "number": rnd.number,
                "status": rnd.status,
                "title": rnd.title,
                "ends_at": _iso(rnd.ends_at) if rnd.status == "open" else None,
            }
            if rnd
            else None,
            "tables": out_tables,
            "calls": [
                {
                    "seq": c.seq,
                    "at": c.created_at,
                    "at_text": format_datetime(c.created_at, summit_time_zone(summit)),
                    "table": c.table_number,
                    "round": c.round_number,
                    "answered_by": c.answered_by,
                }
                for c in calls
            ],
            "me": me,
            "visiting": visit.table_number if visit else None,
            "slots": slots,
            "ice_servers": settings_for(request.app).ice_servers(me),
        }
    )


@page("/moderator/video/broadcast", allow=STAFF, methods=("POST",), form_page=BACK)
async def broadcast(request: Request) -> Response:
    """Send a message to every table."""
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        events = await uc.broadcast(
            session, summit, actor=identity(request).actor, text=form_text(form, "text")
        )
    await seating.publish(bus(request), events)
    return _done(request)


@page("/moderator/video/round", allow=STAFF, methods=("POST",), form_page=BACK)
async def round_control(request: Request) -> Response:
    """``action``: ``next`` (close the open round, open the next), ``extend`` (``minutes``
    more), ``closing`` (close in ``minutes``), ``close`` (close now)."""
    summit = summit_or_404(request)
    form = await request.form()
    action = form_text(form, "action")
    actor = identity(request).actor
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        if action == "next":
            rnd, events = await uc.next_round(
                session, fresh, actor=actor, minutes=form_optional_int(form, "minutes")
            )
        elif action == "extend":
            rnd, events = await uc.extend_round(
                session,
                fresh,
                actor=actor,
                number=form_int(form, "round") or 0,
                minutes=form_int(form, "minutes") or 0,
            )
        elif action == "closing":
            rnd, events = await uc.close_round_in(
                session,
                fresh,
                actor=actor,
                number=form_int(form, "round") or 0,
                minutes=form_int(form, "minutes") or 0,
            )
        elif action == "close":
            rnd, events = await seating.close_round(
                session, fresh, actor=actor, number=form_int(form, "round") or 0
            )
        else:
            raise InvalidInput("action", _("must be next, extend, closing or close"))
    await seating.publish(bus(request), events)
    return _done(request, {"round": rnd.number, "status": rnd.status, "ends_at": _iso(rnd.ends_at)})


@page("/moderator/video/move", allow=STAFF, methods=("POST",), form_page=BACK)
async def move(request: Request) -> Response:
    """Move a person to another table in the open round (the seating's rules apply; only an
    organiser may override them)."""
    summit = summit_or_404(request)
    form = await request.form()
    ident = identity(request)
    override = form.get("override") == "on" and Principal.ORGANISER in ident.principals
    to_table = form_int(form, "table")
    assert to_table is not None
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        rnd = await uc.video_round(session, summit.id)
        if rnd is None or rnd.status == "closed":
            raise InvalidInput("round", _("people move within an open or planned round"))
        await uc.video_table_by_number(session, summit.id, to_table)
        try:
            outcome = await move_participant(
                session,
                fresh,
                actor=ident.actor,
                round_number=rnd.number,
                pseudonym=form_text(form, "participant"),
                to_table=to_table,
                override=override,
            )
        except MoveRefused as refused:
            raise InvalidInput("move", refused.detail) from None
    await seating.publish(bus(request), outcome.events)
    return _done(request, {"moves": len(outcome.moves)})


@page("/moderator/video/visit", allow=STAFF, methods=("POST",), form_page=BACK)
async def visit(request: Request) -> Response:
    """Listen in at a table (empty ``table`` ends the visit); the table sees the visit."""
    summit = summit_or_404(request)
    form = await request.form()
    ident = identity(request)
    number = form_optional_int(form, "table")
    hub = await hub_for(request.app)
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        target = None
        if number is not None:
            table = await uc.video_table_by_number(session, summit.id, number)
            target = Visit(table.id, table.number)
        await uc.log_visit(session, fresh, actor=ident.actor, table_number=number)
    await hub.visit(uc.staff_media_id(ident.staff_id or 0), summit.id, target)
    return _done(request, {"visiting": number})


@page(
    "/moderator/video/calls/{seq:int}/answer",
    allow=STAFF,
    methods=("POST",),
    form_page=BACK,
)
async def answer_call(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        events = await uc.answer_call(
            session, summit, actor=identity(request).actor, seq=request.path_params["seq"]
        )
    await seating.publish(bus(request), events)
    return _done(request)


# --- media nodes (organiser) ---------------------------------------------------------------------

NODES = "/moderator/video/nodes"


async def _node_rows(request: Request) -> list[dict[str, Any]]:
    settings = settings_for(request.app)
    if not settings.nodes_url:
        return []
    registry = NodeRegistry(settings.nodes_url)
    try:
        now = await registry.now()
        nodes = await registry.nodes()
        assignments = await registry.assignments()
    finally:
        await registry.close()
    rows = []
    for node in nodes:
        tables = sorted(t for t, n in assignments.items() if n == node.node_id)
        state = "dead" if not node.alive(now) else "draining" if node.draining else "up"
        rows.append(
            {
                "node_id": node.node_id,
                "capacity": node.capacity,
                "load": node.load,
                "tables": tables,
                "state": state,
            }
        )
    return rows


@page(NODES, allow=ORGANISER)
async def media_nodes(request: Request) -> Response:
    """The media nodes: state, tables per node, and a drain button each (organisers only)."""
    summit_or_404(request)
    rows = await _node_rows(request)
    async with db(request).session() as session:
        record = await uc.media_table_nodes(session)
    if _wants_json(request):
        return JSONResponse(
            {"nodes": rows, "record": {t: {"node": n, "reason": r} for t, (n, r) in record.items()}}
        )
    return render(
        request,
        "video/nodes.html",
        {"nodes": rows, "enabled": bool(settings_for(request.app).nodes_url)},
    )


@page(NODES + "/drain", allow=ORGANISER, methods=("POST",), form_page=NODES)
async def drain_node(request: Request) -> Response:
    """Drain a media node (``undo=1`` lets it take tables again); audit-logged."""
    summit = summit_or_404(request)
    form = await request.form()
    settings = settings_for(request.app)
    if not settings.nodes_url:
        raise InvalidInput(
            "node", gettext("The video tables run in this process: there is no media node.")
        )
    node_id = form_text(form, "node")
    undo = form.get("undo") == "1"
    registry = NodeRegistry(settings.nodes_url)
    try:
        if node_id not in {n.node_id for n in await registry.nodes()}:
            raise InvalidInput("node", gettext("There is no media node %s.") % node_id[:128])
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            await uc.log_drain(
                session, fresh, actor=identity(request).actor, node_id=node_id, undo=undo
            )
            await registry.drain(node_id, on=not undo)
    finally:
        await registry.close()
    if _wants_json(request):
        return JSONResponse({"ok": True, "node": node_id, "draining": not undo})
    return RedirectResponse(NODES, status_code=303)


# --- signalling -----------------------------------------------------------------------------------


def _same_origin(websocket: WebSocket) -> bool:
    # A browser always sends Origin; another site's page must not drive our signalling.
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@socket("/ws/video", allow={Principal.PARTICIPANT, Principal.MODERATOR, Principal.ORGANISER})
async def video_socket(websocket: WebSocket) -> None:
    """Protocol v1 (docs/media.md): publish, subscribe, leave, ping. The table is the caller's
    seat in the database, or for staff the table they chose to visit."""
    ident: Identity = websocket.state.identity
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    if not _same_origin(websocket):
        await websocket.close(code=4403, reason="cross-site")
        return
    if ident.participant_id is not None:
        conn = Connection(
            uc.participant_media_id(ident.participant_id),
            ident.summit_id or summit.id,
            participant_id=ident.participant_id,
        )
    else:
        conn = Connection(
            uc.staff_media_id(ident.staff_id or 0), summit.id, staff_id=ident.staff_id
        )
    # a revoked personal link leaves the table within a minute
    await serve(websocket, conn, lambda: close_when_link_revoked(websocket))


routes = [
    my_video,
    my_video_json,
    call_moderator,
    moderator_video,
    moderator_video_json,
    broadcast,
    round_control,
    move,
    visit,
    answer_call,
    media_nodes,
    drain_node,
    video_socket,
]
