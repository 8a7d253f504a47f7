"""Tables of the council part (registered on the metadata by `summit.schema`).

Prioritisation (dot voting):
``priority_votes`` one round of dot voting over themes or proposals, with its public tie-break seed;
``priority_items`` the themes/proposals on it; ``priority_ballots`` one participant's dots (they
are not secret, like stickers on a wall); ``priority_table_tallies`` a venue table's paper dots.

Burgerraad (the core tables ``council_votes``, ``ballots``, ``voter_participation``, ``decisions``
and ``decision_signatures`` hold the vote itself):
``council_members`` who may vote (fixed when the vote opens); ``council_credentials`` which
members obtained their anonymous voting key (not which key); ``council_vote_items`` the
proposals on a vote and, once closed, their counts; ``council_vote_meta`` the receipt-key
fingerprint, the membership rule and the published receipts' hash; ``decision_documents`` the
exact bytes of a Burgerbesluit whose SHA-256 the members sign. (The plenary screen's
``display_links`` are in ``summit.plenary.models``.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, created_column, utcnow


class PriorityVote(Base):
    """A round of dot voting (prioritering) over themes or proposals."""

    __tablename__ = "priority_votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16), default="agenda")  # agenda | proposals
    item_kind: Mapped[str] = mapped_column(String(16), default="theme")  # theme | proposal
    votes_per_participant: Mapped[int] = mapped_column(Integer, default=5)
    max_per_item: Mapped[int | None] = mapped_column(Integer)
    shortlist_size: Mapped[int] = mapped_column(Integer, default=12)
    seed: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned|open|closed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PriorityItem(Base):
    __tablename__ = "priority_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    priority_vote_id: Mapped[int] = mapped_column(
        ForeignKey("priority_votes.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(32))  # "theme:12" / "proposal:7": the tie-break input
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PriorityBallot(Base):
    """One participant's dots on a priority vote; a new submission replaces the old one."""

    __tablename__ = "priority_ballots"
    __table_args__ = (UniqueConstraint("priority_vote_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    priority_vote_id: Mapped[int] = mapped_column(
        ForeignKey("priority_votes.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    dots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # item key -> votes
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PriorityTableTally(Base):
    """A venue table's paper dots, entered by its host or a moderator."""

    __tablename__ = "priority_table_tallies"
    __table_args__ = (UniqueConstraint("priority_vote_id", "table_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    priority_vote_id: Mapped[int] = mapped_column(
        ForeignKey("priority_votes.id", ondelete="CASCADE"), index=True
    )
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"))
    voters: Mapped[int] = mapped_column(Integer, default=0)
    dots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    entered_by: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouncilMember(Base):
    """A member of the Burgerraad for one vote (fixed when the vote opens)."""

    __tablename__ = "council_members"
    __table_args__ = (UniqueConstraint("council_vote_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))


class CouncilVoteItem(Base):
    """A proposal on a Burgerraad vote; the counts are filled in when the vote closes."""

    __tablename__ = "council_vote_items"
    __table_args__ = (UniqueConstraint("council_vote_id", "proposal_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    proposal_version: Mapped[int] = mapped_column(Integer, default=0)  # the text voted on
    proposal_sha256: Mapped[str] = mapped_column(String(64), default="")  # that text's SHA-256
    position: Mapped[int] = mapped_column(Integer, default=0)
    votes_for: Mapped[int | None] = mapped_column(Integer)
    against: Mapped[int | None] = mapped_column(Integer)
    abstain: Mapped[int | None] = mapped_column(Integer)
    adopted: Mapped[bool | None] = mapped_column(Boolean)


class CouncilVoteMeta(Base):
    """What a Burgerraad vote needs beyond the core row: key fingerprint and published hashes."""

    __tablename__ = "council_vote_meta"
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), unique=True
    )
    key_check: Mapped[str] = mapped_column(String(64), default="")
    threshold: Mapped[int] = mapped_column(Integer, default=0)
    voters: Mapped[int] = mapped_column(Integer, default=0)
    ballots_counted: Mapped[int] = mapped_column(Integer, default=0)
    ballots_superseded: Mapped[int] = mapped_column(Integer, default=0)
    receipts_sha256: Mapped[str] = mapped_column(String(64), default="")
    # who the members are, as chosen when the vote was created: {"kind": "all"} |
    # {"kind": "roles", "roles": [...]} | {"kind": "list", "pseudonyms": [...]}
    membership: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The vote's ballot key for anonymous voting keys (RSA blind signatures): the public modulus
    # (hex) and exponent, and the private key sealed with the server secret; the private key is
    # destroyed when the vote closes.
    ballot_key_n: Mapped[str] = mapped_column(Text, default="")
    ballot_key_e: Mapped[int] = mapped_column(Integer, default=0)
    ballot_key_sealed: Mapped[str] = mapped_column(Text, default="")


class DecisionDocument(Base):
    """The exact bytes of a Burgerbesluit (HTML); ``decisions.document_hash`` is their SHA-256."""

    __tablename__ = "decision_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), unique=True
    )
    html: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="nl")


class Proposal(Base):
    """A proposal worked out from a theme (voorstel)."""

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # who may revise it besides staff: "table:<id>", "workshop:<id>", "participant:<id>" or ""
    owner: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = created_column()


class ProposalTextColumns:
    """The text of a proposal, as a version holds it and a workshop's revision drafts it."""

    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    who_acts: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[str] = mapped_column(Text, default="")


class ProposalVersion(ProposalTextColumns, Base):
    __tablename__ = "proposal_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    author_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="SET NULL")
    )
    sha256: Mapped[str] = mapped_column(String(64), default="")  # of the text (proposals.py)
    created_at: Mapped[dt.datetime] = created_column()


class ShortlistItem(Base):
    __tablename__ = "shortlist_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="agenda")  # agenda | proposals
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    rank: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer, default=0)


class CouncilVote(Base):
    """A Burgerraad voting session over the reworked proposals."""

    __tablename__ = "council_votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned|open|closed
    members: Mapped[int] = mapped_column(Integer, default=0)
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Ballot(Base):
    """A secret ballot: no column links it to its voter.

    ``credential`` names the anonymous voting key it was cast with (``credential_id``; empty for
    ballots cast before voting keys existed); ``version`` counts that key's ballots on the
    proposal, and only the latest counts. Ids are random and there is no time column.
    """

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("credential", "proposal_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(8))  # for | against | abstain
    receipt: Mapped[str] = mapped_column(String(64), unique=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    credential: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class CouncilVotingKey(Base):
    """An anonymous voting key that has cast a ballot: its public name (``credential``) and the
    ballot key's signature on it, published after the count so anyone can check and recount.
    The key's secret is never stored, so this row cannot cast a ballot. Random id."""

    __tablename__ = "council_voting_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    credential: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(Text)


class CouncilCredential(Base):
    """That a member asked for, and got, their anonymous voting key: never *which* key, because
    the server signed a blinded value (``blinded``; ``blind_signature`` is empty while the
    request waits for its batch, and ``batch`` numbers the signing batch, 0 while waiting).
    The time of a request is kept only while it waits."""

    __tablename__ = "council_credentials"
    __table_args__ = (UniqueConstraint("council_vote_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    blinded: Mapped[str] = mapped_column(Text, default="")
    blind_signature: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class VoterParticipation(Base):
    """That a member voted (never how), for ballots cast before voting keys existed (0009);
    a vote now counts its voters by the voting keys used in its ballots."""

    __tablename__ = "voter_participation"
    __table_args__ = (UniqueConstraint("council_vote_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_vote_id: Mapped[int] = mapped_column(
        ForeignKey("council_votes.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))


class Decision(Base):
    """The Burgerbesluit: the adopted proposals, signed by the members."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    council_vote_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_votes.id", ondelete="SET NULL")
    )
    document_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = created_column()


class DecisionSignature(Base):
    __tablename__ = "decision_signatures"
    __table_args__ = (UniqueConstraint("decision_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    signed_at: Mapped[dt.datetime] = created_column()
