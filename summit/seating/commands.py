"""`summit` commands of the seating part: `summit seat` and `summit seating verify`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from summit.core import runtime

if TYPE_CHECKING:
    from summit.seating.service import SeatingOutcome
    from summit.seating.verify import Verification


def _summary(outcome: SeatingOutcome) -> str:
    """One line: who was seated where, and the seating's quality and inputs hash."""
    report = outcome.report
    assert report is not None
    run = outcome.run
    return (
        f"seated {len(run.inputs['participants'])} people and "
        f"{len(run.inputs['hosts'])} hosts at {len(run.layout)} tables for "
        f"{run.rounds} rounds; repeated pairs {report.repeated_pairs}, "
        f"pattern {report.pattern_compliance:.0%}, diversity "
        f"{report.diversity_score:.3f}; inputs {run.inputs_hash}"
    )


@click.command("seat")
@click.option("--rounds", type=click.IntRange(1, 12), required=True, help="Rounds to seat (1-12).")
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
    from summit.seating import service as uc

    settings = runtime.settings()

    async def go() -> str:
        async with runtime.open_summit(settings) as opened:
            outcome = await uc.seat_summit(
                opened.session,
                opened.summit,
                actor="cli",
                seed=seed,
                rounds=rounds,
                table_size=table_size,
            )
            return _summary(outcome)

    click.echo(runtime.run(go()))


def _read_inputs(inputs: Path | None) -> dict[str, Any] | None:
    """A published inputs file (a JSON object), or ``None`` for the stored inputs."""
    if inputs is None:
        return None
    try:
        data = json.loads(inputs.read_text())
    except ValueError as exc:
        raise click.ClickException(f"--inputs: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise click.ClickException("--inputs: expected a JSON object")
    return data


@click.group("seating")
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
    from summit.core.errors import InvalidInput
    from summit.seating import verify as seating_verify

    settings = runtime.settings()
    data = _read_inputs(inputs)

    async def go() -> Verification:
        async with runtime.open_summit(settings) as opened:
            try:
                return await seating_verify.verify_round(
                    opened.session, opened.summit, number, inputs=data
                )
            except KeyError as exc:
                raise InvalidInput("inputs", f"missing {exc}") from None

    result = runtime.run(go())
    if result.ok:
        click.echo(str(result))
        return
    click.echo(str(result), err=True)
    sys.exit(1)


#: This part's commands, for the `summit` group.
commands: list[click.Command] = [seat, seating_group]
