"""Exceptions of the platform.

SummitError
├── ConfigError      — bad or missing configuration
├── DatabaseError    — database unreachable or at the wrong migration
├── NotFound         — an object that does not exist (or is not yours to see)
├── PermissionDenied — the role does not allow the action
├── InvalidInput     — a request or file with bad values; names the field
└── AuditChainBroken — the audit log does not verify; names the entry
"""

from __future__ import annotations


class SummitError(Exception):
    """Base class; the message is one line meant for the person who caused it."""


class ConfigError(SummitError):
    pass


class DatabaseError(SummitError):
    pass


class NotFound(SummitError):
    pass


class PermissionDenied(SummitError):
    pass


class InvalidInput(SummitError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class AuditChainBroken(SummitError):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit entry #{seq}: {reason}")
        self.seq = seq
        self.reason = reason
