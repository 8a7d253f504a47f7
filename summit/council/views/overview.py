"""The organiser's council overview (with its forms) and the participant's "Votes" page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core.forms import form_text
from summit.core.models import Participant
from summit.core.routing import ORGANISER, PARTICIPANT, STAFF, page
from summit.core.templating import render
from summit.core.web import current_participant, db, identity, summit_or_404
from summit.council import credentials, decision, priority, proposals, vote
from summit.plenary import display_links


@page("/council", allow=STAFF)
async def overview(request: Request) -> Response:
    """Prioritisations, Burgerraad votes, proposals, decisions and display links, with forms."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        context = {
            "themes": await proposals.themes(session, summit.id),
            "proposals": await proposals.proposals(session, summit.id),
            "priority_votes": await priority.priority_votes(session, summit.id),
            "council_votes": await vote.council_votes(session, summit.id),
            "decisions": await decision.decisions(session, summit.id),
            "display_links": await display_links(session, summit.id),
            "display_url": request.query_params.get("display"),
        }
    return render(request, "council/index.html", context)


@page("/council/themes", allow=ORGANISER, methods=("POST",), form_page="/council")
async def add_theme(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        await proposals.add_theme(
            session, summit, actor=identity(request).actor, label=form_text(form, "label")
        )
    return RedirectResponse("/council#themes", status_code=303)


async def _council_votes(
    session: AsyncSession, summit_id: int, participant: Participant
) -> list[tuple[Any, bool, str]]:
    """The votes with whether the participant is a member and where their voting key stands
    (whether they voted is known only to their browser)."""
    rows = []
    for found in await vote.council_votes(session, summit_id):
        member = await credentials.may_ask(session, found, participant)
        state = await credentials.key_state(session, found.id, participant.id)
        rows.append((found, member, state.status))
    return rows


async def _to_sign(
    session: AsyncSession, summit_id: int, participant: Participant
) -> list[tuple[Any, bool]]:
    rows = []
    for found in await decision.decisions(session, summit_id):
        if found.council_vote_id and await vote.is_member(
            session, found.council_vote_id, participant.id
        ):
            rows.append((found, await decision.has_signed(session, found.id, participant.id)))
    return rows


@page("/council/mine", allow=PARTICIPANT)
async def mine(request: Request) -> Response:
    """What the participant can do now: dot votes, the Burgerraad ballot, signing, their table."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        opened = [
            v for v in await priority.priority_votes(session, summit.id) if v.status != "planned"
        ]
        context = {
            "priorities": opened,
            "votes": await _council_votes(session, summit.id, participant),
            "to_sign": await _to_sign(session, summit.id, participant),
            "hosted": await proposals.hosted_table(session, participant),
            "tally_saved": request.query_params.get("tally") == "saved",
        }
    return render(request, "council/mine.html", context)


routes = [overview, add_theme, mine]
