"""Pages anyone may see: home, the public audit log, health, the site icon."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from summit import __version__
from summit.core import audit
from summit.core import service as repository
from summit.core.forms import parse_int
from summit.core.routing import PUBLIC, page
from summit.core.rules.audit_chain import ChainReport
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
    query = request.query_params
    limit = min(max(parse_int(query.get("limit") or "100", "limit"), 1), 1000)
    before_raw = query.get("before")
    before = parse_int(before_raw, "before", low=0) if before_raw else None
    return limit, before


async def _verified(request: Request, session: AsyncSession, head_hash: str) -> ChainReport:
    """The chain's verification, done once per head (a public page must not re-hash the whole
    log on every visit)."""
    state = request.app.state
    lock = getattr(state, "audit_lock", None) or asyncio.Lock()
    state.audit_lock = lock
    async with lock:
        cached = getattr(state, "audit_report", None)
        if cached is None or cached[0] != head_hash:
            state.audit_report = (head_hash, await audit.verify(session))
        report: ChainReport = state.audit_report[1]
    return report


@page("/audit", allow=PUBLIC)
async def audit_page(request: Request) -> Response:
    """The log, newest first; ``?head=HASH`` checks it against a head published earlier."""
    limit, before = _page_args(request)
    published = request.query_params.get("head", "").strip()[:200]
    async with db(request).session() as session:
        entries = await audit.recent(session, limit=limit, before=before)
        head_seq, head_hash = await audit.head(session)
        check = None
        if published:
            report = await _verified(request, session, head_hash)
            check = await audit.check_head(session, published, report)
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "head_seq": head_seq,
            "head_hash": head_hash,
            "limit": limit,
            "published": published,
            "head_check": check,
        },
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


@page("/favicon.ico", allow=PUBLIC, context=False)
async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on their own, whatever the page links to."""
    path = request.app.state.settings.web_dir / "static" / "favicon.ico"
    return FileResponse(path, media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"})


routes = [home, audit_page, audit_json, health, favicon]
