"""The moderator's decisions on the theme board (rename, merge, split, move, mark duplicate, pin):
reading a decision's fields, running it on the library's board, its description for the public
log, and the library's refusals in the moderator's language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clustering import ConstraintError, Constraints, ThemeBoard
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.ideas.service import TITLE_MAX


def _label(args: Mapping[str, Any], required: bool) -> str | None:
    raw = args.get("label")
    label = " ".join(str(raw).split()) if raw is not None else ""
    if not label:
        if required:
            raise InvalidInput("label", _("is required"))
        return None
    if len(label) > TITLE_MAX:
        raise InvalidInput(
            "label", _("has at most %(TITLE_MAX)s characters") % {"TITLE_MAX": TITLE_MAX}
        )
    return label


def constraint_text(exc: ConstraintError) -> str:
    """The theme library's refusal (English, for developers) as the moderator reads it."""
    text = str(exc)
    named = re.search(r"'([^']*)'", text)
    name = {"name": named.group(1) if named else ""}
    known = (
        ("with itself", _("A theme cannot be merged with itself.")),
        ("needs some but not all", _("A split needs some, but not all, of the theme's ideas.")),
        ("split from its duplicate", _("An idea cannot be split from its duplicate.")),
        ("cannot duplicate itself", _("An idea cannot be a duplicate of itself.")),
        ("unknown theme", _("Theme %(name)s does not exist (any more); reload the page.") % name),
        ("unknown idea", _("Idea %(name)s does not exist (any more); reload the page.") % name),
        ("label of theme", _("The new name is empty.")),
    )
    for marker, message in known:
        if marker in text:
            return message
    return _("This decision does not fit the theme board; reload the page and try again.")


def _key(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(name, _("choose a theme"))
    return value.strip()


def _idea(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    try:
        return str(int(str(value)))
    except ValueError:
        raise InvalidInput(name, _("choose an idea")) from None


def _merged_name(
    board: ThemeBoard, theme: str, other: str, args: Mapping[str, Any]
) -> tuple[str | None, str]:
    """The name the moderator chose for a merge (this theme's, the other's, or a new one), and
    the other theme's name before it goes (for the decision log)."""
    labels = {t.id: t.label for t in board.themes}
    choice = str(args.get("name") or ("new" if args.get("label") else "this"))
    if choice == "new":
        return _label(args, required=True), labels.get(other, other)
    if choice not in {"this", "other"}:
        raise InvalidInput("name", _("choose which name the merged theme keeps"))
    return labels.get(theme if choice == "this" else other), labels.get(other, other)


def apply(board: ThemeBoard, kind: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run one decision on the board; returns its description for storage and the log."""
    if kind == "rename":
        theme, label = _key(args, "theme"), _label(args, required=True)
        assert label is not None
        board.rename(theme, label)
        return {"theme": theme, "label": label}
    if kind == "merge":
        theme, other = _key(args, "theme"), _key(args, "other")
        label, other_label = _merged_name(board, theme, other, args)
        board.merge(theme, other, label=label)
        return {"theme": theme, "other": other, "label": label, "other_label": other_label}
    if kind == "split":
        theme = _key(args, "theme")
        raw = args.get("ideas") or []
        ideas = sorted({str(int(str(i))) for i in raw if str(i).strip().isdigit()})
        if not ideas:
            raise InvalidInput("ideas", _("tick the ideas that form the new theme"))
        label = _label(args, required=False)
        new = board.split(theme, ideas, label=label)
        return {"theme": new, "from": theme, "ideas": ideas, "label": label}
    if kind == "move":
        idea, theme = _idea(args, "idea"), _key(args, "theme")
        board.move(idea, theme)
        return {"theme": theme, "idea": idea}
    if kind == "duplicate":
        idea, of = _idea(args, "idea"), _idea(args, "of")
        board.mark_duplicate(idea, of)
        return {"theme": board.theme_of(of), "idea": idea, "of": of}
    theme = _key(args, "theme")
    if kind == "pin":
        board.pin(theme)
    else:
        board.unpin(theme)
    return {"theme": theme}


def audit_op(op: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """The decision for the public log: database theme ids next to the board's keys."""
    out: dict[str, Any] = {}
    for name, value in op.items():
        if value is None:
            continue
        if name in {"theme", "other", "from"}:
            out[name] = value
            if value in ids:
                out[f"{name}_id"] = ids[value]
        elif name in {"idea", "of"}:
            out[name] = int(value)
        elif name == "ideas":
            out[name] = [int(i) for i in value]
        else:
            out[name] = value
    return out


def pruned(constraints: Constraints, known: set[str]) -> Constraints:
    """The constraints without ideas that left the board (withdrawn); empty anchors dropped."""
    data = constraints.to_dict()
    anchors = {k: [i for i in v if i in known] for k, v in data["anchors"].items()}
    anchors = {k: v for k, v in anchors.items() if v}
    duplicates = {k: v for k, v in data["duplicates"].items() if k in known and v in known}
    return Constraints.from_dict(
        {
            "anchors": anchors,
            "pinned": [t for t in data["pinned"] if t in anchors],
            "labels": {k: v for k, v in data["labels"].items() if k in anchors},
            "duplicates": duplicates,
        }
    )
