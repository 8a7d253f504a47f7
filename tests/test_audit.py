from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from summit.core import audit
from summit.core.rules.audit_chain import (
    GENESIS,
    ChainEntry,
    entry_hash,
    payload_digest,
    verify_chain,
)

pytestmark = pytest.mark.anyio


def build_chain(payloads: list[dict[str, Any]]) -> list[ChainEntry]:
    chain: list[ChainEntry] = []
    prev = GENESIS
    for seq, payload in enumerate(payloads, start=1):
        digest = payload_digest(payload)
        created = f"2026-12-12T10:00:{seq % 60:02d}+00:00"
        h = entry_hash(
            seq=seq,
            prev_hash=prev,
            created_at=created,
            summit_id=1,
            actor="S-1",
            action="test",
            subject=f"x:{seq}",
            digest=digest,
        )
        chain.append(
            ChainEntry(seq, prev, created, 1, "S-1", "test", f"x:{seq}", payload, digest, h)
        )
        prev = h
    return chain


payloads = st.lists(
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=10), max_size=3),
    min_size=1,
    max_size=12,
)


@given(payloads)
def test_an_untouched_chain_verifies(items: list[dict[str, Any]]) -> None:
    report = verify_chain(build_chain(items))
    assert report.ok and report.entries == len(items)


@given(payloads, st.data())
def test_any_change_to_any_entry_is_detected_at_that_entry(
    items: list[dict[str, Any]], data: st.DataObject
) -> None:
    chain = build_chain(items)
    index = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(st.sampled_from(["actor", "action", "subject", "created_at", "payload"]))
    victim = chain[index]
    if field == "payload":
        changed = dataclasses.replace(victim, payload={**victim.payload, "tampered": True})
    else:
        changed = dataclasses.replace(victim, **{field: getattr(victim, field) + "!"})
    chain[index] = changed
    report = verify_chain(chain)
    assert not report.ok
    assert report.broken_seq == victim.seq


def test_a_removed_entry_is_detected() -> None:
    chain = build_chain([{"a": 1}, {"b": 2}, {"c": 3}])
    report = verify_chain([chain[0], chain[2]])
    assert not report.ok and report.broken_seq == 3


async def test_entries_chain_in_the_database_and_verify(database: Any) -> None:
    async with database.session() as session:
        for i in range(5):
            await audit.append(
                session, actor="S-1", action="draw", subject=f"d:{i}", payload={"i": i}
            )
    async with database.session() as session:
        report = await audit.verify(session)
        seq, head = await audit.head(session)
    assert report.ok and report.entries == 5
    assert seq == 5 and head == report.head


async def test_the_database_refuses_to_update_or_delete_entries(database: Any) -> None:
    async with database.session() as session:
        await audit.append(session, actor="S-1", action="draw", subject="d", payload={})
    for statement in ("UPDATE audit_entries SET actor = 'X'", "DELETE FROM audit_entries"):
        with pytest.raises(Exception, match="append-only"):
            async with database.session() as session:
                await session.execute(text(statement))


async def test_a_tampered_entry_is_found_by_verify(database: Any) -> None:
    async with database.session() as session:
        for i in range(4):
            await audit.append(
                session, actor="S-1", action="vote", subject=f"v:{i}", payload={"n": i}
            )
    # Someone with full database access removes the guard and edits entry #3.
    async with database.session() as session:
        if database.is_postgresql:
            await session.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        else:
            await session.execute(text("DROP TRIGGER audit_entries_no_update"))
        await session.execute(text("UPDATE audit_entries SET subject = 'v:99' WHERE seq = 3"))
    async with database.session() as session:
        report = await audit.verify(session)
    assert not report.ok
    assert report.broken_seq == 3
    assert "altered" in report.reason
    assert report.entries == 2


async def test_a_failed_use_case_leaves_no_entry(database: Any) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await audit.append(session, actor="S-1", action="draw", subject="d", payload={})
            raise RuntimeError("the draw failed after logging")
    async with database.session() as session:
        assert await audit.count(session) == 0
