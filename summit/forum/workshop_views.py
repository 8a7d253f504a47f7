"""Workshop pages: the public page of a workshop (members, guests, meetings, revisions, the
draw), volunteering, the organiser's decisions, the guests' links, and the working page where
members, experts and officials see the reactions grouped and write revisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.forms import form_ids, form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import ORGANISER, PARTICIPANT, PUBLIC, page
from summit.core.templating import render
from summit.core.web import current_participant, db, identity, summit_or_404
from summit.council import ProposalText
from summit.forum import access, grouping, opinion, proposals, reactions, workshops
from summit.forum.models import Workshop
from summit.forum.rules.reactions import stance_names
from summit.forum.rules.workshops import SEED
from summit.ideas.models import Theme

Error = tuple[str, str] | None
Work = Callable[[AsyncSession, Summit, Workshop, FormData], Awaitable[str | None]]


async def _workshop_context(
    request: Request, session: AsyncSession, summit: Summit, workshop: Workshop
) -> dict[str, Any]:
    ident = identity(request)
    mine = (
        await workshops.membership(session, workshop.id, ident.participant_id)
        if ident.participant_id
        else None
    )
    revisions = await workshops.revisions(session, workshop.id)
    guests = await workshops.guests(session, workshop.id)
    return {
        "workshop": workshop,
        "theme": await session.get(Theme, workshop.theme_id) if workshop.theme_id else None,
        "proposal": (
            await proposals.forum_proposal(session, summit.id, workshop.proposal_id)
            if workshop.proposal_id
            else None
        ),
        "members": await workshops.members(session, workshop.id),
        "guests": guests,
        "names": {g.pseudonym: g.display_name for g in guests},
        "meetings": await workshops.meetings(session, workshop.id),
        "contributions": await workshops.contributions(session, workshop.id),
        "revisions": revisions,
        "citations": await workshops.citations(session, [r.id for r in revisions]),
        "mine": mine,
        "author": await access.author(request, session, workshop),
        "seed_digits": SEED.digits,
    }


async def _workshop_page(
    request: Request,
    *,
    error: Error = None,
    values: dict[str, str] | None = None,
    invited: str | None = None,
    status: int = 200,
) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        workshop = await workshops.get(session, summit.id, path_int(request, "wid"))
        context = await _workshop_context(request, session, summit, workshop)
    context.update(
        {
            "error": error,
            "values": values or {},
            "invited": invited,
            "notice": request.query_params.get("done"),
        }
    )
    return render(request, "forum/workshop.html", context, status)


@page("/forum/workshops", allow=PUBLIC)
async def workshop_list(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await workshops.all_of(session, summit.id)
    return render(request, "forum/workshops.html", {"workshops": rows})


@page("/forum/workshops/{wid:int}", allow=PUBLIC)
async def workshop_page(request: Request) -> Response:
    return await _workshop_page(request)


async def _act(
    request: Request, fields: tuple[str, ...], work: Work, *, page_name: str = "page"
) -> Response:
    """Run one workshop action in a transaction; bad input returns to the page with a message."""
    summit = summit_or_404(request)
    form = await request.form()
    values = {k: form_text(form, k) for k in fields}
    values["cites"] = " ".join(str(v) for v in form.getlist("cites"))
    wid = path_int(request, "wid")
    try:
        async with db(request).session() as session:
            workshop = await workshops.get(session, summit.id, wid)
            target = await work(session, summit, workshop, form)
    except (InvalidInput, PermissionDenied) as exc:
        field = exc.field if isinstance(exc, InvalidInput) else "workshop"
        detail = exc.detail if isinstance(exc, InvalidInput) else str(exc)
        status = 400 if isinstance(exc, InvalidInput) else 403
        if page_name == "work":
            return await _work_page(request, error=(field, detail), values=values, status=status)
        return await _workshop_page(request, error=(field, detail), values=values, status=status)
    return RedirectResponse(target or f"/forum/workshops/{wid}", 303)


@page("/forum/workshops/{wid:int}/volunteer", allow=PARTICIPANT, methods=("POST",))
async def volunteer(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.volunteer(session, w, await current_participant(request, session))
        return f"/forum/workshops/{w.id}?done=volunteered"

    return await _act(request, (), work)


@page("/forum/workshops/{wid:int}/confirm", allow=ORGANISER, methods=("POST",))
async def confirm_member(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.confirm(session, w, form_text(f, "member"), actor=identity(request).actor)
        return f"/forum/workshops/{w.id}?done=confirmed#members"

    return await _act(request, ("member",), work)


@page("/forum/workshops/{wid:int}/commit", allow=ORGANISER, methods=("POST",))
async def commit_draw(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.commit(session, w, actor=identity(request).actor)
        return f"/forum/workshops/{w.id}?done=committed#draw"

    return await _act(request, (), work)


@page("/forum/workshops/{wid:int}/draw", allow=ORGANISER, methods=("POST",))
async def draw(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.draw(session, w, actor=identity(request).actor, seed=form_text(f, "seed"))
        return f"/forum/workshops/{w.id}?done=drawn#draw"

    return await _act(request, ("seed",), work)


@page("/forum/workshops/{wid:int}/guests", allow=ORGANISER, methods=("POST",))
async def invite(request: Request) -> Response:
    """Invite an expert or official; the link is shown once, on this answer."""
    summit = summit_or_404(request)
    form = await request.form()
    values = {k: form_text(form, k) for k in ("role", "name")}
    try:
        async with db(request).session() as session:
            workshop = await workshops.get(session, summit.id, path_int(request, "wid"))
            _guest, token = await workshops.invite(
                session,
                workshop,
                actor=identity(request).actor,
                role=values["role"],
                name=values["name"],
            )
    except InvalidInput as exc:
        return await _workshop_page(
            request, error=(exc.field, exc.detail), values=values, status=400
        )
    base = str(request.app.state.settings.base_url).rstrip("/")
    return await _workshop_page(request, invited=f"{base}/forum/guest/{token}")


@page("/forum/workshops/{wid:int}/guests/{gid:int}/revoke", allow=ORGANISER, methods=("POST",))
async def revoke(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.revoke(session, w, path_int(request, "gid"), actor=identity(request).actor)
        return f"/forum/workshops/{w.id}?done=revoked#guests"

    return await _act(request, (), work)


@page("/forum/workshops/{wid:int}/meetings", allow=ORGANISER, methods=("POST",))
async def plan(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        data = workshops.MeetingForm(
            title=form_text(f, "title"),
            starts_at=form_text(f, "starts_at"),
            place=form_text(f, "place"),
            online=form_text(f, "online") == "1",
        )
        await workshops.plan(session, w, actor=identity(request).actor, form=data)
        return f"/forum/workshops/{w.id}?done=planned#meetings"

    return await _act(request, ("title", "starts_at", "place"), work)


@page("/forum/workshops/{wid:int}/submit", allow=ORGANISER, methods=("POST",))
async def submit(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        await workshops.submit(session, s, w, actor=identity(request).actor)
        return f"/forum/workshops/{w.id}?done=submitted"

    return await _act(request, (), work)


# --- guests and the working page ----------------------------------------------------------------


@page("/forum/guest/{token}", allow=PUBLIC)
async def guest_link(request: Request) -> Response:
    if access.too_many(request, "forum_checks", access.CHECKS_PER_MINUTE):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    try:
        async with db(request).session() as session:
            guest = await workshops.guest_by_token(session, request.path_params["token"])
    except NotFound as exc:
        return render(request, "error.html", {"status": 404, "detail": str(exc)}, 404)
    request.session[access.GUEST_KEY] = guest.id
    return RedirectResponse(f"/forum/workshops/{guest.workshop_id}/work", 303)


async def _work_page(
    request: Request,
    *,
    error: Error = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        workshop = await workshops.get(session, summit.id, path_int(request, "wid"))
        context = await _workshop_context(request, session, summit, workshop)
        if context["author"] is None:
            raise HTTPException(
                403, _("Only the workshop's members, experts, officials and organiser work here.")
            )
        listing = (
            await reactions.reactions_of(session, workshop.proposal_id, page=None)
            if workshop.proposal_id
            else reactions.ReactionList(visible=[])
        )
        ids = [workshop.proposal_id] if workshop.proposal_id else []
        consensus = await opinion.consensus_for(request.app, session, summit, ids)
    groups = await grouping.grouped(
        request.app, summit.default_language, workshop.proposal_id or 0, listing.visible
    )
    if not values and context["revisions"]:
        latest = context["revisions"][0]
        values = {k: getattr(latest, k) for k in ("title", "problem", "text", "who_acts", "cost")}
    context.update(
        {
            "listing": listing,
            "by_id": {r.id: r for r in listing.visible},
            "groups": groups,
            "consensus": consensus.get(workshop.proposal_id or 0, []),
            "stance_names": stance_names(),
            "error": error,
            "values": values or {},
            "cited": (values or {}).get("cites", "").split(),
        }
    )
    return render(request, "forum/work.html", context, status)


@page("/forum/workshops/{wid:int}/work", allow=PUBLIC)
async def work_page(request: Request) -> Response:
    return await _work_page(request)


async def _author_or_403(
    request: Request, session: AsyncSession, workshop: Workshop
) -> workshops.Author:
    found = await access.author(request, session, workshop)
    if found is None:
        raise PermissionDenied(
            _("Only the workshop's members, experts, officials and organiser work here.")
        )
    return found


@page("/forum/workshops/{wid:int}/revisions", allow=PUBLIC, methods=("POST",))
async def revise(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        text = ProposalText(
            title=form_text(f, "title"),
            problem=form_text(f, "problem"),
            text=form_text(f, "text"),
            who_acts=form_text(f, "who_acts"),
            cost=form_text(f, "cost"),
        )
        who = await _author_or_403(request, session, w)
        await workshops.revise(session, w, author=who, text=text, cites=form_ids(f, "cites"))
        return f"/forum/workshops/{w.id}/work?done=revised#revisions"

    fields = ("title", "problem", "text", "who_acts", "cost")
    return await _act(request, fields, work, page_name="work")


@page("/forum/workshops/{wid:int}/notes", allow=PUBLIC, methods=("POST",))
async def contribute(request: Request) -> Response:
    async def work(session: AsyncSession, s: Summit, w: Workshop, f: FormData) -> str:
        who = await _author_or_403(request, session, w)
        await workshops.contribute(session, w, author=who, text=form_text(f, "note"))
        return f"/forum/workshops/{w.id}/work?done=noted#notes"

    return await _act(request, ("note",), work, page_name="work")


routes = [
    workshop_list,
    workshop_page,
    volunteer,
    confirm_member,
    commit_draw,
    draw,
    invite,
    revoke,
    plan,
    submit,
    guest_link,
    work_page,
    revise,
    contribute,
]
