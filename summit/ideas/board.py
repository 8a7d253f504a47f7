"""What the theme board, the plenary screen and the exports show, read from the database.

The database is the truth the pages show (the in-memory board only computes); every page reads
the themes, their ideas, tables and rounds here, in one place.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import csvfile
from summit.core.i18n import gettext as _
from summit.core.models import Round, SummitTable
from summit.ideas.models import Idea, Theme, ThemeBoardState, ThemeConstraint, ThemeDetail


@dataclass(frozen=True)
class BoardIdea:
    id: int
    title: str
    body: str
    tags: list[str]
    status: str
    round_number: int | None
    table_number: int | None
    source: str
    theme_id: int | None
    duplicate_of_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.body,
            "tags": self.tags,
            "status": self.status,
            "round": self.round_number,
            "table": self.table_number,
            "source": self.source,
            "duplicate_of": self.duplicate_of_id,
        }


@dataclass
class BoardTheme:
    id: int
    key: str
    label: str
    keywords: list[str]
    pinned: bool
    representative: BoardIdea | None
    near_duplicates: list[list[int]]
    ideas: list[BoardIdea] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ideas)

    @property
    def machine_label(self) -> bool:
        """Whether the label is the clustering's keyword list, not a name a moderator gave."""
        return bool(self.keywords) and self.label == " · ".join(self.keywords[:3])

    def public(self) -> dict[str, Any]:
        """What the big screens show: a moderator's name, else the theme's typical idea as its
        name; never a raw keyword list."""
        rep = self.representative.title if self.representative else None
        name = (rep or self.label) if self.machine_label else self.label
        return {
            "id": self.id,
            "label": name,
            "count": self.count,
            "representative": rep if rep != name else None,
        }

    def as_dict(self, *, with_ideas: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "key": self.key,
            "label": self.label,
            "keywords": self.keywords,
            "pinned": self.pinned,
            "count": self.count,
            "representative": self.representative.title if self.representative else None,
        }
        if with_ideas:
            data["representative_id"] = self.representative.id if self.representative else None
            data["ideas"] = [i.as_dict() for i in self.ideas]
        return data


@dataclass
class BoardData:
    themes: list[BoardTheme]
    unthemed: list[BoardIdea]
    rounds: list[int]
    tables: list[int]
    total: int
    generation: int
    granularity: float
    decisions: list[ThemeConstraint]


async def board_data(
    session: AsyncSession,
    summit_id: int,
    *,
    round_number: int | None = None,
    table_number: int | None = None,
    decisions: int = 10,
) -> BoardData:
    """Active themes (largest first) with their ideas; filters keep only matching ideas."""
    rounds = dict(
        (await session.execute(select(Round.id, Round.number).where(Round.summit_id == summit_id)))
        .tuples()
        .all()
    )
    tables = dict(
        (
            await session.execute(
                select(SummitTable.id, SummitTable.number).where(SummitTable.summit_id == summit_id)
            )
        )
        .tuples()
        .all()
    )
    rows = (
        await session.execute(
            select(Idea)
            .where(Idea.summit_id == summit_id, Idea.status != "withdrawn")
            .order_by(Idea.id)
        )
    ).scalars()
    ideas = [
        BoardIdea(
            id=i.id,
            title=i.title,
            body=i.body,
            tags=list(i.tags or []),
            status=i.status,
            round_number=rounds.get(i.round_id) if i.round_id else None,
            table_number=tables.get(i.table_id) if i.table_id else None,
            source=i.source,
            theme_id=i.theme_id,
            duplicate_of_id=i.duplicate_of_id,
        )
        for i in rows
    ]
    by_id = {i.id: i for i in ideas}
    details = {
        d.theme_id: d
        for d in (
            await session.execute(select(ThemeDetail).where(ThemeDetail.summit_id == summit_id))
        ).scalars()
    }
    themes: dict[int, BoardTheme] = {}
    for row in (
        await session.execute(
            select(Theme).where(Theme.summit_id == summit_id, Theme.status == "active")
        )
    ).scalars():
        detail = details.get(row.id)
        rep = detail.representative_idea_id if detail else None
        themes[row.id] = BoardTheme(
            id=row.id,
            key=detail.key if detail else "",
            label=row.label,
            keywords=list(row.keywords or []),
            pinned=row.pinned,
            representative=by_id.get(rep) if rep else None,
            near_duplicates=list(detail.near_duplicates or []) if detail else [],
        )
    unthemed: list[BoardIdea] = []
    shown = [
        i
        for i in ideas
        if (round_number is None or i.round_number == round_number)
        and (table_number is None or i.table_number == table_number)
    ]
    for idea in shown:
        theme = themes.get(idea.theme_id) if idea.theme_id else None
        (theme.ideas if theme else unthemed).append(idea)
    listed = sorted(themes.values(), key=lambda t: (-t.count, t.label.lower(), t.id))
    if round_number is not None or table_number is not None:
        listed = [t for t in listed if t.ideas]
    state = await session.scalar(
        select(ThemeBoardState).where(ThemeBoardState.summit_id == summit_id)
    )
    recent = list(
        (
            await session.execute(
                select(ThemeConstraint)
                .where(ThemeConstraint.summit_id == summit_id)
                .order_by(ThemeConstraint.id.desc())
                .limit(decisions)
            )
        ).scalars()
    )
    return BoardData(
        themes=listed,
        unthemed=unthemed,
        rounds=sorted(rounds.values()),
        tables=sorted(tables.values()),
        total=len(shown),
        generation=state.generation if state else 0,
        granularity=state.granularity if state else 0.0,
        decisions=recent,
    )


def decision_text(decision: ThemeConstraint, data: BoardData) -> str:
    """One moderator decision as a sentence in the current language (the decision log)."""
    op = (decision.payload or {}).get("op") or {}
    names = {t.key: t.label for t in data.themes if t.key}
    titles = {str(i.id): i.title for t in data.themes for i in t.ideas}
    titles.update({str(i.id): i.title for i in data.unthemed})

    def theme(key: str) -> str:
        return names.get(str(op.get(key) or ""), str(op.get(f"{key}_label") or op.get(key) or ""))

    def idea(key: str) -> str:
        value = str(op.get(key) or "")
        return titles.get(value, f"#{value}")

    values = {
        "theme": theme("theme"),
        "other": str(op.get("other_label") or op.get("other") or ""),
        "source": theme("from"),
        "label": str(op.get("label") or ""),
        "idea": idea("idea"),
        "of": idea("of"),
        "n": len(op.get("ideas") or []),
    }
    sentences = {
        "rename": _("Renamed the theme to “%(label)s”."),
        "merge": _("Merged “%(other)s” into “%(theme)s”."),
        "split": _("Split %(n)s ideas off “%(source)s” into the new theme “%(theme)s”."),
        "move": _("Moved the idea “%(idea)s” to “%(theme)s”."),
        "duplicate": _("Marked the idea “%(idea)s” as a duplicate of “%(of)s”."),
        "pin": _("Pinned “%(theme)s”: new ideas no longer join it."),
        "unpin": _("Unpinned “%(theme)s”: new ideas may join it again."),
    }
    return sentences.get(decision.kind, decision.kind) % values


def decision_kind(kind: str) -> str:
    """A decision's kind in words (the undo button says which decision it undoes)."""
    kinds = {
        "rename": _("rename"),
        "merge": _("merge"),
        "split": _("split"),
        "move": _("move"),
        "duplicate": _("duplicate"),
        "pin": _("pin"),
        "unpin": _("unpin"),
    }
    return kinds.get(kind, kind)


async def plenary_data(session: AsyncSession, summit_id: int) -> dict[str, Any]:
    """Themes for the big screen: names, counts, a typical idea; no keywords, no personal data."""
    data = await board_data(session, summit_id, decisions=0)
    tables = await session.scalar(
        select(func.count(func.distinct(Idea.table_id))).where(
            Idea.summit_id == summit_id, Idea.status != "withdrawn"
        )
    )
    return {
        "generation": data.generation,
        "ideas": data.total,
        "tables": int(tables or 0),
        "themes": [t.public() for t in data.themes],
        "unthemed": len(data.unthemed),
    }


def export_csv(data: BoardData) -> str:
    """One row per idea with its theme (ideas without a theme last)."""
    out = io.StringIO()
    writer = csvfile.writer(out)
    writer.writerow(
        [
            "theme_id",
            "theme",
            "keywords",
            "pinned",
            "idea_id",
            "round",
            "table",
            "title",
            "text",
            "tags",
            "status",
            "duplicate_of",
            "source",
        ]
    )
    pairs: list[tuple[BoardTheme | None, BoardIdea]] = [
        (t, i) for t in data.themes for i in t.ideas
    ] + [(None, i) for i in data.unthemed]
    for theme, idea in pairs:
        writer.writerow(
            [
                x
                for x in (
                    theme.id if theme else "",
                    theme.label if theme else "",
                    " | ".join(theme.keywords) if theme else "",
                    ("yes" if theme.pinned else "no") if theme else "",
                    idea.id,
                    idea.round_number,
                    idea.table_number,
                    idea.title,
                    idea.body,
                    ", ".join(idea.tags),
                    idea.status,
                    idea.duplicate_of_id or "",
                    idea.source,
                )
            ]
        )
    return out.getvalue()


def export_json(data: BoardData, summit_name: str) -> dict[str, Any]:
    return {
        "summit": summit_name,
        "generation": data.generation,
        "ideas": data.total,
        "themes": [t.as_dict() for t in data.themes],
        "unthemed": [i.as_dict() for i in data.unthemed],
    }
