"""Anonymous voting keys: each member of a Burgerraad vote obtains one by blind signature.

The member's browser sends a blinded value (``rules.credentials``); the server records *that*
the member asked (``council_credentials``) and signs the blinded value, so it never learns the
key the member will vote with. Requests are signed in batches, never one by one: everything that
waits when the vote opens is signed in one transaction; while it is open, a batch is signed once
``BATCH_MIN`` requests wait or the oldest has waited ``BATCH_WAIT``. A ballot's key is therefore
one of at least a batch of members' keys, whatever the commit order shows. Each batch is logged
with its size, never with names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import lock_row
from summit.core.errors import NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Participant, utcnow
from summit.council.ballot import LOCK_SPACE, public_key, vote_meta
from summit.council.models import CouncilCredential, CouncilMember, CouncilVote, CouncilVoteMeta
from summit.council.rules.credentials import (
    PublicKey,
    generate_key,
    parse_number,
    seal_private,
    unseal_private,
)
from summit.council.rules.voting import (
    Membership,
    VotingClosed,
    VotingError,
    select_members,
)

Event = tuple[str, dict[str, Any]]

#: A batch is signed once this many requests wait ...
BATCH_MIN = 5
#: ... or once the oldest has waited this long.
BATCH_WAIT = dt.timedelta(seconds=120)
#: ``council_credentials.batch`` of members who voted before voting keys existed (0009).
LEGACY_BATCH = -1


class KeyTaken(VotingError):
    """The member already holds a voting key for this vote (obtained in another browser)."""


@dataclass(frozen=True)
class KeyState:
    """Where a member's voting key stands: ``none``, ``pending`` (waiting for its batch),
    ``signed`` (``blind_signature`` is the server's signature of the blinded value), or
    ``legacy`` (they voted before voting keys existed)."""

    status: str
    blind_signature: str = ""

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "blind_signature": self.blind_signature}


def _state(row: CouncilCredential | None) -> KeyState:
    if row is None:
        return KeyState("none")
    if row.batch == LEGACY_BATCH:
        return KeyState("legacy")
    return KeyState("signed", row.blind_signature) if row.batch else KeyState("pending")


def new_ballot_key(meta: CouncilVoteMeta, key: bytes) -> PublicKey:
    """Give a vote its ballot key (when it is set up); the private half is sealed."""
    private = generate_key()
    meta.ballot_key_n = format(private.public.n, "x")
    meta.ballot_key_e = private.public.e
    meta.ballot_key_sealed = seal_private(private, key)
    return private.public


async def _row(
    session: AsyncSession, vote_id: int, participant_id: int
) -> CouncilCredential | None:
    return await session.scalar(
        select(CouncilCredential).where(
            CouncilCredential.council_vote_id == vote_id,
            CouncilCredential.participant_id == participant_id,
        )
    )


async def key_state(session: AsyncSession, vote_id: int, participant_id: int) -> KeyState:
    return _state(await _row(session, vote_id, participant_id))


async def may_ask(session: AsyncSession, vote: CouncilVote, participant: Participant) -> bool:
    """The vote's members once it has opened; while it is planned, whoever its rule selects."""
    if vote.status != "planned":
        found = await session.scalar(
            select(CouncilMember.id).where(
                CouncilMember.council_vote_id == vote.id,
                CouncilMember.participant_id == participant.id,
            )
        )
        return found is not None
    rule = Membership.from_json((await vote_meta(session, vote.id)).membership)
    row = (participant.id, participant.pseudonym, participant.role, participant.status)
    return bool(select_members(rule, [row]))


def _check_row(row: CouncilCredential | None, value: str) -> None:
    if row is not None and row.batch == LEGACY_BATCH:
        raise KeyTaken("credential", _("you voted before voting keys were introduced"))
    if row is not None and row.blinded != value:
        raise KeyTaken("credential", _("you already have a voting key for this vote"))


async def _checked_vote(
    session: AsyncSession, vote: CouncilVote | None, participant: Participant, moment: dt.datetime
) -> PublicKey:
    if vote is None or vote.summit_id != participant.summit_id:
        raise NotFound("vote: " + _("no such council vote"))
    if vote.status == "closed" or (vote.closes_at is not None and moment >= vote.closes_at):
        raise VotingClosed("vote", _("the vote has closed"))
    if not await may_ask(session, vote, participant):
        raise PermissionDenied("member: " + _("you are not a member of this Burgerraad vote"))
    public = public_key(await vote_meta(session, vote.id))
    if public is None:
        raise VotingClosed("vote", _("the vote is not ready for voting keys yet"))
    return public


async def request_key(
    session: AsyncSession,
    vote_id: int,
    participant: Participant,
    blinded: str,
    *,
    key: bytes,
    now: dt.datetime | None = None,
) -> KeyState:
    """A member asks for their voting key with a blinded value (from the vote's set-up until it
    closes), and asks again while it waits for its batch. The same value answers the same (also
    a retry after a lost answer); another value is refused: one key per member.

    Asking again while nothing can change (signed, or waiting before the vote opens) only reads;
    otherwise the vote is locked (shared) so that its opening cannot pass this request by."""
    moment = now or utcnow()
    vote = await session.get(CouncilVote, vote_id)
    public = await _checked_vote(session, vote, participant, moment)
    value = format(parse_number(blinded, "blinded", public), "x")
    row = await _row(session, vote_id, participant.id)
    _check_row(row, value)
    if row is not None and (row.batch > 0 or (vote is not None and vote.status == "planned")):
        return _state(row)
    vote = await lock_row(session, CouncilVote, vote_id, exclusive=False, space=LOCK_SPACE)
    await _checked_vote(session, vote, participant, moment)
    assert vote is not None
    row = await _row(session, vote.id, participant.id)
    _check_row(row, value)
    if row is None:
        row = CouncilCredential(
            council_vote_id=vote.id, participant_id=participant.id, blinded=value, batch=0
        )
        row.requested_at = moment
        session.add(row)
        await session.flush()
    if vote.status == "open" and row.batch == 0:
        await sign_waiting(session, vote, key=key, now=moment)
        await session.refresh(row)
    return _state(row)


async def _waiting(session: AsyncSession, vote_id: int) -> list[CouncilCredential]:
    query = (
        select(CouncilCredential)
        .where(CouncilCredential.council_vote_id == vote_id, CouncilCredential.batch == 0)
        .order_by(CouncilCredential.id)
    )
    return list((await session.execute(query)).scalars())


async def sign_waiting(
    session: AsyncSession,
    vote: CouncilVote,
    *,
    key: bytes,
    now: dt.datetime | None = None,
    force: bool = False,
) -> int:
    """Sign the waiting requests as one batch when it is due (or ``force``); returns its size."""
    waiting = await _waiting(session, vote.id)
    oldest = min((r.requested_at for r in waiting if r.requested_at), default=None)
    due = len(waiting) >= BATCH_MIN or (
        oldest is not None and oldest <= (now or utcnow()) - BATCH_WAIT
    )
    if not waiting or not (due or force):
        return 0
    meta = await vote_meta(session, vote.id)
    public = PublicKey(int(meta.ballot_key_n, 16), meta.ballot_key_e)
    private = unseal_private(public, meta.ballot_key_sealed, key)
    number = int(
        await session.scalar(
            select(func.max(CouncilCredential.batch)).where(
                CouncilCredential.council_vote_id == vote.id
            )
        )
        or 0
    )
    number = max(number, 0) + 1
    for row in waiting:
        signed = private.sign_blinded(int(row.blinded, 16))
        await session.execute(
            update(CouncilCredential)
            .where(CouncilCredential.id == row.id, CouncilCredential.batch == 0)
            .values(blind_signature=format(signed, "x"), batch=number, requested_at=None)
            .execution_options(synchronize_session="fetch")
        )
    await audit.append(
        session,
        actor="summit",
        action="council.keys",
        subject=f"council:{vote.id}",
        summit_id=vote.summit_id,
        payload={"vote": vote.id, "batch": number, "keys": len(waiting)},
    )
    return len(waiting)


async def keys_issued(session: AsyncSession, vote_id: int) -> tuple[int, int]:
    """(signed, waiting) voting keys of a vote, legacy voters not included."""
    rows = await session.execute(
        select(CouncilCredential.batch, func.count())
        .where(CouncilCredential.council_vote_id == vote_id)
        .group_by(CouncilCredential.batch)
    )
    signed = waiting = 0
    for batch, count in rows.all():
        if batch > 0:
            signed += int(count)
        elif batch == 0:
            waiting += int(count)
    return signed, waiting


async def drop_non_members(session: AsyncSession, vote_id: int, members: set[int]) -> None:
    """At opening: requests of participants the rule no longer selects are dropped."""
    for row in await _waiting(session, vote_id):
        if row.participant_id not in members:
            await session.delete(row)
    await session.flush()
