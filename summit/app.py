"""The application object: ``create_app(settings)`` builds the Starlette app and its resources."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator

from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import summit.schema  # noqa: F401  (registers every part's tables before the first query)
from summit.config import Settings
from summit.core import forms, i18n
from summit.core.context import RequestContext
from summit.core.db import Database
from summit.core.errors import DatabaseError, InvalidInput, NotFound, PermissionDenied, SummitError
from summit.core.events import make_bus
from summit.core.i18n import gettext as _
from summit.core.labels import field_label
from summit.core.logs import RequestLog
from summit.core.middleware import SecurityHeaders, TrustedProxies
from summit.core.ratelimit import RateLimiter
from summit.core.routing import access_of
from summit.core.templating import make_environment, render
from summit.monitor.access import PartnerContext
from summit.monitor.jobs import Jobs

log = logging.getLogger("summit.app")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return (
        request.url.path.startswith("/api/")
        or request.url.path.endswith(".json")
        or ("application/json" in accept and "text/html" not in accept)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    if _wants_json(request):
        return JSONResponse({"error": detail, "status": exc.status_code}, exc.status_code)
    return render(
        request,
        "error.html",
        {"status": exc.status_code, "detail": _readable(detail)},
        exc.status_code,
    )


_KEYED = re.compile(r"([a-z][a-z0-9_.]*): (.+)", re.DOTALL)


def _readable(detail: str) -> str:
    """An error's text as a person reads it: a leading key (``role: …``, ``path: …``) is named
    by its field label, or left out when it has none (JSON answers keep the key for programs)."""
    keyed = _KEYED.fullmatch(detail)
    if keyed is None:
        return detail
    key, message = keyed.groups()
    label = field_label(key)
    return message if key in _PLAIN_KEYS or label == key else f"{label}: {message}"


#: Keys of refusals that are not about a form field: the message says it all.
_PLAIN_KEYS = frozenset({"role", "login", "path", "summit", "server", "body", "input"})


async def _summit_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DatabaseError):
        return await _unavailable(request)
    status = 500
    for kind, code in ((NotFound, 404), (PermissionDenied, 403), (InvalidInput, 400)):
        if isinstance(exc, kind):
            status = code
    detail = str(exc)
    if isinstance(exc, InvalidInput) and forms.is_form_post(request) and not _wants_json(request):
        # the form's page again, with what was typed and the message by the field
        page = await forms.refused(request, exc)
        if page is not None:
            return page
    if isinstance(exc, InvalidInput) and not _wants_json(request):
        detail = f"{field_label(exc.field)}: {exc.detail}"  # a person reads the field's name
    return await _http_error(request, HTTPException(status, detail))


def _is_bad_value(exc: BaseException) -> bool:
    """A submitted value the database cannot take (a number beyond 64 bits, text that is not
    Unicode): the sender's mistake, never ours."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        return isinstance(exc, DataError) or _is_bad_value(exc.orig)
    return isinstance(exc, OverflowError | UnicodeError)


async def _bad_value(request: Request, exc: Exception) -> Response:
    """A submitted value the database cannot take: 400, not 500. A safety net behind the views'
    own checks, logged (route only) so the check can be added there; any other database error
    goes on to :func:`_server_error`."""
    if not _is_bad_value(exc):
        raise exc
    log.warning("bad value reached the database", extra={"fields": {"route": _route(request)}})
    message = _("A value is out of range or is not valid text.")
    return await _http_error(request, HTTPException(400, f"input: {message}"))


def _database_away(exc: BaseException) -> bool:
    """The database cannot be reached right now (restarting, failing over, refusing
    connections, pool exhausted): the request may simply be sent again shortly."""
    current: BaseException | None = exc
    for _depth in range(8):
        if current is None:
            return False
        if isinstance(current, DatabaseError | ConnectionError | TimeoutError | PoolTimeout):
            return True
        if isinstance(current, DBAPIError) and (
            current.connection_invalidated or isinstance(current, OperationalError | InterfaceError)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


async def _unavailable(request: Request) -> Response:
    """503 with Retry-After, not 500: nothing is wrong with the request itself."""
    log.warning("database unavailable", extra={"fields": {"route": _route(request)}})
    message = _("The service is briefly unavailable. Try again in a few seconds.")
    response = await _http_error(request, HTTPException(503, f"server: {message}"))
    response.headers["Retry-After"] = "5"
    return response


class DatabaseAway:
    """Answers 503 + Retry-After when the database is away, wherever the request met it (every
    request reads its session in ``RequestContext``, before any route). The error is answered
    here rather than re-raised, so the connection stays usable (a re-raised error makes the
    server drop it, and a proxy then sees a reset instead of the answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or not _database_away(exc):
                raise
            request = Request(scope, receive)
            response = await _unavailable(request)
            await response(scope, receive, send)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"fields": {"route": _route(request)}})
    return await _http_error(
        request, HTTPException(500, "server: " + _("Something went wrong on our side."))
    )


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "(unmatched)"))


def routes() -> list[BaseRoute]:
    from summit.core.views import auth, live, participant, public
    from summit.council import views as council
    from summit.forum import views as forum
    from summit.ideas import views as ideas
    from summit.lottery import views as lottery
    from summit.monitor import views as monitor
    from summit.organiser import views as organiser
    from summit.plenary import views as plenary
    from summit.programme import views as programme
    from summit.seating import views as seating
    from summit.video import views as video

    modules = (
        public,
        auth,
        organiser,
        participant,
        live,
        lottery,
        seating,
        ideas,
        video,
        council,
        forum,
        plenary,
        programme,
        monitor,
    )
    return [route for module in modules for route in module.routes]


def _light_paths(found: list[BaseRoute]) -> list[re.Pattern[str]]:
    """The path patterns of routes that need no caller read for a request without a session."""
    light = []
    for route in found:
        access = access_of(route)
        if access is not None and not access.context and isinstance(route, Route):
            light.append(route.path_regex)
    return light


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application; resources open in the lifespan and close with it."""
    settings = settings or Settings.from_env()
    languages = i18n.load_catalogues(settings.web_dir / "locale")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await app.state.db.check_revision()
        await app.state.bus.start()
        app.state.monitor_jobs = Jobs(app.state.db, settings)
        app.state.monitor_jobs.start()
        try:
            yield
        finally:
            await app.state.monitor_jobs.stop()
            from summit.video.hub import shutdown as video_shutdown

            await video_shutdown(app)
            await app.state.bus.stop()
            await app.state.db.dispose()

    app_routes = routes()
    app = Starlette(
        routes=[
            *app_routes,
            Mount(
                "/static", StaticFiles(directory=str(settings.web_dir / "static")), name="static"
            ),
        ],
        middleware=[
            Middleware(TrustedProxies, proxies=settings.trusted_proxies),
            Middleware(RequestLog),
            Middleware(SecurityHeaders, base_url=settings.base_url),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="summit_session",
                max_age=settings.session_hours * 3600,
                same_site="lax",
                https_only=settings.cookie_secure,
            ),
            Middleware(DatabaseAway),
            Middleware(RequestContext, light=_light_paths(app_routes)),
            Middleware(PartnerContext),
        ],
        exception_handlers={
            HTTPException: _http_error,
            SummitError: _summit_error,
            OverflowError: _bad_value,
            UnicodeError: _bad_value,
            StatementError: _bad_value,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    from summit.council import calls_to_action
    from summit.forum import calls_to_action as forum_calls_to_action

    # most urgent first: a vote or a signature waits, then the forum
    app.state.participant_actions = [calls_to_action, forum_calls_to_action]
    app.state.languages = languages
    app.state.db = Database(settings.database_url)
    app.state.bus = make_bus(settings.event_bus_url)
    app.state.templates = make_environment(settings.web_dir / "templates")
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)
    app.state.link_limiter = RateLimiter(settings.link_rate_per_minute)
    return app
