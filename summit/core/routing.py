"""Routes that name the principals they allow (deny by default), limit their request bodies
before anything parses them, and check CSRF on unsafe methods; live sockets that check their
Origin and are capped per person."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from summit.core.bodies import DEFAULT_MAX_BODY, SubmittedRequest, checked_csrf, limited
from summit.core.i18n import gettext as _
from summit.core.rules.roles import Principal
from summit.core.security import new_csrf_token

Endpoint = Callable[[Request], Awaitable[Response]]
SocketEndpoint = Callable[[WebSocket], Awaitable[None]]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Path ids fit a signed 64-bit database column; a larger one names nothing (404).
MAX_PATH_ID = 2**63 - 1
#: Live sockets one signed-in person may hold open at once (per app worker): enough for a few
#: tabs and the video table, far from the hundreds one browser could otherwise open.
SOCKETS_PER_PERSON = 12


@dataclass(frozen=True)
class Access:
    """Who may call a route. Attached to every endpoint as ``endpoint.access``."""

    principals: frozenset[Principal]
    csrf: bool = True
    max_body: int = DEFAULT_MAX_BODY
    #: False: a request without a session skips the per-request database read of the caller
    #: (it is public) and takes the summit from a short-lived cache (``RequestContext``).
    context: bool = True
    #: the page a refused form of this route is shown again on (``summit.core.forms``), when it
    #: is not the route's own path and the form does not name it
    form_page: str | None = None


@dataclass
class Identity:
    """The caller of a request: a staff user, a participant, or nobody (public)."""

    session_id: int | None = None
    link_id: int | None = None
    staff_id: int | None = None
    staff_role: str | None = None
    staff_pseudonym: str | None = None
    participant_id: int | None = None
    participant_pseudonym: str | None = None
    summit_id: int | None = None
    #: the session names a partner's personal link (the monitor part loads the partner)
    partner_link_id: int | None = None
    principals: set[Principal] = field(default_factory=lambda: {Principal.PUBLIC})

    @property
    def actor(self) -> str:
        """The pseudonym written to the audit log for this caller."""
        return self.staff_pseudonym or self.participant_pseudonym or "public"

    @property
    def person(self) -> str | None:
        """Who this is, for per-person caps (``None`` when nobody is signed in)."""
        if self.staff_id is not None:
            return f"staff:{self.staff_id}"
        if self.participant_id is not None:
            return f"participant:{self.participant_id}"
        return None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


async def _prepared(request: Request, access: Access) -> Request:
    """The request the endpoint gets: path ids in range, the body limited to the route's
    ``max_body`` (413), the CSRF token checked (403), submitted text cleaned."""
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_PATH_ID:
            raise HTTPException(404, "path: " + _("There is no such item."))
    receive = limited(request, request.receive, access.max_body)
    if access.csrf and request.method in UNSAFE:
        receive = await checked_csrf(request, receive)
    return SubmittedRequest(request.scope, receive, request._send)


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
        raise HTTPException(
            401, "login: " + _("This page needs you to log in or to open your personal link.")
        )
    raise HTTPException(403, "role: " + _("Your role does not allow this."))


def page(
    path: str,
    *,
    allow: Iterable[Principal],
    methods: Iterable[str] = ("GET",),
    name: str | None = None,
    csrf: bool = True,
    max_body: int = DEFAULT_MAX_BODY,
    context: bool = True,
    form_page: str | None = None,
) -> Callable[[Endpoint], Route]:
    """Declare an HTTP route and the principals that may call it; ``max_body`` is the largest
    request body (bytes) it accepts; ``context=False`` for a hot public route whose calls
    without a session need no database read before the view (see ``Access.context``);
    ``form_page`` is the page its refused form is shown again on (see ``Access.form_page``)."""
    access = Access(frozenset(allow), csrf, max_body, context, form_page)
    if not access.principals:
        raise ValueError(f"{path}: a route must name at least one allowed principal")

    def decorate(endpoint: Endpoint) -> Route:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            identity = _identity(request)
            if not (access.principals & identity.principals):
                return _deny(request, access)
            return await endpoint(await _prepared(request, access))

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
            if not origin_allowed(websocket):
                await websocket.close(code=4403, reason="origin not allowed")
                return
            await _counted(websocket, identity.person, endpoint)

        guarded.access = access  # type: ignore[attr-defined]
        return WebSocketRoute(path, guarded, name=name or endpoint.__name__)

    return decorate


def origin_allowed(websocket: WebSocket) -> bool:
    """A browser always sends ``Origin`` with a WebSocket; only this site's own pages may open
    one (the configured base URL, or the host the socket was opened on). Clients without an
    Origin header are not browsers, so no other site's page can be acting through them."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    base = urlsplit(websocket.app.state.settings.base_url)
    own = {base.netloc.lower(), websocket.headers.get("host", "").lower()}
    return parts.netloc.lower() in own


async def _counted(websocket: WebSocket, person: str | None, endpoint: SocketEndpoint) -> None:
    if person is None:
        await endpoint(websocket)
        return
    state = websocket.app.state
    counts: dict[str, int] | None = getattr(state, "person_sockets", None)
    if counts is None:
        counts = state.person_sockets = {}
    if counts.get(person, 0) >= SOCKETS_PER_PERSON:
        await websocket.close(code=4429, reason="too many live connections")
        return
    counts[person] = counts.get(person, 0) + 1
    try:
        await endpoint(websocket)
    finally:
        counts[person] -= 1
        if counts[person] <= 0:
            del counts[person]


def access_of(route: BaseRoute) -> Access | None:
    endpoint = getattr(route, "endpoint", None)
    access = getattr(endpoint, "access", None)
    return access if isinstance(access, Access) else None


PUBLIC = {Principal.PUBLIC, Principal.PARTICIPANT, Principal.MODERATOR, Principal.ORGANISER}
STAFF = {Principal.MODERATOR, Principal.ORGANISER}
ORGANISER = {Principal.ORGANISER}
PARTICIPANT = {Principal.PARTICIPANT}
