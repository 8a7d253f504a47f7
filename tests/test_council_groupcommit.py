"""The ballot box's group commit (``summit.core.groupcommit``): ballots sent together are stored
in shared transactions; every acknowledged ballot is stored, a refused one fails alone, the audit
chain stays whole, and a batch that cannot commit is answered item by item."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core import service as repository
from summit.core.db import Database, upgrade
from summit.core.errors import PermissionDenied
from summit.core.groupcommit import GroupCommit
from summit.core.models import AuditEntry, Participant
from summit.council import ballot, credentials
from summit.council import proposals as drafting
from summit.council import vote as votes
from summit.council.models import Ballot, CouncilVote
from summit.council.rules.credentials import VotingKey
from summit.council.rules.voting import VotingError, receipt_key
from tests.support.app import BACKENDS, PG_URL, fresh_database_url, make_settings

pytestmark = pytest.mark.anyio

KEY = receipt_key("group-commit-test-secret-0123456789")
CHOICES = ("for", "against", "abstain")


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    found = fresh_database_url("postgresql", tmp_path)
    asyncio.run(upgrade(found))
    return found


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    found = fresh_database_url(request.param, tmp_path)
    asyncio.run(upgrade(found))
    return found


async def _vote(db: Database, members: int) -> tuple[int, int, list[int], list[VotingKey]]:
    async with db.session() as session:
        summit = await repository.create_summit(
            session, actor="test", slug="batch", name="G1000 Batch", municipality="Batch"
        )
        people = [
            Participant(summit_id=summit.id, pseudonym=f"P-{secrets.token_hex(4)}", role="resident")
            for _ in range(members)
        ]
        session.add_all(people)
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
        created = await votes.create_council_vote(
            session, summit, actor="test", title="Batch", proposal_ids=proposals, key=KEY
        )
        summit_id, vote_id = summit.id, created.id
        found = await session.get(CouncilVote, vote_id)
        assert found is not None
        public = await votes.ensure_ballot_key(session, found, KEY)
        keys = []
        for person in people:
            keys.append(VotingKey.new(public, vote_id))
            blinded = format(keys[-1].blinded, "x")
            await credentials.request_key(session, vote_id, person, blinded, key=KEY)
    async with db.session() as session:
        await votes.open_council_vote(session, summit_id, vote_id, actor="test", key=KEY)
    async with db.session() as session:
        for person, key in zip(people, keys, strict=True):
            state = await credentials.key_state(session, vote_id, person.id)
            key.unblind(int(state.blind_signature, 16))
    return summit_id, vote_id, proposals, keys


def _work(
    summit_id: int, vote_id: int, key: VotingKey, choices: dict[int, str], *, many: bool = True
) -> Any:
    """A ballot request for the box: as the app sends it (``BallotRequest``, a batch of them
    stored by ``store_many``) or, with ``many=False``, as opaque work (a savepoint each)."""
    request = ballot.BallotRequest(
        summit_id, vote_id, key.secret, format(key.signature or 0, "x"), choices
    )
    if many:
        return request

    async def work(session: AsyncSession) -> ballot.Cast:
        return await request(session)

    return work


async def _stored(db: Database, vote_id: int) -> tuple[dict[str, tuple[int, str]], int]:
    """Receipt -> (proposal, choice) of every ballot, and the number of council.ballot entries."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Ballot.receipt, Ballot.proposal_id, Ballot.choice).where(
                    Ballot.council_vote_id == vote_id
                )
            )
        ).all()
        logged = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "council.ballot")
        )
        report = await audit.verify(session)
        assert report.ok, report
    return {r.receipt: (r.proposal_id, r.choice) for r in rows}, int(logged or 0)


@pytest.mark.parametrize("many", [True, False], ids=["stored-together", "savepoints"])
async def test_ballots_sent_together_are_stored_in_batches_and_every_answer_is_stored(
    url: str, many: bool
) -> None:
    db = Database(url)
    try:
        summit_id, vote_id, (p1, p2), keys = await _vote(db, 40)
        box = ballot.group_commit(db)
        forged = VotingKey.new(keys[0].key, vote_id)  # never signed
        forged.signature = keys[0].signature
        sent = []
        for i, key in enumerate(keys):
            sent.append(box.run(_work(summit_id, vote_id, key, {p1: CHOICES[i % 3]}, many=many)))
            if i % 10 == 3:  # refused ones in the middle of the batches
                sent.append(box.run(_work(summit_id, vote_id, forged, {p1: "for"}, many=many)))
                sent.append(box.run(_work(summit_id, vote_id, key, {p1: "maybe"}, many=many)))
        answers = await asyncio.gather(*sent, return_exceptions=True)

        refused = [a for a in answers if isinstance(a, BaseException)]
        stored_answers = [a for a in answers if isinstance(a, ballot.Cast)]
        assert len(stored_answers) == 40 and len(refused) == 8
        assert Counter(type(a) for a in refused) == {PermissionDenied: 4, VotingError: 4}
        if db.is_postgresql:
            assert max(box.batches) > 1, box.batches  # they did share transactions
            assert sum(box.batches) == len(sent)
        else:  # SQLite: one transaction each
            assert box.batches == []

        stored, logged = await _stored(db, vote_id)
        for answer in stored_answers:
            (cast,) = answer.ballots
            assert stored[cast.receipt] == (p1, cast.choice)
        assert len(stored) == 40 and logged == 40
        # The log's order is not the order of arrival (40 entries: a shuffle hits it 1 in 40!).
        arrival = {a.entry.payload["ballots"][0][2]: i for i, a in enumerate(stored_answers)}  # type: ignore[union-attr,index]
        async with db.session() as session:
            logged_order = [
                arrival[e.payload["ballots"][0][2]]
                for e in (
                    await session.execute(
                        select(AuditEntry)
                        .where(AuditEntry.action == "council.ballot")
                        .order_by(AuditEntry.seq)
                    )
                ).scalars()
            ]
        assert sorted(logged_order) == list(range(40)) and logged_order != list(range(40))

        # Changing votes in a second burst: the latest counts, each change logged once.
        again = [
            box.run(
                _work(summit_id, vote_id, key, {p1: CHOICES[(i + 1) % 3], p2: "abstain"}, many=many)
            )
            for i, key in enumerate(keys)
        ]
        changed = await asyncio.gather(*again)
        stored, logged = await _stored(db, vote_id)
        assert len(stored) == 40 * 3 and logged == 80
        assert all(c.ballots[0].version == 2 for c in changed)
        async with db.session() as session:
            superseded = await session.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.superseded.is_(True))
            )
        assert superseded == 40  # each key's first ballot on p1, nothing else
        # The same choices once more: nothing new is stored or logged, the receipts stay.
        same = [
            box.run(
                _work(summit_id, vote_id, key, {p1: CHOICES[(i + 1) % 3], p2: "abstain"}, many=many)
            )
            for i, key in enumerate(keys)
        ]
        repeated = await asyncio.gather(*same)
        assert [r.ballots for r in repeated] == [
            [dataclasses.replace(b, changed=False) for b in c.ballots] for c in changed
        ]
        assert all(r.entry is None for r in repeated)
        assert await _stored(db, vote_id) == (stored, logged)
    finally:
        await db.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="SUMMIT_TEST_DATABASE_URL is not set")
async def test_a_batch_that_cannot_commit_answers_each_request_alone(pg_url: str) -> None:
    """The batch's shared part fails once: every item is run again in its own transaction, so
    each caller still gets its own answer, and nothing of the failed batch is stored twice.
    (PostgreSQL: on SQLite every item is its own transaction already.)"""
    db = Database(pg_url)
    try:
        summit_id, vote_id, (p1, _p2), keys = await _vote(db, 12)
        failures = [1]

        async def finish(session: AsyncSession, casts: list[ballot.Cast]) -> None:
            await ballot.record(session, casts)
            if len(casts) > 1 and failures:
                failures.pop()
                raise RuntimeError("the disk is full")

        box: GroupCommit[ballot.Cast] = GroupCommit(
            db, finish=finish, many=ballot.store_many, field_name="ballot"
        )
        forged = VotingKey.new(keys[0].key, vote_id)
        forged.signature = keys[0].signature
        sent = [box.run(_work(summit_id, vote_id, k, {p1: "for"})) for k in keys]
        sent.append(box.run(_work(summit_id, vote_id, forged, {p1: "for"})))
        answers = await asyncio.gather(*sent, return_exceptions=True)
        assert not failures  # the failure did happen
        assert all(isinstance(a, ballot.Cast) for a in answers[:-1]), answers
        assert isinstance(answers[-1], PermissionDenied)
        stored, logged = await _stored(db, vote_id)
        assert len(stored) == 12 and logged == 12
    finally:
        await db.dispose()


@pytest.mark.parametrize("many", [True, False], ids=["stored-together", "savepoints"])
async def test_a_lost_race_is_run_again_alone(url: str, many: bool) -> None:
    """The same key twice in one batch: one of them finds the other's ballot (or, stored
    together, the other in the batch) and runs again (``Retry``) after the batch; both are
    answered, one ballot is the latest."""
    db = Database(url)
    try:
        summit_id, vote_id, (p1, _p2), keys = await _vote(db, 3)
        box = ballot.group_commit(db)
        first = await box.run(_work(summit_id, vote_id, keys[0], {p1: "for"}, many=many))
        assert first.ballots[0].version == 1
        both = await asyncio.gather(
            box.run(_work(summit_id, vote_id, keys[0], {p1: "against"}, many=many)),
            box.run(_work(summit_id, vote_id, keys[0], {p1: "abstain"}, many=many)),
            box.run(_work(summit_id, vote_id, keys[1], {p1: "for"}, many=many)),
        )
        versions = sorted(b.ballots[0].version for b in both[:2])
        assert versions == [2, 3]
        stored, logged = await _stored(db, vote_id)
        assert len(stored) == 4 and logged == 4
    finally:
        await db.dispose()


async def test_ballots_sent_together_through_the_app_read_the_summit_once(
    url: str, tmp_path: Path
) -> None:
    """A burst of ballots (no session) through the app: every one is answered and stored, the
    summit the requests need is read once for all of them, not once per waiting request, and
    on PostgreSQL the ballots of a batch are written together."""
    import httpx
    from sqlalchemy import event

    from summit.app import create_app

    app = create_app(make_settings(tmp_path, url))
    db: Database = app.state.db
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async with app.router.lifespan_context(app):
        _summit_id, vote_id, (p1, _p2), keys = await _vote(db, 30)
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"/council/votes/{vote_id}/ballot",
                        json={
                            "secret": key.secret,
                            "signature": format(key.signature or 0, "x"),
                            "choices": {str(p1): CHOICES[i % 3]},
                        },
                    )
                    for i, key in enumerate(keys)
                )
            )
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert [a.status_code for a in answers] == [200] * 30, answers[0].text
        summit_reads = [s for s in statements if "FROM summits" in s]
        assert len(summit_reads) == 1, summit_reads
        if db.is_postgresql:
            # Stored together: a few statements per batch, not a savepoint, a read and two
            # inserts per ballot (150 for these 30).
            assert len(statements) < 60, statements
            assert not [s for s in statements if "SAVEPOINT" in s]
        stored, logged = await _stored(db, vote_id)
        assert sorted(stored) == sorted(a.json()["receipts"][str(p1)] for a in answers)
        assert logged == 30
