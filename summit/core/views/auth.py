"""Logging in: staff with a password, participants with their personal link.

Both start a server-side session (``summit.core.sessions``); the cookie carries only its random
token, so logging out ends it for good. Rate limits count failures only: wrong passwords per
account and per address, unknown or dead links per address (an attempt counts from its start and
is forgiven when it succeeds, so parallel guesses cannot slip past the limit).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core import audit, sessions
from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.ratelimit import RateLimiter
from summit.core.routing import PARTICIPANT, PUBLIC, STAFF, page
from summit.core.security import new_csrf_token
from summit.core.templating import render
from summit.core.web import client_key, db, safe_next

log = logging.getLogger("summit.auth")


def _limiter(request: Request, name: str) -> RateLimiter:
    limiter: RateLimiter = getattr(request.app.state, name)
    return limiter


def _fresh_cookie(request: Request, token: str, *, lang: Any = None) -> None:
    # Never carry a pre-login session (or its CSRF token) across a login; the language stays.
    lang = lang or request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    request.session[sessions.COOKIE_KEY] = token
    request.session["csrf"] = new_csrf_token()


def _attempt(limiter: RateLimiter, keys: list[str]) -> bool:
    """Count an attempt against every key; ``False`` (and nothing counted) when one is full."""
    counted: list[str] = []
    for key in keys:
        if limiter.hit(key):
            for done in counted:
                limiter.forgive(done)
            return False
        counted.append(key)
    return True


def _login_page(request: Request, next_url: str, error: str, status: int) -> Response:
    return render(request, "login.html", {"next": next_url, "error": error}, status_code=status)


@page("/login", allow=PUBLIC, methods=("GET", "POST"))
async def login(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), "")
    if request.method == "GET":
        return render(request, "login.html", {"next": next_url, "error": None})
    form = await request.form()
    username = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    limiter = _limiter(request, "login_limiter")
    keys = [client_key(request, "login"), f"login-account:{username}"]
    if not _attempt(limiter, keys):
        log.info("login refused", extra={"fields": {"reason": "rate limit"}})
        error = _("Too many attempts. Try again in a minute.")
        return _login_page(request, next_url, error, 429)
    async with db(request).session() as session:
        user = await repository.staff_user(session, username)
    # Argon2 runs between two short database sessions: waiting logins hold no connection.
    matched = await repository.password_matches(user, password)  # as slow for unknown names
    if user is None or not matched:
        log.info("login refused", extra={"fields": {"reason": "bad credentials"}})
        # the login page again with the user name as typed (core.forms), never the password
        raise InvalidInput("username", _("Wrong user name or password."))
    for key in keys:
        limiter.forgive(key)
    async with db(request).session() as session:
        await sessions.end_token(session, request.session.get(sessions.COOKIE_KEY))
        token = await sessions.start(
            session, hours=request.app.state.settings.session_hours, staff_user_id=user.id
        )
        await audit.append(
            session, actor=user.pseudonym, action="staff.login", subject=user.pseudonym
        )
    _fresh_cookie(request, token)
    default = "/organiser" if user.role == "organiser" else "/moderator"
    return RedirectResponse(safe_next(str(form.get("next", "")), default), status_code=303)


@page("/logout", allow=STAFF | PARTICIPANT, methods=("POST",))
async def logout(request: Request) -> Response:
    """End the session on the server: the cookie is worthless from now on, even if copied."""
    async with db(request).session() as session:
        await sessions.end_token(session, request.session.get(sessions.COOKIE_KEY))
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)


def _link_refused(request: Request, reason: str) -> Response:
    log.info("personal link refused", extra={"fields": {"reason": reason}})
    message = {
        "revoked": _("This personal link has been revoked. Ask the organiser for a new one."),
        "expired": _("This personal link has expired. Ask the organiser for a new one."),
    }.get(reason, _("This personal link is not valid. Check that you copied it completely."))
    return render(request, "error.html", {"status": 404, "detail": message}, 404)


@page("/p/{token}", allow=PUBLIC)
async def personal_link(request: Request) -> Response:
    limiter = _limiter(request, "link_limiter")
    key = client_key(request, "link")
    if limiter.hit(key):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    token = request.path_params["token"]
    async with db(request).session() as session:
        try:
            participant, link = await repository.resolve_link(session, token)
        except repository.LinkRejected as exc:
            return _link_refused(request, str(exc))
        limiter.forgive(key)  # only failures count: a whole hall may share one address
        await sessions.end_token(session, request.session.get(sessions.COOKIE_KEY))
        sid = await sessions.start(
            session,
            hours=request.app.state.settings.session_hours,
            staff_user_id=None,  # a personal link ends a staff session: staff never act as members
            personal_link_id=link.id,
        )
    _fresh_cookie(request, sid, lang=request.session.get("lang") or participant.language)
    return RedirectResponse("/me", status_code=303)


routes = [login, logout, personal_link]
