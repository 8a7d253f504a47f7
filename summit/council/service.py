"""The council's use cases, one module per concept (import from those):

* ``summit.council.proposals`` — themes and proposals with their versions and owners;
* ``summit.council.priority`` — prioritisation (dot voting) and the shortlist;
* ``summit.council.vote`` — a Burgerraad vote from set-up to result;
* ``summit.council.credentials`` — members' anonymous voting keys (blind signatures);
* ``summit.council.ballot`` — the ballot box: ballots cast with a voting key;
* ``summit.council.decision`` — the Burgerbesluit and its signatures;
* ``summit.plenary.service`` — display links and the plenary screen's state.

The lock, upsert and retry plumbing they share is in ``summit.core.db``. This module re-exports
the public names for callers written before the split, and keeps their call shapes (the split
modules also return the live events to publish).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.db import Database
from summit.core.db import with_retries as _with_retries
from summit.core.errors import NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Participant
from summit.council import ballot, credentials, decision, vote
from summit.council.ballot import CastBallot, voters
from summit.council.decision import (
    DOCUMENT_CSS,
    DocumentRenderer,
    decision_document,
    decisions,
    document_context,
    get_decision,
    has_signed,
    render_in_language,
    signatures,
    signatures_digest,
)
from summit.council.models import CouncilVote, Decision
from summit.council.priority import (
    PrioritySettings,
    PriorityTotals,
    create_priority_vote,
    get_priority_vote,
    my_dots,
    priority_items,
    priority_totals,
    priority_votes,
    shortlist_items,
    shortlisted_themes,
)
from summit.council.proposals import (
    ProposalText,
    add_theme,
    create_proposal,
    get_proposal,
    hosted_table,
    latest_versions,
    proposal_versions,
    proposals,
    revise_proposal,
    themes,
)
from summit.council.rules.credentials import VotingKey
from summit.council.rules.voting import VotingClosed, VotingError
from summit.council.vote import (
    CouncilOutcome,
    ResultRow,
    council_outcome,
    council_votes,
    create_council_vote,
    get_council_vote,
    is_member,
    put_version_on_vote,
    vote_membership,
)

__all__ = [
    "DOCUMENT_CSS",
    "CastBallot",
    "CouncilOutcome",
    "CouncilVote",
    "DocumentRenderer",
    "PrioritySettings",
    "PriorityTotals",
    "ProposalText",
    "ResultRow",
    "VotingClosed",
    "VotingError",
    "add_theme",
    "cast_ballots",
    "close_council_vote",
    "council_outcome",
    "council_votes",
    "create_council_vote",
    "create_priority_vote",
    "create_proposal",
    "decision_document",
    "decisions",
    "document_context",
    "get_council_vote",
    "get_decision",
    "get_priority_vote",
    "get_proposal",
    "has_signed",
    "hosted_table",
    "is_member",
    "latest_versions",
    "my_dots",
    "open_council_vote",
    "priority_items",
    "priority_totals",
    "priority_votes",
    "proposal_versions",
    "proposals",
    "put_version_on_vote",
    "render_in_language",
    "revise_proposal",
    "shortlist_items",
    "shortlisted_themes",
    "signatures",
    "signatures_digest",
    "themes",
    "vote_membership",
    "voters",
    "with_retries",
]

T = TypeVar("T")


async def with_retries(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 8
) -> T:
    return await _with_retries(db, work, attempts=attempts, field="ballot")


async def open_council_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str, key: bytes
) -> CouncilVote:
    opened, _events = await vote.open_council_vote(
        session, summit_id, vote_id, actor=actor, key=key
    )
    return opened


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
    """For seeding demo data only: plays a member's browser in-process (asks for their voting
    key, has it signed at once, votes with it), so the caller knows who cast what. The
    application never does this; members vote through ``/council/votes/{id}``."""
    participant = await session.get(Participant, participant_id)
    found = await vote.get_council_vote(session, summit_id, vote_id)
    if participant is None:
        raise NotFound(
            _("participant %(participant_id)s does not exist") % {"participant_id": participant_id}
        )
    voting_key = VotingKey.new(await vote.ensure_ballot_key(session, found, key), vote_id)
    blinded = format(voting_key.blinded, "x")
    await credentials.request_key(session, vote_id, participant, blinded, key=key, now=now)
    await credentials.sign_waiting(session, found, key=key, force=True)
    state = await credentials.key_state(session, vote_id, participant_id)
    signature = voting_key.unblind(int(state.blind_signature, 16))
    done, _events = await ballot.cast(
        session,
        summit_id=summit_id,
        vote_id=vote_id,
        secret=voting_key.secret,
        signature=format(signature, "x"),
        choices=choices,
        now=now,
    )
    return done


async def close_council_vote(
    session: AsyncSession,
    summit_id: int,
    vote_id: int,
    *,
    actor: str,
    render_document: DocumentRenderer,
) -> tuple[CouncilOutcome, Decision]:
    outcome, found, _events = await decision.close_council_vote(
        session, summit_id, vote_id, actor=actor, render_document=render_document
    )
    return outcome, found
