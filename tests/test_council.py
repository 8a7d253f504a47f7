"""Prioritisation, proposals and the Burgerraad through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from summit.core import service as repository
from summit.core.models import AuditEntry, Participant, Seat, SummitTable
from summit.council import service as uc
from summit.council.models import Ballot, ShortlistItem, VoterParticipation
from summit.council.rules.voting import receipt_key, receipt_versions
from summit.ideas.models import Theme
from tests.conftest import Client
from tests.test_http import csrf_of, login


class Council:
    """The demo summit with helpers to act as the organiser or as one participant."""

    def __init__(self, client: Client, info: Any) -> None:
        self.client = client
        self.info = info
        self.summit_id = info.summit_id
        self.tokens: dict[int, str] = {}
        self.staff_cookies: dict[str, str] = {}

    def run(self, coro: Any) -> Any:
        return self.client.run(coro)

    @property
    def key(self) -> bytes:
        return receipt_key(self.client.app.state.settings.secret_key)  # type: ignore[attr-defined]

    def as_organiser(self) -> None:
        self.client.cookies.clear()
        if self.staff_cookies:
            self.client.cookies.update(self.staff_cookies)
            return
        login(self.client, "organiser", self.info.organiser_password)
        self.staff_cookies = dict(self.client.cookies)

    def as_participant(self, pid: int) -> None:
        self.client.cookies.clear()
        if pid not in self.tokens:
            self.tokens[pid] = self.run(self._issue(pid))
        response = self.client.get(f"/p/{self.tokens[pid]}")
        assert response.status_code == 303, response.text

    async def _issue(self, pid: int) -> str:
        async with self.client.db.session() as session:
            participant = await session.get(Participant, pid)
            return await repository.issue_link(session, participant, actor="test", log=False)

    def csrf(self, path: str) -> str:
        return csrf_of(self.client.get(path).text)

    def post(self, path: str, data: dict[str, Any], page: str = "/") -> Any:
        token = self.csrf(page)
        return self.client.post(path, data={**data, "csrf_token": token})

    def participants(self) -> list[int]:
        async def go() -> list[int]:
            async with self.client.db.session() as session:
                return list(
                    (
                        await session.execute(
                            select(Participant.id)
                            .where(Participant.summit_id == self.summit_id)
                            .order_by(Participant.id)
                        )
                    ).scalars()
                )

        return self.run(go())

    def count(self, model: Any, *where: Any) -> int:
        async def go() -> int:
            async with self.client.db.session() as session:
                return int(
                    await session.scalar(select(func.count()).select_from(model).where(*where))
                )

        return self.run(go())

    def audit(self, action: str) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            async with self.client.db.session() as session:
                rows = (
                    await session.execute(
                        select(AuditEntry)
                        .where(AuditEntry.action == action)
                        .order_by(AuditEntry.seq)
                    )
                ).scalars()
                return [{"actor": r.actor, "subject": r.subject, **r.payload} for r in rows]

        return self.run(go())

    def cast(self, vote_id: int, pid: int, choices: dict[int, str]) -> list[uc.CastBallot]:
        async def go() -> list[uc.CastBallot]:
            async with self.client.db.session() as session:
                return await uc.cast_ballots(
                    session,
                    summit_id=self.summit_id,
                    vote_id=vote_id,
                    participant_id=pid,
                    choices=choices,
                    key=self.key,
                )

        return self.run(go())

    def proposals(self, n: int) -> list[int]:
        """Write ``n`` proposals through the form (as the organiser, for a workshop)."""
        self.as_organiser()
        ids = []
        for i in range(n):
            response = self.post(
                "/council/proposals",
                {
                    "title": f"Voorstel {i + 1}",
                    "problem": "Te weinig groen",
                    "text": f"Plant {10 * (i + 1)} bomen",
                    "who_acts": "De gemeente",
                    "cost": "€ 10.000",
                },
                "/council/proposals",
            )
            assert response.status_code == 303, response.text
            ids.append(int(response.headers["location"].rsplit("/", 1)[1]))
        return ids

    def council_vote(self, proposal_ids: list[int], title: str = "Burgerraad 1") -> int:
        self.as_organiser()
        response = self.post(
            "/council/votes", {"title": title, "proposals": proposal_ids}, "/council"
        )
        assert response.status_code == 303, response.text
        return int(response.headers["location"].split("/")[3])


@pytest.fixture
def council(demo_client: Any) -> Council:
    client, info = demo_client
    return Council(client, info)


def receipts_on(page: str) -> list[str]:
    return re.findall(r"<code data-receipt>([A-Z0-9-]+)</code>", page)


def test_a_member_changes_their_vote_and_only_the_latest_counts(council: Council) -> None:
    client = council.client
    p1, p2 = council.proposals(2)
    vote = council.council_vote([p1, p2])
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    members = council.participants()
    first, second = members[0], members[1]

    council.as_participant(first)
    page = client.get(f"/council/votes/{vote}")
    assert page.status_code == 200
    assert "25" in page.text and "48" in page.text  # the rule: 48 members, 25 needed
    token = csrf_of(page.text)
    cast = client.post(
        f"/council/votes/{vote}/ballot",
        data={f"choice-{p1}": "for", f"choice-{p2}": "against", "csrf_token": token},
    )
    assert cast.status_code == 303
    first_receipts = receipts_on(client.get(f"/council/votes/{vote}").text)
    assert len(first_receipts) == 2
    # Results stay hidden while the vote is open, for everyone.
    assert client.get(f"/council/votes/{vote}/result.json").status_code == 409
    hidden = client.get(f"/council/votes/{vote}/result")
    assert "data-results-hidden" in hidden.text and "data-for" not in hidden.text

    # The member changes their mind on p1: the earlier ballot is superseded, not added to.
    changed = client.post(
        f"/council/votes/{vote}/ballot",
        data={f"choice-{p1}": "against", "csrf_token": token},
    )
    assert changed.status_code == 303
    latest = receipts_on(client.get(f"/council/votes/{vote}").text)
    assert len(latest) == 2 and latest[1] == first_receipts[1] and latest[0] != first_receipts[0]
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 3
    assert council.count(Ballot, Ballot.superseded.is_(True)) == 1
    assert council.count(VoterParticipation, VoterParticipation.council_vote_id == vote) == 1

    council.as_participant(second)
    token = council.csrf(f"/council/votes/{vote}")
    client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "abstain", "csrf_token": token}
    )
    # 25 more members vote for p2 (through the use case, as the app would).
    for pid in members[2:27]:
        council.cast(vote, pid, {p2: "for"})

    council.as_organiser()
    closed = council.post(f"/council/votes/{vote}/close", {}, f"/council/votes/{vote}/manage")
    assert closed.status_code == 303
    result = client.get(f"/council/votes/{vote}/result.json").json()
    rows = {row["proposal"]: row for row in result["proposals"]}
    assert result["members"] == 48 and result["threshold"] == 25
    assert (rows[p1]["for"], rows[p1]["against"], rows[p1]["abstain"]) == (0, 1, 1)
    assert (rows[p2]["for"], rows[p2]["against"], rows[p2]["abstain"]) == (25, 1, 0)
    assert rows[p2]["adopted"] and not rows[p1]["adopted"]
    assert result["voters"] == 27 and result["ballots_superseded"] == 1
    published = {r["receipt"]: (r["proposal"], r["choice"]) for r in result["receipts"]}
    assert len(published) == result["ballots_counted"] == 28
    assert published[latest[0]] == (p1, "against")
    assert published[latest[1]] == (p2, "against")
    assert first_receipts[0] not in published  # the superseded ballot is not counted
    checked = client.get(f"/council/votes/{vote}/result?receipt={latest[0].lower()}").text
    assert 'data-check="counted"' in checked
    assert (
        'data-check="missing"'
        in client.get(f"/council/votes/{vote}/result?receipt={first_receipts[0]}").text
    )

    # The log holds counts and hashes, never a receipt or who voted what.
    blob = str(client.get("/audit.json?limit=1000").json())
    assert not [r for r in published if r in blob]
    close = council.audit("council.close")[-1]
    assert close["receipts_sha256"] == result["receipts_sha256"]
    results = {int(e["subject"].split(":")[1]): e for e in council.audit("council.result")}
    assert results[p2]["adopted"] and results[p2]["for"] == 25


def check_deadline_and_secret(council: Council) -> None:
    """A deadline closes the window; a server whose secret changed refuses ballots."""
    import datetime as dt

    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    pid = council.participants()[0]

    async def cast_at(now: dt.datetime, key: bytes) -> Any:
        async with council.client.db.session() as session:
            row = await uc.get_council_vote(session, council.summit_id, vote)
            row.closes_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        async with council.client.db.session() as session:
            return await uc.cast_ballots(
                session,
                summit_id=council.summit_id,
                vote_id=vote,
                participant_id=pid,
                choices={p1: "for"},
                key=key,
                now=now,
            )

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with pytest.raises(uc.VotingClosed, match="deadline"):
        council.run(cast_at(later, council.key))
    with pytest.raises(uc.VotingError, match="secret changed"):
        council.run(cast_at(dt.datetime.now(dt.UTC), receipt_key("another secret of the server")))
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 0


def test_refusals_count_nothing_twice(council: Council) -> None:
    client = council.client
    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    members = council.participants()
    council.as_participant(members[0])
    token = council.csrf(f"/council/votes/{vote}")
    early = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "for", "csrf_token": token}
    )
    assert early.status_code == 409 and "not opened" in early.text

    council.as_organiser()
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    # A participant added after the vote opened is not a member.
    newcomer = council.run(_add_participant(council))
    council.as_participant(newcomer)
    token = council.csrf(f"/council/votes/{vote}")
    outsider = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "for", "csrf_token": token}
    )
    assert outsider.status_code == 403 and "not a member" in outsider.text

    council.as_participant(members[0])
    token = council.csrf(f"/council/votes/{vote}")
    bad_choice = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "maybe", "csrf_token": token}
    )
    assert bad_choice.status_code == 400 and "for, against or abstain" in bad_choice.text
    unknown = client.post(
        f"/council/votes/{vote}/ballot", data={"choice-99999": "for", "csrf_token": token}
    )
    assert unknown.status_code == 400 and "not on this vote" in unknown.text
    assert (
        client.post(
            "/council/votes/99999/ballot", data={f"choice-{p1}": "for", "csrf_token": token}
        ).status_code
        == 404
    )
    ok = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "for", "csrf_token": token}
    )
    assert ok.status_code == 303
    # Sending the same ballot again stores nothing new.
    client.post(f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "for", "csrf_token": token})
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1

    # A revoked link ends the session: the ballot is refused and nothing is stored.
    council.run(_revoke(council, members[0]))
    revoked = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "against", "csrf_token": token}
    )
    assert revoked.status_code == 401
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1

    council.as_organiser()
    council.post(f"/council/votes/{vote}/close", {}, "/council")
    council.as_participant(members[1])
    token = council.csrf(f"/council/votes/{vote}")
    late = client.post(
        f"/council/votes/{vote}/ballot", data={f"choice-{p1}": "for", "csrf_token": token}
    )
    assert late.status_code == 409 and "closed" in late.text
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1
    council.as_organiser()
    again = council.post(f"/council/votes/{vote}/close", {}, "/council")
    assert again.status_code == 400
    check_deadline_and_secret(council)


async def _add_participant(council: Council) -> int:
    async with council.client.db.session() as session:
        summit = await repository.get_summit(session, council.summit_id)
        participant, _token = await repository.add_participant(
            session, summit, actor="test", role="resident", first_name="Late"
        )
        return participant.id


async def _revoke(council: Council, pid: int) -> None:
    async with council.client.db.session() as session:
        participant = await session.get(Participant, pid)
        await repository.revoke_links(session, participant, actor="test")


def test_ballots_cannot_be_joined_back_to_voters(council: Council) -> None:
    p1, p2 = council.proposals(2)
    vote = council.council_vote([p1, p2])
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    members = council.participants()[:12]
    for i, pid in enumerate(members):
        council.cast(vote, pid, {p1: "for" if i % 2 else "against", p2: "abstain"})

    async def schema() -> tuple[set[str], list[Any], list[tuple[int, str]]]:
        async with council.client.db.engine.connect() as conn:
            columns, fks = await conn.run_sync(
                lambda c: (
                    {col["name"] for col in inspect(c).get_columns("ballots")},
                    inspect(c).get_foreign_keys("ballots"),
                )
            )
        async with council.client.db.session() as session:
            rows = (
                await session.execute(
                    select(Ballot.id, Ballot.receipt).where(Ballot.council_vote_id == vote)
                )
            ).all()
        return columns, fks, [(int(i), str(r)) for i, r in rows]

    columns, fks, rows = council.run(schema())
    assert columns == {"id", "council_vote_id", "proposal_id", "choice", "receipt", "superseded"}
    assert {fk["referred_table"] for fk in fks} == {"council_votes", "proposals"}
    receipts = {r for _i, r in rows}
    # With the server's key the receipts can be recomputed (that is how re-votes are found)...
    with_key = {
        code
        for pid in members
        for proposal in (p1, p2)
        for code in receipt_versions(council.key, vote, pid, proposal)[:1]
    }
    assert receipts == with_key
    # ...without it (a database dump alone) no guess of (participant, proposal) gives a receipt.
    wrong = receipt_key("somebody guessing the secret key")
    guesses = {
        code
        for pid in members
        for proposal in (p1, p2)
        for code in receipt_versions(wrong, vote, pid, proposal)
    }
    assert not receipts & guesses
    # Nothing in a receipt is the participant's id or pseudonym.
    assert not any(str(pid) in r.replace("-", "") for r in receipts for pid in members if pid > 9)
    # Ballot ids are random, so their order does not follow the order of voting.
    ids = [i for i, _r in sorted(rows, key=lambda row: row[0])]
    assert sorted(ids) != list(range(min(ids), min(ids) + len(ids)))


async def _seat_table(council: Council) -> tuple[int, int, list[int]]:
    """The first venue table of the current round: (number, host id, seated ids)."""
    async with council.client.db.session() as session:
        rnd = await repository.current_round(session, council.summit_id)
        assert rnd is not None
        table = await session.scalar(
            select(SummitTable)
            .join(Seat, Seat.table_id == SummitTable.id)
            .where(Seat.round_id == rnd.id, Seat.is_host, SummitTable.kind == "venue")
            .order_by(SummitTable.number)
            .limit(1)
        )
        seats = list(
            (
                await session.execute(
                    select(Seat).where(Seat.round_id == rnd.id, Seat.table_id == table.id)
                )
            ).scalars()
        )
        host = next(s.participant_id for s in seats if s.is_host)
        return table.number, host, [s.participant_id for s in seats]


def test_dot_voting_table_tally_shortlist_and_tie_break(council: Council) -> None:
    client = council.client
    council.as_organiser()
    for label in ("Fietsen", "Wonen", "Groen", "Jongeren"):
        assert council.post("/council/themes", {"label": label}, "/council").status_code == 303
    created = council.post(
        "/council/priorities",
        {
            "title": "Agenda",
            "item_kind": "theme",
            "stage": "agenda",
            "votes_per_participant": "3",
            "shortlist_size": "2",
            "seed": "dobbelsteen-4-2-6",
        },
        "/council",
    )
    assert created.status_code == 303
    vote = int(created.headers["location"].rsplit("/", 1)[1])
    themes = council.run(_themes(council))
    keys = {label: f"theme:{tid}" for tid, label in themes}
    council.post(f"/council/priorities/{vote}/open", {}, f"/council/priorities/{vote}")

    table, host, seated = council.run(_seat_table(council))
    online = [p for p in council.participants() if p not in seated][:3]
    # One person at the table votes online before the host enters the table's paper tally.
    early = seated[0] if seated[0] != host else seated[1]
    for pid, dots in zip(
        [*online, early],
        [
            {"Fietsen": 2, "Wonen": 1},
            {"Wonen": 3},
            {"Groen": 1, "Jongeren": 1},
            {"Fietsen": 1},
        ],
        strict=True,
    ):
        council.as_participant(pid)
        page = f"/council/priorities/{vote}/vote"
        token = council.csrf(page)
        response = client.post(
            page, data={"csrf_token": token, **{f"dots-{keys[k]}": v for k, v in dots.items()}}
        )
        assert response.status_code == 200 and 'role="status"' in response.text
    # Over the budget: refused, nothing stored; a new submission replaces the old one.
    token = council.csrf(f"/council/priorities/{vote}/vote")
    over = client.post(
        f"/council/priorities/{vote}/vote",
        data={"csrf_token": token, f"dots-{keys['Groen']}": "2", f"dots-{keys['Wonen']}": "2"},
    )
    assert over.status_code == 400 and "only 3 to distribute" in over.text
    client.post(
        f"/council/priorities/{vote}/vote",
        data={"csrf_token": token, f"dots-{keys['Fietsen']}": "1"},
    )

    council.as_participant(host)
    page = client.get(f"/council/priorities/{vote}/vote").text
    assert 'id="tally"' in page
    paper = len(seated) - 1
    too_many = client.post(
        f"/council/priorities/{vote}/tally",
        data={"csrf_token": csrf_of(page), "table": str(table), f"dots-{keys['Groen']}": "99"},
    )
    assert too_many.status_code == 400
    tallied = client.post(
        f"/council/priorities/{vote}/tally",
        data={
            "csrf_token": csrf_of(page),
            "table": str(table),
            f"dots-{keys['Groen']}": str(paper),
            f"dots-{keys['Jongeren']}": str(paper + 1),
        },
    )
    assert tallied.status_code == 303
    # Someone at that table can no longer vote online: the paper tally counts them.
    other = next(p for p in seated if p not in (host, early))
    council.as_participant(other)
    token = council.csrf(f"/council/priorities/{vote}/vote")
    refused = client.post(
        f"/council/priorities/{vote}/vote",
        data={"csrf_token": token, f"dots-{keys['Wonen']}": "1"},
    )
    assert refused.status_code == 400 and f"table {table}" in refused.text

    totals = client.get(f"/council/priorities/{vote}/totals.json").json()
    by_label = {item["label"]: item["votes"] for item in totals["items"]}
    assert by_label == {
        "Fietsen": 3,
        "Wonen": 4,
        "Groen": 1 + paper,
        "Jongeren": 1 + paper + 1,
    }
    assert totals["voters"] == {"online": 4, "paper": paper}

    council.as_organiser()
    closed = council.post(f"/council/priorities/{vote}/close", {}, f"/council/priorities/{vote}")
    assert closed.status_code == 303
    shortlist = council.run(_shortlist(council))
    ranked = sorted(by_label.items(), key=lambda kv: -kv[1])
    assert [t for t, _v in shortlist] == [keys[label] for label, _v in ranked[:2]] or len(
        {v for _l, v in ranked[:3]}
    ) < 3
    assert [v for _t, v in shortlist] == sorted(by_label.values(), reverse=True)[:2]
    log = council.audit("shortlist.create")[-1]
    assert log["seed"] == "dobbelsteen-4-2-6" and log["shortlist"] == [t for t, _v in shortlist]
    assert council.audit("priority.tally")[-1]["table"] == table
    result = client.get(f"/council/priorities/{vote}/result").text
    assert "dobbelsteen-4-2-6" in result


def test_a_tie_at_the_cut_is_broken_by_the_public_seed_and_logged(council: Council) -> None:
    council.as_organiser()
    for label in ("A", "B", "C"):
        council.post("/council/themes", {"label": label}, "/council")
    created = council.post(
        "/council/priorities",
        {"title": "Tie", "votes_per_participant": "1", "shortlist_size": "1", "seed": "s33d"},
        "/council",
    )
    vote = int(created.headers["location"].rsplit("/", 1)[1])
    council.post(f"/council/priorities/{vote}/open", {}, "/council")
    themes = council.run(_themes(council))
    pids = council.participants()
    for pid, (tid, _label) in zip(pids, themes, strict=False):
        council.as_participant(pid)
        token = council.csrf(f"/council/priorities/{vote}/vote")
        council.client.post(
            f"/council/priorities/{vote}/vote", data={"csrf_token": token, f"dots-theme:{tid}": "1"}
        )
    council.as_organiser()
    council.post(f"/council/priorities/{vote}/close", {}, "/council")
    expected = min(
        (f"theme:{tid}" for tid, _l in themes),
        key=lambda key: hashlib.sha256(f"s33d:{key}".encode()).hexdigest(),
    )
    assert [t for t, _v in council.run(_shortlist(council))] == [expected]
    tie = council.audit("priority.tie_break")[-1]
    assert tie["crosses_cut"] and tie["order"][0] == expected and tie["votes"] == 1


async def _themes(council: Council) -> list[tuple[int, str]]:
    async with council.client.db.session() as session:
        rows = (
            await session.execute(
                select(Theme.id, Theme.label)
                .where(Theme.summit_id == council.summit_id)
                .order_by(Theme.id)
            )
        ).all()
        return [(int(i), str(label)) for i, label in rows]


async def _shortlist(council: Council) -> list[tuple[str, int]]:
    async with council.client.db.session() as session:
        rows = (
            await session.execute(
                select(ShortlistItem)
                .where(ShortlistItem.summit_id == council.summit_id)
                .order_by(ShortlistItem.rank)
            )
        ).scalars()
        return [(f"theme:{r.theme_id}", r.votes) for r in rows]


def test_the_burgerbesluit_is_published_hashed_and_signed_by_members(
    council: Council, tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from summit.cli import main

    client = council.client
    p1, p2 = council.proposals(2)
    vote = council.council_vote([p1, p2])
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    env = {"SUMMIT_DATABASE_URL": client.db.url, "SUMMIT_DATA_DIR": str(tmp_path)}
    hidden = CliRunner().invoke(main, ["council", "results", str(vote)], env=env)
    assert hidden.exit_code == 1 and "hidden until the vote closes" in hidden.output
    members = council.participants()
    for pid in members[:25]:
        council.cast(vote, pid, {p1: "for", p2: "against"})
    council.as_organiser()
    council.post(f"/council/votes/{vote}/close", {}, "/council")
    decision = client.get(f"/council/votes/{vote}/result.json").json()["decision"]
    document = client.get(f"/council/decisions/{decision}/document.html")
    digest = hashlib.sha256(document.content).hexdigest()
    assert document.headers["x-content-sha256"] == digest
    page = client.get(f"/council/decisions/{decision}").text
    assert digest in page and "Voorstel 1" in page
    text = document.text
    assert text.index("Voorstel 1") < text.index("Voorstel 2")  # adopted first, rejected listed
    assert "Plant 10 bomen" in text and "Plant 20 bomen" not in text
    assert council.audit("decision.publish")[-1]["document_sha256"] == digest
    printed = CliRunner().invoke(main, ["council", "results", str(vote)], env=env)
    assert printed.exit_code == 0, printed.output
    assert [p["for"] for p in json.loads(printed.output)["proposals"]] == [25, 0]
    shown = CliRunner().invoke(main, ["council", "display-link", "--label", "Zaal"], env=env)
    assert shown.exit_code == 0 and "/display/" in shown.output

    council.as_participant(members[0])
    page = client.get(f"/council/decisions/{decision}").text
    forged = client.post(
        f"/council/decisions/{decision}/sign",
        data={"csrf_token": csrf_of(page), "confirm": "yes", "document_sha256": "0" * 64},
    )
    assert forged.status_code == 400
    signed = client.post(
        f"/council/decisions/{decision}/sign",
        data={"csrf_token": csrf_of(page), "confirm": "yes", "document_sha256": digest},
    )
    assert signed.status_code == 303
    twice = client.post(
        f"/council/decisions/{decision}/sign",
        data={"csrf_token": csrf_of(page), "confirm": "yes", "document_sha256": digest},
    )
    assert twice.status_code == 400 and "already signed" in twice.text
    listing = client.get(f"/council/decisions/{decision}/signatures.json").json()
    assert listing["document_sha256"] == digest and listing["members"] == 48
    assert len(listing["signatures"]) == 1 and listing["signatures"][0]["pseudonym"].startswith(
        "P-"
    )
    entry = council.audit("decision.sign")[-1]
    assert entry["actor"] == listing["signatures"][0]["pseudonym"] and entry["signatures"] == 1
    pdf = client.get(f"/council/decisions/{decision}/document.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def check_pages_for_each_role(council: Council) -> None:
    client = council.client
    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    for path in (
        "/council",
        f"/council/votes/{vote}/manage",
        "/council/plenary",
        "/council/proposals",
    ):
        assert client.get(path).status_code == 200, path
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    assert client.get("/council/plenary/state.json").json()["council"]["members"] == 48
    council.as_participant(council.participants()[3])
    assert client.get("/council/mine").status_code == 200
    assert client.get("/council", headers={"accept": "text/html"}).status_code == 403
    revise = council.post(
        f"/council/proposals/{p1}/versions", {"title": "x", "text": "y"}, "/council/mine"
    )
    assert revise.status_code == 403  # not a table host
    client.cookies.clear()
    assert client.get(f"/council/proposals/{p1}").status_code == 200
    assert client.get(f"/council/votes/{vote}", headers={"accept": "text/html"}).status_code == 401


def test_the_plenary_display_link_works_without_login_until_revoked(council: Council) -> None:
    client = council.client
    council.as_organiser()
    issued = council.post("/council/display-links", {"label": "Zaal A"}, "/council")
    url = re.search(r'value="http://testserver(/display/[^"]+)"', issued.text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    screen = client.get(url)
    assert screen.status_code == 200 and "data-plenary" in screen.text
    assert client.get(url + "/state.json").json() == {"priority": None, "council": None}
    themes = client.get(url + "/themes.json").json()
    assert themes["ideas"] == client.get("/plenary.json").json()["ideas"] > 0
    with client.websocket_connect(url + "/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        bus = client.app.state.bus  # type: ignore[attr-defined]
        client.run(bus.publish(f"summit:{council.summit_id}", {"type": "broadcast"}))
        client.run(bus.publish(f"display:{council.summit_id}", {"type": "council.turnout"}))
        assert ws.receive_json()["type"] == "council.turnout"  # other events are not forwarded
    council.as_organiser()
    page = client.get("/council").text
    link_id = re.search(r"/council/display-links/(\d+)/revoke", page).group(1)  # type: ignore[union-attr]
    council.post(f"/council/display-links/{link_id}/revoke", {}, "/council")
    client.cookies.clear()
    gone = client.get(url + "?lang=en")
    assert gone.status_code == 404 and "has been revoked" in gone.text
    assert client.get(url + "/state.json").status_code == 404
    assert client.get(url + "/themes.json").status_code == 404
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url + "/ws") as ws:
        ws.receive_json()
    assert refused.value.code == 4404
    check_pages_for_each_role(council)
