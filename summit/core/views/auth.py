"""Logging in: staff with a password, participants with their personal link."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core import audit
from summit.core import service as repository
from summit.core.i18n import gettext as _
from summit.core.routing import PARTICIPANT, PUBLIC, STAFF, page
from summit.core.security import new_csrf_token
from summit.core.templating import render
from summit.core.web import client_key, db, identity, safe_next

log = logging.getLogger("summit.auth")


def _too_many(request: Request, limiter_name: str, route: str) -> float:
    limiter = getattr(request.app.state, limiter_name)
    wait: float = limiter.hit(client_key(request, route))
    return wait


@page("/login", allow=PUBLIC, methods=("GET", "POST"))
async def login(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), "")
    if request.method == "GET":
        return render(request, "login.html", {"next": next_url, "error": None})
    wait = _too_many(request, "login_limiter", "login")
    if wait:
        return render(
            request,
            "login.html",
            {"next": next_url, "error": _("Too many attempts. Try again in a minute.")},
            status_code=429,
        )
    form = await request.form()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    async with db(request).session() as session:
        user = await repository.authenticate(session, username, password)
        if user is None:
            log.info("login refused", extra={"fields": {"reason": "bad credentials"}})
            return render(
                request,
                "login.html",
                {"next": next_url, "error": _("Wrong user name or password.")},
                status_code=400,
            )
        await audit.append(
            session, actor=user.pseudonym, action="staff.login", subject=user.pseudonym
        )
    # A fresh session: never carry a pre-login session (or its CSRF token) across a login;
    # only the chosen language survives.
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    request.session["staff_id"] = user.id
    request.session["csrf"] = new_csrf_token()
    default = "/organiser" if user.role == "organiser" else "/moderator"
    return RedirectResponse(safe_next(str(form.get("next", "")), default), status_code=303)


@page("/logout", allow=STAFF | PARTICIPANT, methods=("POST",))
async def logout(request: Request) -> Response:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)


@page("/p/{token}", allow=PUBLIC)
async def personal_link(request: Request) -> Response:
    if _too_many(request, "link_limiter", "link"):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    token = request.path_params["token"]
    async with db(request).session() as session:
        try:
            participant, link = await repository.resolve_link(session, token)
        except repository.LinkRejected as exc:
            reason = str(exc)
            log.info("personal link refused", extra={"fields": {"reason": reason}})
            message = {
                "revoked": _(
                    "This personal link has been revoked. Ask the organiser for a new one."
                ),
                "expired": _("This personal link has expired. Ask the organiser for a new one."),
            }.get(
                reason, _("This personal link is not valid. Check that you copied it completely.")
            )
            return render(request, "error.html", {"status": 404, "detail": message}, 404)
    lang = request.session.get("lang")
    if identity(request).staff_id is None:
        request.session.clear()
        request.session["csrf"] = new_csrf_token()
    request.session["link_id"] = link.id
    request.session["lang"] = lang or participant.language
    return RedirectResponse("/me", status_code=303)


routes = [login, logout, personal_link]
