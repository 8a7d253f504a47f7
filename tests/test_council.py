"""Prioritisation, proposals and the Burgerraad through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.models import Participant, Seat, SummitTable
from summit.council import ballot
from summit.council import service as uc
from summit.council.models import Ballot, ShortlistItem
from summit.council.rules.credentials import (
    PublicKey,
    PublishedBallot,
    VotingKey,
    ballot_commitment,
    recount,
)
from summit.council.rules.voting import receipt_key
from summit.ideas.models import Theme
from tests.support.council import Council, Member
from tests.support.forms import parse
from tests.support.http import csrf_of
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)


def test_a_member_changes_their_vote_and_only_the_latest_counts(council: Council) -> None:
    client = council.client
    p1, p2 = council.proposals(2)
    vote = council.council_vote([p1, p2])
    members = council.participants()
    first, second = council.member(members[0], vote), council.member(members[1], vote)
    # Before the vote opens, the members' browsers ask for their keys: they wait for the batch.
    assert first.ask().json() == {"status": "pending", "blind_signature": ""}
    assert second.ask().json()["status"] == "pending"
    council.as_organiser()
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    assert council.audit("council.open")[-1]["keys_signed"] == 2
    assert first.ask().json()["status"] == "signed" and first.key and first.key.signature
    assert "25" in first.page() and "48" in first.page()  # the rule: 48 members, 25 needed

    cast = first.cast({p1: "for", p2: "against"})
    assert cast.status_code == 200, cast.text
    first_receipts = cast.json()["receipts"]
    assert set(first_receipts) == {str(p1), str(p2)}
    # Results stay hidden while the vote is open, for everyone.
    assert client.get(f"/council/votes/{vote}/result.json").status_code == 409
    hidden = client.get(f"/council/votes/{vote}/result")
    assert "data-results-hidden" in hidden.text and "data-for" not in hidden.text

    # The member changes their mind on p1: the earlier ballot is superseded, not added to.
    changed = first.cast({p1: "against"}).json()
    assert changed["versions"] == {str(p1): 2}
    assert changed["receipts"][str(p1)] != first_receipts[str(p1)]
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 3
    assert council.count(Ballot, Ballot.superseded.is_(True), Ballot.council_vote_id == vote) == 1
    # Every change is logged, without a name or a choice: a hash the published list opens.
    changes = [e for e in council.audit("council.ballot") if e["vote"] == vote]
    assert len(changes) == 2 and {e["actor"] for e in changes} == {"anonymous"}

    assert second.ask().json()["status"] == "signed"
    assert second.cast({p1: "abstain"}).status_code == 200
    # 25 more members vote for p2 (through the use cases, as the app would).
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
    assert published[changed["receipts"][str(p1)]] == (p1, "against")
    assert published[first_receipts[str(p2)]] == (p2, "against")
    assert first_receipts[str(p1)] not in published  # the superseded ballot is not counted
    checked = client.get(f"/council/votes/{vote}/result?receipt={first_receipts[str(p2)].lower()}")
    assert 'data-check="counted"' in checked.text
    missing = client.get(f"/council/votes/{vote}/result?receipt={first_receipts[str(p1)]}")
    assert 'data-check="missing"' in missing.text
    check_the_public_recount(council, vote, result, changes)


def check_the_public_recount(
    council: Council, vote: int, result: dict[str, Any], changes: list[dict[str, Any]]
) -> None:
    """Anyone recounts from result.json: every key's signature checks out under the published
    ballot key, every receipt follows from its key, and the latest version per key counts. The
    hashes logged while the vote was open open to the published ballots."""
    key = PublicKey(int(result["ballot_key"]["n"], 16), result["ballot_key"]["e"])
    keys = {k["credential"]: int(k["signature"], 16) for k in result["voting_keys"]}
    ballots = [
        PublishedBallot(b["receipt"], b["credential"], b["proposal"], b["version"], b["choice"])
        for b in result["ballots"]
    ]
    assert len(keys) == result["voters"] <= result["keys_signed"]  # no key minted on the side
    counts = recount(key, vote, keys, ballots)
    for row in result["proposals"]:
        expected = {"for": row["for"], "against": row["against"], "abstain": row["abstain"]}
        assert counts.get(row["proposal"], dict.fromkeys(expected, 0)) == expected
    logged = {c for e in council.audit("council.ballot") for _p, _v, c in e["ballots"]}
    opened = {ballot_commitment(b.receipt, b.proposal, b.version, b.choice) for b in ballots}
    assert opened <= logged and changes
    # The log kept no receipt, choice or name while the vote was open.
    blob = json.dumps(changes)
    assert not [b for b in ballots if b.receipt in blob or b.credential in blob]
    # A forged ballot (a key the vote never signed) does not recount.
    forged = VotingKey.new(key, vote)
    with pytest.raises(uc.VotingError, match="does not check out"):
        recount(key, vote, {**keys, forged.credential: 12345}, ballots)


def check_deadline_and_secret(council: Council) -> None:
    """A deadline closes the window; a server whose secret changed cannot sign voting keys."""
    import datetime as dt

    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    member = council.member(council.participants()[0], vote)
    assert member.ask().json()["status"] == "pending"
    council.as_organiser()
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    assert member.ask().json()["status"] == "signed"

    async def late() -> Any:
        async with council.client.db.session() as session:
            row = await uc.get_council_vote(session, council.summit_id, vote)
            row.closes_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        async with council.client.db.session() as session:
            assert member.key is not None and member.key.signature is not None
            return await ballot.cast(
                session,
                summit_id=council.summit_id,
                vote_id=vote,
                secret=member.key.secret,
                signature=format(member.key.signature, "x"),
                choices={p1: "for"},
                now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
            )

    with pytest.raises(uc.VotingClosed, match="deadline"):
        council.run(late())
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 0
    with pytest.raises(uc.VotingError, match="secret changed"):
        council.cast(vote, council.participants()[1], {p1: "for"}, key=receipt_key("x" * 40))


def test_refusals_count_nothing_twice(council: Council) -> None:
    client = council.client
    (p1,) = council.proposals(1)
    vote = council.council_vote([p1])
    members = council.participants()
    member = council.member(members[0], vote)
    member.ask()
    member.key.signature = 99  # type: ignore[union-attr]  # no key is signed before opening
    early = member.cast({p1: "for"})
    assert early.status_code == 409 and "nog niet geopend" in early.text

    council.as_organiser()
    council.post(f"/council/votes/{vote}/open", {}, "/council")
    # A participant added after the vote opened is not a member: no voting key for them.
    newcomer = council.member(council.run(_add_participant(council)), vote)
    outsider = newcomer.ask()
    assert outsider.status_code == 403 and "je bent geen lid van deze stemming" in outsider.text
    assert "data-ballot " not in newcomer.page()  # no ballot box for a non-member

    late = check_late_keys_come_in_batches(council, vote, members)
    voter = late[0]
    bad_choice = voter.cast({p1: "maybe"})
    assert bad_choice.status_code == 400 and "voor, tegen of onthouding" in bad_choice.text
    unknown = voter.cast({99999: "for"})
    assert unknown.status_code == 400 and "staat niet op deze stemming" in unknown.text
    voter.vote = 99999
    assert voter.cast({p1: "for"}).status_code == 404
    voter.vote = vote
    forged = council.member(members[0], vote)
    forged.key = VotingKey.new(late[4].key.key, vote)  # type: ignore[union-attr]
    forged.key.signature = late[4].key.signature  # type: ignore[union-attr]
    stolen = forged.cast({p1: "for"})
    assert stolen.status_code == 403 and "niet voor deze stemming uitgegeven" in stolen.text
    # A ballot sent with a session is refused: no ballot is ever tied to a login.
    council.as_participant(members[1])
    with_session = client.post(
        f"/council/votes/{vote}/ballot",
        json={"secret": "0" * 64, "signature": "1", "choices": {str(p1): "for"}},
        headers={"accept": "application/json"},
    )
    assert with_session.status_code == 400 and "zonder je sessie" in with_session.text
    assert voter.cast({p1: "for"}).status_code == 200
    # Sending the same ballot again stores nothing new.
    assert voter.cast({p1: "for"}).json()["versions"] == {str(p1): 1}
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1

    check_a_revoked_link_gets_no_key(council, vote, members[7])
    council.as_organiser()
    council.post(f"/council/votes/{vote}/close", {}, "/council")
    after = voter.cast({p1: "against"})
    assert after.status_code == 409 and "gesloten" in after.text
    assert council.count(Ballot, Ballot.council_vote_id == vote) == 1
    council.as_organiser()
    again_close = council.post(f"/council/votes/{vote}/close", {}, "/council")
    assert again_close.status_code == 400
    check_deadline_and_secret(council)


def check_late_keys_come_in_batches(
    council: Council, vote: int, members: list[int]
) -> list[Member]:
    """Members who ask after the vote opened wait for a batch of five; one key per member."""
    late = [council.member(pid, vote) for pid in members[1:6]]
    assert [m.ask().json()["status"] for m in late[:4]] == ["pending"] * 4
    assert late[4].ask().json()["status"] == "signed"
    assert late[0].ask().json()["status"] == "signed"
    batches = [e for e in council.audit("council.keys") if e["vote"] == vote]
    assert [e["keys"] for e in batches] == [1, 5] and "P-" not in json.dumps(batches)
    # Another blinded value is refused (the same one answers the same).
    taken = council.member(members[1], vote).ask()
    assert taken.status_code == 409 and "je hebt al een stemsleutel" in taken.text
    return late


def check_a_revoked_link_gets_no_key(council: Council, vote: int, pid: int) -> None:
    """A revoked link ends the session: no key is handed out and nothing is stored."""
    revoked = council.member(pid, vote)
    found = re.search(r'data-csrf="([^"]+)"', revoked.page())
    assert found
    revoked.csrf = found.group(1)
    council.run(_revoke(council, pid))
    assert revoked.ask(reopen=False).status_code == 401


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


async def _seat_table(council: Council, kind: str = "venue") -> tuple[int, int, list[int]]:
    """The first hosted table of this kind in the current round: (number, host, seated ids)."""
    async with council.client.db.session() as session:
        rnd = await repository.current_round(session, council.summit_id)
        assert rnd is not None
        table = await session.scalar(
            select(SummitTable)
            .join(Seat, Seat.table_id == SummitTable.id)
            .where(Seat.round_id == rnd.id, Seat.is_host, SummitTable.kind == kind)
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


def test_me_shows_an_open_vote_first_and_drops_it_when_closed(council: Council) -> None:
    client = council.client
    council.as_organiser()
    assert council.post("/council/themes", {"label": "Fietsen"}, "/council").status_code == 303
    created = council.post(
        "/council/priorities",
        {"title": "Wat eerst?", "votes_per_participant": "3", "shortlist_size": "1"},
        "/council",
    )
    assert created.status_code == 303
    vote = int(created.headers["location"].rsplit("/", 1)[1])
    person = council.participants()[0]
    council.as_participant(person)
    link = f'href="/council/priorities/{vote}/vote"'
    assert link not in client.get("/me?lang=en").text  # planned: nothing to do yet
    council.as_organiser()
    council.post(f"/council/priorities/{vote}/open", {}, f"/council/priorities/{vote}")
    council.as_participant(person)
    page = client.get("/me?lang=en").text
    assert "data-calls-to-action" in page
    assert page.index("data-calls-to-action") < page.index('id="table-title"')
    assert link in page and "Wat eerst?" in page
    assert page.index(link) < page.index('id="table-title"')
    council.as_organiser()
    council.post(f"/council/priorities/{vote}/close", {}, f"/council/priorities/{vote}")
    council.as_participant(person)
    assert link not in client.get("/me?lang=en").text


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
    assert over.status_code == 400 and "maar 3 te verdelen" in over.text
    # the refused form comes back with what was typed and the message by the votes left
    action = f"/council/priorities/{vote}/vote"
    form = next(f for f in parse(over.text).forms if f.action == action)
    kept = [form.named(f"dots-{keys[k]}")[0].value for k in ("Groen", "Wonen", "Fietsen")]
    assert kept == ["2", "2", "1"]  # a field not sent shows the vote saved before
    assert 'class="error-summary"' in over.text and 'id="dots-error"' in over.text
    # too many on one item: that item's field is marked and described
    over = client.post(action, data={"csrf_token": token, f"dots-{keys['Wonen']}": "4"})
    assert over.status_code == 400
    form = next(f for f in parse(over.text).forms if f.action == action)
    wonen = form.named(f"dots-{keys['Wonen']}")[0]
    assert wonen.value == "4" and wonen.attrs.get("aria-invalid") == "true"
    assert wonen.attrs["aria-describedby"] == f"{wonen.attrs['id']}-error"
    client.post(
        f"/council/priorities/{vote}/vote",
        data={"csrf_token": token, f"dots-{keys['Fietsen']}": "1"},
    )

    # An online table's host is not offered a paper tally, and one sent anyway is refused.
    online_table, online_host, _people = council.run(_seat_table(council, "online"))
    council.as_participant(online_host)
    page = client.get(f"/council/priorities/{vote}/vote").text
    assert 'id="tally"' not in page and "#tally" not in client.get("/council/mine").text
    refused_online = client.post(
        f"/council/priorities/{vote}/tally",
        data={"csrf_token": csrf_of(page), "table": str(online_table), "voters": "0"},
    )
    assert refused_online.status_code == 400 and "online" in refused_online.text

    council.as_participant(host)
    page = client.get(f"/council/priorities/{vote}/vote").text
    assert 'id="tally"' in page and "#tally" in client.get("/council/mine").text
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
    assert refused.status_code == 400 and f"tafel {table}" in refused.text

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
    # The document carries the audit head it was drawn up at: an entry the public log still holds.
    printed_head = re.search(r'class="audit-head">([0-9a-f]{64})<', text)
    assert printed_head is not None
    assert council.audit("decision.publish")[-1]["audit_head"] == printed_head.group(1)
    log = client.get("/audit.json?limit=1000").json()["entries"]
    assert printed_head.group(1) in {e["entry_hash"] for e in log}
    printed = CliRunner().invoke(main, ["council", "results", str(vote)], env=env)
    assert printed.exit_code == 0, printed.output
    assert [p["for"] for p in json.loads(printed.output)["proposals"]] == [25, 0]
    shown = CliRunner().invoke(main, ["council", "display-link", "--label", "Zaal"], env=env)
    assert shown.exit_code == 0 and "/display/" in shown.output

    council.as_participant(members[0])
    page = client.get(f"/council/decisions/{decision}").text
    # the box not ticked: the decision's page again, the message by the box
    unticked = client.post(
        f"/council/decisions/{decision}/sign",
        data={
            "csrf_token": csrf_of(page),
            "document_sha256": digest,
            "form_page": f"/council/decisions/{decision}",
        },
    )
    assert unticked.status_code == 400 and 'class="error-summary"' in unticked.text
    box = re.search(r'<input type="checkbox" id="sign-confirm"[^>]*>', unticked.text)
    assert box and 'aria-invalid="true"' in box.group(0), unticked.text[:2000]
    assert 'id="sign-confirm-error"' in unticked.text and "data-document-hash" in unticked.text
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
    assert twice.status_code == 400 and "je hebt dit Burgerbesluit al ondertekend" in twice.text
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
    state = client.get(url + "/state.json").json()
    assert set(state) == {"priority", "council"}  # the demo's latest vote, if it has one
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
