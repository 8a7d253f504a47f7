"""Moderator decisions as constraints that every re-clustering respects.

A theme the moderator has touched (renamed, merged, split, pinned, or moved an idea into) becomes an
*anchor*: its ideas at that moment stay together in a theme with that id, and two anchors are never
merged by the machine. New ideas may still join an anchored theme, unless it is *pinned*: a pinned
theme keeps exactly its members (and label) until the moderator changes it. A *duplicate* always
sits in the same theme as the idea it duplicates. Renamed labels are carried by theme id.

The constraint set is plain data (``to_dict``/``from_dict``) so an application can store it, e.g.
next to its append-only log of theme edits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from clustering.errors import ConstraintError

__all__ = ["Constraints"]


@dataclass
class Constraints:
    """``anchors``: theme id -> ideas kept in it; ``pinned``: frozen theme ids;
    ``labels``: theme id -> moderator label; ``duplicates``: idea id -> the idea it duplicates."""

    anchors: dict[str, set[str]] = field(default_factory=dict)
    pinned: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)

    def anchor_of(self, idea_id: str) -> str | None:
        for theme_id, members in self.anchors.items():
            if idea_id in members:
                return theme_id
        return None

    def original_of(self, idea_id: str) -> str:
        """Follow the duplicate chain to the idea that is not itself a duplicate."""
        seen = {idea_id}
        while idea_id in self.duplicates:
            idea_id = self.duplicates[idea_id]
            if idea_id in seen:
                raise ConstraintError(f"duplicate marks form a cycle through idea {idea_id!r}")
            seen.add(idea_id)
        return idea_id

    def duplicate_group(self, idea_id: str) -> set[str]:
        """The idea, its original and every idea marked as a duplicate of the same original."""
        root = self.original_of(idea_id)
        group = {root}
        for other in self.duplicates:
            if self.original_of(other) == root:
                group.add(other)
        return group

    def check(self, idea_ids: Collection[str]) -> None:
        """Raise ConstraintError unless the constraints are consistent with these ideas."""
        known = set(idea_ids)
        owner: dict[str, str] = {}
        for theme_id, members in sorted(self.anchors.items()):
            if not members:
                raise ConstraintError(f"anchored theme {theme_id!r} has no ideas")
            for idea in sorted(members):
                if idea not in known:
                    raise ConstraintError(f"theme {theme_id!r} holds unknown idea {idea!r}")
                if idea in owner:
                    raise ConstraintError(
                        f"idea {idea!r} is anchored in both {owner[idea]!r} and {theme_id!r}"
                    )
                owner[idea] = theme_id
        for theme_id in sorted(self.pinned):
            if theme_id not in self.anchors:
                raise ConstraintError(f"pinned theme {theme_id!r} has no anchored ideas")
        for idea, original in sorted(self.duplicates.items()):
            for name in (idea, original):
                if name not in known:
                    raise ConstraintError(f"duplicate mark names unknown idea {name!r}")
            self.original_of(idea)
        groups: dict[str, set[str]] = {}
        for idea in sorted(self.duplicates):
            root = self.original_of(idea)
            groups.setdefault(root, {root}).add(idea)
        for root, group in sorted(groups.items()):
            themes = {owner[i] for i in group if i in owner}
            if len(themes) > 1:
                raise ConstraintError(
                    f"duplicates of idea {root!r} are anchored in different themes {sorted(themes)}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "anchors": {k: sorted(v) for k, v in sorted(self.anchors.items())},
            "pinned": sorted(self.pinned),
            "labels": dict(sorted(self.labels.items())),
            "duplicates": dict(sorted(self.duplicates.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Constraints:
        try:
            return cls(
                anchors={str(k): {str(i) for i in v} for k, v in data.get("anchors", {}).items()},
                pinned={str(t) for t in data.get("pinned", [])},
                labels={str(k): str(v) for k, v in data.get("labels", {}).items()},
                duplicates={str(k): str(v) for k, v in data.get("duplicates", {}).items()},
            )
        except (AttributeError, TypeError) as exc:
            raise ConstraintError(f"malformed constraints: {exc}") from exc
