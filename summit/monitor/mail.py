"""E-mail through an outbox: queue in the caller's transaction, send from a background job.

The small API other parts reuse (the Burgerforum's e-mail confirmation, for one):

* :func:`enabled` — whether ``SUMMIT_SMTP_URL`` is set (without it, e-mail is off and pages say so);
* :func:`enqueue` — queue one mail inside the caller's transaction; the same ``dedupe_key`` twice
  queues it once;
* :func:`deliver_due` — send what is due (the background job calls it; so does
  ``summit monitor send-mail``).

``SUMMIT_SMTP_URL``: ``smtp://[USER:PASSWORD@]HOST[:PORT]?from=ADDRESS`` (plain, port 25),
``smtp+starttls://…`` (STARTTLS, port 587) or ``smtps://…`` (TLS, port 465).

Sending: a due row is claimed for a while (``claimed_until``) with a conditional update, so two
workers never send the same row; it is marked sent right after the server accepted it. A failure
is retried with growing pauses (1, 2, 4 … minutes, at most :data:`MAX_ATTEMPTS` tries). Each
mail's Message-ID is derived from its outbox row, so even a mail re-sent after a crash between the
server's answer and our commit is recognisably the same message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.db import Database
from summit.core.errors import ConfigError
from summit.core.models import utcnow
from summit.monitor.models import OutboxMail

MAX_ATTEMPTS = 6
CLAIM_SECONDS = 120
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpConfig:
    scheme: str
    host: str
    port: int
    username: str
    password: str
    sender: str

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ConfigError(
                "SUMMIT_SMTP_URL: use smtp://, smtp+starttls:// or smtps://HOST[:PORT]?from=ADDRESS"
            )
        if not parts.hostname:
            raise ConfigError("SUMMIT_SMTP_URL: names no host")
        sender = parse_qs(parts.query).get("from", [""])[0] or f"monitor@{parts.hostname}"
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or SCHEMES[parts.scheme],
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            sender=sender,
        )


def enabled(smtp_url: str) -> bool:
    return bool(smtp_url)


async def enqueue(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    unsubscribe_url: str | None = None,
) -> OutboxMail | None:
    """Queue a mail in the caller's transaction; None when ``dedupe_key`` was queued before.

    With ``unsubscribe_url`` the mail gets RFC 8058 one-click List-Unsubscribe headers.
    """
    found = await session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key))
    if found is not None:
        return None
    headers: dict[str, Any] = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    row = OutboxMail(
        dedupe_key=dedupe_key[:200],
        recipient=to,
        subject=subject[:300],
        body=body,
        headers=headers,
        next_attempt_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None
    return row


def build_message(row: OutboxMail, config: SmtpConfig) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    domain = config.sender.rsplit("@", 1)[-1] or "localhost"
    message["Message-ID"] = f"<outbox-{row.id}@{domain}>"
    for name, value in (row.headers or {}).items():
        message[name] = str(value)
    message.set_content(row.body)
    return message


def _send(message: EmailMessage, config: SmtpConfig) -> None:
    if config.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=30, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=30)
    with client:
        if config.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if config.username:
            client.login(config.username, config.password)
        client.send_message(message)


async def _claim(db: Database, now: dt.datetime, limit: int) -> list[OutboxMail]:
    async with db.session() as session:
        due = list(
            (
                await session.execute(
                    select(OutboxMail.id)
                    .where(
                        OutboxMail.status == "pending",
                        OutboxMail.next_attempt_at <= now,
                        (OutboxMail.claimed_until.is_(None)) | (OutboxMail.claimed_until < now),
                    )
                    .order_by(OutboxMail.id)
                    .limit(limit)
                )
            ).scalars()
        )
    claimed = []
    for mail_id in due:
        async with db.session() as session:
            result = await session.execute(
                update(OutboxMail)
                .where(
                    OutboxMail.id == mail_id,
                    OutboxMail.status == "pending",
                    (OutboxMail.claimed_until.is_(None)) | (OutboxMail.claimed_until < now),
                )
                .values(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
            )
            if getattr(result, "rowcount", 0) == 1:
                row = await session.get(OutboxMail, mail_id)
                if row is not None:
                    claimed.append(row)
    return claimed


async def _finish(db: Database, row_id: int, error: str | None, now: dt.datetime) -> None:
    async with db.session() as session:
        row = await session.get(OutboxMail, row_id)
        if row is None:
            return
        row.claimed_until = None
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, ""
            return
        row.last_error = error[:300]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.next_attempt_at = now + dt.timedelta(minutes=2 ** (row.attempts - 1))


async def deliver_due(
    db: Database, smtp_url: str, *, now: dt.datetime | None = None, limit: int = 50
) -> int:
    """Send the mails that are due; returns how many the SMTP server accepted."""
    if not enabled(smtp_url):
        return 0
    config = SmtpConfig.parse(smtp_url)
    moment = now or utcnow()
    sent = 0
    for row in await _claim(db, moment, limit):
        try:
            await asyncio.to_thread(_send, build_message(row, config), config)
        except (OSError, smtplib.SMTPException) as exc:
            await _finish(db, row.id, f"{type(exc).__name__}: {exc}", moment)
            continue
        await _finish(db, row.id, None, moment)
        sent += 1
    return sent


async def queue_counts(session: AsyncSession) -> dict[str, int]:
    from sqlalchemy import func

    rows = (
        await session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status))
    ).all()
    return {str(status): int(n) for status, n in rows}
