"""Proposal authority: who revises a proposal and when, and the exact text a vote carries
(finding 3 of the hardening review), through the real app."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.models import Seat, SummitTable
from summit.council import vote as votes
from summit.council.models import CouncilVoteItem, ProposalVersion
from summit.council.proposals import ProposalText, version_digest
from summit.council.rules.voting import VotingError
from tests.support.council import Council
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)


async def _hosts(council: Council) -> list[int]:
    """The hosts of two different venue tables in the current round."""
    async with council.client.db.session() as session:
        rnd = await repository.current_round(session, council.summit_id)
        assert rnd is not None
        rows = (
            await session.execute(
                select(Seat.participant_id, Seat.table_id)
                .join(SummitTable, SummitTable.id == Seat.table_id)
                .where(Seat.round_id == rnd.id, Seat.is_host)
                .order_by(SummitTable.number)
            )
        ).all()
        by_table = {table: pid for pid, table in rows}
        return list(by_table.values())[:2]


TEXT = {"title": "Fietsstraat", "text": "Een fietsstraat door het centrum", "cost": "€ 50.000"}


def _revise(council: Council, proposal: int, text: str) -> Any:
    return council.post(
        f"/council/proposals/{proposal}/versions",
        {**TEXT, "text": text},
        f"/council/proposals/{proposal}",
    )


def _item(council: Council, vote: int, proposal: int) -> tuple[int, str]:
    async def go() -> tuple[int, str]:
        async with council.client.db.session() as session:
            item = await session.scalar(
                select(CouncilVoteItem).where(
                    CouncilVoteItem.council_vote_id == vote,
                    CouncilVoteItem.proposal_id == proposal,
                )
            )
            assert item is not None
            return item.proposal_version, item.proposal_sha256

    return council.run(go())


def _sha(council: Council, proposal: int, version: int) -> str:
    async def go() -> str:
        async with council.client.db.session() as session:
            row = await session.scalar(
                select(ProposalVersion).where(
                    ProposalVersion.proposal_id == proposal, ProposalVersion.version == version
                )
            )
            assert row is not None
            return str(row.sha256)

    return council.run(go())


def test_only_the_owning_table_or_staff_revise_and_the_vote_records_the_exact_text(
    council: Council,
) -> None:
    own, other = council.run(_hosts(council))
    council.as_participant(own)
    created = council.post("/council/proposals", TEXT, "/council/proposals")
    assert created.status_code == 303, created.text
    proposal = int(created.headers["location"].rsplit("/", 1)[1])
    assert council.audit("proposal.create")[-1]["owner"].startswith("table:")

    # Another table's host may not rewrite it, and is not offered the form.
    form = f"/council/proposals/{proposal}/versions"
    assert form in council.client.get(f"/council/proposals/{proposal}").text
    council.as_participant(other)
    assert form not in council.client.get(f"/council/proposals/{proposal}").text
    refused = _revise(council, proposal, "Iets heel anders")
    assert refused.status_code == 403 and "alleen de tafel of werkplaats" in refused.text
    council.as_participant(own)
    assert _revise(council, proposal, "Twee fietsstraten").status_code == 303
    council.as_organiser()
    assert _revise(council, proposal, "Drie fietsstraten").status_code == 303
    assert [e["by"] for e in council.audit("proposal.revise")[-2:]] == ["owner", "staff"]

    # Once on a vote being set up, only staff revise it; the vote follows, logged.
    vote = council.council_vote([proposal])
    assert _item(council, vote, proposal) == (3, _sha(council, proposal, 3))
    council.as_participant(own)
    late = _revise(council, proposal, "Vier fietsstraten")
    assert late.status_code == 403 and "alleen de organisatie" in late.text
    council.as_organiser()
    assert _revise(council, proposal, "Vier fietsstraten").status_code == 303
    assert council.audit("proposal.revise")[-1]["on_votes"] == [vote]
    sha4 = _sha(council, proposal, 4)
    assert sha4 == version_digest(
        ProposalText(TEXT["title"], "", "Vier fietsstraten", "", "€ 50.000")
    )
    assert _item(council, vote, proposal) == (4, sha4)
    moved = council.audit("council.version")[-1]
    assert moved["version"] == 4 and moved["sha256"] == sha4 and moved["before"][0] == 3

    # Another part (the Burgerforum) puts a given version on the ballot.
    async def put_back() -> None:
        async with council.client.db.session() as session:
            await votes.put_version_on_vote(
                session, council.summit_id, vote, proposal, version=2, actor="forum"
            )

    council.run(put_back())
    sha2 = _sha(council, proposal, 2)
    assert _item(council, vote, proposal) == (2, sha2)
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    assert council.audit("council.open")[-1]["proposals"] == [[proposal, 2, sha2]]
    # Once open, the text is frozen, for staff too; the vote's text cannot be swapped.
    frozen = _revise(council, proposal, "Vijf fietsstraten")
    assert frozen.status_code == 400 and "kan niet meer veranderen" in frozen.text
    with pytest.raises(VotingError, match="opened"):
        council.run(put_back())
    assert _item(council, vote, proposal) == (2, sha2)
