"""The plenary screen for the hall: for signed-in staff and through a revocable display link
(no login). It shows the theme board (from the ideas part), the programme, the latest
prioritisation and the latest Burgerraad vote, and follows them live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from summit.core.forms import form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import ORGANISER, PUBLIC, STAFF, page, socket
from summit.core.rules.roles import Principal
from summit.core.templating import render
from summit.core.web import db, forward_events, identity, summit_or_404
from summit.ideas import plenary_data
from summit.plenary import service as uc
from summit.plenary.models import DisplayLink

#: The events a plenary screen follows (on the summit's ``display:`` and ``summit:`` channels).
PLENARY_EVENTS = ("priority.", "council.", "decision.", "programme", "round", "themes")


def _screen(request: Request, state_url: str, themes_url: str, socket_url: str) -> Response:
    context = {"state_url": state_url, "themes_url": themes_url, "socket_url": socket_url}
    return render(request, "plenary/plenary.html", context)


@page("/council/plenary", allow=STAFF)
async def plenary(request: Request) -> Response:
    """The big screen for the hall, for signed-in staff (a display link shows the same)."""
    return _screen(request, "/council/plenary/state.json", "/plenary.json", "/council/live")


@page("/council/plenary/state.json", allow=STAFF)
async def plenary_state(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        return JSONResponse(await uc.plenary_state(session, summit.id))


@page("/council/display-links", allow=ORGANISER, methods=("POST",), form_page="/council")
async def display_link_issue(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        _link, token = await uc.issue_display_link(
            session, summit, actor=identity(request).actor, label=form_text(form, "label")
        )
    base = request.app.state.settings.base_url
    return render(request, "plenary/display_link.html", {"url": f"{base}/display/{token}"})


@page("/council/display-links/{lid:int}/revoke", allow=ORGANISER, methods=("POST",))
async def display_link_revoke(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        await uc.revoke_display_link(
            session, summit.id, path_int(request, "lid"), actor=identity(request).actor
        )
    return RedirectResponse("/council#display", status_code=303)


async def _display(request: Request) -> DisplayLink:
    token = str(request.path_params["token"])
    async with db(request).session() as session:
        try:
            return await uc.resolve_display_link(session, token)
        except uc.DisplayLinkRejected as exc:
            message = (
                _("This display link has been revoked. Ask the organiser for a new one.")
                if str(exc) == "revoked"
                else _("This display link is not valid.")
            )
            raise HTTPException(404, message) from None


@page("/display/{token}", allow=PUBLIC)
async def display(request: Request) -> Response:
    """The plenary screen without login (big type, high contrast), through a display link."""
    if request.app.state.link_limiter.hit(
        f"display:{request.client.host if request.client else ''}"
    ):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    await _display(request)
    base = f"/display/{request.path_params['token']}"
    return _screen(request, f"{base}/state.json", f"{base}/themes.json", f"{base}/ws")


@page("/display/{token}/state.json", allow=PUBLIC)
async def display_state(request: Request) -> Response:
    link = await _display(request)
    async with db(request).session() as session:
        return JSONResponse(await uc.plenary_state(session, link.summit_id))


@page("/display/{token}/themes.json", allow=PUBLIC)
async def display_themes(request: Request) -> Response:
    """The theme board for the display link's summit (labels and counts, no personal data)."""
    link = await _display(request)
    async with db(request).session() as session:
        data = await plenary_data(session, link.summit_id)
    return JSONResponse(data, headers={"cache-control": "no-store"})


async def _forward(
    websocket: WebSocket, summit_id: int, still_valid: Callable[[], Awaitable[bool]]
) -> None:
    await forward_events(
        websocket,
        [f"display:{summit_id}", f"summit:{summit_id}"],
        PLENARY_EVENTS,
        still_valid=still_valid,
    )


@socket("/display/{token}/ws", allow=PUBLIC)
async def display_socket(websocket: WebSocket) -> None:
    """Live plenary events for a display link (checked again every minute)."""
    token = str(websocket.path_params["token"])
    database = websocket.app.state.db

    async def valid() -> int | None:
        async with database.session() as session:
            try:
                link = await uc.resolve_display_link(session, token)
            except uc.DisplayLinkRejected:
                return None
            return int(link.summit_id)

    summit_id = await valid()
    if summit_id is None:
        await websocket.close(code=4404, reason="unknown or revoked display link")
        return

    async def still_valid() -> bool:
        return await valid() is not None

    await _forward(websocket, summit_id, still_valid)


@socket("/council/live", allow={Principal.MODERATOR, Principal.ORGANISER})
async def staff_socket(websocket: WebSocket) -> None:
    """Live plenary events for staff pages (the summit channel alone would not carry turnout)."""
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return

    async def still_valid() -> bool:
        return True

    await _forward(websocket, summit.id, still_valid)


routes = [
    plenary,
    plenary_state,
    display_link_issue,
    display_link_revoke,
    display,
    display_state,
    display_themes,
    display_socket,
    staff_socket,
]
