"""Text typed into council forms: trimmed, required where it must be, and bounded."""

from __future__ import annotations

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _

#: The longest free text of a proposal field.
MAX_TEXT = 20_000


def clean_text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """``value`` without surrounding white space; refused (naming ``name``) when empty but
    required, or longer than ``limit`` characters."""
    clean = value.strip()
    if required and not clean:
        raise InvalidInput(name, _("is required"))
    if len(clean) > limit:
        raise InvalidInput(name, _("at most %(limit)s characters") % {"limit": limit})
    return clean
