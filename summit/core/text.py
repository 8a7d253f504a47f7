"""Text that people type and others read: invisible and direction-changing characters removed.

Bidirectional controls (U+202A to U+202E, U+2066 to U+2069, U+200E/U+200F, U+061C) can make an idea
title on the public plenary read differently from what was stored; zero-width characters
(U+200B to U+200D, U+2060, U+FEFF, …), tag characters and other control characters hide text or make
two titles look identical. :func:`clean_text` removes them (tabs and line breaks stay), and also
drops lone surrogates, which no database can store. Every submitted form field and JSON string
passes through it (see ``summit.core.bodies``).
"""

from __future__ import annotations

import re
from typing import Any

_INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters except tab, LF, CR
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ufeff\ufff9-\ufffb"  # byte-order mark, interlinear annotations
    "\U000e0000-\U000e007f"  # tag characters
    "\ud800-\udfff"  # lone surrogates (never valid text)
    "]"
)


def clean_text(value: str) -> str:
    """``value`` without invisible, control and direction-changing characters."""
    return _INVISIBLE.sub("", value)


def has_hidden_characters(value: str) -> bool:
    return _INVISIBLE.search(value) is not None


def clean_value(value: Any) -> Any:
    """:func:`clean_text` applied to every string (and key) inside decoded JSON."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    return value
