"""Tables of the programme part (dagprogramma): the day's ordered items and where the day stands.

``programme_items``: what happens when, in order (``position``), with its planned start (minutes
after midnight, the summit's local time) and duration, and what actually happened.
``programme_states``: one row per summit: the current item, when it ends, and whether it is paused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, utcnow


class ProgrammeItem(Base):
    """One item of the day's programme (programma-onderdeel)."""

    __tablename__ = "programme_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    round_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    duration_minutes: Mapped[int] = mapped_column(Integer)
    extended_minutes: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProgrammeState(Base):
    """Where the day stands: the current item, its end, and the pause (if any)."""

    __tablename__ = "programme_states"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(
        ForeignKey("summits.id", ondelete="CASCADE"), unique=True
    )
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL"), nullable=True
    )
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
