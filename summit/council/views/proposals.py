"""Proposal pages: the public list and history of every proposal; table hosts and staff write
them, and a proposal's own table (or workshop) and staff revise it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core.forms import form_optional_int, form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.routing import PARTICIPANT, PUBLIC, STAFF, page
from summit.core.templating import render
from summit.core.web import current_participant, db, identity, summit_or_404
from summit.council import proposals as uc
from summit.council.priority import shortlisted_themes
from summit.council.rules.authority import Author, table_owner


def _proposal_text(form: FormData) -> uc.ProposalText:
    return uc.ProposalText(
        title=form_text(form, "title"),
        problem=form_text(form, "problem"),
        text=form_text(form, "text"),
        who_acts=form_text(form, "who_acts"),
        cost=form_text(form, "cost"),
    )


async def _author(request: Request, session: AsyncSession) -> tuple[Author, int | None]:
    """Who writes, and for which table: staff write for a workshop (no table); a participant
    must host a table (or be a host) and acts for the table they host."""
    if identity(request).staff_id is not None:
        return Author(staff=True), None
    participant = await current_participant(request, session)
    table = await uc.hosted_table(session, participant)
    if table is None and not participant.is_host:
        raise HTTPException(403, "role: " + _("only table hosts and staff write proposals"))
    if table is not None:
        return Author.member_of(table_owner(table.id)), table.id
    return Author.member_of(f"participant:{participant.id}"), None


async def _can_write(request: Request, session: AsyncSession) -> bool:
    """Staff, and participants who host a table, write proposals."""
    if identity(request).participant_id is None:
        return identity(request).staff_id is not None
    participant = await current_participant(request, session)
    return participant.is_host or await uc.hosted_table(session, participant) is not None


async def _can_revise(request: Request, session: AsyncSession, owner: str) -> bool:
    """Staff, and the host acting for the proposal's owner."""
    if identity(request).staff_id is not None:
        return True
    if identity(request).participant_id is None or not await _can_write(request, session):
        return False
    author, _table = await _author(request, session)
    return owner in author.owner_keys


@page("/council/proposals", allow=PUBLIC, methods=("GET", "POST"))
async def proposals(request: Request) -> Response:
    """The public list of proposals; hosts and staff write a new one here."""
    summit = summit_or_404(request)
    if request.method == "POST":
        ident = identity(request)
        if ident.staff_id is None and ident.participant_id is None:
            raise HTTPException(401, "login: " + _("log in or open your personal link to write"))
        form = await request.form()
        async with db(request).session() as session:
            author, table_id = await _author(request, session)
            proposal = await uc.create_proposal(
                session,
                summit,
                actor=ident.actor,
                content=_proposal_text(form),
                theme_id=form_optional_int(form, "theme"),
                table_id=table_id,
                owner=author.owner,
            )
        return RedirectResponse(f"/council/proposals/{proposal.id}", status_code=303)
    async with db(request).session() as session:
        rows = await uc.proposals(session, summit.id)
        context = {
            "proposals": rows,
            "latest": await uc.latest_versions(session, [p.id for p in rows]),
            "themes": await shortlisted_themes(session, summit.id),
            "can_write": await _can_write(request, session),
        }
    return render(request, "council/proposals.html", context)


@page("/council/proposals/{pid:int}", allow=PUBLIC)
async def proposal_detail(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        proposal = await uc.get_proposal(session, summit.id, path_int(request, "pid"))
        context = {
            "proposal": proposal,
            "versions": await uc.proposal_versions(session, proposal.id),
            "can_write": await _can_revise(request, session, proposal.owner),
        }
    return render(request, "council/proposal.html", context)


@page("/council/proposals/{pid:int}/versions", allow=STAFF | PARTICIPANT, methods=("POST",))
async def proposal_revise(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    proposal_id = path_int(request, "pid")
    async with db(request).session() as session:
        author, table_id = await _author(request, session)
        await uc.revise_proposal(
            session,
            summit.id,
            proposal_id,
            actor=identity(request).actor,
            content=_proposal_text(form),
            by=author,
            table_id=table_id,
        )
    return RedirectResponse(f"/council/proposals/{proposal_id}", status_code=303)


routes = [proposals, proposal_detail, proposal_revise]
