"""The forum's public pages: the proposals, one proposal with its reactions and history, taking
part (letter code, postcode, confirmed e-mail), reacting and reporting.

``routes`` also carries the staff pages (``staff_views``), the workshops (``workshop_views``)
and the opinion map (``map_views``).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from summit.core import i18n
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.forms import form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import PUBLIC, csrf_token, page
from summit.core.templating import render
from summit.core.web import db, summit_or_404
from summit.forum import access, pagecache, pages, reactions, reactors
from summit.forum.mail import mailer_of
from summit.forum.rules.reactions import method_names, reason_names, stance_names
from summit.forum.settings import forum_settings


def names() -> dict[str, Any]:
    """The translated names every forum page uses."""
    return {"stance_names": stance_names(), "reason_names": reason_names()}


@page("/forum", allow=PUBLIC)
async def index(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        cards = await pages.forum_index(session, summit.id)
        settings = await forum_settings(session, summit.id)
    return render(request, "forum/index.html", {"cards": cards, "settings": settings, **names()})


async def proposal_response(
    request: Request,
    summit: Summit,
    proposal_id: int,
    *,
    error: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    csrf: str | None = None,
) -> Response:
    """The proposal's page; a refused reaction comes back with its message and what was typed.
    ``csrf`` renders another token than the visitor's (the page cache's stand-in)."""
    from summit.forum import opinion

    async with db(request).session() as session:
        data = await pages.proposal_page(session, summit.id, proposal_id, page=_page(request))
        reactor = await access.current_reactor(request, session, summit)
        settings = await forum_settings(session, summit.id)
        consensus = await opinion.consensus_for(request.app, session, summit, [proposal_id])
    context = {
        "page": data,
        "reactor": reactor,
        "settings": settings,
        "ways": ", ".join(method_names()[m] for m in settings.methods),
        "error": error,
        "values": values or {},
        "consensus": consensus.get(proposal_id, []),
        "notice": request.query_params.get("done"),
        **names(),
    }
    if csrf is not None:
        context["csrf_token"] = csrf
    return render(request, "forum/proposal.html", context, status)


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


@page("/forum/proposals/{pid:int}", allow=PUBLIC)
async def proposal(request: Request) -> Response:
    summit = summit_or_404(request)
    proposal_id = path_int(request, "pid")
    if not pagecache.cacheable(request):
        return await proposal_response(request, summit, proposal_id)
    cache = pagecache.cache_of(request.app)
    key = (summit.id, proposal_id, _page(request), i18n.current_language())
    html = cache.get(key)
    if html is None:
        fresh = await proposal_response(request, summit, proposal_id, csrf=pagecache.STAND_IN)
        html = bytes(fresh.body).decode()
        cache.put(key, html)
    return HTMLResponse(html.replace(pagecache.STAND_IN, csrf_token(request)))


@page("/forum/proposals/{pid:int}/react", allow=PUBLIC, methods=("POST",))
async def react(request: Request) -> Response:
    summit = summit_or_404(request)
    proposal_id = path_int(request, "pid")
    form = await request.form()
    values = {"stance": form_text(form, "stance"), "text": form_text(form, "text")}
    if access.too_many(request, "forum_posts", access.POSTS_PER_MINUTE):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    try:
        async with db(request).session() as session:
            reactor = await access.current_reactor(request, session, summit, create=True)
            if reactor is None:
                raise PermissionDenied(_("First show that you may react (see below)."))
            await reactions.react(
                session,
                summit,
                reactor=reactor,
                proposal_id=proposal_id,
                stance=values["stance"],
                text=values["text"],
            )
    except InvalidInput as exc:
        return await proposal_response(
            request, summit, proposal_id, error=(exc.field, exc.detail), values=values, status=400
        )
    except PermissionDenied as exc:
        return await proposal_response(
            request, summit, proposal_id, error=("text", str(exc)), values=values, status=403
        )
    return RedirectResponse(f"/forum/proposals/{proposal_id}?done=reacted#reactions", 303)


@page("/forum/reactions/{rid:int}/report", allow=PUBLIC, methods=("POST",))
async def report(request: Request) -> Response:
    summit = summit_or_404(request)
    if access.too_many(request, "forum_posts", access.POSTS_PER_MINUTE):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    async with db(request).session() as session:
        reaction = await reactions.get_reaction(session, summit.id, path_int(request, "rid"))
        await reactions.report(session, summit.id, reaction.id, reporter=access.reporter(request))
    return RedirectResponse(
        f"/forum/proposals/{reaction.proposal_id}?done=reported#reaction-{reaction.id}", 303
    )


# --- taking part --------------------------------------------------------------------------------


async def _verify_page(
    request: Request,
    summit: Summit,
    *,
    error: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    sent: bool = False,
) -> Response:
    async with db(request).session() as session:
        settings = await forum_settings(session, summit.id)
        reactor = await access.current_reactor(request, session, summit)
    context = {
        "settings": settings,
        "methods": method_names(),
        "mail": mailer_of(request.app).available,
        "reactor": reactor,
        "error": error,
        "values": values or {},
        "sent": sent,
        "next": _next(request),
    }
    return render(request, "forum/verify.html", context, status)


def _next(request: Request) -> str:
    wanted = request.query_params.get("next", "")
    return wanted if wanted.startswith("/forum/") and "//" not in wanted else "/forum"


@page("/forum/take-part", allow=PUBLIC, methods=("GET", "POST"))
async def take_part(request: Request) -> Response:
    """Show that you may react: a letter code, a postcode or an e-mail address."""
    summit = summit_or_404(request)
    if request.method == "GET":
        return await _verify_page(request, summit)
    form = await request.form()
    method = form_text(form, "method")
    values = {k: form_text(form, k) for k in ("method", "code", "postcode", "email")}
    if access.too_many(request, "forum_checks", access.CHECKS_PER_MINUTE):
        return await _verify_page(
            request,
            summit,
            error=(method or "method", _("Too many attempts. Try again in a minute.")),
            values=values,
            status=429,
        )
    try:
        if method == "email":
            return await _send_confirmation(request, summit, values)
        async with db(request).session() as session:
            if method == "letter_code":
                found = await reactors.by_letter_code(
                    session, summit, access.secret(request), values["code"]
                )
            elif method == "postcode":
                found = await reactors.by_postcode(session, summit, values["postcode"])
            else:
                raise InvalidInput("method", _("Choose how you show that you may react."))
    except InvalidInput as exc:
        return await _verify_page(
            request, summit, error=(exc.field, exc.detail), values=values, status=400
        )
    request.session[access.REACTOR_KEY] = found.id
    return RedirectResponse(_next(request), 303)


async def _send_confirmation(request: Request, summit: Summit, values: dict[str, str]) -> Response:
    mailer = mailer_of(request.app)
    if not mailer.available:
        raise InvalidInput(
            "email",
            _("E-mail confirmation is switched off: this platform cannot send e-mail yet."),
        )
    async with db(request).session() as session:
        _reactor, token = await reactors.request_email(
            session, summit, access.secret(request), values["email"]
        )
    base = str(request.app.state.settings.base_url).rstrip("/")
    body = _(
        "Open this link to confirm your e-mail address and react on the forum of %(summit)s:"
    ) % {"summit": summit.name}
    await mailer.send(
        values["email"],
        _("Confirm your e-mail address"),
        f"{body}\n\n{base}/forum/confirm/{token}\n",
    )
    return await _verify_page(request, summit, sent=True)


@page("/forum/confirm/{token}", allow=PUBLIC)
async def confirm(request: Request) -> Response:
    if access.too_many(request, "forum_checks", access.CHECKS_PER_MINUTE):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    try:
        async with db(request).session() as session:
            found = await reactors.confirm_email(session, request.path_params["token"])
    except NotFound as exc:
        return render(request, "error.html", {"status": 404, "detail": str(exc)}, 404)
    request.session[access.REACTOR_KEY] = found.id
    return RedirectResponse("/forum?done=confirmed", 303)


@page("/forum/mine", allow=PUBLIC)
async def mine(request: Request) -> Response:
    """Your reactions and which workshop revisions used them."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        reactor = await access.current_reactor(request, session, summit)
        rows = await reactions.mine(session, reactor.id) if reactor and reactor.id else []
        used = await reactions.usage(session, [r.id for r in rows])
    context = {"reactor": reactor, "rows": rows, "used": used, **names()}
    return render(request, "forum/mine.html", context)


def _all_routes() -> list[Any]:
    from summit.forum import map_views, meeting_video, staff_views, workshop_views

    own = [index, proposal, react, report, take_part, confirm, mine]
    return [
        *own,
        *staff_views.routes,
        *workshop_views.routes,
        *map_views.routes,
        *meeting_video.routes,
    ]


routes = _all_routes()
