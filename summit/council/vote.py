"""A Burgerraad vote from set-up to result: the exact proposal texts on it, its members, opening,
the count, and the published result with every ballot and voting key.

Use cases run inside the caller's transaction and return the live events to publish after it
commits. The ballots themselves go through ``summit.council.ballot``; voting keys through
``summit.council.credentials``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import rows_of
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit, utcnow
from summit.core.rules.roles import council_threshold
from summit.council import credentials
from summit.council.ballot import locked_vote, public_key, vote_items, vote_meta, voters
from summit.council.models import (
    Ballot,
    CouncilMember,
    CouncilVote,
    CouncilVoteItem,
    CouncilVotingKey,
    Proposal,
    ProposalVersion,
)
from summit.council.proposals import get_proposal, set_item_version, version_sha256
from summit.council.rules.credentials import PublicKey, PublishedBallot
from summit.council.rules.text import clean_text
from summit.council.rules.voting import (
    Membership,
    MembershipKind,
    ProposalResult,
    VotingClosed,
    VotingError,
    council_results,
    receipts_digest,
    select_members,
    transition,
)

Event = tuple[str, dict[str, Any]]


def _everywhere(summit_id: int, event: dict[str, Any]) -> list[Event]:
    return [(f"summit:{summit_id}", event), (f"display:{summit_id}", event)]


async def _check_listed(session: AsyncSession, summit_id: int, rule: Membership) -> None:
    if rule.kind is not MembershipKind.LIST:
        return
    known = set(
        (
            await session.execute(
                select(Participant.pseudonym).where(
                    Participant.summit_id == summit_id,
                    Participant.pseudonym.in_(rule.pseudonyms),
                    Participant.status != "withdrawn",
                )
            )
        ).scalars()
    )
    missing = [name for name in rule.pseudonyms if name not in known]
    if missing:
        raise InvalidInput(
            "member_list",
            _("%(value)s is not a participant of this summit (or withdrew)")
            % {"value": missing[0]},
        )


async def _latest_version(session: AsyncSession, proposal_id: int) -> ProposalVersion | None:
    query = (
        select(ProposalVersion)
        .where(ProposalVersion.proposal_id == proposal_id)
        .order_by(ProposalVersion.version.desc())
    )
    return await session.scalar(query.limit(1))


async def create_council_vote(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    title: str,
    proposal_ids: Sequence[int],
    closes_at: dt.datetime | None = None,
    membership: Membership | None = None,
    key: bytes | None = None,
) -> CouncilVote:
    """A Burgerraad vote over the latest version of each proposal (its SHA-256 is recorded);
    ``membership`` says who the members will be (everyone by default), fixed when it opens.
    With the server ``key`` the vote gets its ballot key now (else when first needed)."""
    rule = membership or Membership()
    await _check_listed(session, summit.id, rule)
    clean = clean_text(title, "title", required=True, limit=200)
    if not proposal_ids:
        raise InvalidInput("proposals", _("choose at least one proposal to vote on"))
    if len(set(proposal_ids)) != len(proposal_ids):
        raise InvalidInput("proposals", _("a proposal is listed twice"))
    versions = {pid: await _version_to_put(session, summit.id, pid, None) for pid in proposal_ids}
    if closes_at is not None and closes_at <= utcnow():
        raise InvalidInput("closes_at", _("the deadline must be in the future"))
    vote = CouncilVote(summit_id=summit.id, title=clean, status="planned", closes_at=closes_at)
    session.add(vote)
    await session.flush()
    for position, pid in enumerate(proposal_ids):
        session.add(_item(vote.id, pid, versions[pid], position))
    meta = await vote_meta(session, vote.id)
    meta.membership = rule.to_json()
    if key is not None:
        credentials.new_ballot_key(meta, key)
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
            "versions": [
                [pid, versions[pid].version, versions[pid].sha256] for pid in proposal_ids
            ],
            "membership": rule.to_json(),
            "closes_at": closes_at.isoformat() if closes_at else None,
        },
    )
    return vote


def _item(vote_id: int, proposal_id: int, version: ProposalVersion, position: int) -> Any:
    return CouncilVoteItem(
        council_vote_id=vote_id,
        proposal_id=proposal_id,
        proposal_version=version.version,
        proposal_sha256=version.sha256,
        position=position,
    )


async def _version_to_put(
    session: AsyncSession, summit_id: int, proposal_id: int, number: int | None
) -> ProposalVersion:
    """A proposal's version ``number`` (the latest when ``None``); 404/400 when there is none."""
    await get_proposal(session, summit_id, proposal_id)
    if number is None:
        found = await _latest_version(session, proposal_id)
    else:
        found = await session.scalar(
            select(ProposalVersion).where(
                ProposalVersion.proposal_id == proposal_id, ProposalVersion.version == number
            )
        )
    if found is None:
        raise InvalidInput(
            "version",
            _("proposal %(proposal_id)s has no version %(value)s")
            % {"proposal_id": proposal_id, "value": number or ""},
        )
    if not found.sha256:  # a version written before hashes were kept
        found.sha256 = version_sha256(found)
    return found


async def put_version_on_vote(
    session: AsyncSession,
    summit_id: int,
    vote_id: int,
    proposal_id: int,
    *,
    version: int | None = None,
    actor: str,
) -> CouncilVoteItem:
    """Put version ``version`` (the latest when ``None``) of a proposal on a vote that has not
    opened yet, replacing the version it carried (the proposal is added when it was not on the
    vote). The vote records that version's SHA-256; logged as ``council.version``.

    For other parts, e.g. the Burgerforum: "the workshop's submitted version is the version on
    the ballot"."""
    vote = await locked_vote(session, summit_id, vote_id, exclusive=True)
    if vote.status != "planned":
        raise VotingError("vote", _("the vote has opened; the texts on it cannot change"))
    chosen = await _version_to_put(session, summit_id, proposal_id, version)
    items = await vote_items(session, vote.id)
    item = next((i for i in items if i.proposal_id == proposal_id), None)
    if item is None:
        item = CouncilVoteItem(
            council_vote_id=vote.id, proposal_id=proposal_id, position=len(items)
        )
        session.add(item)
    await set_item_version(session, item, chosen, actor=actor, summit_id=summit_id)
    return item


async def votes_setting_up(session: AsyncSession, proposal_id: int) -> list[int]:
    """The votes not yet opened that carry this proposal."""
    query = (
        select(CouncilVote.id)
        .join(CouncilVoteItem, CouncilVoteItem.council_vote_id == CouncilVote.id)
        .where(CouncilVoteItem.proposal_id == proposal_id, CouncilVote.status == "planned")
    )
    return list((await session.execute(query)).scalars())


async def versions_on_vote(
    session: AsyncSession, items: Sequence[CouncilVoteItem]
) -> dict[int, ProposalVersion]:
    """The exact version of each proposal that the vote carries."""
    found: dict[int, ProposalVersion] = {}
    for item in items:
        row = await session.scalar(
            select(ProposalVersion).where(
                ProposalVersion.proposal_id == item.proposal_id,
                ProposalVersion.version == item.proposal_version,
            )
        )
        if row is not None:
            found[item.proposal_id] = row
    return found


async def get_council_vote(session: AsyncSession, summit_id: int, vote_id: int) -> CouncilVote:
    vote = await session.get(CouncilVote, vote_id)
    if vote is None or vote.summit_id != summit_id:
        raise NotFound(_("council vote %(vote_id)s does not exist") % {"vote_id": vote_id})
    return vote


async def council_votes(session: AsyncSession, summit_id: int) -> list[CouncilVote]:
    return await rows_of(
        session, CouncilVote, CouncilVote.summit_id == summit_id, order_by=CouncilVote.id.desc()
    )


async def vote_membership(session: AsyncSession, vote_id: int) -> Membership:
    """The vote's membership rule (who the members are or will be)."""
    return Membership.from_json((await vote_meta(session, vote_id)).membership)


async def ensure_ballot_key(session: AsyncSession, vote: CouncilVote, key: bytes) -> PublicKey:
    """The vote's ballot key, made now for a vote set up without one (under the vote's lock)."""
    meta = await vote_meta(session, vote.id)
    found = public_key(meta)
    if found is None:
        await locked_vote(session, vote.summit_id, vote.id, exclusive=True)
        await session.refresh(meta)
        found = public_key(meta) or credentials.new_ballot_key(meta, key)
        await session.flush()
    return found


async def _fix_members(session: AsyncSession, vote: CouncilVote, rule: Membership) -> list[int]:
    rows = await session.execute(
        select(Participant.id, Participant.pseudonym, Participant.role, Participant.status).where(
            Participant.summit_id == vote.summit_id
        )
    )
    members = select_members(rule, [(r[0], r[1], r[2], r[3]) for r in rows])
    if not members:
        raise VotingError("members", _("no participant of the summit matches the membership rule"))
    for pid in members:
        session.add(CouncilMember(council_vote_id=vote.id, participant_id=pid))
    return members


async def open_council_vote(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str, key: bytes
) -> tuple[CouncilVote, list[Event]]:
    """Open the vote: fix its members (by its membership rule) and the threshold, and sign, as
    one batch, the voting keys members asked for while it was being set up."""
    vote = await locked_vote(session, summit_id, vote_id, exclusive=True)
    transition(vote.status, "open")
    if vote.closes_at is not None and vote.closes_at <= utcnow():
        raise VotingError("closes_at", _("the deadline has passed; create a new vote"))
    ballot_key = await ensure_ballot_key(session, vote, key)
    meta = await vote_meta(session, vote.id)
    rule = Membership.from_json(meta.membership)
    members = await _fix_members(session, vote, rule)
    await credentials.drop_non_members(session, vote.id, set(members))
    items = await vote_items(session, vote.id)
    vote.members = len(members)
    vote.status = "open"
    vote.opens_at = utcnow()
    meta.threshold = council_threshold(len(members))
    for item in items:
        proposal = await session.get(Proposal, item.proposal_id)
        if proposal is not None:
            proposal.status = "voting"
    await session.flush()
    signed = await credentials.sign_waiting(session, vote, key=key, force=True)
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
            "proposals": [[i.proposal_id, i.proposal_version, i.proposal_sha256] for i in items],
            "ballot_key": ballot_key.as_json(),
            "keys_signed": signed,
            "closes_at": vote.closes_at.isoformat() if vote.closes_at else None,
        },
    )
    return vote, _everywhere(summit_id, {"type": "council.opened", "vote": vote.id})


async def is_member(session: AsyncSession, vote_id: int, participant_id: int) -> bool:
    found = await session.scalar(
        select(CouncilMember.id).where(
            CouncilMember.council_vote_id == vote_id, CouncilMember.participant_id == participant_id
        )
    )
    return found is not None


async def member_of_open_vote(session: AsyncSession, participant_id: int) -> bool:
    """Whether the participant is a member of a Burgerraad vote that is open now (their personal
    link must not be issued again then: whoever holds it could vote in their place)."""
    found = await session.scalar(
        select(CouncilMember.id)
        .join(CouncilVote, CouncilVote.id == CouncilMember.council_vote_id)
        .where(CouncilMember.participant_id == participant_id, CouncilVote.status == "open")
        .limit(1)
    )
    return found is not None


# --- The count and the published result ---------------------------------------------------------


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
    """A closed vote's published result: counts, threshold, receipts, ballots and keys."""

    vote: CouncilVote
    meta: Any
    rows: list[ResultRow]
    receipts: list[tuple[str, int, str]] = field(default_factory=list)
    ballots: list[PublishedBallot] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    keys_signed: int = 0

    @property
    def adopted(self) -> list[ResultRow]:
        return [r for r in self.rows if r.result.adopted]

    @property
    def rejected(self) -> list[ResultRow]:
        return [r for r in self.rows if not r.result.adopted]

    def _proposals(self) -> list[dict[str, Any]]:
        return [
            {
                "proposal": r.item.proposal_id,
                "version": r.item.proposal_version,
                "sha256": r.item.proposal_sha256,
                "title": r.title,
                "for": r.result.votes_for,
                "against": r.result.against,
                "abstain": r.result.abstain,
                "not_voted": r.result.not_voted,
                "adopted": r.result.adopted,
            }
            for r in self.rows
        ]

    def as_json(self) -> dict[str, Any]:
        key = public_key(self.meta)
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
            "proposals": self._proposals(),
            "receipts": [
                {"receipt": receipt, "proposal": proposal, "choice": choice}
                for receipt, proposal, choice in self.receipts
            ],
            "ballot_key": key.as_json() if key else None,
            # every published voting key was signed for a member who asked: never more keys
            "keys_signed": self.keys_signed,
            "voting_keys": [
                {"credential": c, "signature": s} for c, s in sorted(self.keys.items())
            ],
            "ballots": [b.as_json() for b in self.ballots],
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


async def _published(
    session: AsyncSession, vote_id: int
) -> tuple[list[PublishedBallot], dict[str, str]]:
    rows = await session.execute(
        select(
            Ballot.receipt,
            Ballot.credential,
            Ballot.proposal_id,
            Ballot.version,
            Ballot.choice,
            Ballot.superseded,
        )
        .where(Ballot.council_vote_id == vote_id, Ballot.credential.is_not(None))
        .order_by(Ballot.credential, Ballot.proposal_id, Ballot.version)
    )
    ballots = [
        PublishedBallot(str(r), str(c), int(p), int(v), str(ch), not s)
        for r, c, p, v, ch, s in rows.all()
    ]
    keys = await session.execute(
        select(CouncilVotingKey.credential, CouncilVotingKey.signature).where(
            CouncilVotingKey.council_vote_id == vote_id
        )
    )
    return ballots, {str(c): str(s) for c, s in keys.all()}


async def _superseded(session: AsyncSession, vote_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Ballot)
        .where(Ballot.council_vote_id == vote_id, Ballot.superseded.is_(True))
    )
    return int(await session.scalar(query) or 0)


async def _store_results(
    session: AsyncSession, items: list[CouncilVoteItem], results: list[ProposalResult]
) -> None:
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


async def _log_results(
    session: AsyncSession, vote: CouncilVote, results: list[ProposalResult], actor: str
) -> None:
    for result in results:
        await audit.append(
            session,
            actor=actor,
            action="council.result",
            subject=f"proposal:{result.proposal}",
            summit_id=vote.summit_id,
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


async def count_and_close(
    session: AsyncSession, summit_id: int, vote_id: int, *, actor: str
) -> CouncilOutcome:
    """Close the vote, count the latest ballots and adopt or reject each proposal; the ballot
    key's private half is destroyed and every ballot and voting key becomes public (the receipts
    list's SHA-256 is logged). The Burgerbesluit follows (``decision``)."""
    vote = await locked_vote(session, summit_id, vote_id, exclusive=True)
    transition(vote.status, "closed")
    now = utcnow()
    vote.status = "closed"
    if vote.closes_at is None or vote.closes_at > now:
        vote.closes_at = now
    items = await vote_items(session, vote.id)
    counted = await _counted(session, vote.id)
    results = council_results(
        vote.members, [i.proposal_id for i in items], [(p, c) for _r, p, c in counted]
    )
    meta = await vote_meta(session, vote.id)
    meta.ballot_key_sealed = ""  # no voting key can be signed any more
    meta.threshold = council_threshold(vote.members)
    meta.voters = await voters(session, vote.id)
    meta.ballots_counted = len(counted)
    meta.ballots_superseded = await _superseded(session, vote.id)
    meta.receipts_sha256 = receipts_digest(counted)
    signed, waiting = await credentials.keys_issued(session, vote.id)
    await _store_results(session, items, results)
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
            "keys_signed": signed,
            "keys_unsigned": waiting,
            "ballots_counted": meta.ballots_counted,
            "ballots_superseded": meta.ballots_superseded,
            "receipts_sha256": meta.receipts_sha256,
            "ballot_key_destroyed": True,
        },
    )
    await _log_results(session, vote, results, actor)
    return await council_outcome(session, vote, with_receipts=False)


async def council_outcome(
    session: AsyncSession, vote: CouncilVote, *, with_receipts: bool = True
) -> CouncilOutcome:
    """The published result of a closed vote (refused before it closes: results stay hidden)."""
    if vote.status != "closed":
        raise VotingClosed("vote", _("results are hidden until the vote closes"))
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
    signed, _waiting = await credentials.keys_issued(session, vote.id)
    outcome = CouncilOutcome(vote=vote, meta=meta, rows=rows, keys_signed=signed)
    if with_receipts:
        outcome.receipts = await _counted(session, vote.id)
        outcome.ballots, outcome.keys = await _published(session, vote.id)
    return outcome


async def turnout(session: AsyncSession, vote: CouncilVote) -> dict[str, Any]:
    """What screens show while a vote is open: members, threshold, turnout."""
    return {
        "vote": vote.id,
        "title": vote.title,
        "status": vote.status,
        "members": vote.members,
        "threshold": council_threshold(max(vote.members, 1)),
        "voters": await voters(session, vote.id),
    }
