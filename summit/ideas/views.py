"""Pages and API of the ideas part: capture at the tables, the theme board, the plenary screen.

Participants record ideas at their own table of the open round (page ``/me/ideas`` and the JSON
API under ``/api/ideas`` with idempotency keys for tablets that retry); the organiser imports paper
forms; moderators group ideas into themes; anyone can watch the plenary screen.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from summit.core import service as repository
from summit.core.errors import InvalidInput, PermissionDenied
from summit.core.forms import json_int, json_object
from summit.core.i18n import gettext as _
from summit.core.models import Summit, SummitTable
from summit.core.routing import ORGANISER, PARTICIPANT, PUBLIC, STAFF, page, socket
from summit.core.templating import render
from summit.core.web import bus, current_participant, db, forward_events, identity, summit_or_404
from summit.ideas import service as ideas
from summit.ideas.board import (
    board_data,
    decision_kind,
    decision_text,
    export_csv,
    export_json,
    plenary_data,
)
from summit.ideas.models import Idea
from summit.ideas.themes import EDIT_KINDS, theme_service

_JSON_MAX = 64_000


def _forbidden(exc: PermissionDenied) -> HTTPException:
    return HTTPException(403, str(exc))


async def _after_change(
    request: Request, idea: Idea, action: str, members: list[int], table: int | None
) -> None:
    await ideas.publish_idea(bus(request), idea, action, members, table)
    theme_service(request.app).schedule_refresh(idea.summit_id)


async def _create(
    request: Request, data: dict[str, Any], source: str
) -> tuple[Idea, bool, ideas.TableContext]:
    """Add an idea for the calling participant; a retried key returns the stored idea."""
    key = request.headers.get("idempotency-key") or data.get("idempotency_key")
    try:
        async with db(request).session() as session:
            participant = await current_participant(request, session)
            ctx = await ideas.table_context(session, participant)
            if ctx is None:
                raise InvalidInput("round", _("you have no table in an open round"))
            idea, created = await ideas.add_idea(
                session,
                ctx,
                title=data.get("title"),
                body=data.get("body", data.get("text", "")),
                tags=data.get("tags"),
                idempotency_key=key,
                source=source,
                actor=participant.pseudonym,
                expect_round=json_int(data.get("round_id"), "round_id"),
                expect_table=json_int(data.get("table_id"), "table_id"),
            )
            members = await ideas.table_members(session, ctx.round_id, ctx.table_id)
    except PermissionDenied as exc:
        raise _forbidden(exc) from None
    except ideas.IdempotencyConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except IntegrityError:
        # Two copies of the same retry raced; the first one won: return it.
        async with db(request).session() as session:
            participant = await current_participant(request, session)
            existing = await session.scalar(
                select(Idea).where(
                    Idea.summit_id == participant.summit_id, Idea.idempotency_key == key
                )
            )
            ctx = await ideas.table_context(session, participant)
        if existing is None or ctx is None or existing.table_id != ctx.table_id:
            message = "idempotency_key: was already used for a different idea"
            raise HTTPException(409, message) from None
        return existing, False, ctx
    if created:
        await _after_change(request, idea, "added", members, ctx.table_number)
    return idea, created, ctx


async def _change(request: Request, idea_id: int, data: dict[str, Any] | None) -> Idea:
    """Edit (data given) or withdraw (None) an idea of the caller's table."""
    try:
        async with db(request).session() as session:
            participant = await current_participant(request, session)
            idea = await ideas.get_idea(session, participant.summit_id, idea_id)
            if not await ideas.may_edit(session, participant, idea):
                raise PermissionDenied("role: " + _("You can only change ideas of your own table."))
            if data is None:
                await ideas.withdraw_idea(session, idea, actor=participant.pseudonym)
            else:
                await ideas.edit_idea(
                    session,
                    idea,
                    title=data.get("title"),
                    body=data.get("body", data.get("text", "")),
                    tags=data.get("tags"),
                    actor=participant.pseudonym,
                )
            assert idea.round_id is not None and idea.table_id is not None
            members = await ideas.table_members(session, idea.round_id, idea.table_id)
            table = await session.get(SummitTable, idea.table_id)
    except PermissionDenied as exc:
        raise _forbidden(exc) from None
    await _after_change(
        request,
        idea,
        "withdrawn" if data is None else "edited",
        members,
        table.number if table else None,
    )
    return idea


async def table_panel_data(request: Request) -> dict[str, Any]:
    """What ideas/_panel.html needs: the caller's table, its ideas and a fresh form key."""
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        ctx = await ideas.table_context(session, participant)
        rows = await ideas.table_ideas(session, ctx.round_id, ctx.table_id) if ctx else []
    return {
        "ctx": ctx,
        "ideas": rows,
        "participant": participant,
        # A fresh key per page view: a double-clicked form adds the idea once.
        "form_key": "form-" + secrets.token_urlsafe(12),
    }


# --- Participant: the table's ideas ----------------------------------------------------------


@page("/me/ideas", allow=PARTICIPANT, methods=("GET", "POST"))
async def table_ideas(request: Request) -> Response:
    """The table's ideas; the host (or every member) adds one with the form (a refused idea
    comes back on the page it was typed on, as typed: core.forms)."""
    if request.method == "POST":
        form = await request.form()
        data = {k: form.get(k) for k in ("title", "body", "tags", "idempotency_key")}
        await _create(request, data, "online")
        return RedirectResponse("/me/ideas", status_code=303)
    context = await table_panel_data(request)
    return render(request, "ideas/table.html", context)


@page("/me/ideas/{idea:int}/edit", allow=PARTICIPANT, methods=("POST",), form_page="/me/ideas")
async def table_idea_edit(request: Request) -> Response:
    form = await request.form()
    data = {k: form.get(k) for k in ("title", "body", "tags")}
    await _change(request, request.path_params["idea"], data)
    return RedirectResponse("/me/ideas", status_code=303)


@page("/me/ideas/{idea:int}/withdraw", allow=PARTICIPANT, methods=("POST",), form_page="/me/ideas")
async def table_idea_withdraw(request: Request) -> Response:
    await _change(request, request.path_params["idea"], None)
    return RedirectResponse("/me/ideas", status_code=303)


# --- Participant: the JSON API (tablets, the ES module) ----------------------------------------


@page("/api/ideas/table", allow=PARTICIPANT)
async def api_table(request: Request) -> Response:
    """Where the caller records (round, table, may they record) and the table's ideas."""
    data = await table_panel_data(request)
    ctx = data["ctx"]
    if ctx is None:
        return JSONResponse({"table": None, "ideas": []})
    return JSONResponse(
        {
            "table": {
                "round_id": ctx.round_id,
                "round": ctx.round_number,
                "table_id": ctx.table_id,
                "table": ctx.table_number,
                "is_host": ctx.is_host,
                "can_record": ctx.can_record,
            },
            "ideas": [ideas.idea_json(i, ctx.table_number) for i in data["ideas"]],
        }
    )


@page("/api/ideas", allow=PARTICIPANT, methods=("POST",))
async def api_add(request: Request) -> Response:
    """Add an idea: JSON {title, body, tags, round_id?, table_id?}; header Idempotency-Key."""
    data = await json_object(request, limit=_JSON_MAX)
    source = data.get("source", "online")
    if source not in ("online", "tablet"):
        raise InvalidInput("source", _("must be online or tablet"))
    idea, created, ctx = await _create(request, data, str(source))
    return JSONResponse(
        ideas.idea_json(idea, ctx.table_number), status_code=201 if created else 200
    )


@page("/api/ideas/{idea:int}", allow=PARTICIPANT, methods=("POST",))
async def api_edit(request: Request) -> Response:
    data = await json_object(request, limit=_JSON_MAX)
    idea = await _change(request, request.path_params["idea"], data)
    return JSONResponse(ideas.idea_json(idea))


@page("/api/ideas/{idea:int}/withdraw", allow=PARTICIPANT, methods=("POST",))
async def api_withdraw(request: Request) -> Response:
    idea = await _change(request, request.path_params["idea"], None)
    return JSONResponse(ideas.idea_json(idea))


# --- Organiser: paper forms and who records ------------------------------------------------------


async def _organiser_page(
    request: Request, *, report: Any = None, errors: Any = None, status: int = 200
) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        mode = await ideas.who_records(session, summit.id)
        current = await repository.open_round(session, summit.id)
    return render(
        request,
        "ideas/organiser.html",
        {
            "who_records": mode,
            "report": report,
            "errors": errors,
            "round": current,
            "max_rows": ideas.IMPORT_MAX_ROWS,
        },
        status,
    )


@page("/organiser/ideas", allow=ORGANISER)
async def organiser_ideas(request: Request) -> Response:
    return await _organiser_page(request)


@page(
    "/organiser/ideas/import",
    allow=ORGANISER,
    methods=("POST",),
    max_body=1_100_000,
    form_page="/organiser/ideas",
)
async def organiser_import(request: Request) -> Response:
    """Import a CSV of paper forms, all or nothing; the page lists every bad row."""
    summit = summit_or_404(request)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("file", _("choose a CSV file"))
    data = await upload.read(ideas.IMPORT_MAX_BYTES + 1)
    try:
        round_number = json_int(form.get("round"), "round")
        async with db(request).session() as session:
            report = await ideas.import_paper(
                session, summit, data, actor=identity(request).actor, round_number=round_number
            )
    except ideas.IdeaImportError as exc:
        return await _organiser_page(request, errors=exc.rows, status=400)
    await bus(request).publish(
        f"staff:{summit.id}", {"type": "idea", "action": "imported", "count": report.added}
    )
    theme_service(request.app).schedule_refresh(summit.id)
    return await _organiser_page(request, report=report)


@page("/organiser/ideas/settings", allow=ORGANISER, methods=("POST",), form_page="/organiser/ideas")
async def organiser_settings(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        await ideas.set_who_records(
            session, summit.id, str(form.get("who_records", "")), actor=identity(request).actor
        )
    return RedirectResponse("/organiser/ideas", status_code=303)


# --- Moderator: the theme board --------------------------------------------------------------


def _filters(request: Request) -> tuple[int | None, int | None]:
    return (
        json_int(request.query_params.get("round"), "round"),
        json_int(request.query_params.get("table"), "table"),
    )


def _back(request: Request, form: Any) -> str:
    query = {k: str(form.get(k)) for k in ("round", "table") if form.get(k)}
    return "/moderator/themes" + (f"?{urlencode(query)}" if query else "")


BOARD = "/moderator/themes"


@page(BOARD, allow=STAFF)
async def board(request: Request) -> Response:
    """Themes as columns with their ideas; moderator decisions with undo; re-clustering."""
    summit = summit_or_404(request)
    round_number, table_number = _filters(request)
    service = theme_service(request.app)
    async with db(request).session() as session:
        data = await board_data(
            session, summit.id, round_number=round_number, table_number=table_number
        )
    if data.unthemed and any(t for t in data.themes):
        service.schedule_refresh(summit.id)
    return render(
        request,
        "ideas/board.html",
        {
            "board": data,
            "round_filter": round_number,
            "table_filter": table_number,
            "progress": service.progress(summit.id),
            "notice": request.query_params.get("done"),
            "decision_text": decision_text,
            "decision_kind": decision_kind,
        },
    )


@page("/moderator/themes/status.json", allow=STAFF)
async def board_status(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await board_data(session, summit.id, decisions=0)
    return JSONResponse(
        {
            "progress": theme_service(request.app).progress(summit.id),
            "generation": data.generation,
            "themes": len(data.themes),
            "ideas": data.total,
            "unthemed": len(data.unthemed),
        }
    )


@page("/moderator/themes/recluster", allow=STAFF, methods=("POST",), form_page=BOARD)
async def board_recluster(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    step = {"fewer": -1, "same": 0, "more": 1}.get(str(form.get("granularity", "same")))
    if step is None:
        raise InvalidInput("granularity", _("must be fewer, same or more"))
    started = theme_service(request.app).start_recluster(
        summit.id, step=step, actor=identity(request).actor
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"started": started}, status_code=202 if started else 409)
    return RedirectResponse(_back(request, form), status_code=303)


@page("/moderator/themes/edit", allow=STAFF, methods=("POST",), form_page=BOARD)
async def board_edit(request: Request) -> Response:
    """One decision: action = rename, merge, split, move, duplicate, pin or unpin."""
    summit = summit_or_404(request)
    form = await request.form()
    action = str(form.get("action", ""))
    if action not in EDIT_KINDS:
        raise InvalidInput("action", _("choose one of the listed actions"))
    names = ("theme", "other", "label", "name", "idea", "of")
    args: dict[str, Any] = {k: form.get(k) for k in names}
    args["ideas"] = [v for v in form.getlist("ideas") if isinstance(v, str)]
    await theme_service(request.app).edit(summit.id, action, actor=identity(request).actor, **args)
    return RedirectResponse(_back(request, form), status_code=303)


@page("/moderator/themes/undo", allow=STAFF, methods=("POST",), form_page=BOARD)
async def board_undo(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    await theme_service(request.app).undo(summit.id, actor=identity(request).actor)
    return RedirectResponse(_back(request, form), status_code=303)


@page("/moderator/themes/export.csv", allow=STAFF)
async def export_themes_csv(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await board_data(session, summit.id, decisions=0)
    return PlainTextResponse(
        export_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{summit.slug}-themes.csv"'},
    )


@page("/moderator/themes/export.json", allow=STAFF)
async def export_themes_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await board_data(session, summit.id, decisions=0)
    return JSONResponse(export_json(data, summit.name))


@page("/moderator/themes/summary", allow=STAFF)
async def summary(request: Request) -> Response:
    """A printable summary: every theme with its ideas, table and round."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await board_data(session, summit.id, decisions=0)
    return render(request, "ideas/summary.html", {"board": data})


# --- Public: the plenary screen ----------------------------------------------------------------


@page("/plenary", allow=PUBLIC)
async def plenary(request: Request) -> Response:
    """The big screen in the hall and the online plenary: themes growing during the day."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await plenary_data(session, summit.id)
    return render(request, "ideas/plenary.html", {"plenary": data})


#: What the public plenary socket passes on: that something changed, never what.
PUBLIC_PLENARY_EVENTS = ("themes", "programme", "round")


@socket("/plenary/ws", allow=PUBLIC)
async def plenary_socket(websocket: WebSocket) -> None:
    """Tells the public plenary screen when to refetch (themes, the programme, rounds); the
    events carry no content, only their type and the board's generation."""
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return
    await forward_events(
        websocket,
        [f"display:{summit.id}", f"summit:{summit.id}"],
        PUBLIC_PLENARY_EVENTS,
        public=True,
        strip=lambda event: {k: event[k] for k in ("type", "generation") if k in event},
    )


@page("/plenary.json", allow=PUBLIC)
async def plenary_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await plenary_data(session, summit.id)
    return JSONResponse(data, headers={"cache-control": "no-store"})


routes = [
    table_ideas,
    table_idea_edit,
    table_idea_withdraw,
    api_table,
    api_add,
    api_edit,
    api_withdraw,
    organiser_ideas,
    organiser_import,
    organiser_settings,
    board,
    board_status,
    board_recluster,
    board_edit,
    board_undo,
    export_themes_csv,
    export_themes_json,
    summary,
    plenary,
    plenary_json,
    plenary_socket,
]
