"""`summit council` commands: a closed vote's result, and a display link for the plenary screen."""

from __future__ import annotations

import json
from typing import Any

import click

from summit.core import runtime


@click.group("council")
def council() -> None:
    """Prioritisation and the Burgerraad: results and the plenary screen."""


@council.command("results")
@click.argument("vote_id", type=int)
@click.option(
    "--receipts/--no-receipts",
    default=False,
    help="Include every receipt, ballot and voting key (for a recount).",
)
def results(vote_id: int, receipts: bool) -> None:
    """Print the published result of a closed Burgerraad vote as JSON."""
    from summit.council import vote

    settings = runtime.settings()

    async def go() -> dict[str, Any]:
        async with runtime.open_summit(settings) as opened:
            found = await vote.get_council_vote(opened.session, opened.summit.id, vote_id)
            outcome = await vote.council_outcome(opened.session, found, with_receipts=receipts)
            data = outcome.as_json()
            if not receipts:
                for name in ("receipts", "ballots", "voting_keys"):
                    data.pop(name)
            return data

    click.echo(json.dumps(runtime.run(go()), indent=2, ensure_ascii=False))


@council.command("display-link")
@click.option("--label", default="", help="A name for the screen, e.g. 'hall A'.")
def display_link(label: str) -> None:
    """Issue a display link: the plenary screen without login (revocable on /council)."""
    from summit import plenary

    settings = runtime.settings()

    async def go() -> str:
        async with runtime.open_summit(settings) as opened:
            _link, token = await plenary.issue_display_link(
                opened.session, opened.summit, actor="cli", label=label
            )
            return token

    click.echo(f"{settings.base_url}/display/{runtime.run(go())}")


commands: list[click.Command] = [council]
