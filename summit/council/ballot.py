"""The Burgerraad's ballot box: ballots cast with an anonymous voting key, never with a name.

A ballot arrives with a voting key's secret and the ballot key's signature on its credential
(``rules.credentials``), in a request without a session. The box checks the signature, stores
``(vote, proposal, choice, receipt, credential, version)`` under a random id with no time, marks
the key's previous ballot on that proposal superseded, and logs the change with a hash that the
published ballot list opens after the count: nothing here knows, stores or logs who voted.

Which members obtained a key is kept apart (``summit.council.credentials``), written in other
requests and transactions, in batches. Ballots race each other on PostgreSQL: ``cast`` runs
inside ``summit.core.db.with_retries``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import distinct, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import Database, Retry, lock_row, rows_of
from summit.core.errors import NotFound, PermissionDenied
from summit.core.groupcommit import GroupCommit
from summit.core.i18n import gettext as _
from summit.core.models import utcnow
from summit.council.models import (
    Ballot,
    CouncilVote,
    CouncilVoteItem,
    CouncilVoteMeta,
    CouncilVotingKey,
    VoterParticipation,
)
from summit.council.rules.credentials import (
    PublicKey,
    ballot_commitment,
    ballot_receipt,
    credential_of,
    parse_hex64,
    parse_number,
    verify,
)
from summit.council.rules.voting import (
    MAX_BALLOT_VERSIONS,
    Choice,
    VotingClosed,
    VotingError,
    check_ballot_window,
    parse_choice,
)

Event = tuple[str, dict[str, Any]]

#: The advisory-lock key space of Burgerraad votes on PostgreSQL.
LOCK_SPACE = 7_302_001
#: The audit log's actor for ballot changes: a ballot carries no name.
ANONYMOUS = "anonymous"


async def locked_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, exclusive: bool
) -> CouncilVote:
    """The vote row, locked (shared for ballots, exclusive for opening and closing)."""
    vote = await lock_row(session, CouncilVote, vote_id, exclusive=exclusive, space=LOCK_SPACE)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(_("council vote %(vote_id)s does not exist") % {"vote_id": vote_id})
    assert isinstance(vote, CouncilVote)
    return vote


async def vote_items(session: AsyncSession, vote_id: int) -> list[CouncilVoteItem]:
    where = CouncilVoteItem.council_vote_id == vote_id
    return await rows_of(session, CouncilVoteItem, where, order_by=CouncilVoteItem.position)


async def vote_meta(session: AsyncSession, vote_id: int) -> CouncilVoteMeta:
    meta = await session.scalar(
        select(CouncilVoteMeta).where(CouncilVoteMeta.council_vote_id == vote_id)
    )
    if meta is None:
        meta = CouncilVoteMeta(council_vote_id=vote_id)
        session.add(meta)
    return meta


def public_key(meta: CouncilVoteMeta) -> PublicKey | None:
    """The vote's ballot key as published (``None`` for a vote without one yet)."""
    if not meta.ballot_key_n:
        return None
    return PublicKey(int(meta.ballot_key_n, 16), meta.ballot_key_e)


@dataclass(frozen=True)
class _OpenVoteFacts:
    key: PublicKey | None
    proposals: frozenset[int]


# What cannot change once a vote is open (its ballot key and proposals): read once per process
# instead of on every ballot. Keyed by the vote and the moment it opened, so another database
# that reuses the id (tests, a restored backup) never sees stale facts.
_OPEN_VOTE_FACTS: dict[tuple[int, int, str], _OpenVoteFacts] = {}


async def _open_vote_facts(session: AsyncSession, vote: CouncilVote) -> _OpenVoteFacts:
    cache_key = (vote.id, vote.summit_id, vote.opens_at.isoformat() if vote.opens_at else "")
    facts = _OPEN_VOTE_FACTS.get(cache_key)
    if facts is not None:
        return facts
    key = public_key(await vote_meta(session, vote.id))
    items = await vote_items(session, vote.id)
    facts = _OpenVoteFacts(key, frozenset(i.proposal_id for i in items))
    if key is not None and vote.opens_at is not None:
        if len(_OPEN_VOTE_FACTS) > 256:
            _OPEN_VOTE_FACTS.clear()
        _OPEN_VOTE_FACTS[cache_key] = facts
    return facts


@dataclass(frozen=True)
class CastBallot:
    proposal: int
    choice: str
    receipt: str
    version: int
    changed: bool  # False when the same choice was sent again (nothing new stored)


def _parse_choices(choices: Mapping[int, str], on_vote: frozenset[int]) -> dict[int, Choice]:
    if not choices:
        raise VotingError("choice", _("choose for, against or abstain on at least one proposal"))
    parsed: dict[int, Choice] = {}
    for proposal, choice in choices.items():
        if proposal not in on_vote:
            raise VotingError(
                "proposal", _("proposal %(proposal)s is not on this vote") % {"proposal": proposal}
            )
        parsed[proposal] = parse_choice(choice, f"choice[{proposal}]")
    return parsed


def _credential(key: PublicKey, vote_id: int, secret: str, signature: str) -> tuple[str, int]:
    """The credential of a voting key whose signature checks out (403 otherwise)."""
    credential = credential_of(parse_hex64(secret, "secret"))
    number = parse_number(signature, "signature", key)
    if not verify(key, vote_id, credential, number):
        raise PermissionDenied("credential: " + _("this voting key was not issued for this vote"))
    return credential, number


async def _latest(session: AsyncSession, credential: str) -> dict[int, Any]:
    """The key's latest ballot per proposal (version, choice, receipt, superseded)."""
    rows = await session.execute(
        select(
            Ballot.proposal_id, Ballot.version, Ballot.choice, Ballot.receipt, Ballot.superseded
        ).where(Ballot.credential == credential)
    )
    latest: dict[int, Any] = {}
    for row in rows.all():
        if row.proposal_id not in latest or latest[row.proposal_id].version < row.version:
            latest[row.proposal_id] = row
    return latest


def _plan_one(
    vote_id: int, credential: str, proposal: int, choice: Choice, latest: Any | None
) -> tuple[CastBallot, dict[str, Any] | None]:
    """One proposal's ballot as the key's next version: the answer and the row to insert
    (``None`` when the same choice was sent again). The caller supersedes ``latest``."""
    if latest is not None and latest.superseded:
        raise Retry()
    if latest is not None and latest.choice == choice:
        return CastBallot(proposal, choice.value, latest.receipt, latest.version, False), None
    version = latest.version + 1 if latest is not None else 1
    if version > MAX_BALLOT_VERSIONS:
        raise VotingError(
            f"choice[{proposal}]",
            _("you have changed this vote %(value)s times; that is the limit")
            % {"value": MAX_BALLOT_VERSIONS - 1},
        )
    receipt = ballot_receipt(vote_id, credential, proposal, version)
    row = {
        "id": secrets.randbelow(2**31 - 2) + 1,  # random: ids must not follow the order of voting
        "council_vote_id": vote_id,
        "proposal_id": proposal,
        "choice": choice.value,
        "receipt": receipt,
        "superseded": False,
        "credential": credential,
        "version": version,
    }
    return CastBallot(proposal, choice.value, receipt, version, changed=True), row


async def _cast_one(
    session: AsyncSession,
    vote_id: int,
    credential: str,
    proposal: int,
    choice: Choice,
    latest: Any | None,
) -> CastBallot:
    """Store one proposal's ballot as the key's next version, superseding its latest."""
    done, row = _plan_one(vote_id, credential, proposal, choice, latest)
    if row is None:
        return done
    if latest is not None:
        result = await session.execute(
            update(Ballot)
            .where(Ballot.receipt == latest.receipt, Ballot.superseded.is_(False))
            .values(superseded=True)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise Retry()
    session.add(Ballot(**row))
    return done


@dataclass(frozen=True)
class Cast:
    """What one ballot request did: its ballots, its live events, and its audit entry (``None``
    when nothing changed), appended by ``cast`` or, for a batch, by ``record``."""

    ballots: list[CastBallot]
    events: list[Event]
    entry: audit.Entry | None


async def cast(
    session: AsyncSession,
    *,
    summit_id: int,
    vote_id: int,
    secret: str,
    signature: str,
    choices: Mapping[int, str],
    now: dt.datetime | None = None,
) -> tuple[list[CastBallot], list[Event]]:
    """Cast or change ballots with an anonymous voting key; only its latest ballot per proposal
    counts.

    Raises ``VotingClosed`` outside the window, ``PermissionDenied`` for a key this vote did not
    sign, ``VotingError`` for an unknown proposal or choice, ``Retry`` (run again by
    ``with_retries``) when a simultaneous change with the same key won the race.
    """
    done = await store(
        session,
        summit_id=summit_id,
        vote_id=vote_id,
        secret=secret,
        signature=signature,
        choices=choices,
        now=now,
    )
    await record(session, [done])
    return done.ballots, done.events


async def record(session: AsyncSession, casts: list[Cast]) -> None:
    """Log the ballot changes of ``casts`` (one entry each, in this order)."""
    await audit.append_many(session, [c.entry for c in casts if c.entry is not None])


def group_commit(database: Database) -> GroupCommit[Cast]:
    """The ballot box of one app process: ``BallotRequest`` items committed in batches, stored
    together by ``store_many`` (each alone by ``store`` on SQLite and when a batch fails), their
    audit entries appended once per batch (``summit.core.groupcommit``)."""
    return GroupCommit(database, finish=record, many=store_many, field_name="ballot")


@dataclass(frozen=True)
class BallotRequest:
    """One ballot request for the ballot box: run alone it is ``store``; a batch of them is
    stored by ``store_many``."""

    summit_id: int
    vote_id: int
    secret: str
    signature: str
    choices: Mapping[int, str]

    async def __call__(self, session: AsyncSession) -> Cast:
        return await store(
            session,
            summit_id=self.summit_id,
            vote_id=self.vote_id,
            secret=self.secret,
            signature=self.signature,
            choices=self.choices,
        )


async def _open_vote(
    session: AsyncSession, summit_id: int, vote_id: int, moment: dt.datetime
) -> tuple[CouncilVote, _OpenVoteFacts]:
    """The vote taking ballots now, and its fixed facts (refused: unknown, outside its window,
    or from before voting keys)."""
    found = await session.get(CouncilVote, vote_id)
    if found is None or found.summit_id != summit_id:
        raise NotFound(_("council vote %(vote_id)s does not exist") % {"vote_id": vote_id})
    check_ballot_window(found.status, found.opens_at, found.closes_at, moment)
    fixed = await _open_vote_facts(session, found)
    if fixed.key is None:
        raise VotingClosed(
            "vote", _("this vote started before voting keys and takes no new ballots")
        )
    return found, fixed


async def store_many(session: AsyncSession, works: list[Any]) -> list[Cast | BaseException] | None:
    """A batch of ``BallotRequest`` stored with a few statements for all of them: each request
    is checked as ``store`` checks it (its refusal is its own answer; a ``Retry``, to run alone
    after the batch, when the same key is already in it), under one shared lock of the vote;
    then one read of the keys' earlier ballots, one update that supersedes them and one insert
    each for the new voting keys and ballots. Raises ``Retry`` when another transaction changed
    one of those ballots first (the batch is then stored request by request). ``None`` for other
    work."""
    if not all(isinstance(work, BallotRequest) for work in works):
        return None
    requests: list[BallotRequest] = works
    batch = _Batch([Retry()] * len(requests))
    groups: dict[tuple[int, int], list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault((request.summit_id, request.vote_id), []).append(i)
    moment = utcnow()
    for (summit_id, vote_id), indices in groups.items():
        try:
            _found, fixed = await _open_vote(session, summit_id, vote_id, moment)
            checked = batch.check(fixed, vote_id, {i: requests[i] for i in indices})
            if not checked:
                continue
            vote = await locked_vote(session, summit_id, vote_id, exclusive=False)
            check_ballot_window(vote.status, vote.opens_at, vote.closes_at, moment)
        except (NotFound, VotingClosed) as exc:  # the whole vote refuses
            for i in indices:
                batch.answers[i] = exc
            continue
        latest_of = await _latest_many(session, [c[1] for c in checked.values()])
        batch.plan(vote, checked, latest_of)
    await batch.write(session)
    return batch.answers


Checked = tuple[dict[int, Choice], str, int]  # choices, credential, signature


@dataclass
class _Batch:
    """``store_many``'s answers and the rows it writes at the end."""

    answers: list[Cast | BaseException]
    superseded: list[str] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def check(
        self, fixed: _OpenVoteFacts, vote_id: int, requests: dict[int, BallotRequest]
    ) -> dict[int, Checked]:
        """The requests whose choices and voting key check out; the others get their refusal."""
        assert fixed.key is not None
        checked: dict[int, Checked] = {}
        for i, request in requests.items():
            try:
                parsed = _parse_choices(request.choices, fixed.proposals)
                credential, number = _credential(
                    fixed.key, vote_id, request.secret, request.signature
                )
            except Exception as exc:  # this request's own refusal
                self.answers[i] = exc
            else:
                checked[i] = parsed, credential, number
        return checked

    def plan(
        self,
        vote: CouncilVote,
        checked: dict[int, Checked],
        latest_of: dict[str, dict[int, Any]],
    ) -> None:
        """Each checked request's ballots as their keys' next versions (answered now, written
        by ``write``)."""
        events: list[Event] = [
            (f"display:{vote.summit_id}", {"type": "council.ballot", "vote": vote.id})
        ]
        seen: set[str] = set()
        for i, (parsed, credential, number) in checked.items():
            if credential in seen:  # the same key twice in a batch: the second runs alone
                continue
            seen.add(credential)
            latest = latest_of.get(credential, {})
            try:
                planned = [
                    _plan_one(vote.id, credential, p, parsed[p], latest.get(p))
                    for p in sorted(parsed)
                ]
            except Exception as exc:
                self.answers[i] = exc
                continue
            if not latest:  # the key's first ballot: keep its signature for the public recount
                self.keys.append(
                    {
                        "id": secrets.randbelow(2**31 - 2) + 1,
                        "council_vote_id": vote.id,
                        "credential": credential,
                        "signature": format(number, "x"),
                    }
                )
            changed = [done for done, row in planned if row is not None]
            self.rows.extend(row for _done, row in planned if row is not None)
            self.superseded.extend(
                latest[c.proposal].receipt for c in changed if c.proposal in latest
            )
            entry = _log_entry(vote, changed) if changed else None
            self.answers[i] = Cast([done for done, _row in planned], events, entry)

    async def write(self, session: AsyncSession) -> None:
        if self.superseded:
            result = await session.execute(
                update(Ballot)
                .where(Ballot.receipt.in_(self.superseded), Ballot.superseded.is_(False))
                .values(superseded=True)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", len(self.superseded)) != len(self.superseded):
                raise Retry()
        if self.keys:
            await session.execute(insert(CouncilVotingKey), self.keys)
        if self.rows:
            await session.execute(insert(Ballot), self.rows)


async def _latest_many(session: AsyncSession, credentials: list[str]) -> dict[str, dict[int, Any]]:
    """Per key, its latest ballot per proposal (as ``_latest``), in one read."""
    found = await session.execute(
        select(
            Ballot.credential,
            Ballot.proposal_id,
            Ballot.version,
            Ballot.choice,
            Ballot.receipt,
            Ballot.superseded,
        ).where(Ballot.credential.in_(credentials))
    )
    latest: dict[str, dict[int, Any]] = {}
    for row in found.all():
        mine = latest.setdefault(row.credential, {})
        if row.proposal_id not in mine or mine[row.proposal_id].version < row.version:
            mine[row.proposal_id] = row
    return latest


async def store(
    session: AsyncSession,
    *,
    summit_id: int,
    vote_id: int,
    secret: str,
    signature: str,
    choices: Mapping[int, str],
    now: dt.datetime | None = None,
) -> Cast:
    """``cast`` without its audit entry: the entry is returned, for ``record`` to append."""
    moment = now or utcnow()
    # Everything that can be refused is checked before the lock, so a forged ballot never holds
    # it; the window is checked again under the lock (a closing may have passed us by).
    _found, fixed = await _open_vote(session, summit_id, vote_id, moment)
    assert fixed.key is not None
    parsed = _parse_choices(choices, fixed.proposals)
    credential, signature_number = _credential(fixed.key, vote_id, secret, signature)
    vote = await locked_vote(session, summit_id, vote_id, exclusive=False)
    check_ballot_window(vote.status, vote.opens_at, vote.closes_at, moment)
    latest = await _latest(session, credential)
    if not latest:  # the key's first ballot: keep its signature for the public recount
        session.add(
            CouncilVotingKey(
                id=secrets.randbelow(2**31 - 2) + 1,
                council_vote_id=vote.id,
                credential=credential,
                signature=format(signature_number, "x"),
            )
        )
    done = [
        await _cast_one(session, vote.id, credential, p, parsed[p], latest.get(p))
        for p in sorted(parsed)
    ]
    changed = [c for c in done if c.changed]
    if changed:
        await session.flush()
    # The screens re-read the turnout themselves (throttled), so a ballot costs no count here.
    events: list[Event] = [(f"display:{summit_id}", {"type": "council.ballot", "vote": vote.id})]
    return Cast(done, events, _log_entry(vote, changed) if changed else None)


def _log_entry(vote: CouncilVote, changed: list[CastBallot]) -> audit.Entry:
    """Every ballot change is logged: no name, no choice (a hash the published list opens), and
    the vote's opening time instead of the moment of voting."""
    return audit.Entry(
        actor=ANONYMOUS,
        action="council.ballot",
        subject=f"council:{vote.id}",
        summit_id=vote.summit_id,
        payload={
            "vote": vote.id,
            "ballots": [
                [
                    c.proposal,
                    c.version,
                    ballot_commitment(c.receipt, c.proposal, c.version, c.choice),
                ]
                for c in changed
            ],
        },
        now=vote.opens_at,
    )


async def voters(session: AsyncSession, vote_id: int) -> int:
    """How many voted: the voting keys that cast a ballot (and, for ballots from before voting
    keys existed, the members recorded as having voted)."""
    keyed = await session.scalar(
        select(func.count(distinct(Ballot.credential))).where(
            Ballot.council_vote_id == vote_id, Ballot.credential.is_not(None)
        )
    )
    legacy = await session.scalar(
        select(func.count())
        .select_from(VoterParticipation)
        .where(VoterParticipation.council_vote_id == vote_id)
    )
    return int(keyed or 0) + int(legacy or 0)
