"""Pages and API of the programme part: the organiser defines the day, the moderator runs it, and
everyone (participants, the plenary screens, the venue screen) follows the current item live."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core.forms import form_int, form_optional_int, form_text
from summit.core.i18n import gettext as _
from summit.core.routing import ORGANISER, PUBLIC, STAFF, page
from summit.core.rules.roles import Principal
from summit.core.templating import render
from summit.core.web import bus, db, identity, summit_or_404
from summit.programme import service as uc
from summit.seating import Event, publish

MANAGE = "/programme/manage"


def kind_labels() -> dict[str, str]:
    """The item kinds in the reader's language."""
    return {
        "welcome": _("Welcome"),
        "round": _("Round at the tables"),
        "agenda": _("Agenda setting"),
        "topic_round": _("Topic round"),
        "proposals": _("Proposal writing"),
        "prioritisation": _("Prioritisation"),
        "closing": _("Closing"),
        "break": _("Break"),
    }


async def _manage_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await uc.snapshot(session, summit)
    edit_id = request.query_params.get("edit", "")
    editing = next((i for i in data["items"] if str(i["id"]) == edit_id), None)
    if values is None:
        values = (
            {
                "item": str(editing["id"]),
                "kind": editing["kind"],
                "title": editing["title"],
                "start": editing["start"],
                "duration": str(editing["duration_minutes"]),
                "round": "" if editing["round"] is None else str(editing["round"]),
            }
            if editing
            else {"item": "", "kind": "round", "title": "", "start": "", "duration": "45"}
        )
    return render(
        request,
        "programme/manage.html",
        {
            "programme": data,
            "kinds": kind_labels(),
            "values": values,
            "can_edit": Principal.ORGANISER in identity(request).principals,
            "max_extend": uc.MAX_EXTEND,
        },
        status_code,
    )


async def _after(request: Request, events: list[Event], anchor: str = "") -> Response:
    await publish(bus(request), events)
    return RedirectResponse(MANAGE + anchor, status_code=303)


@page(MANAGE, allow=STAFF)
async def manage(request: Request) -> Response:
    """The day's programme: controls for staff, editing for the organiser."""
    return await _manage_page(request)


@page("/programme/items", allow=ORGANISER, methods=("POST",), form_page=MANAGE)
async def save_item(request: Request) -> Response:
    """Add an item, or change one when the form names ``item``."""
    summit = summit_or_404(request)
    form = await request.form()
    # a refused item comes back on the page it was typed on, as typed (core.forms)
    duration = form_int(form, "duration")
    fields: dict[str, Any] = {
        "kind": form_text(form, "kind"),
        "title": form_text(form, "title"),
        "start": form_text(form, "start"),
        "duration": duration,
        "round_number": form_optional_int(form, "round"),
    }
    async with db(request).session() as session:
        if form_text(form, "item"):
            item_id = form_int(form, "item")
            _item, events = await uc.update_item(
                session, summit, item_id, actor=identity(request).actor, **fields
            )
        else:
            _item, events = await uc.add_item(
                session, summit, actor=identity(request).actor, **fields
            )
    return await _after(request, events, "#schedule")


@page("/programme/items/{iid:int}/delete", allow=ORGANISER, methods=("POST",), form_page=MANAGE)
async def delete_item(request: Request) -> Response:
    """Delete an item; a refusal comes back by its button on the manage page (core.forms)."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        events = await uc.delete_item(
            session, summit, int(request.path_params["iid"]), actor=identity(request).actor
        )
    return await _after(request, events, "#schedule")


@page("/programme/items/{iid:int}/move", allow=ORGANISER, methods=("POST",), form_page=MANAGE)
async def move_item(request: Request) -> Response:
    """Swap an item with the one before or after it; a refusal comes back by its button."""
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        events = await uc.move_item(
            session,
            summit,
            int(request.path_params["iid"]),
            actor=identity(request).actor,
            direction=form_text(form, "direction"),
        )
    return await _after(request, events, "#schedule")


async def _control(request: Request, action: str) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    actor = identity(request).actor
    # a refusal comes back on the page the control is on (core.forms)
    async with db(request).session() as session:
        if action == "advance":
            _state, events = await uc.advance(session, summit, actor=actor)
        elif action == "extend":
            minutes = form_int(form, "minutes")
            _state, events = await uc.extend(session, summit, actor=actor, minutes=minutes)
        elif action == "pause":
            _state, events = await uc.pause(session, summit, actor=actor)
        else:
            _state, events = await uc.resume(session, summit, actor=actor)
    return await _after(request, events, "#now")


@page("/programme/advance", allow=STAFF, methods=("POST",), form_page=MANAGE)
async def advance(request: Request) -> Response:
    """Finish the current item and start the next one (moderator and organiser)."""
    return await _control(request, "advance")


@page("/programme/extend", allow=STAFF, methods=("POST",), form_page=MANAGE)
async def extend(request: Request) -> Response:
    return await _control(request, "extend")


@page("/programme/pause", allow=STAFF, methods=("POST",), form_page=MANAGE)
async def pause(request: Request) -> Response:
    return await _control(request, "pause")


@page("/programme/resume", allow=STAFF, methods=("POST",), form_page=MANAGE)
async def resume(request: Request) -> Response:
    return await _control(request, "resume")


@page("/programme.json", allow=PUBLIC)
async def programme_json(request: Request) -> Response:
    """The schedule, the current item and the server time, for screens and scripts."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await uc.snapshot(session, summit)
    labels = kind_labels()
    for row in [*data["items"], *data["next"], *([data["current"]] if data["current"] else [])]:
        row["kind_label"] = labels.get(row["kind"], row["kind"])
    return JSONResponse(data, headers={"cache-control": "no-store"})


@page("/programme", allow=PUBLIC)
async def screen(request: Request) -> Response:
    """The venue screen: the current item, its countdown and the schedule, in big type."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await uc.snapshot(session, summit)
    return render(request, "programme/screen.html", {"programme": data, "kinds": kind_labels()})


routes = [
    manage,
    save_item,
    delete_item,
    move_item,
    programme_json,
    screen,
    advance,
    extend,
    pause,
    resume,
]
