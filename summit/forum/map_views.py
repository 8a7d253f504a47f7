"""The opinion map's pages: the map (groups on a 2-D map, bars per statement) with the vote
buttons, a vote, the map as JSON, the consensus next to each proposal for the Burgerraad, and
the reactions as open data."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core.csvfile import csv_response
from summit.core.errors import InvalidInput, PermissionDenied
from summit.core.forms import form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import PUBLIC, page
from summit.core.templating import render
from summit.core.web import db, summit_or_404
from summit.forum import access, export, mapping, opinion, pages, proposals
from summit.forum.settings import forum_settings


async def _map_page(
    request: Request, summit: Summit, *, error: tuple[str, str] | None = None, status: int = 200
) -> Response:
    async with db(request).session() as session:
        view = await opinion.service(request.app).current(session, summit)
        rows = await opinion.statements(session, summit.id)
        reactor = await access.current_reactor(request, session, summit)
        mine = await opinion.my_votes(session, reactor.id) if reactor and reactor.id else {}
        counts = await opinion.tallies(session, summit.id)
        cards = {c.proposal.id: c for c in await pages.forum_index(session, summit.id)}
        settings = await forum_settings(session, summit.id)
    context: dict[str, Any] = {
        "view": view,
        "svg": mapping.svg_points(view),
        "rows": rows,
        "reactor": reactor,
        "mine": mine,
        "counts": counts,
        "cards": cards,
        "settings": settings,
        "consensus": {c.statement_id: c.stance for c in view.consensus},
        "error": error,
        "notice": request.query_params.get("done"),
    }
    return render(request, "forum/map.html", context, status)


@page("/forum/map", allow=PUBLIC)
async def opinion_map(request: Request) -> Response:
    return await _map_page(request, summit_or_404(request))


@page("/forum/statements/{sid:int}/vote", allow=PUBLIC, methods=("POST",))
async def vote(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    statement_id = path_int(request, "sid")
    if access.too_many(request, "forum_votes", 10 * access.POSTS_PER_MINUTE):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    try:
        async with db(request).session() as session:
            reactor = await access.current_reactor(request, session, summit, create=True)
            if reactor is None:
                raise PermissionDenied(_("First show that you may take part (see above)."))
            row = await opinion.vote(
                session,
                summit.id,
                reactor=reactor,
                statement_id=statement_id,
                choice=form_text(form, "vote"),
            )
    except InvalidInput as exc:
        return await _map_page(request, summit, error=(exc.field, exc.detail), status=400)
    except PermissionDenied as exc:
        return await _map_page(request, summit, error=("vote", str(exc)), status=403)
    opinion.service(request.app).apply(summit.id, row.reactor_id, row.statement_id, row.value)
    return RedirectResponse(f"/forum/map?done=voted#statement-{statement_id}", 303)


@page("/forum/map.json", allow=PUBLIC)
async def map_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        view = await opinion.service(request.app).current(session, summit)
        rows = await opinion.statements(session, summit.id)
    return JSONResponse(export.map_json(view, rows))


@page("/forum/council", allow=PUBLIC)
async def council_view(request: Request) -> Response:
    """Each proposal with its consensus statements and its submitted version, for the
    Burgerraad's members before they vote."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        cards = await pages.forum_index(session, summit.id)
        ids = [c.proposal.id for c in cards]
        consensus = await opinion.consensus_for(request.app, session, summit, ids)
        results = {pid: await proposals.council_results(session, pid) for pid in ids}
    context = {"cards": cards, "consensus": consensus, "results": results}
    return render(request, "forum/council.html", context)


@page("/forum/reactions.csv", allow=PUBLIC)
async def reactions_csv(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await export.reaction_rows(session, summit.id)
    return csv_response(export.reactions_csv(rows), "reactions.csv")


@page("/forum/reactions.json", allow=PUBLIC)
async def reactions_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        data = await export.reactions_json(session, summit.id)
    return Response(json.dumps(data, ensure_ascii=False, indent=1), media_type="application/json")


routes = [opinion_map, vote, map_json, council_view, reactions_csv, reactions_json]
