"""Verifying a round's seating: re-run the logged inputs with the logged seed and compare, table
by table and host by host, replaying the day's logged moves (``summit verify seating``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.errors import NotFound
from summit.core.i18n import gettext as _
from summit.core.models import AuditEntry, Summit
from summit.seating.models import SeatingRun
from summit.seating.service import (
    compute_rounds,
    compute_topics,
    get_round,
    inputs_hash,
    round_tables,
)
from summit.seating.topic_rounds import topic_hosts


@dataclass(frozen=True)
class Verification:
    """MATCH, or the first difference found between the log, a re-run and the database."""

    round: int
    ok: bool
    message: str
    seed: str = ""
    inputs_hash: str = ""

    def __str__(self) -> str:
        return f"MATCH: {self.message}" if self.ok else f"DIFFERENT: {self.message}"


def _first_difference(
    ours: dict[str, list[str]], theirs: dict[str, list[str]], what: str, other: str
) -> str | None:
    for number in sorted(set(ours) | set(theirs), key=int):
        a, b = sorted(ours.get(number, [])), sorted(theirs.get(number, []))
        if a != b:
            listed = ", ".join(a) or "(empty)"
            return f"table {number}: {what} {listed}; {other} {', '.join(b) or '(empty)'}"
    return None


def _rerun(
    run: SeatingRun, data: dict[str, Any], seed: str, number: int
) -> tuple[dict[str, list[str]], dict[str, str | None]] | None:
    """Tables (members without the host) and hosts of round ``number`` re-run from ``data``;
    ``None`` when the re-run has no such round."""
    if data.get("kind") == "topic":
        topic = compute_topics(data, seed)
        mapping = {int(m["domain"]): int(m["number"]) for m in run.layout}
        full = {str(mapping[t.number]): list(t.members) for t in topic.tables}
        hosts = topic_hosts(full, {h["id"] for h in data.get("hosts", [])})
        return {k: [m for m in v if m != hosts[k]] for k, v in full.items()}, hosts
    seating = compute_rounds(data, seed)
    index = number - run.first_round
    if not 0 <= index < len(seating.rounds):
        return None
    tables = {str(n): list(m) for n, m in enumerate(seating.rounds[index], start=1)}
    return tables, {str(n): h for n, h in enumerate(seating.hosts[index], start=1)}


def _host_difference(ours: dict[str, str | None], logged: dict[str, Any]) -> str | None:
    for key in sorted(set(ours) | set(logged), key=int):
        if ours.get(key) != logged.get(key):
            return (
                f"table {key}: the re-run's host is {ours.get(key)}, the log says {logged.get(key)}"
            )
    return None


async def _replay_moves(
    session: AsyncSession,
    summit: Summit,
    entry: AuditEntry,
    run: SeatingRun,
    number: int,
    expected: dict[str, set[str]],
) -> int:
    """Apply the day's logged moves of the round to ``expected``; returns how many there were."""
    moves = (
        await session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.summit_id == summit.id,
                AuditEntry.action == "seating.move",
                AuditEntry.seq > entry.seq,
            )
            .order_by(AuditEntry.seq)
        )
    ).scalars()
    count = 0
    for move in moves:
        p = dict(move.payload)
        if p.get("run") != run.id or p.get("round") != number:
            continue
        count += 1
        if p.get("from") is not None:
            expected.get(str(p["from"]), set()).discard(move.subject)
        if p.get("to") is not None:
            expected.setdefault(str(p["to"]), set()).add(move.subject)
    return count


async def _round_entry(session: AsyncSession, summit: Summit, number: int) -> AuditEntry:
    entry = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.summit_id == summit.id,
            AuditEntry.action == "seating.round",
            AuditEntry.subject == f"round:{number}",
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    if entry is None:
        raise NotFound(_("round %(number)s: the log has no seating for it") % {"number": number})
    return entry


async def verify_round(
    session: AsyncSession, summit: Summit, number: int, inputs: dict[str, Any] | None = None
) -> Verification:
    """Re-run round ``number`` from its logged inputs and seed; compare with the log, then
    replay the logged moves and compare with the seats in the database.

    ``inputs``: verify from a published inputs file instead of the stored copy.
    """
    entry = await _round_entry(session, summit, number)
    logged = dict(entry.payload)
    run = await session.get(SeatingRun, int(logged["run"]))
    if run is None:
        return Verification(number, False, f"the inputs of run {logged['run']} are missing")
    data = inputs if inputs is not None else dict(run.inputs)
    seed = str(logged["seed"])
    digest = inputs_hash(data)
    if digest != logged["inputs_hash"]:
        return Verification(
            number,
            False,
            f"inputs: they hash to {digest[:16]}…, the log says {str(logged['inputs_hash'])[:16]}…",
            seed,
            digest,
        )
    log_tables = {k: list(v) for k, v in dict(logged["tables"]).items()}
    log_hosts = {k: v for k, v in dict(logged.get("hosts", {})).items()}
    again = _rerun(run, data, seed, number)
    if again is None:
        return Verification(number, False, "the re-run has no such round", seed, digest)
    diff = _first_difference(again[0], log_tables, "the re-run seats", "the log says")
    diff = diff or _host_difference(again[1], log_hosts)
    if diff is not None:
        return Verification(number, False, diff, seed, digest)
    # the day's logged moves turn the logged seating into what the database should hold
    expected = {k: set(v) for k, v in log_tables.items()}
    for k, h in log_hosts.items():
        if h:
            expected.setdefault(k, set()).add(h)
    count = await _replay_moves(session, summit, entry, run, number, expected)
    rnd = await get_round(session, summit.id, number)
    stored = {
        str(t.number): [p.pseudonym for p in t.people] for t in await round_tables(session, rnd)
    }
    want = {k: sorted(v) for k, v in expected.items() if v}
    diff = _first_difference(stored, want, "the database seats", "the log says")
    if diff is not None:
        return Verification(number, False, diff, seed, digest)
    return Verification(
        number,
        True,
        f"round {number} re-run from seed {seed!r} and inputs {digest[:16]}… gives the logged "
        f"tables; with {count} logged move(s) they equal the seats in the database",
        seed,
        digest,
    )
