"""Prioritisation (dot voting, *stippen plakken*) and the shortlist it makes.

Participants distribute their dots online; a venue table's host enters the table's paper tally.
Closing counts, breaks ties by the public seed fixed at creation and writes the top ``K`` to
``shortlist_items``. Dot votes are not secret (like stickers on a wall), only shown as totals.
Use cases run inside the caller's transaction and return the live events to publish after it
commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core import service as repository
from summit.core.db import lock_row, rows_of, upsert
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Seat, Summit, SummitTable, utcnow
from summit.council.models import (
    PriorityBallot,
    PriorityItem,
    PriorityTableTally,
    PriorityVote,
    ShortlistItem,
)
from summit.council.proposals import hosted_table, proposals, themes
from summit.council.rules.text import clean_text
from summit.council.rules.voting import (
    Shortlist,
    VotingError,
    check_open,
    shortlist,
    tally,
    transition,
    validate_allocation,
    validate_table_tally,
)
from summit.ideas.models import Theme

Event = tuple[str, dict[str, Any]]

STAGES = ("agenda", "proposals")
ITEM_KINDS = ("theme", "proposal")
#: The advisory-lock key space of priority votes on PostgreSQL.
LOCK_SPACE = 7_302_002


@dataclass(frozen=True)
class PrioritySettings:
    title: str
    item_kind: str = "theme"
    stage: str = "agenda"
    votes_per_participant: int = 5
    shortlist_size: int = 12
    max_per_item: int | None = None
    seed: str = ""

    def check(self) -> None:
        if self.item_kind not in ITEM_KINDS:
            raise InvalidInput("item_kind", _("must be theme or proposal"))
        if self.stage not in STAGES:
            raise InvalidInput("stage", _("must be agenda or proposals"))
        if not 1 <= self.votes_per_participant <= 100:
            raise InvalidInput("votes_per_participant", _("must be 1 to 100"))
        if not 1 <= self.shortlist_size <= 500:
            raise InvalidInput("shortlist_size", _("must be 1 to 500"))
        if self.max_per_item is not None and not (
            1 <= self.max_per_item <= self.votes_per_participant
        ):
            raise InvalidInput(
                "max_per_item", _("must be 1 to the number of votes per participant")
            )


def _update(summit_id: int, vote_id: int) -> list[Event]:
    """The plenary screen and the organiser's page re-read the totals (throttled)."""
    return [(f"display:{summit_id}", {"type": "priority.update", "vote": vote_id})]


async def _candidates(session: AsyncSession, summit_id: int, kind: str) -> dict[int, str]:
    if kind == "theme":
        return {t.id: t.label for t in await themes(session, summit_id)}
    return {p.id: p.title for p in await proposals(session, summit_id)}


async def create_priority_vote(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    settings: PrioritySettings,
    item_ids: Sequence[int] | None = None,
) -> PriorityVote:
    """A dot vote over themes or proposals; the tie-break seed is fixed and logged now."""
    title = clean_text(settings.title, "title", required=True, limit=200)
    settings.check()
    seed = clean_text(settings.seed, "seed", limit=200) or secrets.token_hex(16)
    candidates = await _candidates(session, summit.id, settings.item_kind)
    chosen = list(item_ids) if item_ids else sorted(candidates)
    unknown = [i for i in chosen if i not in candidates]
    if unknown:
        raise InvalidInput(
            "items",
            (
                _("theme %(value)s does not exist")
                if settings.item_kind == "theme"
                else _("proposal %(value)s does not exist")
            )
            % {"value": unknown[0]},
        )
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("items", _("an item is listed twice"))
    if not chosen:
        raise InvalidInput(
            "items",
            _("there are no themes to vote on yet")
            if settings.item_kind == "theme"
            else _("there are no proposals to vote on yet"),
        )
    vote = PriorityVote(
        summit_id=summit.id,
        title=title,
        stage=settings.stage,
        item_kind=settings.item_kind,
        votes_per_participant=settings.votes_per_participant,
        max_per_item=settings.max_per_item,
        shortlist_size=settings.shortlist_size,
        seed=seed,
        status="planned",
    )
    session.add(vote)
    await session.flush()
    kind = settings.item_kind
    for position, item_id in enumerate(chosen):
        session.add(
            PriorityItem(
                priority_vote_id=vote.id,
                theme_id=item_id if kind == "theme" else None,
                proposal_id=item_id if kind == "proposal" else None,
                key=f"{kind}:{item_id}",
                label=candidates[item_id][:200],
                position=position,
            )
        )
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="priority.create",
        subject=f"priority:{vote.id}",
        summit_id=summit.id,
        payload={
            "title": title,
            "stage": vote.stage,
            "items": [f"{kind}:{i}" for i in chosen],
            "votes_per_participant": vote.votes_per_participant,
            "max_per_item": vote.max_per_item,
            "shortlist_size": vote.shortlist_size,
            "seed": seed,
        },
    )
    return vote


async def get_priority_vote(session: AsyncSession, summit_id: int, vote_id: int) -> PriorityVote:
    vote = await session.get(PriorityVote, vote_id)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(_("priority vote %(vote_id)s does not exist") % {"vote_id": vote_id})
    return vote


async def _locked(
    session: AsyncSession, summit_id: int, vote_id: int, *, exclusive: bool
) -> PriorityVote:
    vote = await lock_row(session, PriorityVote, vote_id, exclusive=exclusive, space=LOCK_SPACE)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(_("priority vote %(vote_id)s does not exist") % {"vote_id": vote_id})
    assert isinstance(vote, PriorityVote)
    return vote


async def priority_votes(session: AsyncSession, summit_id: int) -> list[PriorityVote]:
    return await rows_of(
        session, PriorityVote, PriorityVote.summit_id == summit_id, order_by=PriorityVote.id.desc()
    )


async def priority_items(session: AsyncSession, vote_id: int) -> list[PriorityItem]:
    where = PriorityItem.priority_vote_id == vote_id
    return await rows_of(session, PriorityItem, where, order_by=PriorityItem.position)


def _status_events(summit_id: int, vote_id: int, kind: str) -> list[Event]:
    event = {"type": kind, "vote": vote_id}
    return [(f"summit:{summit_id}", event), (f"display:{summit_id}", event)]


async def open_priority_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str
) -> tuple[PriorityVote, list[Event]]:
    """Open the dot vote (its seed is logged again)."""
    vote = await _locked(session, summit_id, vote_id, exclusive=True)
    transition(vote.status, "open")
    vote.status = "open"
    vote.opened_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="priority.open",
        subject=f"priority:{vote.id}",
        summit_id=summit_id,
        payload={"seed": vote.seed},
    )
    return vote, _status_events(summit_id, vote.id, "priority.opened")


@dataclass(frozen=True)
class PriorityTotals:
    vote: PriorityVote
    items: list[PriorityItem]
    totals: dict[str, int]
    online_voters: int
    paper_voters: int
    tables: int

    @property
    def voters(self) -> int:
        return self.online_voters + self.paper_voters

    @property
    def top(self) -> int:
        return max(self.totals.values(), default=0)

    def ranked(self) -> list[tuple[PriorityItem, int]]:
        """Items by total so far (no tie-break until the vote closes)."""
        return sorted(
            ((item, self.totals.get(item.key, 0)) for item in self.items),
            key=lambda pair: (-pair[1], pair[0].position),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "vote": self.vote.id,
            "title": self.vote.title,
            "status": self.vote.status,
            "votes_per_participant": self.vote.votes_per_participant,
            "shortlist_size": self.vote.shortlist_size,
            "seed": self.vote.seed,
            "voters": {"online": self.online_voters, "paper": self.paper_voters},
            "tables": self.tables,
            "items": [
                {"key": item.key, "label": item.label, "votes": votes}
                for item, votes in self.ranked()
            ],
        }


async def priority_totals(session: AsyncSession, vote: PriorityVote) -> PriorityTotals:
    items = await priority_items(session, vote.id)
    ballots = list(
        (
            await session.execute(
                select(PriorityBallot.dots).where(PriorityBallot.priority_vote_id == vote.id)
            )
        ).scalars()
    )
    tallies = list(
        (
            await session.execute(
                select(PriorityTableTally).where(PriorityTableTally.priority_vote_id == vote.id)
            )
        ).scalars()
    )
    keys = [item.key for item in items]
    totals = tally(keys, [*ballots, *(t.dots for t in tallies)])
    return PriorityTotals(
        vote=vote,
        items=items,
        totals=totals,
        online_voters=sum(1 for dots in ballots if dots),
        paper_voters=sum(t.voters for t in tallies),
        tables=len(tallies),
    )


async def _seated_table_tallied(
    session: AsyncSession, vote_id: int, participant: Participant
) -> int | None:
    rnd = await repository.current_round(session, participant.summit_id)
    if rnd is None:
        return None
    row = await session.execute(
        select(SummitTable.number)
        .join(Seat, Seat.table_id == SummitTable.id)
        .join(PriorityTableTally, PriorityTableTally.table_id == SummitTable.id)
        .where(
            Seat.round_id == rnd.id,
            Seat.participant_id == participant.id,
            PriorityTableTally.priority_vote_id == vote_id,
        )
    )
    number = row.scalar_one_or_none()
    return int(number) if number is not None else None


async def submit_dots(
    session: AsyncSession, vote_id: int, participant: Participant, dots: Mapping[str, int]
) -> tuple[dict[str, int], list[Event]]:
    """A participant's dots; a new submission replaces their earlier one (never adds to it)."""
    vote = await _locked(session, participant.summit_id, vote_id, exclusive=False)
    check_open(vote.status, "prioritisation")
    table = await _seated_table_tallied(session, vote.id, participant)
    if table is not None:
        raise VotingError(
            "dots",
            _("the paper tally of table %(table)s already counts your votes") % {"table": table},
        )
    keys = [item.key for item in await priority_items(session, vote.id)]
    clean = validate_allocation(dots, keys, vote.votes_per_participant, vote.max_per_item)
    statement = upsert(session, PriorityBallot).values(
        priority_vote_id=vote.id, participant_id=participant.id, dots=clean, updated_at=utcnow()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["priority_vote_id", "participant_id"],
            set_={"dots": clean, "updated_at": utcnow()},
        )
    )
    return clean, _update(participant.summit_id, vote.id)


async def my_dots(session: AsyncSession, vote_id: int, participant_id: int) -> dict[str, int]:
    dots = await session.scalar(
        select(PriorityBallot.dots).where(
            PriorityBallot.priority_vote_id == vote_id,
            PriorityBallot.participant_id == participant_id,
        )
    )
    return {str(k): int(v) for k, v in (dots or {}).items()}


async def _paper_voters(
    session: AsyncSession, vote_id: int, table_id: int, summit_id: int
) -> int | None:
    """Who at the table may vote on paper: those seated in the current round who did not vote
    online (``None`` when nobody is seated there: the host says how many)."""
    rnd = await repository.current_round(session, summit_id)
    if rnd is None:
        return None
    seated = list(
        (
            await session.execute(
                select(Seat.participant_id).where(
                    Seat.round_id == rnd.id, Seat.table_id == table_id
                )
            )
        ).scalars()
    )
    if not seated:
        return None
    online = await session.scalar(
        select(func.count())
        .select_from(PriorityBallot)
        .where(
            PriorityBallot.priority_vote_id == vote_id,
            PriorityBallot.participant_id.in_(seated),
        )
    )
    return len(seated) - int(online or 0)


async def enter_table_tally(
    session: AsyncSession,
    summit_id: int,
    vote_id: int,
    *,
    actor: str,
    table_number: int,
    dots: Mapping[str, int],
    voters: int | None = None,
    host: Participant | None = None,
) -> tuple[PriorityTableTally, list[Event]]:
    """A venue table's paper dots, entered by its host (``host``) or by staff.

    The people seated there in the current round who have not voted online are the paper voters;
    after the tally they cannot vote online, so no dot counts twice.
    """
    vote = await _locked(session, summit_id, vote_id, exclusive=False)
    check_open(vote.status, "prioritisation")
    table = await session.scalar(
        select(SummitTable).where(
            SummitTable.summit_id == summit_id, SummitTable.number == table_number
        )
    )
    if table is None:
        raise InvalidInput(
            "table", _("table %(table_number)s does not exist") % {"table_number": table_number}
        )
    if table.kind == "online":
        raise InvalidInput(
            "table",
            _("table %(table_number)s meets online: its members vote online, not on paper")
            % {"table_number": table_number},
        )
    if host is not None:
        hosted = await hosted_table(session, host)
        if hosted is None or hosted.id != table.id:
            raise PermissionDenied(
                "table: " + _("you can only enter the tally of the table you host")
            )
    paper = await _paper_voters(session, vote.id, table.id, summit_id)
    if voters is None:
        if paper is None:
            raise InvalidInput("voters", _("say how many people at this table voted on paper"))
        voters = paper
    if voters < 0 or (paper is not None and voters > paper):
        raise InvalidInput(
            "voters",
            _("at most %(paper)s people at table %(table_number)s can vote on paper")
            % {"paper": paper, "table_number": table_number},
        )
    keys = [item.key for item in await priority_items(session, vote.id)]
    clean = validate_table_tally(dots, keys, vote.votes_per_participant, voters, vote.max_per_item)
    row = await session.scalar(
        select(PriorityTableTally).where(
            PriorityTableTally.priority_vote_id == vote.id, PriorityTableTally.table_id == table.id
        )
    )
    if row is None:
        row = PriorityTableTally(priority_vote_id=vote.id, table_id=table.id)
        session.add(row)
    row.voters = voters
    row.dots = clean
    row.entered_by = actor
    row.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="priority.tally",
        subject=f"priority:{vote.id}",
        summit_id=summit_id,
        payload={"table": table_number, "voters": voters, "dots": clean},
    )
    return row, _update(summit_id, vote.id)


async def _replace_shortlist(
    session: AsyncSession, vote: PriorityVote, totals: PriorityTotals, result: Shortlist
) -> None:
    existing = (
        await session.execute(
            select(ShortlistItem).where(
                ShortlistItem.summit_id == vote.summit_id, ShortlistItem.stage == vote.stage
            )
        )
    ).scalars()
    for old in existing:
        await session.delete(old)
    by_key = {item.key: item for item in totals.items}
    for row in result.chosen:
        item = by_key[row.item]
        session.add(
            ShortlistItem(
                summit_id=vote.summit_id,
                stage=vote.stage,
                theme_id=item.theme_id,
                proposal_id=item.proposal_id,
                rank=row.rank,
                votes=row.votes,
            )
        )
    await session.flush()


async def close_priority_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str
) -> tuple[Shortlist, list[Event]]:
    """Close, count, break ties by the public seed and write the shortlist (top K)."""
    vote = await _locked(session, summit_id, vote_id, exclusive=True)
    transition(vote.status, "closed")
    vote.status = "closed"
    vote.closed_at = utcnow()
    totals = await priority_totals(session, vote)
    result = shortlist(totals.totals, vote.shortlist_size, vote.seed)
    await _replace_shortlist(session, vote, totals, result)
    subject = f"priority:{vote.id}"
    await audit.append(
        session,
        actor=actor,
        action="priority.close",
        subject=subject,
        summit_id=summit_id,
        payload={
            "totals": totals.totals,
            "voters": {"online": totals.online_voters, "paper": totals.paper_voters},
            "tables": totals.tables,
        },
    )
    for tie in result.ties:
        payload = {
            "seed": vote.seed,
            "votes": tie.votes,
            "order": list(tie.items),
            "sha256": list(tie.keys),
            "crosses_cut": tie.crosses_cut,
        }
        await audit.append(
            session,
            actor=actor,
            action="priority.tie_break",
            subject=subject,
            summit_id=summit_id,
            payload=payload,
        )
    await audit.append(
        session,
        actor=actor,
        action="shortlist.create",
        subject=subject,
        summit_id=summit_id,
        payload={"stage": vote.stage, **result.as_log()},
    )
    return result, _status_events(summit_id, vote.id, "priority.closed")


async def shortlist_items(session: AsyncSession, summit_id: int, stage: str) -> list[ShortlistItem]:
    where = (ShortlistItem.summit_id == summit_id, ShortlistItem.stage == stage)
    return await rows_of(session, ShortlistItem, *where, order_by=ShortlistItem.rank)


async def shortlisted_themes(session: AsyncSession, summit_id: int) -> list[Theme]:
    """Themes on the agenda shortlist, in rank order; all active themes when there is none yet."""
    rows = await shortlist_items(session, summit_id, "agenda")
    ids = [row.theme_id for row in rows if row.theme_id is not None]
    if not ids:
        return await themes(session, summit_id)
    found = {
        t.id: t for t in (await session.execute(select(Theme).where(Theme.id.in_(ids)))).scalars()
    }
    return [found[i] for i in ids if i in found]
