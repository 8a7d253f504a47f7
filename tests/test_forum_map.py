"""The opinion map's wiring: statements (key points, accepted reactions), agree/disagree/pass
votes with their refusals, the live map that takes each vote in at once and equals a fresh build
of the same votes, the SVG and bars, the consensus next to each proposal, and the exports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from summit.core.models import Summit
from summit.forum import opinion
from summit.forum.models import Reactor, Statement, StatementVote
from summit.forum.rules.opinion_map import Vote, build_map
from tests.support.forum import World


def key_point(world: World, proposal: int, text: str) -> Any:
    world.staff("organiser")
    return world.post("/forum/manage/statements", {"proposal": proposal, "statement": text})


def statement_ids(world: World) -> list[int]:
    async def go() -> list[int]:
        async with world.client.db.session() as session:
            rows = await session.execute(select(Statement.id).order_by(Statement.id))
            return list(rows.scalars())

    return list(world.run(go()))


@pytest.mark.parametrize(
    ("proposal", "text", "message"),
    [
        (None, "", "Write the key point as one short sentence"),
        (None, "x" * 501, "Keep a statement under 500 characters"),
        (999, "Een stelling", "not on the forum"),
    ],
)
def test_bad_key_points_are_refused(world: World, proposal: Any, text: str, message: str) -> None:
    response = key_point(world, proposal or world.proposals[0], text)
    assert response.status_code in {400, 404} and message in response.text
    assert world.count(Statement) == 0


def test_moderators_accept_visible_reactions_as_statements_once(world: World) -> None:
    world.with_code()
    world.react(world.proposals[0], "support", "Fietsen moet veiliger")
    world.staff("moderator")
    assert world.post("/forum/reactions/1/accept", {}).status_code == 303
    again = world.post("/forum/reactions/1/accept", {})
    assert again.status_code == 400 and "already a statement" in again.text
    assert world.post("/forum/reactions/99/accept", {}).status_code == 400
    (entry,) = world.audit("forum.statement")
    assert entry.payload["kind"] == "reaction" and entry.payload["reaction"] == 1
    # Hiding the reaction takes its statement off the map.
    world.post("/forum/reactions/1/hide", {"reason": "off_topic"})
    assert world.count(Statement, Statement.status == "active") == 0


def test_votes_need_a_proven_resident_and_a_valid_choice(world: World) -> None:
    key_point(world, world.proposals[0], "Fietspaden gaan voor parkeerplaatsen")
    (sid,) = statement_ids(world)
    world.anonymous()
    refused = world.post(f"/forum/statements/{sid}/vote", {"vote": "agree"})
    assert refused.status_code == 403 and "First show that you may take part" in refused.text
    world.with_code()
    bad = world.post(f"/forum/statements/{sid}/vote", {"vote": "maybe"})
    assert bad.status_code == 400 and "Choose agree, disagree or pass" in bad.text
    missing = world.post("/forum/statements/999/vote", {"vote": "agree"})
    assert missing.status_code == 400 and "not on the map" in missing.text
    assert world.post(f"/forum/statements/{sid}/vote", {"vote": "agree"}).status_code == 303
    assert world.post(f"/forum/statements/{sid}/vote", {"vote": "disagree"}).status_code == 303
    assert world.count(StatementVote) == 1  # the later vote replaced the earlier one
    assert world.count(StatementVote, StatementVote.value == -1) == 1
    page = world.client.get("/forum/map").text
    assert 'aria-pressed="true">Disagree' in page and "1 voter" in page


async def _voters(world: World, n: int) -> list[int]:
    async with world.client.db.session() as session:
        rows = [
            Reactor(
                summit_id=world.summit_id,
                kind="postcode",
                key_hash=f"k{i:04d}",
                pseudonym=f"R-{i:04d}",
            )
            for i in range(n)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


def _two_camps(world: World) -> tuple[list[int], list[int]]:
    for text in (
        "Fietsstraat in het centrum",
        "Minder parkeren",
        "Veilig naar school",
        "Dertig kilometer overal",
        "Bomen in elke straat",
        "Buurthuis in elke wijk",
        "Meer bussen",
        "Kinderen moeten veilig fietsen",
    ):
        assert key_point(world, world.proposals[0], text).status_code == 303
    sids = statement_ids(world)
    voters = world.run(_voters(world, 40))
    return sids, voters


def test_the_live_map_takes_each_vote_at_once_and_equals_a_fresh_build(world: World) -> None:
    sids, voters = _two_camps(world)
    camps = ((1, 1, 1, 1, -1, 1, -1, 1), (-1, -1, 1, -1, 1, 1, 1, 1))

    async def vote_all() -> None:
        database = world.client.db
        service = opinion.service(world.client.app)
        async with database.session() as session:
            summit = await session.get(Summit, world.summit_id)
            assert summit is not None
            await service.current(session, summit)  # built before the votes arrive
        for n, voter in enumerate(voters):
            for sid, lean in zip(sids, camps[n % 2], strict=True):
                # as the vote page does: store and commit, then place it on the map
                async with database.session() as session:
                    reactor = await session.get(Reactor, voter)
                    assert reactor is not None
                    choice = "agree" if lean == 1 else "disagree"
                    row = await opinion.vote(
                        session, world.summit_id, reactor=reactor, statement_id=sid, choice=choice
                    )
                    vote = (row.reactor_id, row.statement_id, row.value)
                service.apply(world.summit_id, *vote)
        async with database.session() as session:
            summit = await session.get(Summit, world.summit_id)
            assert summit is not None
            view = await service.current(session, summit)
        assert view.votes == 320 and view.voters == 40  # every vote is on the map at once
        await service.drain()

    world.run(vote_all())
    world.anonymous()
    data = world.client.get("/forum/map.json").json()
    assert len(data["groups"]) == 2 and data["voters"] == 40
    consensus = {c["text"] for c in data["consensus"]}
    assert {
        "Veilig naar school",
        "Buurthuis in elke wijk",
        "Kinderen moeten veilig fietsen",
    } <= consensus
    # A fresh build of the stored votes, in the order cast, gives the same map.
    votes = [
        Vote(str(v), str(s), 1 if lean == 1 else -1)
        for n, v in enumerate(voters)
        for s, lean in zip(
            sids, ((1, 1, 1, 1, -1, 1, -1, 1), (-1, -1, 1, -1, 1, 1, 1, 1))[n % 2], strict=True
        )
    ]
    fresh = build_map(votes, seed="forum-test-seed")
    assert [g["size"] for g in data["groups"]] == [g.size for g in fresh.summaries]
    assert [c["id"] for c in data["consensus"]] == [int(c.statement) for c in fresh.consensus]
    page = world.client.get("/forum/map").text
    assert page.count('class="map-point') == 40 and "Group A: " in page and "Group B: " in page
    assert page.count('class="bar-agree"') == 8
    proposal = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert "Common ground on the opinion map" in proposal and "Veilig naar school" in proposal
    council = world.client.get("/forum/council").text
    assert "Kinderen moeten veilig fietsen" in council
    # A workshop on the proposal sees the same common ground on its working page.
    world.staff("organiser")
    form = {"title": "Werkplaats", "capacity": "3", "subject": f"proposal:{world.proposals[0]}"}
    created = world.post("/forum/manage/workshops", form, "/forum/manage")
    assert created.status_code == 303, created.text
    workshop = created.headers["location"]
    member = world.participant(0)
    assert world.post(f"{workshop}/volunteer", {}, workshop).status_code == 303
    world.staff("organiser")
    assert world.post(f"{workshop}/confirm", {"member": member}, workshop).status_code == 303
    world.participant(0)
    work = world.client.get(f"{workshop}/work?lang=en").text
    assert "Common ground on the opinion map" in work and "Veilig naar school" in work
    # The member's ballot page shows the same common ground next to the proposal, in Dutch too.
    vote_id = world.run(_council_vote(world, [world.proposals[0], world.proposals[1]]))
    world.participant(0)
    ballot = world.client.get(f"/council/votes/{vote_id}?lang=en").text
    first, second = ballot.split("<fieldset")[1:3]
    assert "Common ground on the opinion map" in first and "Kinderen moeten veilig fietsen" in first
    assert "everyone agrees" in first and "data-ballot-consensus" not in second
    dutch = world.client.get(f"/council/votes/{vote_id}?lang=nl").text
    assert "Gemeenschappelijke grond op de meningenkaart" in dutch and "iedereen eens" in dutch
    assert "Common ground on the opinion map" not in dutch


async def _council_vote(world: World, proposals: list[int]) -> int:
    from summit.council import create_council_vote

    async with world.client.db.session() as session:
        summit = await session.get(Summit, world.summit_id)
        assert summit is not None
        vote = await create_council_vote(
            session, summit, actor="test", title="Burgerraad", proposal_ids=proposals
        )
        return int(vote.id)


def test_the_export_command_writes_reactions_and_the_map(world: World, tmp_path: Path) -> None:
    from summit.cli import main

    world.with_code()
    world.react(world.proposals[0], "support", '=HYPERLINK("http://evil")')
    world.react(world.proposals[0], "concerns", "Te veel verkeer")
    world.staff("moderator")
    world.post("/forum/reactions/2/hide", {"reason": "insult"})
    env = {
        "SUMMIT_DATABASE_URL": str(world.client.db.url),
        "SUMMIT_DATA_DIR": str(tmp_path),
        "SUMMIT_SECRET_KEY": "x" * 40,
    }
    runner = CliRunner()
    out = tmp_path / "export"
    result = runner.invoke(main, ["forum", "export", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((out / "reactions.csv").read_text())))
    assert len(rows) == 1 and rows[0]["text"].startswith("'=HYPERLINK")
    data = json.loads((out / "reactions.json").read_text())
    assert data["hidden"] == [{"proposal": world.proposals[0], "reason": "insult", "hidden": 1}]
    assert "Te veel verkeer" not in (out / "reactions.json").read_text()
    assert set(json.loads((out / "opinion_map.json").read_text())) >= {"groups", "consensus"}
    # Bad input: a file where the folder should be, and no summit in the database.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    bad = runner.invoke(main, ["forum", "export", str(blocker)], env=env)
    assert bad.exit_code != 0 and "DIR:" in bad.output and "is a file" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    empty = runner.invoke(
        main,
        ["forum", "export", str(out)],
        env={**env, "SUMMIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"},
    )
    assert empty.exit_code != 0 and "Error:" in empty.output


def test_the_http_exports_match(world: World) -> None:
    world.with_code()
    world.react(world.proposals[0], "support", "@SUM(1+1)")
    world.anonymous()
    response = world.client.get("/forum/reactions.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "'@SUM(1+1)" in response.text
    data = world.client.get("/forum/reactions.json").json()
    assert data["reactions"][0]["text"] == "@SUM(1+1)" and data["hidden"] == []


def test_the_map_is_deterministic_given_votes_and_seed() -> None:
    from summit.forum.mapping import LiveMap

    votes = [(v, s, 1 if (v + s) % 3 else -1) for v in range(30) for s in range(8)]
    first = LiveMap.build(votes, [], "seed-1").view()
    second = LiveMap.build(votes, [], "seed-1").view()
    assert first == second
    assert asyncio.iscoroutinefunction(opinion.OpinionService.current)
