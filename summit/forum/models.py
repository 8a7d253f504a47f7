"""Tables of the Burgerforum (registered on the metadata by `summit.schema`).

``forum_settings`` who may react and the limits; ``forum_reactors`` a verified resident or a
participant, known by a keyed hash of what proved them (never the e-mail address or code itself);
``forum_reactions`` a short text with a stance on a proposal (online, from a paper form or from a
meeting); ``forum_reports`` one report of a reaction per reporter; ``forum_workshops`` a werkplaats
per proposal or theme with its membership draw and its submission; ``forum_workshop_members``
volunteers and members; ``forum_workshop_guests`` experts and officials with a personal link
(only its hash is kept); ``forum_meetings`` planned meetings; ``forum_contributions`` notes in a
workshop, marked with the author's role; ``forum_revisions`` and ``forum_citations`` the workshop's
texts and the reactions each answers; ``forum_statements`` and ``forum_votes`` the opinion map's
statements and the agree/disagree/pass votes on them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, created_column, utcnow
from summit.council.models import ProposalTextColumns


class ForumSettings(Base):
    """Whether the forum takes reactions, who may react, and the limits against spam."""

    __tablename__ = "forum_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(
        ForeignKey("summits.id", ondelete="CASCADE"), unique=True
    )
    open: Mapped[bool] = mapped_column(Boolean, default=False)
    methods: Mapped[list[Any]] = mapped_column(JSON, default=list)  # email|postcode|letter_code
    postcodes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # "1234" or "1234AB"
    max_length: Mapped[int] = mapped_column(Integer, default=1000)
    per_hour: Mapped[int] = mapped_column(Integer, default=10)
    map_seed: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reactor(Base):
    """Someone who may react and vote: a verified resident or a summit participant."""

    __tablename__ = "forum_reactors"
    __table_args__ = (UniqueConstraint("summit_id", "key_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email|postcode|letter_code|participant
    key_hash: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(16))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class Reaction(Base):
    """A reaction (reactie) on a proposal: a stance and a short text."""

    __tablename__ = "forum_reactions"
    __table_args__ = (UniqueConstraint("proposal_id", "reactor_id", "text_sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    reactor_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_reactors.id", ondelete="SET NULL"), index=True
    )
    stance: Mapped[str] = mapped_column(String(16))  # support | concerns | question
    text: Mapped[str] = mapped_column(Text, default="")
    text_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="online")  # online|paper|meeting
    meeting_name: Mapped[str] = mapped_column(String(200), default="")
    meeting_date: Mapped[dt.date | None] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(32), default="")
    author_role: Mapped[str] = mapped_column(String(16), default="resident")
    status: Mapped[str] = mapped_column(String(16), default="visible")  # visible | hidden
    hidden_reason: Mapped[str] = mapped_column(String(32), default="")
    hidden_by: Mapped[str] = mapped_column(String(32), default="")
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = created_column()


class Report(Base):
    """Someone reported a reaction to the moderators (once per reporter)."""

    __tablename__ = "forum_reports"
    __table_args__ = (UniqueConstraint("reaction_id", "reporter_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reaction_id: Mapped[int] = mapped_column(
        ForeignKey("forum_reactions.id", ondelete="CASCADE"), index=True
    )
    reporter_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_column()


class Workshop(Base):
    """A werkplaats: members, experts and officials rework a proposal (or a theme into one)."""

    __tablename__ = "forum_workshops"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=12)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | submitted
    commitment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commitment_hash: Mapped[str] = mapped_column(String(64), default="")
    seed: Mapped[str | None] = mapped_column(String(200))
    drawn: Mapped[list[Any]] = mapped_column(JSON, default=list)  # pseudonyms in draw order
    submitted_revision_id: Mapped[int | None] = mapped_column(Integer)
    submitted_version: Mapped[int | None] = mapped_column(Integer)
    submitted_sha256: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class WorkshopMember(Base):
    """A participant who volunteered for a workshop, and the organiser's decision."""

    __tablename__ = "forum_workshop_members"
    __table_args__ = (UniqueConstraint("workshop_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("forum_workshops.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(
        String(16), default="volunteer"
    )  # volunteer|member|not_drawn
    created_at: Mapped[dt.datetime] = created_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WorkshopGuest(Base):
    """An expert or official invited to a workshop with a personal link (only its hash kept)."""

    __tablename__ = "forum_workshop_guests"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("forum_workshops.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # expert | official
    display_name: Mapped[str] = mapped_column(String(120), default="")
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Meeting(Base):
    """A workshop meeting: a date and a place, or online."""

    __tablename__ = "forum_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("forum_workshops.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = created_column()


class Contribution(Base):
    """A note in a workshop (input, a question, expert advice), marked with the author's role."""

    __tablename__ = "forum_contributions"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("forum_workshops.id", ondelete="CASCADE"), index=True
    )
    author_role: Mapped[str] = mapped_column(String(16))  # member|expert|official|organiser
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_column()


class Revision(ProposalTextColumns, Base):
    """A workshop's version of its proposal; the submitted one becomes a proposal version."""

    __tablename__ = "forum_revisions"
    __table_args__ = (UniqueConstraint("workshop_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("forum_workshops.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    author_role: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_column()


class Citation(Base):
    """A revision answers a reaction."""

    __tablename__ = "forum_citations"
    __table_args__ = (UniqueConstraint("revision_id", "reaction_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("forum_revisions.id", ondelete="CASCADE"), index=True
    )
    reaction_id: Mapped[int] = mapped_column(
        ForeignKey("forum_reactions.id", ondelete="CASCADE"), index=True
    )


class Statement(Base):
    """A statement on the opinion map: a proposal's key point or an accepted reaction."""

    __tablename__ = "forum_statements"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    reaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_reactions.id", ondelete="SET NULL"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # key_point | reaction
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | retired
    created_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = created_column()


class StatementVote(Base):
    """Agree (1), disagree (-1) or pass (0) on a statement; a new vote replaces the old one."""

    __tablename__ = "forum_votes"
    __table_args__ = (
        UniqueConstraint("statement_id", "reactor_id"),
        # the map's catch-up reads the votes changed since it last looked
        Index("ix_forum_votes_summit_updated", "summit_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("forum_statements.id", ondelete="CASCADE"), index=True
    )
    reactor_id: Mapped[int] = mapped_column(
        ForeignKey("forum_reactors.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
