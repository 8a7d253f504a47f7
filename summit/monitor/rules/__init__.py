"""Pure rules of the Monitor (no database, web or I/O imports).

Messages are English msgids marked with ``_`` (a no-op here, so babel extracts them) and carried
by :class:`MonitorInputError`; the web layer translates them with the request's language.
"""

from __future__ import annotations

from typing import Any

from summit.core.errors import InvalidInput, PermissionDenied


def _(message: str) -> str:
    """Mark a message for translation; it is translated where it is shown."""
    return message


class MonitorInputError(InvalidInput):
    """Bad input; ``msgid`` (English, translatable) and ``params`` rebuild the message."""

    def __init__(self, field: str, msgid: str, **params: Any) -> None:
        super().__init__(field, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params


class MonitorRefusal(PermissionDenied):
    """The caller's role does not allow this (403); ``msgid`` is translated where it is shown."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid
