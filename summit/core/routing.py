"""Routes that name the principals they allow (deny by default) and check CSRF on unsafe methods."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from summit.core.rules.roles import Principal
from summit.core.security import csrf_matches, new_csrf_token

Endpoint = Callable[[Request], Awaitable[Response]]
SocketEndpoint = Callable[[WebSocket], Awaitable[None]]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Access:
    """Who may call a route. Attached to every endpoint as ``endpoint.access``."""

    principals: frozenset[Principal]
    csrf: bool = True


@dataclass
class Identity:
    """The caller of a request: a staff user, a participant, or nobody (public)."""

    staff_id: int | None = None
    staff_role: str | None = None
    staff_pseudonym: str | None = None
    participant_id: int | None = None
    participant_pseudonym: str | None = None
    summit_id: int | None = None
    principals: set[Principal] = field(default_factory=lambda: {Principal.PUBLIC})

    @property
    def actor(self) -> str:
        """The pseudonym written to the audit log for this caller."""
        return self.staff_pseudonym or self.participant_pseudonym or "public"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
    if not csrf_matches(expected, given):
        raise HTTPException(403, "csrf: the form has expired or did not come from this site")


def _identity(request: Request) -> Identity:
    identity = getattr(request.state, "identity", None)
    return identity if isinstance(identity, Identity) else Identity()


def _deny(request: Request, access: Access) -> Response:
    identity = _identity(request)
    wants_html = "text/html" in request.headers.get("accept", "")
    anonymous = identity.principals == {Principal.PUBLIC}
    staff_only = access.principals <= {Principal.ORGANISER, Principal.MODERATOR}
    if wants_html and anonymous and staff_only and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if anonymous:
        raise HTTPException(401, "login: this page needs you to log in or open your personal link")
    raise HTTPException(403, "role: your role does not allow this")


def page(
    path: str,
    *,
    allow: Iterable[Principal],
    methods: Iterable[str] = ("GET",),
    name: str | None = None,
    csrf: bool = True,
) -> Callable[[Endpoint], Route]:
    """Declare an HTTP route and the principals that may call it."""
    access = Access(frozenset(allow), csrf)
    if not access.principals:
        raise ValueError(f"{path}: a route must name at least one allowed principal")

    def decorate(endpoint: Endpoint) -> Route:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            identity = _identity(request)
            if not (access.principals & identity.principals):
                return _deny(request, access)
            if access.csrf and request.method in UNSAFE:
                await _check_csrf(request)
            return await endpoint(request)

        guarded.access = access  # type: ignore[attr-defined]
        return Route(path, guarded, methods=list(methods), name=name or endpoint.__name__)

    return decorate


def socket(
    path: str, *, allow: Iterable[Principal], name: str | None = None
) -> Callable[[SocketEndpoint], WebSocketRoute]:
    access = Access(frozenset(allow), csrf=False)

    def decorate(endpoint: SocketEndpoint) -> WebSocketRoute:
        @functools.wraps(endpoint)
        async def guarded(websocket: WebSocket) -> None:
            identity = getattr(websocket.state, "identity", None) or Identity()
            if not (access.principals & identity.principals):
                await websocket.close(code=4403, reason="not allowed")
                return
            await endpoint(websocket)

        guarded.access = access  # type: ignore[attr-defined]
        return WebSocketRoute(path, guarded, name=name or endpoint.__name__)

    return decorate


def access_of(route: BaseRoute) -> Access | None:
    endpoint = getattr(route, "endpoint", None)
    access = getattr(endpoint, "access", None)
    return access if isinstance(access, Access) else None


PUBLIC = {Principal.PUBLIC, Principal.PARTICIPANT, Principal.MODERATOR, Principal.ORGANISER}
STAFF = {Principal.MODERATOR, Principal.ORGANISER}
ORGANISER = {Principal.ORGANISER}
PARTICIPANT = {Principal.PARTICIPANT}
