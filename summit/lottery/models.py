"""Tables of the two-stage lottery: register imports, committed draws and withdrawal links.

The register extract itself lives in the core ``register_entries`` table; invitations and
registrations in the core tables too. These tables only add what the lottery needs on top.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, created_column, utcnow


class RegisterImport(Base):
    """One accepted register import: counts and population shares (no personal data)."""

    __tablename__ = "lottery_register_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    eligible: Mapped[int] = mapped_column(Integer, default=0)
    excluded_under_age: Mapped[int] = mapped_column(Integer, default=0)
    extract_hash: Mapped[str] = mapped_column(String(64))
    shares: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    encoding: Mapped[str] = mapped_column(String(16), default="UTF-8", server_default="UTF-8")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LotteryDraw(Base):
    """A committed public draw: ``invitation`` (stage 1) or ``panel`` (stage 2's final index).

    The commitment is published before the seed exists; ``result`` is the published outcome
    (pseudonyms in draw order, or the drawn index and panel) and ``result_hash`` its SHA-256.
    """

    __tablename__ = "lottery_draws"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # invitation | panel
    role: Mapped[str] = mapped_column(String(32), default="resident")
    status: Mapped[str] = mapped_column(String(16), default="committed")  # committed | drawn
    commitment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commitment_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WithdrawalLink(Base):
    """The link in a registration's confirmation that withdraws it; only the hash is stored."""

    __tablename__ = "lottery_withdrawal_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegisterEntry(Base):
    """One resident in the imported population register extract (pseudonymised)."""

    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("summit_id", "pseudonym"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    household: Mapped[str] = mapped_column(String(64), default="")
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class Invitation(Base):
    """An invitation: drawn from the register, named by the organiser, or a self-registration."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="drawn")  # drawn | named | self
    role: Mapped[str] = mapped_column(String(32), default="resident")
    register_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entries.id", ondelete="SET NULL")
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    created_at: Mapped[dt.datetime] = created_column()


class Registration(Base):
    """A yes to an invitation, with consent and the summit's questions."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(32))
    attendance: Mapped[str] = mapped_column(String(16), default="venue")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="registered")
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_column()
