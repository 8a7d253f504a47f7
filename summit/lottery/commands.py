"""`summit` commands of the lottery part: `register import`, `register letters`, `verify draw`,
`verify panel` and `select`."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import click

from summit.core import runtime


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{what}: {path} is not UTF-8 text") from None


@click.group("register")
def register_group() -> None:
    """The population-register extract (BRP-uittreksel) for the invitation draw."""


@register_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mapping",
    required=True,
    help="Columns as field=HEADER, comma-separated: id and gender, birth_date or age, "
    "optionally district or postcode, household (columns joined with +, e.g. "
    "household=Postcode+Huisnummer) or address, origin, education. "
    "Example: id=BSN,gender=Geslacht,birth_date=Geboortedatum,postcode=Postcode.",
)
@click.option(
    "--min-age",
    type=click.IntRange(0, 120),
    default=16,
    show_default=True,
    help="Residents younger than this on the summit date are excluded (and counted).",
)
def register_import(file: Path, mapping: str, min_age: int) -> None:
    """Import a register extract into the current summit, all or nothing.

    Ids and households are pseudonymised with a key derived from SUMMIT_SECRET_KEY. A file
    with any bad row is rejected whole: one line per bad row and field, exit status 1.
    """
    from summit.core.errors import InvalidInput, SummitError
    from summit.lottery import service as lottery
    from summit.lottery.rules.register import RegisterError, decode_register

    settings = runtime.settings()
    text, encoding = decode_register(file.read_bytes())
    try:
        column_mapping = lottery.parse_mapping(mapping)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None

    async def go() -> str:
        async with runtime.open_summit(settings) as opened:
            reg, record = await lottery.import_register(
                opened.session,
                opened.summit,
                text,
                column_mapping,
                actor="cli",
                key=lottery.register_key(settings.secret_key),
                min_age=min_age,
                encoding=encoding,
            )
        households = "" if reg.households is None else f"; {reg.households} households"
        warning = {
            "singletons": "\nwarning: every resident is a household of one; check the mapping",
            "too_few": "\nwarning: over ten residents per household; map the house number too",
        }.get(reg.household_warning() or "", "")
        return (
            f"imported {record.eligible} residents from {reg.rows_read} rows "
            f"({reg.excluded_under_age} under {min_age} excluded{households}; read as "
            f"{encoding}); extract {record.extract_hash}{warning}"
        )

    try:
        message = asyncio.run(go())
    except RegisterError as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"error: the file was not imported ({len(exc.errors)} errors)", err=True)
        sys.exit(1)
    except SummitError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@register_group.command("letters")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", required=True, help="The same column mapping as at import.")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the mail-merge CSV (id,pseudonym,code,link).",
)
def register_letters(file: Path, mapping: str, out_file: Path) -> None:
    """Write the mail-merge file of the drawn residents with the register's own ids.

    Reads your copy of the register file again (the platform does not store its ids), so
    the municipality can merge codes with addresses. Needs the same SUMMIT_SECRET_KEY.
    """
    from summit.core.errors import NotFound, SummitError
    from summit.lottery import service as lottery
    from summit.lottery.rules.register import decode_register, parse_register

    settings = runtime.settings()
    text, _encoding = decode_register(file.read_bytes())

    async def go() -> tuple[str, int]:
        async with runtime.open_summit(settings) as opened:
            register = parse_register(
                text,
                lottery.parse_mapping(mapping),
                summit_date=opened.summit.date or dt.date.today(),
                key=lottery.register_key(settings.secret_key),
            )
            rows = await lottery.letters(
                opened.session,
                opened.summit,
                secret_key=settings.secret_key,
                base_url=str(settings.base_url).rstrip("/"),
            )
        if not rows:
            raise NotFound("draw: the invitations have not been drawn yet")
        return lottery.mail_merge_with_ids(register, rows), len(rows)

    try:
        body, count = asyncio.run(go())
    except SummitError as exc:
        raise click.ClickException(str(exc)) from None
    out_file.write_text(body, encoding="utf-8")
    click.echo(f"wrote {count} letters to {out_file}")


@click.group("verify")
def verify_group() -> None:
    """Check a published draw yourself from its published files."""


@verify_group.command("draw")
@click.option(
    "--commitment",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published commitment (commitment.json).",
)
@click.option(
    "--extract",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published pseudonymised extract (extract.csv).",
)
@click.option("--seed", required=True, help="The public seed, as rolled (e.g. dice digits).")
@click.option(
    "--result",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published result list (result.csv).",
)
def verify_draw(commitment: Path, extract: Path, seed: str, result: Path) -> None:
    """Re-run the invitation draw: prints MATCH, or the first difference and exits 1.

    Needs no database: anyone can run it on the files the summit publishes.
    """
    from summit.core.errors import InvalidInput
    from summit.lottery import service as lottery

    try:
        outcome = lottery.verify_files(
            _read(commitment, "commitment"),
            _read(extract, "extract"),
            seed,
            _read(result, "result"),
        )
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    if not outcome.ok:
        click.echo(f"MISMATCH: {outcome.message}")
        sys.exit(1)
    click.echo(outcome.message)


@verify_group.command("panel")
@click.option(
    "--panels",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published list of m equally likely panels (panels.json).",
)
@click.option(
    "--panels-hash",
    required=True,
    help="The panels hash published before the seed (/lottery, or selection.commit).",
)
@click.option("--seed", required=True, help="The public seed of the final draw, as rolled.")
@click.option(
    "--selected",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The published list of the drawn panel (selected.csv).",
)
def verify_panel(panels: Path, panels_hash: str, seed: str, selected: Path) -> None:
    """Re-run the final draw of stage 2: prints MATCH, or the first difference and exits 1.

    Checks that panels.json hashes to the published panels hash, draws the index from the
    seed (draw_index in summit/core/rules/draw.py) and compares that panel with selected.csv.
    Needs no database.
    """
    from summit.core.errors import InvalidInput
    from summit.lottery import selection as lottery_selection

    try:
        outcome = lottery_selection.verify_panel_files(
            panels.read_bytes(), panels_hash, seed, _read(selected, "selected")
        )
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    if not outcome.ok:
        click.echo(f"MISMATCH: {outcome.message}")
        sys.exit(1)
    click.echo(outcome.message)


@click.command("select")
@click.option(
    "--features",
    "features_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Quotas, one row per feature value: header feature,value,min,max "
    "(or category,feature,min,max).",
)
@click.option(
    "--people",
    "people_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The pool: an id column and one column per feature.",
)
@click.option("--seats", required=True, type=click.IntRange(1), help="Panel size.")
@click.option(
    "--algorithm",
    type=click.Choice(["leximin", "maximin", "goldilocks", "uniform"]),
    default="leximin",
    show_default=True,
    help="How fair chances are computed.",
)
@click.option("--seed", default=None, help="Public seed of the final draw [default: random].")
@click.option(
    "--panels",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Number m of equally likely panels the final draw picks from.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for panel.csv, probabilities.csv, panels.json and summary.json.",
)
def select_command(
    features_csv: Path,
    people_csv: Path,
    seats: int,
    algorithm: str,
    seed: str | None,
    panels: int,
    out_dir: Path,
) -> None:
    """Stratified selection from files (stage 2 without the platform's database)."""
    from summit.core.errors import InvalidInput
    from summit.lottery.selection_files import run_selection_files

    try:
        summary = run_selection_files(
            features_csv, people_csv, seats, algorithm, seed, panels, out_dir=out_dir
        )
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"selected {seats} of {summary['pool_size']} ({summary['algorithm']}): "
        f"min chance {summary['min_probability']:.4f}, "
        f"max chance {summary['max_probability']:.4f}, panel {summary['drawn_index']} of "
        f"{summary['panels']}, panels hash {summary['panels_hash']}; files in {out_dir}"
    )


commands: list[click.Command] = [register_group, verify_group, select_command]
