"""The append-only, hash-chained audit log in the database.

Every choice the platform makes for people (draws, seatings, theme edits, votes, adoption) is one
entry. Payloads carry pseudonyms and ids only, never personal data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import AuditEntry
from summit.core.rules.audit_chain import (
    GENESIS,
    ChainEntry,
    ChainReport,
    entry_hash,
    payload_digest,
    verify_chain,
)

# Any constant works; it only has to be the same for every writer of this database.
_PG_LOCK_KEY = 7_300_001


@dataclass(frozen=True)
class Entry:
    """An entry to be appended (``append_many``): what ``append`` takes as arguments."""

    actor: str
    action: str
    subject: str
    payload: dict[str, Any] | None = None
    summit_id: int | None = None
    now: dt.datetime | None = None


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    summit_id: int | None = None,
    now: dt.datetime | None = None,
) -> AuditEntry:
    """Add one entry at the head of the chain, inside the caller's transaction.

    On PostgreSQL an advisory transaction lock serialises writers of all app workers; on SQLite
    the write lock does, and the primary key on ``seq`` refuses a fork in either case.
    """
    entry = Entry(actor, action, subject, payload, summit_id, now)
    return (await append_many(session, [entry]))[0]


async def append_many(session: AsyncSession, entries: list[Entry]) -> list[AuditEntry]:
    """Add ``entries`` at the head of the chain, in this order, with one read of the head and
    one lock (a group commit's entries)."""
    if not entries:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    head = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev = (0, GENESIS) if head is None else (head.seq, head.entry_hash)
    rows = []
    for item in entries:
        seq += 1
        rows.append(_chained(seq, prev, item))
        prev = rows[-1].entry_hash
    session.add_all(rows)
    await session.flush()
    return rows


def _chained(seq: int, prev: str, item: Entry) -> AuditEntry:
    body = dict(item.payload or {})
    moment = item.now or dt.datetime.now(dt.UTC)
    created = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
    digest = payload_digest(body)
    return AuditEntry(
        seq=seq,
        summit_id=item.summit_id,
        created_at=created,
        actor=item.actor,
        action=item.action,
        subject=item.subject,
        payload=body,
        payload_digest=digest,
        prev_hash=prev,
        entry_hash=entry_hash(
            seq=seq,
            prev_hash=prev,
            created_at=created,
            summit_id=item.summit_id,
            actor=item.actor,
            action=item.action,
            subject=item.subject,
            digest=digest,
        ),
    )


def as_chain_entry(row: AuditEntry) -> ChainEntry:
    return ChainEntry(
        seq=row.seq,
        prev_hash=row.prev_hash,
        created_at=row.created_at,
        summit_id=row.summit_id,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=dict(row.payload or {}),
        payload_digest=row.payload_digest,
        entry_hash=row.entry_hash,
    )


async def _stream(session: AsyncSession, batch: int = 1000) -> AsyncIterator[ChainEntry]:
    last = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.seq > last)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield as_chain_entry(row)
        last = rows[-1].seq


async def verify(session: AsyncSession) -> ChainReport:
    """Re-check the whole chain from the first entry; the report names the first broken link.
    (The hashing runs on a worker thread, so a long log does not stall other requests.)"""
    entries = [entry async for entry in _stream(session)]
    return await asyncio.to_thread(verify_chain, entries)


@dataclass(frozen=True)
class Anchor:
    """A point of the chain, as printed on a document: entry ``seq`` with hash ``hash``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"


@dataclass(frozen=True)
class HeadCheck:
    """Whether the log still contains a head published earlier (so nothing up to it changed)."""

    ok: bool
    anchor: Anchor | None
    reason: str = ""


_HEAD = re.compile(r"^\s*(?:#?(\d{1,18})[\s:]+)?([0-9a-fA-F]{64})\s*$")


def parse_head(text: str) -> tuple[int | None, str]:
    """``HASH``, ``#SEQ HASH`` or ``SEQ:HASH`` → (seq or None, hash)."""
    match = _HEAD.match(text or "")
    if match is None:
        raise InvalidInput("head", _("give the 64-character head hash (optionally #SEQ before it)"))
    return (int(match.group(1)) if match.group(1) else None), match.group(2).lower()


async def check_head(
    session: AsyncSession, published: str, report: ChainReport | None = None
) -> HeadCheck:
    """Check the chain against a head published earlier (on a screen, a document, a letter).

    The whole chain must verify and still contain an entry with that hash (at that sequence
    number, when given). A log cut back to before the head, or rewritten at or before it (even
    with every later hash recomputed), no longer contains it.
    """
    seq, wanted = parse_head(published)
    report = report or await verify(session)
    if not report.ok:
        return HeadCheck(False, None, f"entry #{report.broken_seq}: {report.reason}")
    row = await session.scalar(select(AuditEntry).where(AuditEntry.entry_hash == wanted))
    if row is None:
        return HeadCheck(
            False, None, "this head is not in the log: it was cut back or rewritten since"
        )
    if seq is not None and row.seq != seq:
        return HeadCheck(False, None, f"this head is entry #{row.seq} now, not #{seq}")
    return HeadCheck(True, Anchor(row.seq, row.entry_hash))


async def current_anchor(session: AsyncSession) -> Anchor:
    """The head of the chain now: what a document signed now carries."""
    seq, entry = await head(session)
    return Anchor(seq, entry)


async def anchor_of(session: AsyncSession, *, action: str, subject: str) -> Anchor | None:
    """The entry that recorded ``action`` on ``subject`` (the latest one), as an anchor: what a
    document about that decision (a draw's result, a Burgerbesluit) carries."""
    row = await session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.subject == subject)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    return None if row is None else Anchor(row.seq, row.entry_hash)


async def head(session: AsyncSession) -> tuple[int, str]:
    row = (
        await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    ).scalar_one_or_none()
    return (0, GENESIS) if row is None else (row.seq, row.entry_hash)


async def recent(
    session: AsyncSession, *, limit: int = 100, before: int | None = None
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return list((await session.execute(query)).scalars().all())


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())
