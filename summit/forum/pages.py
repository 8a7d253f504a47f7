"""What the forum's public pages show, gathered in one session: the list of proposals and one
proposal with its origin, versions, reactions, workshops and the chain from the summit's ideas
to the Burgerraad's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.council.models import Proposal, ProposalVersion
from summit.forum import proposals, reactions, workshops
from summit.forum.models import Revision, Workshop
from summit.forum.rules.reactions import STANCES


@dataclass
class ProposalCard:
    proposal: Proposal
    version: ProposalVersion | None
    stances: dict[str, int]


async def forum_index(session: AsyncSession, summit_id: int) -> list[ProposalCard]:
    rows = await proposals.forum_proposals(session, summit_id)
    latest = await proposals.latest(session, [p.id for p in rows])
    counts = await reactions.stance_counts(session, summit_id)
    return [
        ProposalCard(p, latest.get(p.id), counts.get(p.id, dict.fromkeys(STANCES, 0))) for p in rows
    ]


@dataclass
class WorkshopTrack:
    """A workshop on the proposal and its revisions (newest first)."""

    workshop: Workshop
    revisions: list[Revision]
    citations: dict[int, list[int]]


@dataclass
class ProposalPage:
    proposal: Proposal
    versions: list[ProposalVersion]
    origin: proposals.Origin
    reactions: reactions.ReactionList
    tracks: list[WorkshopTrack]
    council: list[proposals.CouncilResult]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def latest(self) -> ProposalVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def submitted(self) -> list[Workshop]:
        return [t.workshop for t in self.tracks if t.workshop.status == "submitted"]

    @property
    def revision_count(self) -> int:
        return sum(len(t.revisions) for t in self.tracks)


async def tracks(session: AsyncSession, proposal_id: int) -> list[WorkshopTrack]:
    rows = (
        await session.execute(
            select(Workshop).where(Workshop.proposal_id == proposal_id).order_by(Workshop.id)
        )
    ).scalars()
    found = []
    for workshop in rows:
        revs = await workshops.revisions(session, workshop.id)
        cites = await workshops.citations(session, [r.id for r in revs])
        found.append(WorkshopTrack(workshop, revs, cites))
    return found


async def proposal_page(
    session: AsyncSession, summit_id: int, proposal_id: int, *, page: int = 1
) -> ProposalPage:
    proposal = await proposals.forum_proposal(session, summit_id, proposal_id)
    return ProposalPage(
        proposal=proposal,
        versions=await proposals.versions(session, proposal.id),
        origin=await proposals.origin(session, proposal),
        reactions=await reactions.reactions_of(session, proposal.id, page=page),
        tracks=await tracks(session, proposal.id),
        council=await proposals.council_results(session, proposal.id),
    )
