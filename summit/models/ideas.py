"""Tables of the ideas part (imported by `summit.models` so migrations see them).

``idea_settings``: who may record a table's ideas (the host, or every table member).
``theme_boards``: one row per summit: the theme board's generation (bumped by every write that an
in-memory board must see, so app workers know when to rebuild theirs) and its granularity.
``theme_details``: the clustering library's theme id (``T3``) of each ``themes`` row, with its
representative idea and near-duplicate hints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from summit.models import Base, UTCDateTime, utcnow


class IdeaSettings(Base):
    """How a summit records ideas: ``who_records`` is ``host`` or ``table``."""

    __tablename__ = "idea_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(
        ForeignKey("summits.id", ondelete="CASCADE"), unique=True
    )
    who_records: Mapped[str] = mapped_column(String(16), default="host")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThemeBoardState(Base):
    """The theme board of a summit: generation counter, granularity and last re-clustering."""

    __tablename__ = "theme_boards"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(
        ForeignKey("summits.id", ondelete="CASCADE"), unique=True
    )
    generation: Mapped[int] = mapped_column(Integer, default=0)
    granularity: Mapped[float] = mapped_column(Float, default=0.0)
    model: Mapped[str] = mapped_column(String(200), default="")
    reclustered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThemeDetail(Base):
    """The board's id for a theme (``T3``), its representative idea and duplicate hints."""

    __tablename__ = "theme_details"
    __table_args__ = (UniqueConstraint("summit_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), unique=True)
    representative_idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="SET NULL")
    )
    near_duplicates: Mapped[list[Any]] = mapped_column(JSON, default=list)
