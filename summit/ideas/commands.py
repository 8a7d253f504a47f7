"""`summit` commands of the ideas part: import paper forms, re-cluster the theme board."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from summit.core import runtime
from summit.ideas import service as ideas


def _granularity(value: str) -> float | None:
    named = {"fewer": -1.0, "same": None, "more": 1.0}
    if value in named:
        return named[value]
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter("use fewer, same, more or a number such as -1.5") from None



@click.group("ideas")
def ideas_group() -> None:
    """Ideas recorded at the tables."""

@ideas_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--round",
    "round_number",
    type=click.IntRange(1),
    help="Round number (default: the open round).",
)
def ideas_import(file: Path, round_number: int | None) -> None:
    """Import paper forms from a CSV (table number, title, text[, tags]), all or nothing.

    A header row is optional; the separator is detected. Importing the same file again adds
    nothing. Every bad row is listed and nothing is imported.
    """
    settings = runtime.settings()
    data = file.read_bytes()

    async def go() -> Any:
        async with runtime.open_summit(settings) as opened:
            try:
                return await ideas.import_paper(
                    opened.session, opened.summit, data, actor="cli", round_number=round_number
                )
            except ideas.IdeaImportError as exc:
                return exc

    report = runtime.run(go())
    if isinstance(report, ideas.IdeaImportError):
        for row, field, message in report.rows:
            click.echo(f"row {row}: {field}: {message}", err=True)
        raise click.ClickException(f"nothing imported: {len(report.rows)} rows have errors")
    click.echo(
        f"imported {report.added} ideas into round {report.round_number}"
        f" ({report.already} already imported)"
    )

@click.group("themes")
def themes_group() -> None:
    """The theme board: ideas grouped into themes."""

@themes_group.command("recluster")
@click.option(
    "--granularity",
    default="same",
    show_default=True,
    help="fewer, same, more, or a number (positive: more themes, negative: fewer).",
)
def themes_recluster(granularity: str) -> None:
    """Group every idea into themes anew, keeping the moderators' decisions (logged)."""
    from summit.core.events import MemoryBus
    from summit.ideas.themes import ThemeService

    settings = runtime.settings()
    target = _granularity(granularity)

    async def go() -> Any:
        async with runtime.open_database(settings) as database:
            async with database.session() as session:
                summit = await runtime.current_summit(session)
            service = ThemeService(database, MemoryBus(), data_dir=settings.data_dir)
            try:
                return await service.recluster(summit.id, granularity=target, actor="cli")
            finally:
                service.close()

    themes = runtime.run(go())
    click.echo(f"{len(themes)} themes")
    for theme in themes:
        click.echo(f"  {theme.id}: {theme.label} ({len(theme.idea_ids)} ideas)")


commands: list[click.Command] = [ideas_group, themes_group]
