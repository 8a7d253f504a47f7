"""Exceptions of the media plane.

Hierarchy::

    MediaError
    ├── ProtocolError (ValueError)    a malformed or unsupported signalling message
    ├── MediaValueError (ValueError)  a bad argument to a media API (names the field)
    ├── AccessDenied (PermissionError) a request for media its owner may not receive or send
    ├── UnknownParticipant (LookupError)
    └── WorkerUnavailable             a media worker process died or did not answer
"""

from __future__ import annotations


class MediaError(Exception):
    """Base class of every error raised by `summit.media`."""


class ProtocolError(MediaError, ValueError):
    """A signalling message does not follow protocol version 1.

    ``field`` names the offending field (dotted for nested fields), or ``""`` for the message.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}" if field else message)


class MediaValueError(MediaError, ValueError):
    """A bad argument to a media API; the message names the field."""


class AccessDenied(MediaError, PermissionError):
    """The participant is not seated at the table whose media it asks for (or sends to)."""


class UnknownParticipant(MediaError, LookupError):
    """No participant with this id is known to the worker."""


class WorkerUnavailable(MediaError):
    """A media worker process died, was restarted, or did not answer in time."""
