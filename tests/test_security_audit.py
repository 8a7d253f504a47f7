"""The audit chain checked against a head published earlier (finding 18): a log cut back, or
rewritten with every later hash recomputed, still verifies on its own, but not against the head
that was on a screen or a document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text

from summit.core import audit
from summit.core.models import AuditEntry
from summit.core.rules.audit_chain import entry_hash, payload_digest
from tests.support.cli import summit


async def _untrigger(session: Any) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
    else:
        await session.execute(text("DROP TRIGGER audit_entries_no_delete"))
        await session.execute(text("DROP TRIGGER audit_entries_no_update"))


def _verify(env: dict[str, str], head: str) -> Any:
    return summit("audit", "verify", "--head", head, env=env)


def test_a_log_cut_back_after_its_head_was_published_is_caught(
    demo_client: Any, db_url: str, tmp_path: Path
) -> None:
    client, _info = demo_client
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": db_url}
    published = client.get("/audit.json").json()["head"]
    head = f"#{published['seq']} {published['hash']}"
    assert _verify(env, head).returncode == 0
    assert 'data-head-check="ok"' in client.get("/audit", params={"head": head}).text

    async def cut_back() -> None:
        async with client.db.session() as session:
            await _untrigger(session)
            await session.execute(delete(AuditEntry).where(AuditEntry.seq >= published["seq"]))

    client.run(cut_back())
    plain = summit("audit", "verify", env=env)
    assert plain.returncode == 0  # what is left is a valid chain on its own...
    anchored = _verify(env, head)
    assert anchored.returncode == 1 and "cut back or rewritten" in anchored.stderr  # ...but not
    page = client.get("/audit", params={"head": published["hash"]})
    assert 'data-head-check="broken"' in page.text


def test_a_rewritten_log_with_recomputed_hashes_is_caught(
    demo_client: Any, db_url: str, tmp_path: Path
) -> None:
    client, _info = demo_client
    env = {"SUMMIT_DATA_DIR": str(tmp_path), "SUMMIT_DATABASE_URL": db_url}
    published = client.get("/audit.json").json()["head"]

    async def rewrite_from(seq: int) -> None:
        async with client.db.session() as session:
            await _untrigger(session)
            rows = list(
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
                )
            )
            prev = rows[0].prev_hash
            for row in rows:
                if row.seq == seq:
                    row.payload = {**(row.payload or {}), "rewritten": True}
                row.payload_digest = payload_digest(dict(row.payload or {}))
                row.prev_hash = prev
                row.entry_hash = prev = entry_hash(
                    seq=row.seq,
                    prev_hash=row.prev_hash,
                    created_at=row.created_at,
                    summit_id=row.summit_id,
                    actor=row.actor,
                    action=row.action,
                    subject=row.subject,
                    digest=row.payload_digest,
                )
                await session.flush()

    client.run(rewrite_from(3))
    assert summit("audit", "verify", env=env).returncode == 0
    result = _verify(env, published["hash"])
    assert result.returncode == 1 and "BROKEN" in result.stderr


def test_a_draw_result_carries_its_audit_entry(demo_client: Any) -> None:
    client, _info = demo_client

    async def anchors() -> tuple[Any, Any]:
        async with client.db.session() as session:
            return await audit.current_anchor(session), await audit.anchor_of(
                session, action="nothing.here", subject="x"
            )

    current, missing = client.run(anchors())
    assert current.seq > 0 and len(current.hash) == 64 and missing is None
    assert str(current) == f"#{current.seq} {current.hash}"
