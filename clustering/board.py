"""The theme board: ideas, their themes, the moderator's edits, incremental assignment.

A ``ThemeBoard`` holds the ideas of a summit (each with an id, a text and an embedding), groups them
into themes (``recluster``), files a new idea into the nearest theme at once (``add_idea``), and
records moderator decisions (rename, merge, split, move, duplicate, pin) as ``Constraints`` that
every later ``recluster`` respects. Theme ids stay stable across re-clusterings: anchored themes
keep their ids by construction, other new clusters inherit the id of the old theme they overlap
most.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from clustering.constraints import Constraints
from clustering.embedding import Embedder, load_embedder, normalize_text
from clustering.errors import ConstraintError, InputError
from clustering.labelling import keywords, near_duplicates, representative
from clustering.language import apply_centering, center_by_language, detect_language
from clustering.partition import ClusterSettings, partition

__all__ = ["Theme", "ThemeBoard"]


@dataclass(frozen=True)
class Theme:
    """A theme (thema): its ideas, label, keywords, typical idea and near-duplicate suggestions."""

    id: str
    label: str
    keywords: tuple[str, ...]
    idea_ids: tuple[str, ...]
    representative_id: str
    near_duplicates: tuple[tuple[str, ...], ...]
    pinned: bool = False
    label_from_moderator: bool = False


@dataclass
class _Idea:
    id: str
    text: str
    vector: NDArray[np.float32]
    language: str


@dataclass
class _Centroid:
    total: NDArray[np.float64]
    count: int = 0

    def direction(self) -> NDArray[np.float64]:
        return self.total / max(self.count, 1)


@dataclass
class _State:
    assignment: dict[str, str] = field(default_factory=dict)
    centroids: dict[str, _Centroid] = field(default_factory=dict)
    means: dict[str, NDArray[np.float32]] = field(default_factory=dict)


class ThemeBoard:
    """Ideas grouped into themes under moderator constraints.

    ``embedder`` embeds texts (default: ``load_embedder()``, loaded on first use). Vectors can be
    passed instead of texts being embedded (``add_idea(..., vector=...)``), which is how tests and
    callers with their own embeddings use the board without a model.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        settings: ClusterSettings | None = None,
        constraints: Constraints | None = None,
        center: bool = True,
    ) -> None:
        self._embedder = embedder
        self.settings = settings or ClusterSettings()
        self.constraints = constraints or Constraints()
        self.center = center
        self._ideas: dict[str, _Idea] = {}
        self._state = _State()
        self._themes: list[Theme] | None = None
        self._next_theme = 1

    # ---------------------------------------------------------------- ideas
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder()
        return self._embedder

    @property
    def idea_ids(self) -> list[str]:
        return list(self._ideas)

    def text_of(self, idea_id: str) -> str:
        return self._idea(idea_id).text

    def _idea(self, idea_id: str) -> _Idea:
        try:
            return self._ideas[idea_id]
        except KeyError:
            raise ConstraintError(f"unknown idea {idea_id!r}") from None

    def _new_ideas(
        self,
        ideas: Sequence[tuple[str, str]],
        vectors: NDArray[np.floating] | None,
    ) -> list[_Idea]:
        seen: set[str] = set()
        for row, item in enumerate(ideas):
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise InputError(f"idea {row} must be an (id, text) pair")
            idea_id, text = item
            if not isinstance(idea_id, str) or not idea_id:
                raise InputError(f"idea {row} has an empty or non-string id")
            if idea_id in self._ideas or idea_id in seen:
                raise InputError(f"idea id {idea_id!r} (row {row}) is already on the board")
            if not isinstance(text, str) or not normalize_text(text):
                raise InputError(f"idea {idea_id!r} (row {row}) has no text")
            seen.add(idea_id)
        texts = [text for _, text in ideas]
        if vectors is None:
            matrix = self.embedder.embed(texts) if texts else np.zeros((0, 0), np.float32)
        else:
            matrix = np.asarray(vectors, dtype=np.float32)
            if matrix.ndim != 2 or len(matrix) != len(ideas):
                raise InputError(f"vectors must have one row per idea ({len(ideas)} rows)")
            if not np.all(np.isfinite(matrix)):
                raise InputError("vectors contain NaN or infinity")
            if self._ideas:
                dim = next(iter(self._ideas.values())).vector.shape[0]
                if matrix.shape[1] != dim:
                    raise InputError(f"vectors have {matrix.shape[1]} dimensions, board has {dim}")
        return [
            _Idea(idea_id, text, matrix[i], detect_language(text) if self.center else "")
            for i, (idea_id, text) in enumerate(ideas)
        ]

    def add_ideas(
        self,
        ideas: Iterable[tuple[str, str]],
        *,
        vectors: NDArray[np.floating] | None = None,
    ) -> list[str | None]:
        """Add (id, text) ideas; each joins its nearest theme, if there are themes yet.

        Returns each idea's theme id (None before the first ``recluster``).
        """
        batch = self._new_ideas(list(ideas), vectors)
        placed: list[str | None] = []
        for idea in batch:
            self._ideas[idea.id] = idea
            placed.append(self._place(idea))
        if batch:
            self._themes = None
        return placed

    def add_idea(
        self, idea_id: str, text: str, *, vector: NDArray[np.floating] | None = None
    ) -> str | None:
        """Add one idea and file it into the nearest theme at once (the fast path)."""
        matrix = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self.add_ideas([(idea_id, text)], vectors=matrix)[0]

    def _prepared(self, ideas: Sequence[_Idea]) -> NDArray[np.float32]:
        matrix = np.stack([i.vector for i in ideas])
        if not self.center:
            return matrix
        return apply_centering(matrix, [i.language for i in ideas], self._state.means)

    def _place(self, idea: _Idea) -> str | None:
        state = self._state
        candidates = [t for t in state.centroids if t not in self.constraints.pinned]
        if not candidates:
            return None
        vector = self._prepared([idea])[0].astype(np.float64)
        centers = np.stack([state.centroids[t].direction() for t in candidates])
        distances = ((centers - vector) ** 2).sum(axis=1)
        theme_id = candidates[int(np.argmin(distances))]
        state.assignment[idea.id] = theme_id
        centroid = state.centroids[theme_id]
        centroid.total = centroid.total + vector
        centroid.count += 1
        return theme_id

    # ------------------------------------------------------------- clustering
    def recluster(
        self,
        *,
        granularity: float | None = None,
        n_themes: int | None = None,
    ) -> list[Theme]:
        """Group all ideas into themes anew, respecting every constraint.

        ``granularity`` (default: the board's setting) moves the cut: positive for more themes,
        negative for fewer; ``n_themes`` asks for a number (anchored themes can make it more).
        """
        ideas = list(self._ideas.values())
        self.constraints.check([i.id for i in ideas])
        settings = self.settings
        if granularity is not None:
            settings = replace(settings, granularity=granularity)
        if n_themes is not None:
            settings = replace(settings, n_themes=n_themes)
        state = _State()
        if not ideas:
            self._state, self._themes = state, None
            return []
        raw = np.stack([i.vector for i in ideas])
        if self.center:
            prepared, state.means = center_by_language(raw, [i.language for i in ideas])
        else:
            prepared = raw
        index = {idea.id: row for row, idea in enumerate(ideas)}
        component = self._must_link_components(index, len(ideas))
        anchor_of_component: dict[int, str] = {}
        for theme_id, members in sorted(self.constraints.anchors.items()):
            anchor_of_component[component[index[next(iter(members))]]] = theme_id
        pinned = {
            r
            for r in range(len(ideas))
            if anchor_of_component.get(component[r]) in self.constraints.pinned
        }
        assignment = {ideas[r].id: anchor_of_component[component[r]] for r in sorted(pinned)}
        free_rows = [r for r in range(len(ideas)) if r not in pinned]
        if free_rows:
            assignment.update(
                self._cluster_free(
                    ideas, prepared, free_rows, component, anchor_of_component, settings
                )
            )
        state.assignment = assignment
        for idea_id, theme_id in assignment.items():
            vector = prepared[index[idea_id]].astype(np.float64)
            centroid = state.centroids.setdefault(theme_id, _Centroid(np.zeros_like(vector)))
            centroid.total = centroid.total + vector
            centroid.count += 1
        self._state = state
        self._themes = None
        # Labels of themes that vanished are dropped; anchored themes always survive.
        live = set(assignment.values())
        for theme_id in list(self.constraints.labels):
            if theme_id not in live:
                del self.constraints.labels[theme_id]
        return self.themes

    def _must_link_components(self, index: Mapping[str, int], n: int) -> list[int]:
        """Each idea's must-link component (anchors and duplicate marks), as its root row."""
        parent = list(range(n))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(a: int, b: int) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        for members in self.constraints.anchors.values():
            rows = sorted(index[m] for m in members)
            for r in rows[1:]:
                union(rows[0], r)
        for dup, original in self.constraints.duplicates.items():
            union(index[dup], index[original])
        return [find(i) for i in range(n)]

    def _cluster_free(
        self,
        ideas: Sequence[_Idea],
        prepared: NDArray[np.floating],
        free_rows: list[int],
        component: list[int],
        anchor_of_component: Mapping[int, str],
        settings: ClusterSettings,
    ) -> dict[str, str]:
        """Partition the ideas that are not pinned, and name each cluster with a theme id."""
        groups = [component[r] for r in free_rows]
        anchored = sorted({g for g in groups if g in anchor_of_component})
        numbers = partition(
            prepared[free_rows], groups=groups, anchored=anchored, settings=settings
        )
        clusters: dict[int, list[int]] = {}
        for r, number in zip(free_rows, numbers.tolist(), strict=True):
            clusters.setdefault(number, []).append(r)
        named: dict[int, str] = {}
        for number, rows in clusters.items():
            anchored_row = next((r for r in rows if component[r] in anchor_of_component), None)
            if anchored_row is not None:
                named[number] = anchor_of_component[component[anchored_row]]
        named.update(self._match_previous(clusters, named, ideas))
        assignment: dict[str, str] = {}
        for number in sorted(clusters):
            if number not in named:
                named[number] = self._fresh_theme_id(set(named.values()))
            for r in clusters[number]:
                assignment[ideas[r].id] = named[number]
        return assignment

    def _match_previous(
        self, clusters: Mapping[int, list[int]], named: Mapping[int, str], ideas: Sequence[_Idea]
    ) -> dict[int, str]:
        """Give unnamed clusters the id of the old theme they overlap most (Jaccard >= 1/3)."""
        taken = set(named.values()) | set(self.constraints.anchors)
        old: dict[str, set[str]] = {}
        for idea_id, theme_id in self._state.assignment.items():
            if theme_id not in taken:
                old.setdefault(theme_id, set()).add(idea_id)
        numbers = sorted(n for n in clusters if n not in named)
        old_ids = sorted(old)
        if not numbers or not old_ids:
            return {}
        members = {n: {ideas[r].id for r in clusters[n]} for n in numbers}
        jaccard = np.zeros((len(numbers), len(old_ids)))
        for i, n in enumerate(numbers):
            for j, t in enumerate(old_ids):
                inter = len(members[n] & old[t])
                if inter:
                    jaccard[i, j] = inter / len(members[n] | old[t])
        rows, cols = linear_sum_assignment(-jaccard)
        return {
            numbers[i]: old_ids[j]
            for i, j in zip(rows, cols, strict=True)
            if jaccard[i, j] >= 1 / 3
        }

    def _fresh_theme_id(self, taken: set[str]) -> str:
        used = taken | set(self._state.assignment.values()) | set(self.constraints.anchors)
        while f"T{self._next_theme}" in used:
            self._next_theme += 1
        theme_id = f"T{self._next_theme}"
        self._next_theme += 1
        return theme_id

    # --------------------------------------------------------------- reading
    @property
    def assignment(self) -> dict[str, str]:
        """Idea id -> theme id for every idea filed into a theme."""
        return dict(self._state.assignment)

    def theme_of(self, idea_id: str) -> str | None:
        self._idea(idea_id)
        return self._state.assignment.get(idea_id)

    def members(self, theme_id: str) -> list[str]:
        found = [i for i, t in self._state.assignment.items() if t == theme_id]
        if not found:
            raise ConstraintError(f"unknown theme {theme_id!r}")
        return found

    @property
    def themes(self) -> list[Theme]:
        """Themes, largest first, with keywords, label, representative and duplicate hints."""
        if self._themes is None:
            self._themes = self._describe()
        return list(self._themes)

    def _describe(self) -> list[Theme]:
        assignment = self._state.assignment
        if not assignment:
            return []
        theme_ids = sorted(set(assignment.values()))
        number = {t: n for n, t in enumerate(theme_ids)}
        ordered = [i for i in self._ideas if i in assignment]
        words = keywords(
            [self._ideas[i].text for i in ordered], [number[assignment[i]] for i in ordered]
        )
        # Boards fed with precomputed vectors have no model: use MiniLM's threshold.
        threshold = self._embedder.duplicate_threshold if self._embedder is not None else 0.9
        themes = []
        for theme_id in theme_ids:
            ids = [i for i in ordered if assignment[i] == theme_id]
            prepared = self._prepared([self._ideas[i] for i in ids])
            raw = np.stack([self._ideas[i].vector for i in ids])
            typical = ids[representative(prepared)]
            dups = tuple(tuple(ids[r] for r in g) for g in near_duplicates(raw, threshold))
            kws = tuple(words.get(number[theme_id], []))
            manual = self.constraints.labels.get(theme_id)
            label = manual or (" · ".join(kws[:3]) if kws else self._ideas[typical].text[:60])
            themes.append(
                Theme(
                    id=theme_id,
                    label=label,
                    keywords=kws,
                    idea_ids=tuple(ids),
                    representative_id=typical,
                    near_duplicates=dups,
                    pinned=theme_id in self.constraints.pinned,
                    label_from_moderator=manual is not None,
                )
            )
        themes.sort(key=lambda t: (-len(t.idea_ids), t.id))
        return themes

    # ------------------------------------------------------ moderator decisions
    def _anchor(self, theme_id: str) -> set[str]:
        """Make ``theme_id`` an anchor holding (at least) its current ideas."""
        anchor = self.constraints.anchors.setdefault(theme_id, set())
        anchor.update(self.members(theme_id))
        return anchor

    def _release(self, idea_ids: Iterable[str]) -> None:
        """Take ideas out of their anchors; drop anchors (and labels, pins) left empty."""
        for idea_id in idea_ids:
            owner = self.constraints.anchor_of(idea_id)
            if owner is not None:
                self.constraints.anchors[owner].discard(idea_id)
        for theme_id in [t for t, m in self.constraints.anchors.items() if not m]:
            del self.constraints.anchors[theme_id]
            self.constraints.pinned.discard(theme_id)
            self.constraints.labels.pop(theme_id, None)

    def _reassign(self, idea_ids: Iterable[str], theme_id: str) -> None:
        state = self._state
        for idea_id in idea_ids:
            old = state.assignment.get(idea_id)
            vector = self._prepared([self._ideas[idea_id]])[0].astype(np.float64)
            if old is not None and old in state.centroids:
                c = state.centroids[old]
                c.total = c.total - vector
                c.count -= 1
                if c.count <= 0:
                    del state.centroids[old]
            state.assignment[idea_id] = theme_id
            c = state.centroids.setdefault(theme_id, _Centroid(np.zeros_like(vector)))
            c.total = c.total + vector
            c.count += 1
        self._themes = None

    def rename(self, theme_id: str, label: str) -> None:
        """Give a theme the moderator's label; its ideas stay together from now on."""
        if not label.strip():
            raise ConstraintError(f"the new label of theme {theme_id!r} is empty")
        self._anchor(theme_id)
        self.constraints.labels[theme_id] = label.strip()
        self._themes = None

    def merge(self, theme_id: str, other_id: str, *, label: str | None = None) -> str:
        """Merge ``other_id`` into ``theme_id`` (which keeps its id) for good.

        ``label`` names the merged theme; without one, a name the moderator gave either theme
        survives (this theme's first), so a chosen name is never lost to a machine label.
        """
        if theme_id == other_id:
            raise ConstraintError(f"cannot merge theme {theme_id!r} with itself")
        if label is None:
            label = self.constraints.labels.get(theme_id) or self.constraints.labels.get(other_id)
        moving = self.members(other_id)
        anchor = self._anchor(theme_id)
        self._release(moving)
        self.constraints.anchors.pop(other_id, None)
        self.constraints.pinned.discard(other_id)
        self.constraints.labels.pop(other_id, None)
        anchor.update(moving)
        self.constraints.anchors[theme_id] = anchor
        self._reassign(moving, theme_id)
        if label is not None:
            self.rename(theme_id, label)
        return theme_id

    def split(self, theme_id: str, idea_ids: Iterable[str], *, label: str | None = None) -> str:
        """Move ``idea_ids`` out of ``theme_id`` into a new theme; the two stay apart."""
        members = set(self.members(theme_id))
        part = set(idea_ids)
        if not part or not part < members:
            raise ConstraintError(
                f"a split of theme {theme_id!r} needs some but not all of its ideas"
            )
        for idea_id in sorted(part):
            if self.constraints.duplicate_group(idea_id) - part & members:
                raise ConstraintError(f"idea {idea_id!r} would be split from its duplicate")
        new_id = self._fresh_theme_id(set())
        self._anchor(theme_id)
        self._release(part)
        self.constraints.anchors[theme_id] = members - part
        self.constraints.anchors[new_id] = set(part)
        self._reassign(sorted(part), new_id)
        if label is not None:
            self.rename(new_id, label)
        return new_id

    def move(self, idea_id: str, theme_id: str) -> None:
        """Put an idea (with its duplicates) into ``theme_id`` for good."""
        self.members(theme_id)
        group = sorted(self.constraints.duplicate_group(idea_id))
        for member in group:
            self._idea(member)
        anchor = self._anchor(theme_id)
        self._release(group)
        anchor.update(group)
        self.constraints.anchors[theme_id] = anchor
        self._reassign(group, theme_id)

    def mark_duplicate(self, idea_id: str, of_id: str) -> None:
        """Record that ``idea_id`` repeats ``of_id``: it follows that idea's theme from now on."""
        self._idea(idea_id)
        self._idea(of_id)
        if self.constraints.original_of(of_id) == idea_id or idea_id == of_id:
            raise ConstraintError(f"idea {idea_id!r} cannot duplicate itself")
        group = sorted(self.constraints.duplicate_group(idea_id))
        owners = {self.constraints.anchor_of(i) for i in self.constraints.duplicate_group(of_id)}
        target = min((o for o in owners if o is not None), default=None)
        self.constraints.duplicates[idea_id] = of_id
        self._release(group)
        if target is not None:
            self.constraints.anchors[target].update(group)
        theme_id = self._state.assignment.get(of_id)
        if theme_id is not None:
            self._reassign(group, theme_id)

    def pin(self, theme_id: str) -> None:
        """Freeze a theme: exactly its current ideas and label survive every re-clustering."""
        self._anchor(theme_id)
        self.constraints.pinned.add(theme_id)
        self._themes = None

    def unpin(self, theme_id: str) -> None:
        self.constraints.pinned.discard(theme_id)
        self._themes = None
