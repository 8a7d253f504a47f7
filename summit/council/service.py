"""Use cases of prioritisation, proposals and the Burgerraad (with the Burgerbesluit).

Every function takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there, except ``with_retries``, which runs a unit of work in fresh transactions until it
commits (ballots race each other on PostgreSQL).

The secret ballot (see docs/council.md): a ``ballots`` row holds (vote, proposal, choice, receipt)
and nothing about the voter; ``voter_participation`` holds that a member voted. The receipt is an
HMAC of (server key, vote, participant, proposal, version), so the server can find and supersede a
member's previous ballot when they change it, while a database copy alone cannot join ballots to
voters. Ballot ids are random, so their order does not follow the order of the participation rows.
Individual ballots never reach the audit log: only counts and the hash of the published receipts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import random
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.db import Database
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.models import Participant, Seat, Summit, SummitTable, utcnow
from summit.core.rules.roles import council_threshold
from summit.core.security import new_token, token_hash
from summit.council.models import (
    Ballot,
    CouncilMember,
    CouncilVote,
    CouncilVoteItem,
    CouncilVoteMeta,
    Decision,
    DecisionDocument,
    DecisionSignature,
    DisplayLink,
    PriorityBallot,
    PriorityItem,
    PriorityTableTally,
    PriorityVote,
    Proposal,
    ProposalVersion,
    ShortlistItem,
    VoterParticipation,
)
from summit.council.rules.voting import (
    MAX_BALLOT_VERSIONS,
    Choice,
    Membership,
    MembershipKind,
    ProposalResult,
    Shortlist,
    VotingError,
    council_results,
    key_check,
    parse_choice,
    receipt_versions,
    receipts_digest,
    select_members,
    shortlist,
    tally,
    validate_allocation,
    validate_table_tally,
)
from summit.ideas.models import Theme

T = TypeVar("T")
Event = tuple[str, dict[str, Any]]

MAX_TEXT = 20_000
STAGES = ("agenda", "proposals")
ITEM_KINDS = ("theme", "proposal")


class VotingClosed(VotingError):
    """A ballot or dot vote outside the voting window (not yet open, closed, past its deadline)."""


class _Retry(Exception):
    """Another transaction changed the same ballot first; run the unit of work again."""


def _text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    clean = value.strip()
    if required and not clean:
        raise InvalidInput(name, "is required")
    if len(clean) > limit:
        raise InvalidInput(name, f"at most {limit} characters")
    return clean


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(session: AsyncSession, model: Any) -> Any:
    return pg_insert(model) if _dialect(session) == "postgresql" else sqlite_insert(model)


async def _lock(session: AsyncSession, model: Any, row_id: int, *, exclusive: bool) -> Any:
    """Load a vote row so that its status cannot change under us until we commit.

    PostgreSQL: an advisory lock on the row's id (shared for ballots, exclusive for opening and
    closing), taken before the row is read. SQLite: the
    driver runs reads outside the transaction until its first write, so a no-op write comes first
    and takes the database's write lock; every later read is then current until commit.
    """
    if _dialect(session) == "sqlite":
        result = await session.execute(
            update(model)
            .where(model.id == row_id)
            .values(status=model.status)
            .returning(model)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return result.scalars().one_or_none()
    # A transaction-scoped advisory lock rather than a row lock: shared row locks write the
    # tuple (multixacts) on every ballot, advisory locks live in memory only.
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(
        text(f"SELECT {function}(:space, :row)"),
        {"space": _PG_LOCK_SPACES[model.__tablename__], "row": row_id},
    )
    query = select(model).where(model.id == row_id)
    return await session.scalar(query.execution_options(populate_existing=True))


# Two-key advisory locks (a different key space from the audit log's single-key lock).
_PG_LOCK_SPACES = {"council_votes": 7_302_001, "priority_votes": 7_302_002}


_RETRY_SQLSTATES = {"40001", "40P01"}


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError | _Retry):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if state in _RETRY_SQLSTATES:
            return True
        return "database is locked" in str(orig)
    return False


async def with_retries(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 8
) -> T:
    """Run ``work`` in a transaction; on a unique-key race or deadlock roll back and run it again.

    Safe because ``work`` decides everything from what it reads inside its own transaction.
    """
    for attempt in range(attempts):
        try:
            async with db.session() as session:
                return await work(session)
        except Exception as exc:
            if not _retryable(exc) or attempt == attempts - 1:
                if _retryable(exc):
                    raise VotingError(
                        "ballot", "too many simultaneous changes; please submit again"
                    ) from None
                raise
        await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")


# --- Themes and proposals -----------------------------------------------------------------------


async def themes(session: AsyncSession, summit_id: int) -> list[Theme]:
    return list(
        (
            await session.execute(
                select(Theme)
                .where(Theme.summit_id == summit_id, Theme.status == "active")
                .order_by(Theme.id)
            )
        ).scalars()
    )


async def add_theme(session: AsyncSession, summit: Summit, *, actor: str, label: str) -> Theme:
    """An organiser types a theme in (when the theme board is not used)."""
    theme = Theme(summit_id=summit.id, label=_text(label, "label", required=True, limit=200))
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
            title=_text(self.title, "title", required=True, limit=200),
            problem=_text(self.problem, "problem"),
            text=_text(self.text, "proposal", required=True),
            who_acts=_text(self.who_acts, "who_acts"),
            cost=_text(self.cost, "cost"),
        )


def _version_digest(text: ProposalText) -> str:
    blob = json.dumps(
        [text.title, text.problem, text.text, text.who_acts, text.cost], ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()


async def create_proposal(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    content: ProposalText,
    theme_id: int | None = None,
    table_id: int | None = None,
) -> Proposal:
    """A table or workshop writes a proposal (voorstel), optionally from a (shortlisted) theme."""
    clean = content.cleaned()
    if theme_id is not None:
        theme = await session.get(Theme, theme_id)
        if theme is None or theme.summit_id != summit.id:
            raise InvalidInput("theme", f"theme {theme_id} does not exist")
    proposal = Proposal(summit_id=summit.id, theme_id=theme_id, title=clean.title, status="draft")
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
            "version": 1,
            "sha256": _version_digest(clean),
        },
    )
    return proposal


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
    )


async def revise_proposal(
    session: AsyncSession,
    summit_id: int,
    proposal_id: int,
    *,
    actor: str,
    content: ProposalText,
    table_id: int | None = None,
) -> ProposalVersion:
    """A new version (the history stays); refused while the proposal is on an open vote."""
    proposal = await get_proposal(session, summit_id, proposal_id)
    on_vote = await session.scalar(
        select(func.count())
        .select_from(CouncilVoteItem)
        .join(CouncilVote, CouncilVote.id == CouncilVoteItem.council_vote_id)
        .where(CouncilVoteItem.proposal_id == proposal.id, CouncilVote.status != "planned")
    )
    if on_vote:
        raise InvalidInput("proposal", "the Burgerraad has voted on this text; it cannot change")
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
        payload={"version": row.version, "table": table_id, "sha256": _version_digest(clean)},
    )
    return row


async def get_proposal(session: AsyncSession, summit_id: int, proposal_id: int) -> Proposal:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.summit_id != summit_id:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return proposal


async def proposal_versions(session: AsyncSession, proposal_id: int) -> list[ProposalVersion]:
    return list(
        (
            await session.execute(
                select(ProposalVersion)
                .where(ProposalVersion.proposal_id == proposal_id)
                .order_by(ProposalVersion.version.desc())
            )
        ).scalars()
    )


async def latest_versions(
    session: AsyncSession, proposal_ids: Iterable[int]
) -> dict[int, ProposalVersion]:
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
    return list(
        (
            await session.execute(
                select(Proposal).where(Proposal.summit_id == summit_id).order_by(Proposal.id)
            )
        ).scalars()
    )


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


# --- Prioritisation (dot voting) ----------------------------------------------------------------


@dataclass(frozen=True)
class PrioritySettings:
    title: str
    item_kind: str = "theme"
    stage: str = "agenda"
    votes_per_participant: int = 5
    shortlist_size: int = 12
    max_per_item: int | None = None
    seed: str = ""


async def create_priority_vote(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    settings: PrioritySettings,
    item_ids: Sequence[int] | None = None,
) -> PriorityVote:
    """A dot vote over themes or proposals; the tie-break seed is fixed and logged now."""
    title = _text(settings.title, "title", required=True, limit=200)
    if settings.item_kind not in ITEM_KINDS:
        raise InvalidInput("item_kind", "must be theme or proposal")
    if settings.stage not in STAGES:
        raise InvalidInput("stage", "must be agenda or proposals")
    if not 1 <= settings.votes_per_participant <= 100:
        raise InvalidInput("votes_per_participant", "must be 1 to 100")
    if not 1 <= settings.shortlist_size <= 500:
        raise InvalidInput("shortlist_size", "must be 1 to 500")
    if settings.max_per_item is not None and not (
        1 <= settings.max_per_item <= settings.votes_per_participant
    ):
        raise InvalidInput("max_per_item", "must be 1 to the number of votes per participant")
    seed = _text(settings.seed, "seed", limit=200) or secrets.token_hex(16)
    if settings.item_kind == "theme":
        candidates = {t.id: t.label for t in await themes(session, summit.id)}
    else:
        candidates = {p.id: p.title for p in await proposals(session, summit.id)}
    chosen = list(item_ids) if item_ids else sorted(candidates)
    unknown = [i for i in chosen if i not in candidates]
    if unknown:
        raise InvalidInput("items", f"{settings.item_kind} {unknown[0]} does not exist")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("items", "an item is listed twice")
    if not chosen:
        raise InvalidInput("items", f"there are no {settings.item_kind}s to vote on yet")
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
    for position, item_id in enumerate(chosen):
        session.add(
            PriorityItem(
                priority_vote_id=vote.id,
                theme_id=item_id if settings.item_kind == "theme" else None,
                proposal_id=item_id if settings.item_kind == "proposal" else None,
                key=f"{settings.item_kind}:{item_id}",
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
            "items": [f"{settings.item_kind}:{i}" for i in chosen],
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
        raise NotFound(f"priority vote {vote_id} does not exist")
    return vote


async def priority_votes(session: AsyncSession, summit_id: int) -> list[PriorityVote]:
    return list(
        (
            await session.execute(
                select(PriorityVote)
                .where(PriorityVote.summit_id == summit_id)
                .order_by(PriorityVote.id.desc())
            )
        ).scalars()
    )


async def priority_items(session: AsyncSession, vote_id: int) -> list[PriorityItem]:
    return list(
        (
            await session.execute(
                select(PriorityItem)
                .where(PriorityItem.priority_vote_id == vote_id)
                .order_by(PriorityItem.position)
            )
        ).scalars()
    )


async def _set_priority_status(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str, to: str
) -> PriorityVote:
    vote = await _lock(session, PriorityVote, vote_id, exclusive=True)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"priority vote {vote_id} does not exist")
    allowed = {"open": "planned", "closed": "open"}
    if vote.status != allowed[to]:
        raise VotingError("status", f"a {vote.status} vote cannot be {to}")
    vote.status = to
    if to == "open":
        vote.opened_at = utcnow()
        await audit.append(
            session,
            actor=actor,
            action="priority.open",
            subject=f"priority:{vote.id}",
            summit_id=summit_id,
            payload={"seed": vote.seed},
        )
    else:
        vote.closed_at = utcnow()
    return vote


async def open_priority_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str
) -> PriorityVote:
    return await _set_priority_status(session, summit_id, vote_id, actor=actor, to="open")


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


def _check_open(status: str, what: str) -> None:
    if status == "planned":
        raise VotingClosed("vote", f"the {what} has not opened yet")
    if status == "closed":
        raise VotingClosed("vote", f"the {what} has closed")


async def submit_dots(
    session: AsyncSession, vote_id: int, participant: Participant, dots: Mapping[str, int]
) -> dict[str, int]:
    """A participant's dots; a new submission replaces their earlier one (never adds to it)."""
    vote = await _lock(session, PriorityVote, vote_id, exclusive=False)
    if vote is None or vote.summit_id != participant.summit_id:
        raise NotFound(f"priority vote {vote_id} does not exist")
    _check_open(vote.status, "prioritisation")
    table = await _seated_table_tallied(session, vote.id, participant)
    if table is not None:
        raise VotingError("dots", f"the paper tally of table {table} already counts your votes")
    keys = [item.key for item in await priority_items(session, vote.id)]
    clean = validate_allocation(dots, keys, vote.votes_per_participant, vote.max_per_item)
    statement = _insert(session, PriorityBallot).values(
        priority_vote_id=vote.id, participant_id=participant.id, dots=clean, updated_at=utcnow()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["priority_vote_id", "participant_id"],
            set_={"dots": clean, "updated_at": utcnow()},
        )
    )
    return clean


async def my_dots(session: AsyncSession, vote_id: int, participant_id: int) -> dict[str, int]:
    dots = await session.scalar(
        select(PriorityBallot.dots).where(
            PriorityBallot.priority_vote_id == vote_id,
            PriorityBallot.participant_id == participant_id,
        )
    )
    return {str(k): int(v) for k, v in (dots or {}).items()}


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
) -> PriorityTableTally:
    """A venue table's paper dots, entered by its host (``host``) or by staff.

    The people seated there in the current round who have not voted online are the paper voters;
    after the tally they cannot vote online, so no dot counts twice.
    """
    vote = await _lock(session, PriorityVote, vote_id, exclusive=False)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"priority vote {vote_id} does not exist")
    _check_open(vote.status, "prioritisation")
    table = await session.scalar(
        select(SummitTable).where(
            SummitTable.summit_id == summit_id, SummitTable.number == table_number
        )
    )
    if table is None:
        raise InvalidInput("table", f"table {table_number} does not exist")
    rnd = await repository.current_round(session, summit_id)
    seated: list[int] = []
    if rnd is not None:
        seated = list(
            (
                await session.execute(
                    select(Seat.participant_id).where(
                        Seat.round_id == rnd.id, Seat.table_id == table.id
                    )
                )
            ).scalars()
        )
    if host is not None:
        hosted = await hosted_table(session, host)
        if hosted is None or hosted.id != table.id:
            raise PermissionDenied("table: you can only enter the tally of the table you host")
    online = 0
    if seated:
        online = int(
            await session.scalar(
                select(func.count())
                .select_from(PriorityBallot)
                .where(
                    PriorityBallot.priority_vote_id == vote.id,
                    PriorityBallot.participant_id.in_(seated),
                )
            )
            or 0
        )
    paper = len(seated) - online if seated else None
    if voters is None:
        if paper is None:
            raise InvalidInput("voters", "say how many people at this table voted on paper")
        voters = paper
    if voters < 0 or (paper is not None and voters > paper):
        raise InvalidInput(
            "voters", f"at most {paper} people at table {table_number} can vote on paper"
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
    return row


async def close_priority_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str
) -> Shortlist:
    """Close, count, break ties by the public seed and write the shortlist (top K)."""
    vote = await _set_priority_status(session, summit_id, vote_id, actor=actor, to="closed")
    totals = await priority_totals(session, vote)
    result = shortlist(totals.totals, vote.shortlist_size, vote.seed)
    by_key = {item.key: item for item in totals.items}
    existing = (
        await session.execute(
            select(ShortlistItem).where(
                ShortlistItem.summit_id == summit_id, ShortlistItem.stage == vote.stage
            )
        )
    ).scalars()
    for old in existing:
        await session.delete(old)
    for row in result.chosen:
        item = by_key[row.item]
        session.add(
            ShortlistItem(
                summit_id=summit_id,
                stage=vote.stage,
                theme_id=item.theme_id,
                proposal_id=item.proposal_id,
                rank=row.rank,
                votes=row.votes,
            )
        )
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="priority.close",
        subject=f"priority:{vote.id}",
        summit_id=summit_id,
        payload={
            "totals": totals.totals,
            "voters": {"online": totals.online_voters, "paper": totals.paper_voters},
            "tables": totals.tables,
        },
    )
    for tie in result.ties:
        await audit.append(
            session,
            actor=actor,
            action="priority.tie_break",
            subject=f"priority:{vote.id}",
            summit_id=summit_id,
            payload={
                "seed": vote.seed,
                "votes": tie.votes,
                "order": list(tie.items),
                "sha256": list(tie.keys),
                "crosses_cut": tie.crosses_cut,
            },
        )
    await audit.append(
        session,
        actor=actor,
        action="shortlist.create",
        subject=f"priority:{vote.id}",
        summit_id=summit_id,
        payload={"stage": vote.stage, **result.as_log()},
    )
    return result


async def shortlist_items(session: AsyncSession, summit_id: int, stage: str) -> list[ShortlistItem]:
    return list(
        (
            await session.execute(
                select(ShortlistItem)
                .where(ShortlistItem.summit_id == summit_id, ShortlistItem.stage == stage)
                .order_by(ShortlistItem.rank)
            )
        ).scalars()
    )


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


# --- The Burgerraad vote ------------------------------------------------------------------------


async def create_council_vote(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    title: str,
    proposal_ids: Sequence[int],
    closes_at: dt.datetime | None = None,
    membership: Membership | None = None,
) -> CouncilVote:
    """A Burgerraad vote over proposals; ``membership`` says who the members will be (everyone
    by default) and the members themselves are fixed when it opens."""
    rule = membership or Membership()
    if rule.kind is MembershipKind.LIST:
        known = set(
            (
                await session.execute(
                    select(Participant.pseudonym).where(
                        Participant.summit_id == summit.id,
                        Participant.pseudonym.in_(rule.pseudonyms),
                        Participant.status != "withdrawn",
                    )
                )
            ).scalars()
        )
        missing = [name for name in rule.pseudonyms if name not in known]
        if missing:
            raise InvalidInput(
                "member_list", f"{missing[0]} is not a participant of this summit (or withdrew)"
            )
    clean = _text(title, "title", required=True, limit=200)
    if not proposal_ids:
        raise InvalidInput("proposals", "choose at least one proposal to vote on")
    if len(set(proposal_ids)) != len(proposal_ids):
        raise InvalidInput("proposals", "a proposal is listed twice")
    for pid in proposal_ids:
        await get_proposal(session, summit.id, pid)
    if closes_at is not None and closes_at <= utcnow():
        raise InvalidInput("closes_at", "the deadline must be in the future")
    vote = CouncilVote(summit_id=summit.id, title=clean, status="planned", closes_at=closes_at)
    session.add(vote)
    await session.flush()
    versions = await latest_versions(session, proposal_ids)
    for position, pid in enumerate(proposal_ids):
        session.add(
            CouncilVoteItem(
                council_vote_id=vote.id,
                proposal_id=pid,
                proposal_version=versions[pid].version if pid in versions else 0,
                position=position,
            )
        )
    session.add(CouncilVoteMeta(council_vote_id=vote.id, membership=rule.to_json()))
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="council.create",
        subject=f"council:{vote.id}",
        summit_id=summit.id,
        payload={
            "title": clean,
            "proposals": list(proposal_ids),
            "membership": rule.to_json(),
            "closes_at": closes_at.isoformat() if closes_at else None,
        },
    )
    return vote


async def get_council_vote(session: AsyncSession, summit_id: int, vote_id: int) -> CouncilVote:
    vote = await session.get(CouncilVote, vote_id)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"council vote {vote_id} does not exist")
    return vote


async def council_votes(session: AsyncSession, summit_id: int) -> list[CouncilVote]:
    return list(
        (
            await session.execute(
                select(CouncilVote)
                .where(CouncilVote.summit_id == summit_id)
                .order_by(CouncilVote.id.desc())
            )
        ).scalars()
    )


async def vote_items(session: AsyncSession, vote_id: int) -> list[CouncilVoteItem]:
    return list(
        (
            await session.execute(
                select(CouncilVoteItem)
                .where(CouncilVoteItem.council_vote_id == vote_id)
                .order_by(CouncilVoteItem.position)
            )
        ).scalars()
    )


async def vote_meta(session: AsyncSession, vote_id: int) -> CouncilVoteMeta:
    meta = await session.scalar(
        select(CouncilVoteMeta).where(CouncilVoteMeta.council_vote_id == vote_id)
    )
    if meta is None:
        meta = CouncilVoteMeta(council_vote_id=vote_id)
        session.add(meta)
    return meta


async def vote_membership(session: AsyncSession, vote_id: int) -> Membership:
    """The vote's membership rule (who the members are or will be)."""
    return Membership.from_json((await vote_meta(session, vote_id)).membership)


async def open_council_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str, key: bytes
) -> CouncilVote:
    """Open the vote: fix its members (by its membership rule) and the threshold."""
    vote = await _lock(session, CouncilVote, vote_id, exclusive=True)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"council vote {vote_id} does not exist")
    if vote.status != "planned":
        raise VotingError("status", f"a {vote.status} vote cannot be opened")
    if vote.closes_at is not None and vote.closes_at <= utcnow():
        raise VotingError("closes_at", "the deadline has passed; create a new vote")
    meta = await vote_meta(session, vote.id)
    rule = Membership.from_json(meta.membership)
    rows = await session.execute(
        select(Participant.id, Participant.pseudonym, Participant.role, Participant.status).where(
            Participant.summit_id == summit_id
        )
    )
    members = select_members(rule, [(r[0], r[1], r[2], r[3]) for r in rows])
    if not members:
        raise VotingError("members", "no participant of the summit matches the membership rule")
    for pid in members:
        session.add(CouncilMember(council_vote_id=vote.id, participant_id=pid))
    items = await vote_items(session, vote.id)
    versions = await latest_versions(session, [i.proposal_id for i in items])
    for item in items:
        if item.proposal_id in versions:
            item.proposal_version = versions[item.proposal_id].version
    vote.members = len(members)
    vote.status = "open"
    vote.opens_at = utcnow()
    meta.key_check = key_check(key)
    meta.threshold = council_threshold(len(members))
    for pid in versions:
        proposal = await session.get(Proposal, pid)
        if proposal is not None:
            proposal.status = "voting"
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="council.open",
        subject=f"council:{vote.id}",
        summit_id=summit_id,
        payload={
            "members": len(members),
            "membership": rule.to_json(),
            "threshold": meta.threshold,
            "rule": "adopted when votes for >= floor(members / 2) + 1",
            "proposals": [[i.proposal_id, i.proposal_version] for i in items],
            "closes_at": vote.closes_at.isoformat() if vote.closes_at else None,
        },
    )
    return vote


@dataclass(frozen=True)
class _OpenVoteFacts:
    key_check: str
    proposals: frozenset[int]
    members: frozenset[int]


# What cannot change once a vote is open (the key fingerprint, the proposals, the members):
# read once per process instead of on every ballot. Keyed by the vote and the moment it opened,
# so another database that reuses the id (tests, a restored backup) never sees stale facts.
_OPEN_VOTE_FACTS: dict[tuple[int, int, str], _OpenVoteFacts] = {}


async def _open_vote_facts(session: AsyncSession, vote: CouncilVote) -> _OpenVoteFacts:
    vote_id = vote.id
    cache_key = (vote.id, vote.summit_id, vote.opens_at.isoformat() if vote.opens_at else "")
    facts = _OPEN_VOTE_FACTS.get(cache_key)
    if facts is None:
        meta = await vote_meta(session, vote_id)
        items = await vote_items(session, vote_id)
        members = (
            await session.execute(
                select(CouncilMember.participant_id).where(CouncilMember.council_vote_id == vote_id)
            )
        ).scalars()
        facts = _OpenVoteFacts(
            meta.key_check, frozenset(i.proposal_id for i in items), frozenset(members)
        )
        if meta.key_check and vote.opens_at is not None:
            if len(_OPEN_VOTE_FACTS) > 256:
                _OPEN_VOTE_FACTS.clear()
            _OPEN_VOTE_FACTS[cache_key] = facts
    return facts


@dataclass(frozen=True)
class CastBallot:
    proposal: int
    choice: str
    receipt: str
    changed: bool  # False when the member re-sent the same choice (nothing new stored)


def _check_window(vote: CouncilVote, now: dt.datetime) -> None:
    _check_open(vote.status, "vote")
    if vote.opens_at is not None and now < vote.opens_at:
        raise VotingClosed("vote", "the vote has not opened yet")
    if vote.closes_at is not None and now >= vote.closes_at:
        raise VotingClosed("vote", "the voting deadline has passed")


async def _member(session: AsyncSession, vote_id: int, participant_id: int) -> bool:
    found = await session.scalar(
        select(CouncilMember.id).where(
            CouncilMember.council_vote_id == vote_id, CouncilMember.participant_id == participant_id
        )
    )
    return found is not None


async def cast_ballots(
    session: AsyncSession,
    *,
    summit_id: int,
    vote_id: int,
    participant_id: int,
    choices: Mapping[int, str],
    key: bytes,
    now: dt.datetime | None = None,
) -> list[CastBallot]:
    """Cast or change a member's ballots; only the latest ballot per proposal counts.

    Raises ``VotingClosed`` outside the window, ``PermissionDenied`` for a non-member,
    ``VotingError`` for an unknown proposal or choice, ``_Retry`` (via ``with_retries``) when a
    simultaneous change of the same member won the race.
    """
    moment = now or utcnow()
    vote = await _lock(session, CouncilVote, vote_id, exclusive=False)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"council vote {vote_id} does not exist")
    _check_window(vote, moment)
    fixed = await _open_vote_facts(session, vote)
    if fixed.key_check != key_check(key):
        raise VotingError(
            "secret",
            "the server secret changed after this vote opened, so earlier ballots cannot be "
            "found; restore SUMMIT_SECRET_KEY before accepting ballots",
        )
    if participant_id not in fixed.members:
        raise PermissionDenied("member: you are not a member of this Burgerraad vote")
    on_vote = fixed.proposals
    if not choices:
        raise VotingError("choice", "choose for, against or abstain on at least one proposal")
    parsed: dict[int, Choice] = {}
    for proposal, choice in choices.items():
        if proposal not in on_vote:
            raise VotingError("proposal", f"proposal {proposal} is not on this vote")
        parsed[proposal] = parse_choice(choice, f"choice[{proposal}]")
    codes = {p: receipt_versions(key, vote.id, participant_id, p) for p in sorted(parsed)}
    wanted = [code for versions in codes.values() for code in versions]
    existing = {
        row.receipt: row
        for row in (
            await session.execute(
                select(Ballot.receipt, Ballot.choice, Ballot.superseded).where(
                    Ballot.receipt.in_(wanted)
                )
            )
        ).all()
    }
    if not existing:
        # A member with earlier ballots on these proposals already has their participation row.
        await session.execute(
            _insert(session, VoterParticipation)
            .values(council_vote_id=vote.id, participant_id=participant_id)
            .on_conflict_do_nothing(index_elements=["council_vote_id", "participant_id"])
        )
    cast: list[CastBallot] = []
    for proposal in sorted(parsed):
        versions = codes[proposal]
        present = [i for i, code in enumerate(versions) if code in existing]
        latest = versions[max(present)] if present else None
        if latest is not None and existing[latest].superseded:
            raise _Retry()
        if latest is not None and existing[latest].choice == parsed[proposal]:
            cast.append(CastBallot(proposal, parsed[proposal].value, latest, changed=False))
            continue
        following = max(present) + 1 if present else 0
        if following >= MAX_BALLOT_VERSIONS:
            raise VotingError(
                f"choice[{proposal}]",
                f"you have changed this vote {MAX_BALLOT_VERSIONS - 1} times; that is the limit",
            )
        if latest is not None:
            result = await session.execute(
                update(Ballot)
                .where(Ballot.receipt == latest, Ballot.superseded.is_(False))
                .values(superseded=True)
            )
            if getattr(result, "rowcount", 1) != 1:
                raise _Retry()
        session.add(
            Ballot(
                # A random id: ids in insertion order would line up with voter_participation.
                id=secrets.randbelow(2**31 - 2) + 1,
                council_vote_id=vote.id,
                proposal_id=proposal,
                choice=parsed[proposal].value,
                receipt=versions[following],
                superseded=False,
            )
        )
        cast.append(CastBallot(proposal, parsed[proposal].value, versions[following], True))
    await session.flush()
    return cast


async def my_ballots(
    session: AsyncSession, vote_id: int, participant_id: int, key: bytes
) -> dict[int, CastBallot]:
    """The member's current ballot (choice and receipt) per proposal, found through the key."""
    items = await vote_items(session, vote_id)
    codes = {
        i.proposal_id: receipt_versions(key, vote_id, participant_id, i.proposal_id) for i in items
    }
    wanted = [c for versions in codes.values() for c in versions]
    if not wanted:
        return {}
    rows = {
        row.receipt: row
        for row in (
            await session.execute(
                select(Ballot.receipt, Ballot.choice, Ballot.superseded).where(
                    Ballot.receipt.in_(wanted), Ballot.superseded.is_(False)
                )
            )
        ).all()
    }
    mine: dict[int, CastBallot] = {}
    for proposal, versions in codes.items():
        for code in versions:
            if code in rows:
                mine[proposal] = CastBallot(proposal, rows[code].choice, code, changed=False)
    return mine


async def voters(session: AsyncSession, vote_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(VoterParticipation)
            .where(VoterParticipation.council_vote_id == vote_id)
        )
        or 0
    )


async def has_voted(session: AsyncSession, vote_id: int, participant_id: int) -> bool:
    found = await session.scalar(
        select(VoterParticipation.id).where(
            VoterParticipation.council_vote_id == vote_id,
            VoterParticipation.participant_id == participant_id,
        )
    )
    return found is not None


async def is_member(session: AsyncSession, vote_id: int, participant_id: int) -> bool:
    return await _member(session, vote_id, participant_id)


@dataclass(frozen=True)
class ResultRow:
    item: CouncilVoteItem
    version: ProposalVersion | None
    result: ProposalResult

    @property
    def title(self) -> str:
        return self.version.title if self.version else f"#{self.item.proposal_id}"


@dataclass
class CouncilOutcome:
    """A closed vote's published result: counts, threshold, receipts."""

    vote: CouncilVote
    meta: CouncilVoteMeta
    rows: list[ResultRow]
    receipts: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def adopted(self) -> list[ResultRow]:
        return [r for r in self.rows if r.result.adopted]

    @property
    def rejected(self) -> list[ResultRow]:
        return [r for r in self.rows if not r.result.adopted]

    def as_json(self) -> dict[str, Any]:
        return {
            "vote": self.vote.id,
            "title": self.vote.title,
            "status": self.vote.status,
            "members": self.vote.members,
            "threshold": self.meta.threshold,
            "rule": "adopted when votes for >= floor(members / 2) + 1 (members, not votes cast)",
            "voters": self.meta.voters,
            "ballots_counted": self.meta.ballots_counted,
            "ballots_superseded": self.meta.ballots_superseded,
            "receipts_sha256": self.meta.receipts_sha256,
            "closed_at": self.vote.closes_at.isoformat() if self.vote.closes_at else None,
            "proposals": [
                {
                    "proposal": r.item.proposal_id,
                    "version": r.item.proposal_version,
                    "title": r.title,
                    "for": r.result.votes_for,
                    "against": r.result.against,
                    "abstain": r.result.abstain,
                    "not_voted": r.result.not_voted,
                    "adopted": r.result.adopted,
                }
                for r in self.rows
            ],
            "receipts": [
                {"receipt": receipt, "proposal": proposal, "choice": choice}
                for receipt, proposal, choice in self.receipts
            ],
        }


async def _counted(session: AsyncSession, vote_id: int) -> list[tuple[str, int, str]]:
    rows = (
        await session.execute(
            select(Ballot.receipt, Ballot.proposal_id, Ballot.choice)
            .where(Ballot.council_vote_id == vote_id, Ballot.superseded.is_(False))
            .order_by(Ballot.receipt)
        )
    ).all()
    return [(str(r), int(p), str(c)) for r, p, c in rows]


DocumentRenderer = Callable[[dict[str, Any]], str]


async def close_council_vote(
    session: AsyncSession,
    summit_id: int,
    vote_id: int,
    *,
    actor: str,
    render_document: DocumentRenderer,
) -> tuple[CouncilOutcome, Decision]:
    """Close the vote, count the latest ballots, adopt or reject each proposal and publish the
    Burgerbesluit (its SHA-256 is logged); the receipts list becomes public."""
    vote = await _lock(session, CouncilVote, vote_id, exclusive=True)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(f"council vote {vote_id} does not exist")
    if vote.status != "open":
        raise VotingError("status", f"a {vote.status} vote cannot be closed")
    now = utcnow()
    vote.status = "closed"
    if vote.closes_at is None or vote.closes_at > now:
        vote.closes_at = now
    items = await vote_items(session, vote.id)
    counted = await _counted(session, vote.id)
    superseded = int(
        await session.scalar(
            select(func.count())
            .select_from(Ballot)
            .where(Ballot.council_vote_id == vote.id, Ballot.superseded.is_(True))
        )
        or 0
    )
    results = council_results(
        vote.members, [i.proposal_id for i in items], [(p, c) for _r, p, c in counted]
    )
    meta = await vote_meta(session, vote.id)
    meta.threshold = council_threshold(vote.members)
    meta.voters = await voters(session, vote.id)
    meta.ballots_counted = len(counted)
    meta.ballots_superseded = superseded
    meta.receipts_sha256 = receipts_digest(counted)
    by_proposal = {r.proposal: r for r in results}
    for item in items:
        result = by_proposal[item.proposal_id]
        item.votes_for = result.votes_for
        item.against = result.against
        item.abstain = result.abstain
        item.adopted = result.adopted
        proposal = await session.get(Proposal, item.proposal_id)
        if proposal is not None:
            proposal.status = "adopted" if result.adopted else "rejected"
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="council.close",
        subject=f"council:{vote.id}",
        summit_id=summit_id,
        payload={
            "members": vote.members,
            "threshold": meta.threshold,
            "voters": meta.voters,
            "ballots_counted": meta.ballots_counted,
            "ballots_superseded": superseded,
            "receipts_sha256": meta.receipts_sha256,
        },
    )
    for result in results:
        await audit.append(
            session,
            actor=actor,
            action="council.result",
            subject=f"proposal:{result.proposal}",
            summit_id=summit_id,
            payload={
                "vote": vote.id,
                "for": result.votes_for,
                "against": result.against,
                "abstain": result.abstain,
                "members": result.members,
                "threshold": result.threshold,
                "adopted": result.adopted,
            },
        )
    outcome = await council_outcome(session, vote, with_receipts=False)
    decision = await _publish_decision(session, outcome, actor=actor, render=render_document)
    return outcome, decision


async def council_outcome(
    session: AsyncSession, vote: CouncilVote, *, with_receipts: bool = True
) -> CouncilOutcome:
    """The published result of a closed vote (refused before it closes: results stay hidden)."""
    if vote.status != "closed":
        raise VotingClosed("vote", "results are hidden until the vote closes")
    items = await vote_items(session, vote.id)
    meta = await vote_meta(session, vote.id)
    versions = {
        (v.proposal_id, v.version): v
        for v in (
            await session.execute(
                select(ProposalVersion).where(
                    ProposalVersion.proposal_id.in_([i.proposal_id for i in items])
                )
            )
        ).scalars()
    }
    rows = [
        ResultRow(
            item=i,
            version=versions.get((i.proposal_id, i.proposal_version)),
            result=ProposalResult(
                i.proposal_id,
                i.votes_for or 0,
                i.against or 0,
                i.abstain or 0,
                vote.members,
                meta.threshold,
                bool(i.adopted),
            ),
        )
        for i in items
    ]
    receipts = await _counted(session, vote.id) if with_receipts else []
    return CouncilOutcome(vote=vote, meta=meta, rows=rows, receipts=receipts)


# --- The Burgerbesluit --------------------------------------------------------------------------


#: The Burgerbesluit's print style, inside the document so its SHA-256 covers how it looks.
DOCUMENT_CSS = """\
body { font-family: Georgia, "Times New Roman", serif; color: #111; background: #fff;
  max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 2rem; margin-bottom: .25rem; }
h2 { border-bottom: 1px solid #444; padding-bottom: .2rem; margin-top: 2rem; }
.proposal { page-break-inside: avoid; margin-bottom: 1.5rem; }
.counts { font-family: system-ui, sans-serif; font-size: .95rem; }
table { border-collapse: collapse; width: 100%; font-family: system-ui, sans-serif;
  font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #999; }
code { font-family: ui-monospace, monospace; word-break: break-all; }
@page { margin: 2cm; }
"""


def document_context(outcome: CouncilOutcome, summit: Summit) -> dict[str, Any]:
    """Everything the Burgerbesluit document shows; the same input renders the same bytes."""
    return {
        "document_css": DOCUMENT_CSS,
        "summit_name": summit.name,
        "municipality": summit.municipality,
        "vote_title": outcome.vote.title,
        "closed_at": outcome.vote.closes_at,
        "members": outcome.vote.members,
        "threshold": outcome.meta.threshold,
        "voters": outcome.meta.voters,
        "receipts_sha256": outcome.meta.receipts_sha256,
        "adopted": outcome.adopted,
        "rejected": outcome.rejected,
    }


def render_in_language(env: Any, template: str, context: dict[str, Any], language: str) -> str:
    """Render a template in a fixed language (the summit's), whatever the caller's language."""
    previous = i18n.current_language()
    i18n.set_language(language)
    try:
        return str(env.get_template(template).render(context))
    finally:
        i18n.set_language(previous)


async def _publish_decision(
    session: AsyncSession, outcome: CouncilOutcome, *, actor: str, render: DocumentRenderer
) -> Decision:
    summit = await repository.get_summit(session, outcome.vote.summit_id)
    html = render(document_context(outcome, summit))
    digest = hashlib.sha256(html.encode()).hexdigest()
    decision = Decision(summit_id=summit.id, council_vote_id=outcome.vote.id, document_hash=digest)
    session.add(decision)
    await session.flush()
    session.add(
        DecisionDocument(decision_id=decision.id, html=html, language=summit.default_language)
    )
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="decision.publish",
        subject=f"decision:{decision.id}",
        summit_id=summit.id,
        payload={
            "vote": outcome.vote.id,
            "document_sha256": digest,
            "adopted": [r.item.proposal_id for r in outcome.adopted],
            "rejected": [r.item.proposal_id for r in outcome.rejected],
        },
    )
    return decision


async def get_decision(session: AsyncSession, summit_id: int, decision_id: int) -> Decision:
    decision = await session.get(Decision, decision_id)
    if decision is None or decision.summit_id != summit_id:
        raise NotFound(f"decision {decision_id} does not exist")
    return decision


async def decisions(session: AsyncSession, summit_id: int) -> list[Decision]:
    return list(
        (
            await session.execute(
                select(Decision).where(Decision.summit_id == summit_id).order_by(Decision.id.desc())
            )
        ).scalars()
    )


async def decision_document(session: AsyncSession, decision_id: int) -> str:
    html = await session.scalar(
        select(DecisionDocument.html).where(DecisionDocument.decision_id == decision_id)
    )
    if html is None:
        raise NotFound(f"decision {decision_id} has no document")
    return str(html)


async def signatures(session: AsyncSession, decision_id: int) -> list[tuple[str, dt.datetime]]:
    rows = (
        await session.execute(
            select(Participant.pseudonym, DecisionSignature.signed_at)
            .join(Participant, Participant.id == DecisionSignature.participant_id)
            .where(DecisionSignature.decision_id == decision_id)
            .order_by(DecisionSignature.signed_at, Participant.pseudonym)
        )
    ).all()
    return [(str(p), s) for p, s in rows]


def signatures_digest(document_hash: str, rows: Iterable[tuple[str, dt.datetime]]) -> str:
    """SHA-256 of the public signature list: the document hash, then "pseudonym signed-at" lines."""
    lines = [document_hash] + [
        f"{pseudonym} {signed.isoformat(timespec='seconds')}" for pseudonym, signed in rows
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def sign_decision(
    session: AsyncSession,
    summit_id: int,
    decision_id: int,
    participant: Participant,
    *,
    document_hash: str,
) -> int:
    """A member confirms the Burgerbesluit with the hash they were shown; returns the count."""
    decision = await get_decision(session, summit_id, decision_id)
    if decision.council_vote_id is None or not await _member(
        session, decision.council_vote_id, participant.id
    ):
        raise PermissionDenied("member: only members of this Burgerraad sign its decision")
    if document_hash.strip().lower() != decision.document_hash:
        raise VotingError(
            "document_sha256", "the document you confirmed is not the published Burgerbesluit"
        )
    already = await session.scalar(
        select(DecisionSignature.id).where(
            DecisionSignature.decision_id == decision.id,
            DecisionSignature.participant_id == participant.id,
        )
    )
    if already is not None:
        raise VotingError("signature", "you have already signed this Burgerbesluit")
    session.add(DecisionSignature(decision_id=decision.id, participant_id=participant.id))
    await session.flush()
    count = int(
        await session.scalar(
            select(func.count())
            .select_from(DecisionSignature)
            .where(DecisionSignature.decision_id == decision.id)
        )
        or 0
    )
    await audit.append(
        session,
        actor=participant.pseudonym,
        action="decision.sign",
        subject=f"decision:{decision.id}",
        summit_id=summit_id,
        payload={
            "document_sha256": decision.document_hash,
            "signatures": count,
            "signatures_sha256": signatures_digest(
                decision.document_hash, await signatures(session, decision.id)
            ),
        },
    )
    return count


async def has_signed(session: AsyncSession, decision_id: int, participant_id: int) -> bool:
    found = await session.scalar(
        select(DecisionSignature.id).where(
            DecisionSignature.decision_id == decision_id,
            DecisionSignature.participant_id == participant_id,
        )
    )
    return found is not None


# --- Display links (the plenary screen) ---------------------------------------------------------


async def issue_display_link(
    session: AsyncSession, summit: Summit, *, actor: str, label: str = ""
) -> tuple[DisplayLink, str]:
    token = new_token()
    link = DisplayLink(
        summit_id=summit.id, token_hash=token_hash(token), label=_text(label, "label", limit=120)
    )
    session.add(link)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="display.issue",
        subject=f"display:{link.id}",
        summit_id=summit.id,
        payload={"label": link.label},
    )
    return link, token


async def revoke_display_link(
    session: AsyncSession, summit_id: int, link_id: int, *, actor: str
) -> DisplayLink:
    link = await session.get(DisplayLink, link_id)
    if link is None or link.summit_id != summit_id:
        raise NotFound(f"display link {link_id} does not exist")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        await audit.append(
            session,
            actor=actor,
            action="display.revoke",
            subject=f"display:{link.id}",
            summit_id=summit_id,
        )
    return link


async def display_links(session: AsyncSession, summit_id: int) -> list[DisplayLink]:
    return list(
        (
            await session.execute(
                select(DisplayLink)
                .where(DisplayLink.summit_id == summit_id)
                .order_by(DisplayLink.id.desc())
            )
        ).scalars()
    )


class DisplayLinkRejected(Exception):
    """An unknown or revoked display link (the message says which)."""


async def resolve_display_link(session: AsyncSession, token: str) -> DisplayLink:
    if not token or len(token) > 128:
        raise DisplayLinkRejected("unknown")
    link = await session.scalar(
        select(DisplayLink).where(DisplayLink.token_hash == token_hash(token))
    )
    if link is None:
        raise DisplayLinkRejected("unknown")
    if link.revoked_at is not None:
        raise DisplayLinkRejected("revoked")
    return link


async def plenary_state(session: AsyncSession, summit_id: int) -> dict[str, Any]:
    """What the plenary screen shows: the latest prioritisation and the latest Burgerraad vote."""
    state: dict[str, Any] = {"priority": None, "council": None}
    latest_priority = await session.scalar(
        select(PriorityVote)
        .where(PriorityVote.summit_id == summit_id, PriorityVote.status != "planned")
        .order_by(PriorityVote.id.desc())
        .limit(1)
    )
    if latest_priority is not None:
        state["priority"] = (await priority_totals(session, latest_priority)).as_json()
    latest_council = await session.scalar(
        select(CouncilVote)
        .where(CouncilVote.summit_id == summit_id, CouncilVote.status != "planned")
        .order_by(CouncilVote.id.desc())
        .limit(1)
    )
    if latest_council is not None:
        if latest_council.status == "closed":
            outcome = await council_outcome(session, latest_council, with_receipts=False)
            data = outcome.as_json()
        else:
            data = {
                "vote": latest_council.id,
                "title": latest_council.title,
                "status": latest_council.status,
                "members": latest_council.members,
                "threshold": council_threshold(max(latest_council.members, 1)),
                "voters": await voters(session, latest_council.id),
            }
        state["council"] = data
    return state
