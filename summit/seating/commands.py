"""`summit` commands of the seating part: `summit seat` and `summit seating verify`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


def _settings() -> Any:
    from summit.core.runtime import settings

    return settings()


def register(main: click.Group) -> None:
    """Add this part's commands to the `summit` group."""

    @main.command("seat")
    @click.option(
        "--rounds", type=click.IntRange(1, 12), required=True, help="Rounds to seat (1–12)."
    )
    @click.option("--seed", required=True, help="The public seed (e.g. dice rolled in public).")
    @click.option(
        "--table-size",
        type=click.IntRange(2, 30),
        default=None,
        help="People per table, hosts not counted [default: the stored setting, 8].",
    )
    def seat(rounds: int, seed: str, table_size: int | None) -> None:
        """Seat the current summit for every round with the stored seating settings.

        Replaces an earlier seating only while none of its rounds has started; every round is
        logged with the seed and the inputs' hash, so `summit seating verify` can re-run it.
        """
        from summit.core import service as repository
        from summit.core.db import Database
        from summit.core.errors import NotFound
        from summit.core.runtime import run as _run
        from summit.seating import service as uc

        settings = _settings()

        async def go() -> str:
            database = Database(settings.database_url)
            try:
                await database.check_revision()
                async with database.session() as session:
                    summit = await repository.current_summit(session)
                    if summit is None:
                        raise NotFound("summit: there is no summit yet")
                    outcome = await uc.seat_summit(
                        session,
                        summit,
                        actor="cli",
                        seed=seed,
                        rounds=rounds,
                        table_size=table_size,
                    )
                    report = outcome.report
                    assert report is not None
                    tables = len(outcome.run.layout)
                    return (
                        f"seated {len(outcome.run.inputs['participants'])} people and "
                        f"{len(outcome.run.inputs['hosts'])} hosts at {tables} tables for "
                        f"{outcome.run.rounds} rounds; repeated pairs {report.repeated_pairs}, "
                        f"pattern {report.pattern_compliance:.0%}, diversity "
                        f"{report.diversity_score:.3f}; inputs {outcome.run.inputs_hash}"
                    )
            finally:
                await database.dispose()

        click.echo(_run(go()))

    @main.group("seating")
    def seating_group() -> None:
        """The seating of the summit day (tafelindeling)."""

    @seating_group.command("verify")
    @click.option("--round", "number", type=click.IntRange(1), required=True, help="Round number.")
    @click.option(
        "--inputs",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Verify from a published inputs file (JSON) instead of the stored inputs.",
    )
    def verify(number: int, inputs: Path | None) -> None:
        """Re-run a round from its logged seed and inputs: MATCH, or the first difference
        (exit 1)."""
        from summit.core import service as repository
        from summit.core.db import Database
        from summit.core.errors import InvalidInput, NotFound
        from summit.core.runtime import run as _run
        from summit.seating import service as uc

        settings = _settings()
        data = None
        if inputs is not None:
            try:
                data = json.loads(inputs.read_text())
            except ValueError as exc:
                raise click.ClickException(f"--inputs: not JSON ({exc})") from None
            if not isinstance(data, dict):
                raise click.ClickException("--inputs: expected a JSON object")

        async def go() -> Any:
            database = Database(settings.database_url)
            try:
                await database.check_revision()
                async with database.session() as session:
                    summit = await repository.current_summit(session)
                    if summit is None:
                        raise NotFound("summit: there is no summit yet")
                    try:
                        return await uc.verify_round(session, summit, number, inputs=data)
                    except KeyError as exc:
                        raise InvalidInput("inputs", f"missing {exc}") from None
            finally:
                await database.dispose()

        result = _run(go())
        if result.ok:
            click.echo(str(result))
            return
        click.echo(str(result), err=True)
        sys.exit(1)
