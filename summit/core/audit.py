"""The append-only, hash-chained audit log in the database.

Every choice the platform makes for people (draws, seatings, theme edits, votes, adoption) is one
entry. Payloads carry pseudonyms and ids only, never personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

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
    body = dict(payload or {})
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    head = (
        await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    ).scalar_one_or_none()
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS if head is None else head.entry_hash
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
    digest = payload_digest(body)
    entry = AuditEntry(
        seq=seq,
        summit_id=summit_id,
        created_at=created,
        actor=actor,
        action=action,
        subject=subject,
        payload=body,
        payload_digest=digest,
        prev_hash=prev,
        entry_hash=entry_hash(
            seq=seq,
            prev_hash=prev,
            created_at=created,
            summit_id=summit_id,
            actor=actor,
            action=action,
            subject=subject,
            digest=digest,
        ),
    )
    session.add(entry)
    await session.flush()
    return entry


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
    """Re-check the whole chain from the first entry; the report names the first broken link."""
    entries = [entry async for entry in _stream(session)]
    return verify_chain(entries)


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
