"""Tables of the seating part (registered on the metadata by `summit.schema`).

``seating_settings``: how the organiser wants the summit seated (one row per summit).
``seating_runs``: every seating computed, with the exact inputs that reproduce it.
``topic_choices``: each participant's first and second topic for a topic round.
``round_topics``: the topic of a table in a topic round (tables are physical; topics per round).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, utcnow


class SeatingConfig(Base):
    """The organiser's seating settings (tafelindeling) for one summit."""

    __tablename__ = "seating_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(
        ForeignKey("summits.id", ondelete="CASCADE"), unique=True
    )
    rounds: Mapped[int] = mapped_column(Integer, default=4)
    table_size: Mapped[int] = mapped_column(Integer, default=8)
    features: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hosts_stay: Mapped[bool] = mapped_column(Boolean, default=True)
    hybrid_tables: Mapped[int] = mapped_column(Integer, default=0)
    remote_seats_per_hybrid_table: Mapped[int] = mapped_column(Integer, default=0)
    venue_areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    keep_together: Mapped[list[Any]] = mapped_column(JSON, default=list)
    keep_apart: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fixed_tables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    effort: Mapped[float] = mapped_column(Float, default=1.0)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SeatingRun(Base):
    """One computed seating: its canonical inputs (hashed in the log), seed and table layout.

    ``late_participants`` holds people seated on the day who were not in the inputs; they are
    not part of the hash, their arrival is a logged move.
    """

    __tablename__ = "seating_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="mixed")  # mixed | topic
    first_round: Mapped[int] = mapped_column(Integer, default=1)
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    seed: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    layout: Mapped[list[Any]] = mapped_column(JSON, default=list)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    late_participants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    actor: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TopicChoice(Base):
    """A participant's first and (optional) second topic (eerste en tweede keus)."""

    __tablename__ = "topic_choices"
    __table_args__ = (UniqueConstraint("summit_id", "participant_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    first: Mapped[str] = mapped_column(String(200))
    second: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoundTopic(Base):
    """The topic a table works on in a topic round."""

    __tablename__ = "round_topics"
    __table_args__ = (UniqueConstraint("round_id", "table_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(200))
