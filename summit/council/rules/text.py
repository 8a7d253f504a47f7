"""Text typed into council forms: trimmed, required where it must be, and bounded."""

from __future__ import annotations

from summit.core.errors import InvalidInput

#: The longest free text of a proposal field.
MAX_TEXT = 20_000


def clean_text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """``value`` without surrounding white space; refused (naming ``name``) when empty but
    required, or longer than ``limit`` characters."""
    clean = value.strip()
    if required and not clean:
        raise InvalidInput(name, "is required")
    if len(clean) > limit:
        raise InvalidInput(name, f"at most {limit} characters")
    return clean
