"""A proposal's reactions grouped into themes for its workshop, with the ideas' pipeline: the
summit's embedder (``summit.ideas.themes``), a ``clustering.ThemeBoard``, keywords for labels.

Grouping runs in a worker thread and is kept per proposal until its reactions change (a new,
hidden or moderated reaction changes the key), so a workshop page costs one embedding per change.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustering import Embedder, ThemeBoard
from summit.forum.models import Reaction
from summit.forum.rules.reactions import STANCES
from summit.ideas import theme_service

#: The most representative reactions shown per group.
SHOWN = 3
_CACHED = 64


@dataclass(frozen=True)
class ReactionGroup:
    """A theme among the reactions: its label, members, counts per stance, typical reactions."""

    label: str
    keywords: tuple[str, ...]
    reaction_ids: tuple[int, ...]
    stances: dict[str, int]
    representative: tuple[int, ...]


def _key(reactions: Sequence[Reaction]) -> str:
    blob = ",".join(f"{r.id}:{r.text_sha256}" for r in reactions)
    return hashlib.sha256(blob.encode()).hexdigest()


def group(embedder: Embedder, reactions: Sequence[Reaction]) -> list[ReactionGroup]:
    """Cluster the reactions (blocking: call it in a thread)."""
    if not reactions:
        return []
    texts = [r.text for r in reactions]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    board = ThemeBoard(embedder)
    board.add_ideas([(str(r.id), r.text) for r in reactions], vectors=vectors)
    themes = board.recluster() if len(reactions) > 1 else []
    if not themes:
        return [_describe(texts[0][:60], (), reactions, vectors)]
    row = {str(r.id): n for n, r in enumerate(reactions)}
    return [
        _describe(
            theme.label,
            theme.keywords,
            [reactions[row[i]] for i in theme.idea_ids],
            vectors[[row[i] for i in theme.idea_ids]],
        )
        for theme in themes
    ]


def _describe(
    label: str, keywords: tuple[str, ...], members: Sequence[Reaction], vectors: Any
) -> ReactionGroup:
    """Counts per stance and the reactions nearest the group's centre."""
    closeness = vectors @ vectors.mean(axis=0)
    nearest = [members[int(i)].id for i in np.argsort(-closeness, kind="stable")[:SHOWN]]
    counts = Counter(r.stance for r in members)
    return ReactionGroup(
        label=label,
        keywords=keywords,
        reaction_ids=tuple(r.id for r in members),
        stances={s: counts.get(s, 0) for s in STANCES},
        representative=tuple(nearest),
    )


async def grouped(
    app: Any, language: str, proposal_id: int, reactions: Sequence[Reaction]
) -> list[ReactionGroup]:
    """The groups of a proposal's visible reactions, computed once per change."""
    cache: OrderedDict[tuple[int, str], list[ReactionGroup]] | None = getattr(
        app.state, "forum_groups", None
    )
    if cache is None:
        cache = app.state.forum_groups = OrderedDict()
    key = (proposal_id, _key(reactions))
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    embedder = theme_service(app).embedder_for(language)
    result = await asyncio.to_thread(group, embedder, list(reactions))
    cache[key] = result
    while len(cache) > _CACHED:
        cache.popitem(last=False)
    return result
