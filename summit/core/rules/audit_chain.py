"""The audit log's hash chain (pure): how an entry's hash is computed and how a chain is checked.

An entry's hash is SHA-256 over the canonical JSON of
``{seq, prev_hash, created_at, summit_id, actor, action, subject, payload_digest}``; the payload
digest is SHA-256 over the canonical JSON of the payload. Canonical JSON: UTF-8, keys sorted, no
spaces, no NaN. The first entry's ``prev_hash`` is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(payload))


@dataclass(frozen=True)
class ChainEntry:
    seq: int
    prev_hash: str
    created_at: str
    summit_id: int | None
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    payload_digest: str
    entry_hash: str


def entry_hash(
    *,
    seq: int,
    prev_hash: str,
    created_at: str,
    summit_id: int | None,
    actor: str,
    action: str,
    subject: str,
    digest: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "prev_hash": prev_hash,
                "created_at": created_at,
                "summit_id": summit_id,
                "actor": actor,
                "action": action,
                "subject": subject,
                "payload_digest": digest,
            }
        )
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(entries: Iterable[ChainEntry]) -> ChainReport:
    """Walk the chain in order; stop at the first entry that does not check out."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(
                False, count, prev, entry.seq, f"expected entry #{expected_seq}, found #{entry.seq}"
            )
        if entry.prev_hash != prev:
            return ChainReport(
                False, count, prev, entry.seq, "does not link to the entry before it"
            )
        if payload_digest(entry.payload) != entry.payload_digest:
            return ChainReport(False, count, prev, entry.seq, "payload does not match its digest")
        recomputed = entry_hash(
            seq=entry.seq,
            prev_hash=entry.prev_hash,
            created_at=entry.created_at,
            summit_id=entry.summit_id,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            digest=entry.payload_digest,
        )
        if recomputed != entry.entry_hash:
            return ChainReport(False, count, prev, entry.seq, "entry was altered (hash mismatch)")
        prev = entry.entry_hash
        expected_seq += 1
        count += 1
    return ChainReport(True, count, prev)
