"""What a participant should do first in the council (shown at the top of /me): cast their
Burgerraad vote, give their dots, sign the Burgerbesluit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.i18n import gettext as _
from summit.core.models import Participant
from summit.council import decision, priority, vote


async def calls_to_action(session: AsyncSession, participant: Participant) -> list[tuple[str, str]]:
    """(text, link) pairs, most urgent first; empty when nothing waits for this participant."""
    out: list[tuple[str, str]] = []
    if await vote.member_of_open_vote(session, participant.id):
        out.append((_("The Burgerraad vote is open: cast your vote now."), "/council/mine"))
    for found in await priority.priority_votes(session, participant.summit_id):
        if found.status == "open":
            out.append(
                (
                    _("Voting on the priorities is open: give your votes to “%(title)s”.")
                    % {"title": found.title},
                    f"/council/priorities/{found.id}/vote",
                )
            )
    for found_decision in await decision.decisions(session, participant.summit_id):
        if (
            found_decision.council_vote_id
            and await vote.is_member(session, found_decision.council_vote_id, participant.id)
            and not await decision.has_signed(session, found_decision.id, participant.id)
        ):
            out.append((_("The Burgerbesluit is ready: read and sign it."), "/council/mine"))
    return out
