"""Migration 0009 keeps what a database already holds: every proposal version gets its hash and
every vote item the hash of the version it records; proposals get the table that wrote them as
owner; on a vote open during the upgrade, earlier ballots keep counting and their voters cannot
vote again with a voting key (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from summit.core.db import Database, upgrade
from summit.core.models import Participant
from summit.council import ballot, credentials, decision
from summit.council import vote as votes
from summit.council.proposals import ProposalText, version_digest
from summit.council.rules.voting import receipt_key
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)

pytestmark = pytest.mark.anyio
KEY = receipt_key("migration-test-secret-0123456789")


def _filler(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.DateTime | sa.Date):
        return dt.datetime.now(dt.UTC)
    if isinstance(kind, sa.Integer):
        return 0
    return ""


async def _insert(conn: AsyncConnection, table: str, **values: Any) -> None:
    """A row as the schema of 0008 had it (columns it does not name get neutral values)."""
    found = await conn.run_sync(lambda c: sa.Table(table, sa.MetaData(), autoload_with=c))
    row = dict(values)
    for column in found.columns:
        needs = not column.nullable and column.server_default is None
        if column.name not in row and needs and not column.primary_key:
            row[column.name] = _filler(column)
    await conn.execute(found.insert().values(**row))


VERSIONS = [  # (id, proposal, version, text, table)
    (1, 1, 1, "Bomen planten", 1),
    (2, 1, 2, "Tweehonderd bomen planten", 1),
    (3, 2, 1, "Een markt op zondag", None),
]


async def _earlier_data(conn: AsyncConnection) -> None:
    await _insert(conn, "summits", id=1, slug="old", name="G1000 Oud", municipality="Oud")
    await _insert(conn, "tables", id=1, summit_id=1, number=1, kind="venue")
    for pid in (1, 2, 3, 4):
        await _insert(conn, "participants", id=pid, summit_id=1, pseudonym=f"P-000{pid}")
    for proposal in (1, 2):
        await _insert(conn, "proposals", id=proposal, summit_id=1, title=f"V{proposal}")
    for vid, proposal, number, text, table in VERSIONS:
        await _insert(
            conn, "proposal_versions", id=vid, proposal_id=proposal, version=number,
            title=f"V{proposal}", text=text, author_table_id=table,
        )  # fmt: skip
    await _insert(conn, "council_votes", id=1, summit_id=1, title="Dicht", status="closed")
    await _insert(conn, "council_votes", id=2, summit_id=1, title="Open", status="open", members=4)
    await _insert(conn, "council_vote_items", council_vote_id=1, proposal_id=1, proposal_version=2)
    await _insert(conn, "council_vote_items", council_vote_id=2, proposal_id=2, proposal_version=1)
    for vote in (1, 2):
        await _insert(conn, "council_vote_meta", council_vote_id=vote, threshold=3)
    for pid in (1, 2, 3, 4):
        await _insert(conn, "council_members", council_vote_id=2, participant_id=pid)
    for pid, receipt, choice in (
        (1, "AAAA-AAAA-AAAA-AAAA", "for"),
        (2, "BBBB-BBBB-BBBB-BBBB", "for"),
    ):
        await _insert(conn, "voter_participation", council_vote_id=2, participant_id=pid)
        await _insert(
            conn, "ballots", id=10 + pid, council_vote_id=2, proposal_id=2, choice=choice,
            receipt=receipt, superseded=False,
        )  # fmt: skip


async def _rows(conn: AsyncConnection, query: str) -> list[Any]:
    return list((await conn.execute(sa.text(query))).all())


async def test_the_upgrade_keeps_votes_and_fills_hashes_owners_and_earlier_voters(
    empty_db_url: str,
) -> None:
    await upgrade(empty_db_url, "0008")
    db = Database(empty_db_url)
    try:
        async with db.engine.begin() as conn:
            await _earlier_data(conn)
        await upgrade(empty_db_url)
        async with db.engine.connect() as conn:
            hashes = dict(await _rows(conn, "SELECT id, sha256 FROM proposal_versions"))
            owners = dict(await _rows(conn, "SELECT id, owner FROM proposals"))
            items = dict(
                await _rows(conn, "SELECT council_vote_id, proposal_sha256 FROM council_vote_items")
            )
            marked = await _rows(
                conn, "SELECT participant_id, batch FROM council_credentials ORDER BY 1"
            )
            old = await _rows(conn, "SELECT credential, version FROM ballots")
        for vid, _proposal, _n, text, _table in VERSIONS:
            assert hashes[vid] == version_digest(ProposalText(f"V{_proposal}", text=text))
        assert owners == {1: "table:1", 2: ""}
        assert items == {1: hashes[2], 2: hashes[3]}
        assert marked == [(1, credentials.LEGACY_BATCH), (2, credentials.LEGACY_BATCH)]
        assert old == [(None, 1), (None, 1)]
        await _after(db)
    finally:
        await db.dispose()


async def _after(db: Database) -> None:
    """The upgraded open vote: earlier voters cannot get a key, others can; the count keeps the
    earlier ballots."""
    async with db.session() as session:
        earlier = await session.get(Participant, 1)
        newcomer = await session.get(Participant, 3)
        assert earlier is not None and newcomer is not None
        found = await votes.get_council_vote(session, 1, 2)
        await votes.ensure_ballot_key(session, found, KEY)
        with pytest.raises(credentials.KeyTaken, match="before voting keys"):
            await credentials.request_key(session, 2, earlier, "abc", key=KEY)
        assert (await credentials.request_key(session, 2, newcomer, "abc", key=KEY)).status in (
            "pending",
            "signed",
        )
        assert await ballot.voters(session, 2) == 2
    async with db.session() as session:
        outcome, _decision, _events = await decision.close_council_vote(
            session, 1, 2, actor="test", render_document=lambda c: f"<article>{c}</article>"
        )
        assert outcome.meta.ballots_counted == 2 and outcome.rows[0].result.votes_for == 2
        closed = await votes.council_outcome(session, await votes.get_council_vote(session, 1, 1))
        assert closed.rows[0].item.proposal_version == 2
