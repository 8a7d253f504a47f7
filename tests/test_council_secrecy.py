"""The Burgerraad ballot's secrecy against a stolen backup (database plus WAL) and against the
operator's own staff, through the real app on SQLite (and PostgreSQL where it applies).

Each test replays an attack that worked before voting keys (docs/council.md, "Threat model").
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from summit.core.models import PersonalLink
from summit.council.models import Ballot, CouncilCredential
from tests.support.council import Council, Member, open_vote
from tests.support.http import csrf_of

# --- A backup thief replays the WAL commit by commit --------------------------------------------


@dataclass(frozen=True)
class Commit:
    """What the database held after one commit of the WAL."""

    keys: dict[int, int]  # participant -> batch of their signed voting key (0: waiting)
    participation: frozenset[int]  # voter_participation (the design before voting keys)
    ballots: frozenset[str]  # credentials with a ballot


def _snapshot(image: bytes, workdir: Path) -> Commit:
    path = workdir / "image.db"
    path.write_bytes(image)
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        keys = dict(conn.execute("SELECT participant_id, batch FROM council_credentials"))
        voted = {r[0] for r in conn.execute("SELECT participant_id FROM voter_participation")}
        ballots = {
            r[0]
            for r in conn.execute("SELECT credential FROM ballots WHERE credential IS NOT NULL")
        }
    finally:
        conn.close()
    return Commit(keys, frozenset(voted), frozenset(ballots))


def replay_wal(database: Path, workdir: Path) -> list[Commit]:
    """The attacker's tool: apply the WAL's frames to the database file, one commit at a time,
    and read the state after each commit (no key needed: SQLite files are not encrypted). The
    first state is the database file's own."""
    wal = Path(f"{database}-wal").read_bytes()
    image = bytearray(database.read_bytes())
    _magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">6I", wal[:24])
    commits = [_snapshot(bytes(image), workdir)]
    offset = 32
    while offset + 24 + page_size <= len(wal):
        page, size, s1, s2 = struct.unpack(">4I", wal[offset : offset + 16])
        if (s1, s2) != (salt1, salt2):
            break  # frames of an earlier generation of the WAL
        data = wal[offset + 24 : offset + 24 + page_size]
        start = (page - 1) * page_size
        if len(image) < start + page_size:
            image.extend(b"\0" * (start + page_size - len(image)))
        image[start : start + page_size] = data
        if size:  # a commit frame: the database has ``size`` pages now
            commits.append(_snapshot(bytes(image[: size * page_size]), workdir))
        offset += 24 + page_size
    return commits


def candidates(commits: list[Commit]) -> dict[str, set[int]]:
    """The pairing the attack makes: a ballot's key belongs to whoever got a key (or was marked
    as having voted) in the last commit, at or before the ballot's first commit, that changed
    such a row. Before voting keys this named exactly one member per ballot."""
    found: dict[str, set[int]] = {}
    marked: set[int] = set()
    for before, commit in itertools.pairwise(commits):
        signed = {p for p, b in commit.keys.items() if b != 0 and before.keys.get(p) != b}
        changed = signed | (commit.participation - before.participation)
        if changed:
            marked = changed
        for credential in commit.ballots - before.ballots:
            found[credential] = set(marked)
    return found


def _checkpoint(council: Council) -> None:
    async def go() -> None:
        async with council.client.db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    council.run(go())


def test_a_copy_of_the_database_and_its_wal_does_not_pair_members_with_ballots(
    council: Council, tmp_path: Path
) -> None:
    """Finding 1: summit.db plus its WAL, without the secret, replayed commit by commit."""
    url = council.client.db.url
    if not url.startswith("sqlite"):
        pytest.skip("the WAL replay is SQLite's; PostgreSQL's WAL is covered by the design")
    database = Path(url.split(":///", 1)[1])
    p1, p2 = council.proposals(2)
    vote = council.council_vote([p1, p2])
    members = council.participants()
    early = [council.member(pid, vote) for pid in members[:3]]
    late = [council.member(pid, vote) for pid in members[3:8]]
    _checkpoint(council)
    # Three members prepare their keys before the vote opens; five more come when it is open,
    # one after the other, and each votes as soon as they can.
    for member in early:
        assert member.ask().json()["status"] == "pending"
    council.as_organiser()
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    for member in early:
        assert member.ask().json()["status"] == "signed"
        assert member.cast({p1: "for", p2: "against"}).status_code == 200
    for member in late:
        member.ask()
    for member in late:
        assert member.ask().json()["status"] == "signed"
        assert member.cast({p1: "against"}).status_code == 200
    copy = tmp_path / "stolen"
    copy.mkdir()
    shutil.copy(database, copy / "summit.db")
    shutil.copy(f"{database}-wal", copy / "summit.db-wal")

    commits = replay_wal(copy / "summit.db", tmp_path)
    pairing = candidates(commits)
    assert len(pairing) == 8 and len(commits) > 20  # every ballot's commit is in the copy
    # No commit that adds a ballot writes who holds a key or who voted...
    for before, after in itertools.pairwise(commits):
        if after.ballots - before.ballots:
            assert after.keys == before.keys and after.participation == before.participation
    # ...and the nearest such commit names a whole batch: three, then five members.
    assert sorted(len(c) for c in pairing.values()) == [3, 3, 3, 5, 5, 5, 5, 5]
    for credential, names in pairing.items():
        assert len(names) >= 3, f"ballot of key {credential[:8]} pairs with {names}"


# --- The operator's staff ------------------------------------------------------------------------


def test_staff_cannot_act_as_a_member_nor_read_or_change_their_ballot(council: Council) -> None:
    """Finding 2: an organiser issues a member's link, opens it in the staff session and reads
    or changes the member's ballot."""
    client = council.client
    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    target = council.participants()[0]
    member = council.member(target, vote)
    member.ask()
    council.as_organiser()
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    assert member.ask().json()["status"] == "signed"
    receipt = member.cast({p1: "for"}).json()["receipts"][str(p1)]

    # 1. While the vote is open, the organiser cannot issue the member's link again.
    council.as_organiser()
    links = council.count(PersonalLink, PersonalLink.participant_id == target)
    page = client.get("/organiser/participants")
    refused = client.post(
        f"/organiser/participants/{target}/link?lang=en",
        data={"action": "issue", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 409 and "cannot be issued again" in refused.text
    assert council.count(PersonalLink, PersonalLink.participant_id == target) == links

    # 2. A link the organiser got hold of earlier, opened in the staff session, ends that session.
    assert client.get(f"/p/{council.tokens[target]}").status_code == 303
    assert client.get("/council", headers={"accept": "text/html"}).status_code == 403
    # The member's page shows no choice and no receipt: the server does not know them.
    ballot_page = client.get(f"/council/votes/{vote}").text
    assert receipt not in ballot_page and "checked" not in ballot_page
    # Nor can the session vote: ballots come without a session, keys one per member.
    with_session = client.post(
        f"/council/votes/{vote}/ballot",
        json={"secret": "0" * 64, "signature": "1", "choices": {str(p1): "against"}},
        headers={"accept": "application/json"},
    )
    assert with_session.status_code == 400
    intruder = Member(council, target, vote)
    assert intruder.ask().status_code == 409  # another blinded value: a second key is refused
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1

    # 3. Every change of a ballot is an audit event that names nobody.
    assert member.cast({p1: "against"}).status_code == 200
    changes = [e for e in council.audit("council.ballot") if e["vote"] == vote]
    assert len(changes) == 2
    pseudonym = council.run(_pseudonym(council, target))
    for entry in changes:
        assert entry["actor"] == "anonymous"
        blob = json.dumps(entry)
        assert pseudonym not in blob and f'"participant": {target}' not in blob


async def _pseudonym(council: Council, pid: int) -> str:
    from summit.core.models import Participant

    async with council.client.db.session() as session:
        participant = await session.get(Participant, pid)
        assert participant is not None
        return str(participant.pseudonym)


# --- What is stored -------------------------------------------------------------------------------


def test_nothing_stored_links_a_ballot_to_a_member(council: Council) -> None:
    p1, p2 = council.proposals(2)
    vote = open_vote(council, [p1, p2])
    members = council.participants()[:12]
    for i, pid in enumerate(members):
        council.cast(vote, pid, {p1: "for" if i % 2 else "against", p2: "abstain"})

    async def schema() -> dict[str, Any]:
        async with council.client.db.engine.connect() as conn:

            def read(c: Any) -> dict[str, Any]:
                inspector = inspect(c)
                return {
                    table: (
                        {col["name"] for col in inspector.get_columns(table)},
                        {fk["referred_table"] for fk in inspector.get_foreign_keys(table)},
                    )
                    for table in ("ballots", "council_voting_keys", "council_credentials")
                }

            found: dict[str, Any] = await conn.run_sync(read)
            return found

    tables = council.run(schema())
    # Ballots and the keys that cast them: no voter, no time.
    assert tables["ballots"] == (
        {
            "id",
            "council_vote_id",
            "proposal_id",
            "choice",
            "receipt",
            "superseded",
            "credential",
            "version",
        },
        {"council_votes", "proposals"},
    )
    assert tables["council_voting_keys"][1] == {"council_votes"}
    assert not {"participant_id", "created_at"} & tables["council_voting_keys"][0]
    # Who got a key: the blinded value and its signature, never the key itself.
    assert "credential" not in tables["council_credentials"][0]

    async def rows() -> tuple[list[int], set[str], set[str]]:
        async with council.client.db.session() as session:
            ids = list(
                (
                    await session.execute(select(Ballot.id).where(Ballot.council_vote_id == vote))
                ).scalars()
            )
            credentials = set(
                (
                    await session.execute(
                        select(Ballot.credential).where(Ballot.council_vote_id == vote)
                    )
                ).scalars()
            )
            blinded = set(
                (
                    await session.execute(
                        select(CouncilCredential.blinded, CouncilCredential.blind_signature).where(
                            CouncilCredential.council_vote_id == vote
                        )
                    )
                ).scalars()
            )
            return ids, {c or "" for c in credentials}, blinded

    ids, credentials, blinded = council.run(rows())
    assert len(credentials) == 12 and not credentials & blinded
    # Ballot ids are random, so their order does not follow the order of voting.
    assert sorted(ids) != list(range(min(ids), min(ids) + len(ids)))
    # Only counts and hashes are public while the vote is open.
    log = json.dumps([e for e in council.audit("council.ballot") if e["vote"] == vote])
    assert not [c for c in credentials if c in log]
    assert re.search(r"P-[0-9A-F]{4}", log) is None
