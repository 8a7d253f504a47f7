"""Tables of the ideas part (registered on the metadata by `summit.schema`).

``idea_settings``: who may record a table's ideas (the host, or every table member).
``theme_boards``: one row per summit: the theme board's generation (bumped by every write that an
in-memory board must see, so app workers know when to rebuild theirs) and its granularity.
``theme_details``: the clustering library's theme id (``T3``) of each ``themes`` row, with its
representative idea and near-duplicate hints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from summit.core.models import Base, UTCDateTime, created_column, utcnow


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


class Idea(Base):
    """An idea recorded at a table in a round."""

    __tablename__ = "ideas"
    __table_args__ = (UniqueConstraint("summit_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    table_id: Mapped[int | None] = mapped_column(ForeignKey("tables.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="online")  # online|tablet|paper
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = created_column()


class IdeaRevision(Base):
    __tablename__ = "idea_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    editor: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = created_column()


class Theme(Base):
    """A cluster of ideas, reviewed by moderators."""

    __tablename__ = "themes"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = created_column()


class ThemeConstraint(Base):
    """A moderator decision (rename, merge, split, move, duplicate, pin); survives re-clustering."""

    __tablename__ = "theme_constraints"
    id: Mapped[int] = mapped_column(primary_key=True)
    summit_id: Mapped[int] = mapped_column(ForeignKey("summits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(16), default="")
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = created_column()
