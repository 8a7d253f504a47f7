"""Tables of the Monitor part (registered on the metadata by `summit.schema`).

Coalition: ``monitor_areas`` the policy areas of a summit; ``partner_agreements`` the agreement
text partners sign (versioned, hashed); ``partner_accounts`` a partner's signature and the areas
it commits to; ``partner_links`` revocable personal links of partners (only a token hash).

After the Burgerbesluit: ``monitor_items`` one per adopted proposal (areas, due date for the
partners' responses, status, progress); ``partner_responses`` a partner's public answer;
``monitor_milestones``, ``monitor_updates`` (status history and partner reports),
``monitor_documents`` (links or checked PDFs), ``monitor_report_dues`` (a partner's progress
report due on a date: its reminder's claim and its overdue mark).

The Monitor group: ``monitor_volunteers``, ``monitor_draws`` (the seeded draw when
oversubscribed), ``monitor_assessments`` (public), ``monitor_posts`` (private to the group and the
partners).

Notifications: ``monitor_changes`` (the public change feed, one row per change, a unique key so
nothing is recorded twice), ``monitor_subscriptions`` (e-mail followers; personal data: the
address only), ``mail_outbox`` (e-mail waiting to be sent, with retries).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, created_column


class MonitorArea(Base):
    """A policy area (beleidsterrein) that proposals touch and partners commit to."""

    __tablename__ = "monitor_areas"
    __table_args__ = (UniqueConstraint("summit_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PartnerAgreement(Base):
    """One version of the partner agreement text; partners sign a version by its SHA-256."""

    __tablename__ = "partner_agreements"
    __table_args__ = (UniqueConstraint("summit_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_column()


class PartnerAccount(Base):
    """A partner's account: the agreement it signed (when, by which function) and its areas."""

    __tablename__ = "partner_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), unique=True
    )
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_agreements.id", ondelete="SET NULL")
    )
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    signatory: Mapped[str] = mapped_column(String(200), default="")
    #: where reminders of due progress reports go (set by the organiser; never published)
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    created_at: Mapped[dt.datetime] = created_column()


class PartnerLink(Base):
    """A partner's personal link; only a hash of its token is stored."""

    __tablename__ = "partner_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MonitorItem(Base):
    """An adopted proposal followed by the Monitor."""

    __tablename__ = "monitor_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), unique=True
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    response_due: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: partners report progress every so many weeks (None: no reports at intervals)
    report_every_weeks: Mapped[int | None] = mapped_column(Integer)
    #: the date the current period's report is due (moves on by the interval when it passes)
    report_due: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = created_column()


class ReportDue(Base):
    """One partner's progress report due on one date for one item: the claim that makes its
    reminder go out once, and the public mark when it became overdue."""

    __tablename__ = "monitor_report_dues"
    __table_args__ = (UniqueConstraint("item_id", "partner_id", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()


class PartnerResponse(Base):
    """A partner's public answer to an adopted proposal in its areas."""

    __tablename__ = "partner_responses"
    __table_args__ = (UniqueConstraint("item_id", "partner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(8))  # will | partly | wont
    plan: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    not_doing: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_role: Mapped[str] = mapped_column(String(120), default="")
    responded_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = created_column()


class MonitorMilestone(Base):
    __tablename__ = "monitor_milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_column()


class MonitorUpdate(Base):
    """One step of an item's status history; with text, a partner's progress report."""

    __tablename__ = "monitor_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = created_column()


class MonitorDocument(Base):
    """A link or an uploaded PDF (type checked by its magic bytes, size limited)."""

    __tablename__ = "monitor_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # link | pdf
    url: Mapped[str] = mapped_column(String(500), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    actor: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = created_column()


class MonitorVolunteer(Base):
    """A participant who volunteered for the Monitor group, and what became of it."""

    __tablename__ = "monitor_volunteers"
    __table_args__ = (UniqueConstraint("summit_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="volunteered")  # |member|not_drawn
    created_at: Mapped[dt.datetime] = created_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MonitorDraw(Base):
    """The seeded draw among the volunteers when there were more than seats."""

    __tablename__ = "monitor_draws"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    seats: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(200))
    volunteers_sha256: Mapped[str] = mapped_column(String(64))
    volunteers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drawn: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = created_column()


class MonitorAssessment(Base):
    """The Monitor group's public verdict on an item; the latest counts."""

    __tablename__ = "monitor_assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    verdict: Mapped[str] = mapped_column(String(16))  # on_track|delayed|diverges|done
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(16))  # the member's pseudonym
    created_at: Mapped[dt.datetime] = created_column()


class MonitorPost(Base):
    """A message in an item's private discussion (the group and the partners only)."""

    __tablename__ = "monitor_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_items.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(200))  # a pseudonym or the partner's name
    author_kind: Mapped[str] = mapped_column(String(12))  # member | partner | organiser
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_column()


class MonitorChange(Base):
    """One public change (status, assessment, response, overdue, ...); ``key`` is unique."""

    __tablename__ = "monitor_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = created_column()


class MonitorSubscription(Base):
    """An e-mail follower of one item (or, with no item, of the whole Burgerbesluit)."""

    __tablename__ = "monitor_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_items.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # |active|unsubscribed
    #: the language the follower's mails are written in (the page's language when following)
    language: Mapped[str] = mapped_column(String(8), default="nl", server_default="nl")
    created_at: Mapped[dt.datetime] = created_column()
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OutboxMail(Base):
    """An e-mail waiting to be sent; ``dedupe_key`` makes queueing the same mail twice a no-op."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # |sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = created_column()
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = created_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
