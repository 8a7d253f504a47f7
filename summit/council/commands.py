"""`summit council` commands: a closed vote's result, and a display link for the plenary screen."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from summit.core.errors import SummitError


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except SummitError as exc:
        raise click.ClickException(str(exc)) from None


def register(main: click.Group) -> None:
    """Add this part's commands to the `summit` group."""

    @main.group()
    def council() -> None:
        """Prioritisation and the Burgerraad: results and the plenary screen."""

    @council.command("results")
    @click.argument("vote_id", type=int)
    @click.option("--receipts/--no-receipts", default=False, help="Include every counted receipt.")
    def results(vote_id: int, receipts: bool) -> None:
        """Print the published result of a closed Burgerraad vote as JSON."""
        from summit.config import Settings
        from summit.core import service as repository
        from summit.core.db import Database
        from summit.council import service as uc

        settings = Settings.from_env()

        async def go() -> dict[str, Any]:
            db = Database(settings.database_url)
            try:
                await db.check_revision()
                async with db.session() as session:
                    summit = await repository.current_summit(session)
                    if summit is None:
                        raise click.ClickException("there is no summit in this database")
                    vote = await uc.get_council_vote(session, summit.id, vote_id)
                    outcome = await uc.council_outcome(session, vote, with_receipts=receipts)
                    data = outcome.as_json()
                    if not receipts:
                        data.pop("receipts")
                    return data
            finally:
                await db.dispose()

        click.echo(json.dumps(_run(go()), indent=2, ensure_ascii=False))

    @council.command("display-link")
    @click.option("--label", default="", help="A name for the screen, e.g. 'hall A'.")
    def display_link(label: str) -> None:
        """Issue a display link: the plenary screen without login (revocable on /council)."""
        from summit.config import Settings
        from summit.core import service as repository
        from summit.core.db import Database
        from summit.council import service as uc

        settings = Settings.from_env()

        async def go() -> str:
            db = Database(settings.database_url)
            try:
                await db.check_revision()
                async with db.session() as session:
                    summit = await repository.current_summit(session)
                    if summit is None:
                        raise click.ClickException("there is no summit in this database")
                    _link, token = await uc.issue_display_link(
                        session, summit, actor="cli", label=label
                    )
                    return token
            finally:
                await db.dispose()

        click.echo(f"{settings.base_url}/display/{_run(go())}")
