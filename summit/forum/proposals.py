"""The forum's view of the council's proposals: which are on the forum, their versions, their
origin, and handing a workshop's final text to the Burgerraad.

Every call into the council part goes through this module, so the forum follows the council's
public functions in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import council
from summit import council as priority
from summit.core.errors import NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Summit, SummitTable
from summit.council import Author
from summit.council.models import (
    CouncilVote,
    CouncilVoteItem,
    Proposal,
    ProposalVersion,
    ShortlistItem,
)
from summit.ideas.models import Idea, Theme


async def forum_proposals(session: AsyncSession, summit_id: int) -> list[Proposal]:
    """The proposals on the forum: the proposals' shortlist in rank order, or every proposal
    while the summit has made no such shortlist."""
    ranked = await priority.shortlist_items(session, summit_id, "proposals")
    ids = [row.proposal_id for row in ranked if row.proposal_id is not None]
    everything = await council.list_proposals(session, summit_id)
    if not ids:
        return everything
    by_id = {p.id: p for p in everything}
    return [by_id[i] for i in ids if i in by_id]


async def forum_proposal(session: AsyncSession, summit_id: int, proposal_id: int) -> Proposal:
    """A proposal that is on the forum; NotFound otherwise."""
    proposal = await session.get(Proposal, proposal_id)
    if proposal is not None and proposal.summit_id == summit_id:
        listed = select(ShortlistItem.proposal_id).where(
            ShortlistItem.summit_id == summit_id,
            ShortlistItem.stage == "proposals",
            ShortlistItem.proposal_id.is_not(None),
        )
        ranked = set((await session.execute(listed)).scalars())
        if not ranked or proposal.id in ranked:
            return proposal
    raise NotFound(_("This proposal is not on the forum."))


async def versions(session: AsyncSession, proposal_id: int) -> list[ProposalVersion]:
    """Every version, newest first."""
    return await council.proposal_versions(session, proposal_id)


async def latest(session: AsyncSession, proposal_ids: Sequence[int]) -> dict[int, ProposalVersion]:
    return await council.latest_versions(session, proposal_ids)


@dataclass(frozen=True)
class Origin:
    """Where a proposal came from on the summit day: its theme and that theme's ideas, or (for a
    proposal a table wrote without a theme) the ideas recorded at the writing tables."""

    theme: Theme | None
    ideas: list[Idea]
    tables: list[int]  # table numbers
    rank: int | None  # place on the proposals' shortlist
    votes: int | None


async def _origin_ideas(
    session: AsyncSession, proposal: Proposal, theme: Theme | None
) -> list[Idea]:
    if theme is not None:
        where = Idea.theme_id == theme.id
    else:
        tables = select(ProposalVersion.author_table_id).where(
            ProposalVersion.proposal_id == proposal.id,
            ProposalVersion.author_table_id.is_not(None),
        )
        where = Idea.table_id.in_(tables)
    rows = await session.execute(
        select(Idea).where(where, Idea.status != "withdrawn").order_by(Idea.id)
    )
    return list(rows.scalars())


async def origin(session: AsyncSession, proposal: Proposal) -> Origin:
    theme = await session.get(Theme, proposal.theme_id) if proposal.theme_id else None
    ideas = await _origin_ideas(session, proposal, theme)
    authors = select(ProposalVersion.author_table_id).where(
        ProposalVersion.proposal_id == proposal.id
    )
    numbers = (
        await session.execute(
            select(SummitTable.number)
            .where(
                or_(
                    SummitTable.id.in_([i.table_id for i in ideas if i.table_id is not None]),
                    SummitTable.id.in_(authors),
                )
            )
            .order_by(SummitTable.number)
        )
    ).scalars()
    item = await session.scalar(
        select(ShortlistItem).where(
            ShortlistItem.proposal_id == proposal.id, ShortlistItem.stage == "proposals"
        )
    )
    return Origin(
        theme,
        ideas,
        list(numbers),
        item.rank if item else None,
        item.votes if item else None,
    )


@dataclass(frozen=True)
class CouncilResult:
    """The Burgerraad's handling of a proposal: the vote it is on and, once closed, the count."""

    vote_id: int
    title: str
    status: str
    version: int
    votes_for: int | None
    against: int | None
    abstain: int | None
    adopted: bool | None


async def council_results(session: AsyncSession, proposal_id: int) -> list[CouncilResult]:
    rows = (
        await session.execute(
            select(CouncilVoteItem, CouncilVote)
            .join(CouncilVote, CouncilVote.id == CouncilVoteItem.council_vote_id)
            .where(CouncilVoteItem.proposal_id == proposal_id)
            .order_by(CouncilVote.id)
        )
    ).all()
    return [
        CouncilResult(
            vote.id,
            vote.title,
            vote.status,
            item.proposal_version,
            item.votes_for if vote.status == "closed" else None,
            item.against if vote.status == "closed" else None,
            item.abstain if vote.status == "closed" else None,
            item.adopted if vote.status == "closed" else None,
        )
        for item, vote in rows
    ]


async def submit_version(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    workshop_id: int,
    proposal_id: int | None,
    theme_id: int | None,
    text: council.ProposalText,
) -> tuple[int, int]:
    """Make the workshop's final text the proposal's newest version (a new proposal owned by the
    workshop for a theme's workshop); returns (proposal id, version number). The organiser
    submits, as staff: a Burgerraad vote being set up on the proposal moves to this version, and
    one created afterwards carries it."""
    if proposal_id is None:
        created = await council.create_proposal(
            session,
            summit,
            actor=actor,
            content=text,
            theme_id=theme_id,
            owner=f"workshop:{workshop_id}",
        )
        return created.id, 1
    row = await council.revise_proposal(
        session, summit.id, proposal_id, actor=actor, content=text, by=Author(staff=True)
    )
    # The workshop now owns the proposal: besides staff only it could revise it, and it is
    # frozen once submitted, so the submitted text stays the newest version.
    proposal = await council.get_proposal(session, summit.id, proposal_id)
    proposal.owner = f"workshop:{workshop_id}"
    return proposal_id, row.version
