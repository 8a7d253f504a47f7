"""The application object: ``create_app(settings)`` builds the Starlette app and its resources."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from summit.config import Settings
from summit.core import i18n
from summit.core.db import Database
from summit.core.errors import InvalidInput, NotFound, PermissionDenied, SummitError
from summit.core.events import make_bus
from summit.core.logs import RequestLog
from summit.core.models import Participant, PersonalLink, StaffUser, Summit
from summit.core.ratelimit import RateLimiter
from summit.core.routing import Identity
from summit.core.rules.roles import Principal
from summit.core.service import link_still_holds
from summit.core.templating import make_environment, render

log = logging.getLogger("summit.app")


class RequestContext:
    """Loads who is calling (from the session), the summit, and the language, for every request.

    A revoked personal link or a deactivated staff account stops working at the next request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or scope.get("path", "").startswith(
            "/static/"
        ):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        db: Database = scope["app"].state.db
        session_data: dict[str, Any] = scope.get("session", {})
        identity = Identity()
        summit: Summit | None = None
        async with db.session() as session:
            staff_id = session_data.get("staff_id")
            if isinstance(staff_id, int):
                user = await session.get(StaffUser, staff_id)
                if user is not None and user.active:
                    identity.staff_id = user.id
                    identity.staff_role = user.role
                    identity.staff_pseudonym = user.pseudonym
                    identity.principals.add(Principal(user.role))
                    if user.role == Principal.ORGANISER:
                        identity.principals.add(Principal.MODERATOR)
                else:
                    session_data.pop("staff_id", None)
            link_id = session_data.get("link_id")
            if isinstance(link_id, int):
                # One round trip for the link, its participant and their summit (every request).
                row = (
                    await session.execute(
                        select(Participant, Summit)
                        .join(PersonalLink, PersonalLink.participant_id == Participant.id)
                        .join(Summit, Summit.id == Participant.summit_id)
                        .where(*link_still_holds(link_id))
                    )
                ).first()
                if row is not None:
                    participant, summit = row
                    identity.participant_id = participant.id
                    identity.participant_pseudonym = participant.pseudonym
                    identity.summit_id = participant.summit_id
                    identity.principals.add(Principal.PARTICIPANT)
                else:
                    session_data.pop("link_id", None)
            if summit is None:
                summit = await session.scalar(select(Summit).order_by(Summit.id.desc()).limit(1))
        state = scope.setdefault("state", {})
        state["identity"] = identity
        state["summit"] = summit
        wanted = conn.query_params.get("lang")
        if wanted and wanted in i18n.available():
            session_data["lang"] = wanted
        chosen = session_data.get("lang")
        default = (
            summit.default_language if summit else scope["app"].state.settings.default_language
        )
        i18n.set_language(chosen if isinstance(chosen, str) else default)
        await self.app(scope, receive, send)


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
        request, "error.html", {"status": exc.status_code, "detail": detail}, exc.status_code
    )


async def _summit_error(request: Request, exc: Exception) -> Response:
    status = 500
    for kind, code in ((NotFound, 404), (PermissionDenied, 403), (InvalidInput, 400)):
        if isinstance(exc, kind):
            status = code
    return await _http_error(request, HTTPException(status, str(exc)))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"fields": {"route": request.url.path.split("/")[1]}})
    return await _http_error(
        request, HTTPException(500, "server: something went wrong on our side")
    )


def routes() -> list[BaseRoute]:
    from summit.core.views import auth, live, organiser, participant, public
    from summit.council import views as council
    from summit.ideas import views as ideas
    from summit.lottery import views as lottery
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
        programme,
    )
    return [route for module in modules for route in module.routes]


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application; resources open in the lifespan and close with it."""
    settings = settings or Settings.from_env()
    languages = i18n.load_catalogues(settings.web_dir / "locale")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await app.state.db.check_revision()
        await app.state.bus.start()
        try:
            yield
        finally:
            from summit.video.hub import shutdown as video_shutdown

            await video_shutdown(app)
            await app.state.bus.stop()
            await app.state.db.dispose()

    app = Starlette(
        routes=[
            *routes(),
            Mount(
                "/static", StaticFiles(directory=str(settings.web_dir / "static")), name="static"
            ),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="summit_session",
                max_age=14 * 24 * 3600,
                same_site="lax",
                https_only=settings.cookie_secure,
            ),
            Middleware(RequestContext),
        ],
        exception_handlers={
            HTTPException: _http_error,
            SummitError: _summit_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.languages = languages
    app.state.db = Database(settings.database_url)
    app.state.bus = make_bus(settings.event_bus_url)
    app.state.templates = make_environment(settings.web_dir / "templates")
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)
    app.state.link_limiter = RateLimiter(settings.link_rate_per_minute)
    return app
