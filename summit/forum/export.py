"""Open data of the forum: the reactions (hidden ones only as counts per proposal and reason)
as CSV and JSON, and the opinion map's groups and consensus as JSON. Pseudonyms and counts
only; the CSV goes through the platform's one CSV writer, which neutralises formulas.

The reactions and the hidden counts are also open-data sets of the platform (``/open-data``,
``summit export --all``): registered with ``summit.monitor.opendata`` when this module loads."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import monitor as opendata
from summit.core.csvfile import csv_text
from summit.core.i18n import gettext as _
from summit.forum.mapping import MapView
from summit.forum.models import Reaction, Reactor, Statement

HEADER = (
    "id",
    "proposal",
    "stance",
    "source",
    "meeting",
    "meeting_date",
    "author",
    "author_role",
    "created_at",
    "text",
    "sha256",
)


async def reaction_rows(session: AsyncSession, summit_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(Reaction, Reactor.pseudonym)
            .outerjoin(Reactor, Reactor.id == Reaction.reactor_id)
            .where(Reaction.summit_id == summit_id, Reaction.status == "visible")
            .order_by(Reaction.id)
        )
    ).all()
    return [
        {
            "id": r.id,
            "proposal": r.proposal_id,
            "stance": r.stance,
            "source": r.source,
            "meeting": r.meeting_name,
            "meeting_date": r.meeting_date.isoformat() if r.meeting_date else "",
            "author": pseudonym or "",
            "author_role": r.author_role,
            "created_at": r.created_at.isoformat(),
            "text": r.text,
            "sha256": r.text_sha256,
        }
        for r, pseudonym in rows
    ]


async def hidden_counts(session: AsyncSession, summit_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(Reaction.proposal_id, Reaction.hidden_reason).where(
                Reaction.summit_id == summit_id, Reaction.status == "hidden"
            )
        )
    ).tuples()
    counts = Counter(rows)
    return [
        {"proposal": proposal, "reason": reason, "hidden": count}
        for (proposal, reason), count in sorted(counts.items())
    ]


def reactions_csv(rows: list[dict[str, Any]]) -> str:
    return csv_text(([row[k] for k in HEADER] for row in rows), header=HEADER)


async def reactions_json(session: AsyncSession, summit_id: int) -> dict[str, Any]:
    return {
        "reactions": await reaction_rows(session, summit_id),
        "hidden": await hidden_counts(session, summit_id),
    }


def map_json(view: MapView, statements: list[Statement]) -> dict[str, Any]:
    """Groups (size, how each voted per statement) and the consensus statements."""
    texts = {s.id: s for s in statements}

    def described(statement_id: int) -> dict[str, Any]:
        row = texts.get(statement_id)
        return {
            "id": statement_id,
            "proposal": row.proposal_id if row else None,
            "kind": row.kind if row else None,
            "text": row.text if row else "",
        }

    return {
        "seed": view.seed,
        "voters": view.voters,
        "votes": view.votes,
        "groups": [
            {
                "group": g.number,
                "size": g.size,
                "agree": {str(k): v for k, v in g.agree.items()},
                "disagree": {str(k): v for k, v in g.disagree.items()},
            }
            for g in view.groups
        ],
        "consensus": [
            {**described(c.statement_id), "stance": c.stance, "score": c.score}
            for c in view.consensus
        ],
    }


async def _reaction_set(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    return await reaction_rows(session, summit_id)


async def _hidden_set(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    return await hidden_counts(session, summit_id)


opendata.register(
    opendata.Dataset("forum-reactions", _("Burgerforum reactions"), HEADER, _reaction_set)
)
opendata.register(
    opendata.Dataset(
        "forum-hidden",
        _("Burgerforum reactions hidden by moderators"),
        ("proposal", "reason", "hidden"),
        _hidden_set,
    )
)
