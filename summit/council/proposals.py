"""Themes and proposals: what the summit prioritises and what the Burgerraad votes on.

A proposal (voorstel) is written by a table or a workshop, optionally from a theme; every edit is
a new row in ``proposal_versions`` with its SHA-256, logged, so the history stays readable. Only
the proposal's owner (the table or workshop that wrote it) and staff revise it; once it is on a
vote being set up only staff do, and the vote moves to the new version (logged); once the vote
has opened the text is frozen (``rules.authority``).
Each use case takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core import service as repository
from summit.core.db import rows_of
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Seat, Summit, SummitTable
from summit.council.models import CouncilVote, CouncilVoteItem, Proposal, ProposalVersion
from summit.council.rules.authority import Author, Stage, check_revision, table_owner
from summit.council.rules.text import clean_text
from summit.ideas.models import Theme


async def themes(session: AsyncSession, summit_id: int) -> list[Theme]:
    """The summit's active themes, oldest first."""
    where = (Theme.summit_id == summit_id, Theme.status == "active")
    return await rows_of(session, Theme, *where, order_by=Theme.id)


async def add_theme(session: AsyncSession, summit: Summit, *, actor: str, label: str) -> Theme:
    """An organiser types a theme in (when the theme board is not used)."""
    theme = Theme(summit_id=summit.id, label=clean_text(label, "label", required=True, limit=200))
    session.add(theme)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="theme.add",
        subject=f"theme:{theme.id}",
        summit_id=summit.id,
        payload={"label": theme.label},
    )
    return theme


@dataclass(frozen=True)
class ProposalText:
    title: str
    problem: str = ""
    text: str = ""
    who_acts: str = ""
    cost: str = ""

    def cleaned(self) -> ProposalText:
        return ProposalText(
            title=clean_text(self.title, "title", required=True, limit=200),
            problem=clean_text(self.problem, "problem"),
            text=clean_text(self.text, "text", required=True),
            who_acts=clean_text(self.who_acts, "who_acts"),
            cost=clean_text(self.cost, "cost"),
        )


def version_digest(text: ProposalText) -> str:
    """SHA-256 of a version's text (title, problem, proposal, who acts, cost as a JSON list)."""
    blob = json.dumps(
        [text.title, text.problem, text.text, text.who_acts, text.cost], ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def version_sha256(row: ProposalVersion) -> str:
    """The SHA-256 of a stored version's text (as ``version_digest``)."""
    return version_digest(ProposalText(row.title, row.problem, row.text, row.who_acts, row.cost))


def _version_row(
    proposal_id: int, number: int, text: ProposalText, table_id: int | None
) -> ProposalVersion:
    return ProposalVersion(
        proposal_id=proposal_id,
        version=number,
        title=text.title,
        problem=text.problem,
        text=text.text,
        who_acts=text.who_acts,
        cost=text.cost,
        author_table_id=table_id,
        sha256=version_digest(text),
    )


async def create_proposal(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    content: ProposalText,
    theme_id: int | None = None,
    table_id: int | None = None,
    owner: str | None = None,
) -> Proposal:
    """A table or workshop writes a proposal (voorstel), optionally from a (shortlisted) theme.

    ``owner`` is who may revise it besides staff (``table:<id>``, ``workshop:<id>``; by default
    the writing table, none when staff write it)."""
    clean = content.cleaned()
    if theme_id is not None:
        theme = await session.get(Theme, theme_id)
        if theme is None or theme.summit_id != summit.id:
            raise InvalidInput(
                "theme", _("theme %(theme_id)s does not exist") % {"theme_id": theme_id}
            )
    if owner is None:
        owner = table_owner(table_id) if table_id is not None else ""
    proposal = Proposal(
        summit_id=summit.id, theme_id=theme_id, title=clean.title, status="draft", owner=owner
    )
    session.add(proposal)
    await session.flush()
    session.add(_version_row(proposal.id, 1, clean, table_id))
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="proposal.create",
        subject=f"proposal:{proposal.id}",
        summit_id=summit.id,
        payload={
            "theme": theme_id,
            "table": table_id,
            "owner": owner,
            "version": 1,
            "sha256": version_digest(clean),
        },
    )
    return proposal


async def _stage(session: AsyncSession, proposal_id: int) -> tuple[Stage, list[CouncilVoteItem]]:
    """Whether the proposal is free, on votes being set up (their items), or frozen."""
    rows = (
        await session.execute(
            select(CouncilVoteItem, CouncilVote.status)
            .join(CouncilVote, CouncilVote.id == CouncilVoteItem.council_vote_id)
            .where(CouncilVoteItem.proposal_id == proposal_id)
        )
    ).all()
    if any(status != "planned" for _item, status in rows):
        return Stage.FROZEN, []
    planned = [item for item, _status in rows]
    return (Stage.SET_UP if planned else Stage.FREE), planned


async def set_item_version(
    session: AsyncSession,
    item: CouncilVoteItem,
    row: ProposalVersion,
    *,
    actor: str,
    summit_id: int,
) -> None:
    """A vote (not yet open) now carries version ``row`` of the proposal; logged."""
    before = [item.proposal_version, item.proposal_sha256] if item.proposal_version else None
    item.proposal_version = row.version
    item.proposal_sha256 = row.sha256 or version_sha256(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="council.version",
        subject=f"council:{item.council_vote_id}",
        summit_id=summit_id,
        payload={
            "proposal": item.proposal_id,
            "version": item.proposal_version,
            "sha256": item.proposal_sha256,
            "before": before,
        },
    )


async def revise_proposal(
    session: AsyncSession,
    summit_id: int,
    proposal_id: int,
    *,
    actor: str,
    content: ProposalText,
    by: Author,
    table_id: int | None = None,
) -> ProposalVersion:
    """A new version (the history stays), by the proposal's owner or staff; once the proposal is
    on a vote being set up only staff, and that vote moves to the new version; refused once a
    vote over it has opened."""
    proposal = await get_proposal(session, summit_id, proposal_id)
    stage, on_votes = await _stage(session, proposal.id)
    check_revision(proposal.owner, by, stage)
    clean = content.cleaned()
    latest = int(
        await session.scalar(
            select(func.max(ProposalVersion.version)).where(
                ProposalVersion.proposal_id == proposal.id
            )
        )
        or 0
    )
    row = _version_row(proposal.id, latest + 1, clean, table_id)
    session.add(row)
    proposal.title = clean.title
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="proposal.revise",
        subject=f"proposal:{proposal.id}",
        summit_id=summit_id,
        payload={
            "version": row.version,
            "table": table_id,
            "sha256": row.sha256,
            "by": "staff" if by.staff else "owner",
            "on_votes": [item.council_vote_id for item in on_votes],
        },
    )
    for item in on_votes:
        await set_item_version(session, item, row, actor=actor, summit_id=summit_id)
    return row


async def get_proposal(session: AsyncSession, summit_id: int, proposal_id: int) -> Proposal:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.summit_id != summit_id:
        raise NotFound(_("proposal %(proposal_id)s does not exist") % {"proposal_id": proposal_id})
    return proposal


async def proposal_versions(session: AsyncSession, proposal_id: int) -> list[ProposalVersion]:
    """Every version of a proposal, newest first."""
    where = ProposalVersion.proposal_id == proposal_id
    return await rows_of(session, ProposalVersion, where, order_by=ProposalVersion.version.desc())


async def latest_versions(
    session: AsyncSession, proposal_ids: Iterable[int]
) -> dict[int, ProposalVersion]:
    """The newest version of each proposal."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(ProposalVersion)
            .where(ProposalVersion.proposal_id.in_(ids))
            .order_by(ProposalVersion.proposal_id, ProposalVersion.version)
        )
    ).scalars()
    return {row.proposal_id: row for row in rows}


async def proposals(session: AsyncSession, summit_id: int) -> list[Proposal]:
    return await rows_of(session, Proposal, Proposal.summit_id == summit_id, order_by=Proposal.id)


async def hosted_table(session: AsyncSession, participant: Participant) -> SummitTable | None:
    """The table this participant hosts in the current round, if any."""
    rnd = await repository.current_round(session, participant.summit_id)
    if rnd is None:
        return None
    seat = await session.scalar(
        select(Seat).where(
            Seat.round_id == rnd.id, Seat.participant_id == participant.id, Seat.is_host
        )
    )
    return await session.get(SummitTable, seat.table_id) if seat else None
