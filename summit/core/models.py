"""The shared tables: summits, partners, people, participants, personal links, staff users,
rounds, tables, seats and the audit log.

Personal data (names, contact, address, accessibility needs) lives only in ``Person``; everything
else refers to people by pseudonymous ids, so erasing a person keeps every count and the audit
chain intact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def created_column() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


# --- Summit and coalition -------------------------------------------------------------------


class Summit(Base):
    """One G1000: a Burgertop with its coalition, lottery, forum, council and monitor."""

    __tablename__ = "summits"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date | None] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    venue_capacity: Mapped[int] = mapped_column(Integer, default=0)
    online_capacity: Mapped[int] = mapped_column(Integer, default=0)
    seats: Mapped[int] = mapped_column(Integer, default=1000)
    mix: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    table_size: Mapped[int] = mapped_column(Integer, default=8)
    table_pattern: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_language: Mapped[str] = mapped_column(String(8), default="nl")
    features: Mapped[list[Any]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    phase: Mapped[str] = mapped_column(String(32), default="coalition")
    public_seed: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = created_column()


class Partner(Base):
    """A coalition partner (municipality, province, organisation) and its signed commitment."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), default="organisation")
    commitment: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_column()


# --- People (the only personal data) ---------------------------------------------------------


class Person(Base):
    """Personal data of one person; erasable. Everything else uses pseudonymous ids."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    accessibility_needs: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_column()


class Participant(Base):
    """A selected member of the summit, known everywhere by a pseudonym."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("summit_id", "pseudonym"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(16))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(32))
    attendance: Mapped[str] = mapped_column(String(16), default="venue")
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="selected")
    created_at: Mapped[dt.datetime] = created_column()

    person: Mapped[Person | None] = relationship(lazy="raise")


class PersonalLink(Base):
    """A participant's personal link; only a hash of its token is stored."""

    __tablename__ = "personal_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StaffUser(Base):
    """An organiser or moderator who logs in with a password."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = created_column()


# --- The summit day --------------------------------------------------------------------------


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("summit_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="mixed")  # mixed | topic
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned|open|closed
    duration_seconds: Mapped[int] = mapped_column(Integer, default=2400)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SummitTable(Base):
    """A table of (about) eight: in the hall, online (a video room) or hybrid."""

    __tablename__ = "tables"
    __table_args__ = (UniqueConstraint("summit_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="venue")
    area: Mapped[str] = mapped_column(String(64), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=8)
    topic: Mapped[str] = mapped_column(String(200), default="")


class Seat(Base):
    """Who sits at which table in which round."""

    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("round_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    seat_type: Mapped[str] = mapped_column(String(32), default="")
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)


# --- Transparency ----------------------------------------------------------------------------


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit log."""

    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    summit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[str] = mapped_column(String(32))  # ISO-8601 UTC, hashed as text
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- Sign-in sessions ------------------------------------------------------------------------


class LoginSession(Base):
    """A signed-in session of a staff user (password) or a participant (personal link).

    The cookie holds only a random session token; this row says whether it still stands, so
    logging out, disabling an account, or a link that is revoked or expires ends it at once.
    Only a hash of the token is stored.
    """

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    personal_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("personal_links.id", ondelete="CASCADE"), index=True
    )
    #: a partner's personal link (the Monitor's ``partner_links``; no foreign key, as core names
    #: no part's table): the Monitor checks that it still holds and ends the session when not
    partner_link_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = created_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str] = mapped_column(String(16), default="")
