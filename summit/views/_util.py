"""Small helpers the views share."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from summit.db import Database
from summit.events import EventBus
from summit.models import Summit
from summit.routing import Identity


def db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def bus(request: Request) -> EventBus:
    event_bus: EventBus = request.app.state.bus
    return event_bus


def identity(request: Request) -> Identity:
    ident = getattr(request.state, "identity", None)
    return ident if isinstance(ident, Identity) else Identity()


def summit_or_404(request: Request) -> Summit:
    summit = getattr(request.state, "summit", None)
    if not isinstance(summit, Summit):
        raise HTTPException(404, "summit: no summit has been created yet")
    return summit


def client_key(request: Request, route: str) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{route}:{host}"


def safe_next(value: str | None, default: str) -> str:
    # Only same-site paths: an open redirect would let a phishing page borrow our login.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
