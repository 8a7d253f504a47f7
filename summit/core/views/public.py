"""Pages anyone may see: home, the public audit log, health."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from summit import __version__
from summit.core import audit
from summit.core import service as repository
from summit.core.routing import PUBLIC, page
from summit.core.templating import render
from summit.core.web import bus, db


@page("/", allow=PUBLIC)
async def home(request: Request) -> Response:
    summit = request.state.summit
    partners = []
    counts = None
    if summit is not None:
        async with db(request).session() as session:
            partners = await repository.partners(session, summit.id)
            counts = await repository.counts(session, summit.id)
    return render(request, "home.html", {"partners": partners, "counts": counts})


def _entry_json(entry: object) -> dict[str, object]:
    return {
        key: getattr(entry, key)
        for key in (
            "seq",
            "created_at",
            "summit_id",
            "actor",
            "action",
            "subject",
            "payload",
            "payload_digest",
            "prev_hash",
            "entry_hash",
        )
    }


def _page_args(request: Request) -> tuple[int, int | None]:
    try:
        limit = min(max(int(request.query_params.get("limit", "100")), 1), 1000)
        before_raw = request.query_params.get("before")
        before = int(before_raw) if before_raw else None
    except ValueError:
        raise HTTPException(400, "limit/before: expected whole numbers") from None
    return limit, before


@page("/audit", allow=PUBLIC)
async def audit_page(request: Request) -> Response:
    limit, before = _page_args(request)
    async with db(request).session() as session:
        entries = await audit.recent(session, limit=limit, before=before)
        head_seq, head_hash = await audit.head(session)
    return render(
        request,
        "audit.html",
        {"entries": entries, "head_seq": head_seq, "head_hash": head_hash, "limit": limit},
    )


@page("/audit.json", allow=PUBLIC)
async def audit_json(request: Request) -> Response:
    limit, before = _page_args(request)
    async with db(request).session() as session:
        entries = await audit.recent(session, limit=limit, before=before)
        head_seq, head_hash = await audit.head(session)
    return JSONResponse(
        {
            "head": {"seq": head_seq, "hash": head_hash},
            "entries": [_entry_json(e) for e in entries],
        }
    )


@page("/healthz", allow=PUBLIC)
async def health(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        await db(request).ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = str(exc)
    checks["event_bus"] = type(bus(request)).__name__
    healthy = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "version": __version__, **checks},
        status_code=200 if healthy else 503,
    )


routes = [home, audit_page, audit_json, health]
