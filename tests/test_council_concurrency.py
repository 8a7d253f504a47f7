"""1,000 simultaneous ballots on PostgreSQL: every ballot counted once, re-votes replace.

The members' keys are made as their browsers would (``rules.credentials.VotingKey``) and signed
as one batch when the vote opens; the ballots then go through the ballot box all at once."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import service as repository
from summit.core.db import Database, upgrade, with_retries
from summit.core.models import Participant
from summit.council import ballot, credentials, decision
from summit.council import proposals as drafting
from summit.council import vote as votes
from summit.council.models import Ballot, CouncilVote
from summit.council.rules.credentials import VotingKey
from summit.council.rules.voting import receipt_key
from tests.support.app import PG_URL, fresh_database_url

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="SUMMIT_TEST_DATABASE_URL is not set"),
]

MEMBERS = 1000
CHOICES = ("for", "against", "abstain")
KEY = receipt_key("concurrency-test-secret-0123456789")


async def _setup(db: Database) -> tuple[int, int, list[int], list[int]]:
    async with db.session() as session:
        summit = await repository.create_summit(
            session, actor="test", slug="concurrency", name="G1000 Load", municipality="Load"
        )
        for _ in range(MEMBERS):
            session.add(
                Participant(
                    summit_id=summit.id,
                    pseudonym=f"P-{secrets.token_hex(4).upper()}",
                    role="resident",
                )
            )
        await session.flush()
        proposals = [
            (
                await drafting.create_proposal(
                    session,
                    summit,
                    actor="test",
                    content=drafting.ProposalText(title=f"Voorstel {i}", text="Doe iets"),
                )
            ).id
            for i in (1, 2)
        ]
        vote = await votes.create_council_vote(
            session, summit, actor="test", title="Load", proposal_ids=proposals, key=KEY
        )
        members = list(
            (
                await session.execute(
                    select(Participant.id)
                    .where(Participant.summit_id == summit.id)
                    .order_by(Participant.id)
                )
            ).scalars()
        )
        return summit.id, vote.id, proposals, members


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    url = fresh_database_url("postgresql", tmp_path)
    asyncio.run(upgrade(url))
    return url


async def _keys(db: Database, summit_id: int, vote_id: int, members: list[int]) -> dict[int, Any]:
    """Every member's browser asks for its key before the vote opens, then opening signs them
    all as one batch; the browsers unblind."""
    made: dict[int, VotingKey] = {}
    async with db.session() as session:
        found = await session.get(CouncilVote, vote_id)
        assert found is not None
        public = await votes.ensure_ballot_key(session, found, KEY)
        for pid in members:
            participant = await session.get(Participant, pid)
            assert participant is not None
            made[pid] = VotingKey.new(public, vote_id)
            blinded = format(made[pid].blinded, "x")
            await credentials.request_key(session, vote_id, participant, blinded, key=KEY)
    async with db.session() as session:
        await votes.open_council_vote(session, summit_id, vote_id, actor="test", key=KEY)
    async with db.session() as session:
        for pid, key in made.items():
            state = await credentials.key_state(session, vote_id, pid)
            key.unblind(int(state.blind_signature, 16))
    return made


async def test_a_thousand_simultaneous_ballots_are_counted_exactly(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        summit_id, vote_id, proposals, members = await _setup(db)
        keys = await _keys(db, summit_id, vote_id, members)

        async def cast(pid: int, choices: dict[int, str]) -> None:
            key = keys[pid]

            async def work(session: AsyncSession) -> None:
                await ballot.cast(
                    session,
                    summit_id=summit_id,
                    vote_id=vote_id,
                    secret=key.secret,
                    signature=format(key.signature or 0, "x"),
                    choices=choices,
                )

            await with_retries(db, work, field="ballot")

        final: dict[int, dict[int, str]] = {}
        first_wave = []
        for i, pid in enumerate(members):
            choices = {proposals[0]: CHOICES[i % 3], proposals[1]: CHOICES[(i + 1) % 3]}
            final[pid] = dict(choices)
            first_wave.append(cast(pid, choices))
        await asyncio.gather(*first_wave)

        # Second wave, all at once: 200 members change both votes, 50 of them press twice.
        second_wave = []
        for i, pid in enumerate(members[:200]):
            changed = {p: CHOICES[(CHOICES.index(c) + 1) % 3] for p, c in final[pid].items()}
            final[pid] = changed
            second_wave.append(cast(pid, changed))
            if i < 50:
                second_wave.append(cast(pid, changed))
        await asyncio.gather(*second_wave)

        async with db.session() as session:
            assert await ballot.voters(session, vote_id) == MEMBERS
            superseded = await session.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.superseded.is_(True))
            )
            assert superseded == 200 * 2

            def render(context: dict[str, object]) -> str:
                return f"<article>{sorted(context)}</article>"

            outcome, _decision, _events = await decision.close_council_vote(
                session, summit_id, vote_id, actor="test", render_document=render
            )
        expected = {p: Counter(final[m][p] for m in members) for p in proposals}
        for row in outcome.rows:
            counts = expected[row.item.proposal_id]
            assert (row.result.votes_for, row.result.against, row.result.abstain) == (
                counts["for"],
                counts["against"],
                counts["abstain"],
            )
            assert row.result.cast == MEMBERS
        assert outcome.meta.ballots_counted == 2 * MEMBERS
        assert outcome.meta.threshold == 501
    finally:
        await db.dispose()
