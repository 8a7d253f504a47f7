"""Sending the forum's confirmation e-mails, behind a small interface.

With ``SUMMIT_SMTP_URL`` set, a mail goes into the platform's outbox (``summit.monitor.mail``:
sent by the background job, retried, never twice); without it e-mail confirmation is off and the
forum's pages say so. An application may also set ``app.state.mailer`` to anything with
``available`` and ``async send(to, subject, body)``: ``OutboxMailer`` keeps messages in memory
(tests of the confirmation flow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from summit.core.db import Database
from summit.core.security import token_hash


@runtime_checkable
class Mailer(Protocol):
    """What the forum needs from an e-mail sender."""

    @property
    def available(self) -> bool: ...

    async def send(self, to: str, subject: str, body: str) -> None: ...


class NoMailer:
    """No SMTP configured: nothing can be sent."""

    available = False

    async def send(self, to: str, subject: str, body: str) -> None:
        raise RuntimeError("e-mail is not configured on this platform")


@dataclass
class OutboxMailer:
    """Keeps every message in ``outbox`` as (to, subject, body)."""

    outbox: list[tuple[str, str, str]] = field(default_factory=list)
    available: bool = True

    async def send(self, to: str, subject: str, body: str) -> None:
        self.outbox.append((to, subject, body))


@dataclass
class PlatformMailer:
    """The platform's outbox (the Monitor's mail module), queued in a transaction of its own."""

    db: Database
    available: bool = True

    async def send(self, to: str, subject: str, body: str) -> None:
        from summit import monitor as mail

        async with self.db.session() as session:
            await mail.enqueue(
                session,
                to=to,
                subject=subject,
                body=body,
                dedupe_key="forum-confirm:" + token_hash(body)[:32],
            )


def mailer_of(app: Any) -> Mailer:
    """The application's mailer: one it was given, the outbox when SMTP is set, else none."""
    found = getattr(app.state, "mailer", None)
    if isinstance(found, Mailer):
        return found
    if getattr(app.state.settings, "smtp_url", ""):
        return PlatformMailer(app.state.db)
    return NoMailer()
