"""Staff pages of the forum: the organiser's settings, paper and meeting reactions, key points
and workshops (``/forum/manage``); the moderators' queue with hiding and accepting reactions as
statements for the opinion map (``/forum/moderate``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit import council
from summit.core.errors import InvalidInput
from summit.core.forms import form_int, form_text, parse_int, path_int
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import ORGANISER, STAFF, page
from summit.core.templating import render
from summit.core.web import db, identity, summit_or_404
from summit.forum import opinion, pagecache, pages, reactions, workshops
from summit.forum.rules.meetings import DEFAULTS, MAX_MINUTES, room_settings
from summit.forum.rules.reactions import (
    HIDE_REASONS,
    METHODS,
    method_names,
    reason_names,
    stance_names,
)
from summit.forum.settings import SettingsForm, forum_settings, save_room_settings, save_settings

Error = tuple[str, str] | None
ROOM = tuple(DEFAULTS)


async def _manage_page(
    request: Request,
    summit: Summit,
    *,
    error: Error = None,
    form: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with db(request).session() as session:
        context: dict[str, Any] = {
            "settings": await forum_settings(session, summit.id),
            "room": room_settings((await session.get(Summit, summit.id) or summit).settings),
            "cards": await pages.forum_index(session, summit.id),
            "themes": await council.themes(session, summit.id),
            "workshops": await workshops.all_of(session, summit.id),
            "statements": await opinion.statements(session, summit.id),
        }
    context.update(
        {
            "all_methods": METHODS,
            "methods": method_names(),
            "stance_names": stance_names(),
            "error": error,
            "failed_form": form,
            "values": values or {},
            "notice": request.query_params.get("done"),
        }
    )
    return render(request, "forum/manage.html", context, status)


@page("/forum/manage", allow=ORGANISER)
async def manage(request: Request) -> Response:
    return await _manage_page(request, summit_or_404(request))


async def _guarded(request: Request, name: str, fields: tuple[str, ...], work: Any) -> Response:
    """Run ``work(form)``; bad input comes back on the page with what was typed."""
    summit = summit_or_404(request)
    form = await request.form()
    values = {k: form_text(form, k) for k in fields}
    try:
        target = await work(summit, form)
    except InvalidInput as exc:
        return await _manage_page(
            request, summit, error=(exc.field, exc.detail), form=name, values=values, status=400
        )
    return RedirectResponse(target, 303)


@page("/forum/manage/settings", allow=ORGANISER, methods=("POST",))
async def settings(request: Request) -> Response:
    async def work(summit: Summit, form: Any) -> str:
        data = SettingsForm(
            open=form_text(form, "open") == "1",
            methods=[str(m) for m in form.getlist("methods")],
            postcodes=form_text(form, "postcodes"),
            max_length=form_int(form, "max_length", default=1000),
            per_hour=form_int(form, "per_hour", default=10),
            map_seed=form_text(form, "map_seed"),
        )
        async with db(request).session() as session:
            await save_settings(session, summit, actor=identity(request).actor, form=data)
        return "/forum/manage?done=settings"

    fields = ("postcodes", "max_length", "per_hour", "map_seed")
    return await _guarded(request, "settings", fields, work)


@page("/forum/manage/meeting-room", allow=ORGANISER, methods=("POST",))
async def meeting_room(request: Request) -> Response:
    """When online meetings' video rooms open (minutes before), how long a meeting lasts, and
    when they close (minutes after its end)."""

    async def work(summit: Summit, form: Any) -> str:
        values = {key: form_int(form, key, low=-MAX_MINUTES, high=10 * MAX_MINUTES) for key in ROOM}
        async with db(request).session() as session:
            await save_room_settings(session, summit, actor=identity(request).actor, values=values)
        return "/forum/manage?done=meeting-room#meeting-room"

    return await _guarded(request, "meeting-room", ROOM, work)


@page("/forum/manage/reactions", allow=ORGANISER, methods=("POST",))
async def enter_reaction(request: Request) -> Response:
    """A reaction from a paper form or a meeting, typed in by staff."""

    async def work(summit: Summit, form: Any) -> str:
        data = reactions.PaperReaction(
            proposal_id=form_int(form, "proposal", low=1),
            stance=form_text(form, "stance"),
            text=form_text(form, "text"),
            source=form_text(form, "source"),
            meeting_name=form_text(form, "meeting_name"),
            meeting_date=form_text(form, "meeting_date"),
        )
        async with db(request).session() as session:
            await reactions.enter(session, summit, actor=identity(request).actor, form=data)
        return "/forum/manage?done=entered#paper"

    fields = ("proposal", "stance", "text", "source", "meeting_name", "meeting_date")
    return await _guarded(request, "paper", fields, work)


@page("/forum/manage/statements", allow=ORGANISER, methods=("POST",))
async def add_statement(request: Request) -> Response:
    """A proposal's key point becomes a statement on the opinion map."""

    async def work(summit: Summit, form: Any) -> str:
        async with db(request).session() as session:
            await opinion.add_key_point(
                session,
                summit,
                actor=identity(request).actor,
                proposal_id=form_int(form, "proposal", low=1),
                text=form_text(form, "statement"),
            )
        opinion.service(request.app).invalidate(summit.id)
        return "/forum/manage?done=statement#statements"

    return await _guarded(request, "statement", ("proposal", "statement"), work)


@page("/forum/manage/workshops", allow=ORGANISER, methods=("POST",))
async def create_workshop(request: Request) -> Response:
    async def work(summit: Summit, form: Any) -> str:
        kind, _sep, number = form_text(form, "subject").partition(":")
        if kind not in {"proposal", "theme"} or not number.isdigit():
            raise InvalidInput("subject", _("Choose one proposal or one theme for the workshop."))
        subject = parse_int(number, "subject", low=1)
        data = workshops.WorkshopForm(
            title=form_text(form, "title"),
            description=form_text(form, "description"),
            capacity=form_int(form, "capacity", default=12),
            proposal_id=subject if kind == "proposal" else None,
            theme_id=subject if kind == "theme" else None,
        )
        async with db(request).session() as session:
            created = await workshops.create(
                session, summit, actor=identity(request).actor, form=data
            )
        return f"/forum/workshops/{created.id}"

    fields = ("subject", "title", "description", "capacity")
    return await _guarded(request, "workshop", fields, work)


# --- moderation ---------------------------------------------------------------------------------


async def _moderate_page(
    request: Request, summit: Summit, *, error: Error = None, status: int = 200
) -> Response:
    async with db(request).session() as session:
        queue = await reactions.moderation_queue(session, summit.id)
        accepted = {s.reaction_id for s in await opinion.statements(session, summit.id)}
    context = {
        "queue": queue,
        "accepted": accepted,
        "reasons": HIDE_REASONS,
        "reason_names": reason_names(),
        "stance_names": stance_names(),
        "error": error,
        "notice": request.query_params.get("done"),
    }
    return render(request, "forum/moderate.html", context, status)


@page("/forum/moderate", allow=STAFF)
async def moderate(request: Request) -> Response:
    return await _moderate_page(request, summit_or_404(request))


@page("/forum/reactions/{rid:int}/hide", allow=STAFF, methods=("POST",))
async def hide(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    try:
        async with db(request).session() as session:
            await reactions.hide(
                session,
                summit.id,
                path_int(request, "rid"),
                actor=identity(request).actor,
                reason=form_text(form, "reason"),
            )
    except InvalidInput as exc:
        return await _moderate_page(request, summit, error=(exc.field, exc.detail), status=400)
    opinion.service(request.app).invalidate(summit.id)
    pagecache.cache_of(request.app).clear()
    return RedirectResponse("/forum/moderate?done=hidden", 303)


@page("/forum/reactions/{rid:int}/accept", allow=STAFF, methods=("POST",))
async def accept(request: Request) -> Response:
    """A moderator accepts a reaction as a statement for the opinion map."""
    summit = summit_or_404(request)
    try:
        async with db(request).session() as session:
            await opinion.accept_reaction(
                session, summit, path_int(request, "rid"), actor=identity(request).actor
            )
    except InvalidInput as exc:
        return await _moderate_page(request, summit, error=(exc.field, exc.detail), status=400)
    opinion.service(request.app).invalidate(summit.id)
    return RedirectResponse("/forum/moderate?done=accepted", 303)


routes = [
    manage,
    settings,
    meeting_room,
    enter_reaction,
    add_statement,
    create_workshop,
    moderate,
    hide,
    accept,
]
