"""`summit forum export DIR`: the forum's open data as files (reactions as CSV and JSON, hidden
ones only as counts; the opinion map's groups and consensus as JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from summit.core import runtime
from summit.forum import export as _export  # registers the forum's open-data sets

FILES = ("reactions.csv", "reactions.json", "opinion_map.json")


def _folder(path: Path) -> Path:
    """The export folder, created when missing; a clear one-line error otherwise."""
    if path.exists() and not path.is_dir():
        raise click.ClickException(f"DIR: {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"DIR: cannot create {path}: {exc.strerror}") from None
    return path


async def _collect() -> dict[str, Any]:
    from summit.forum import mapping, opinion

    export = _export

    async with runtime.open_summit(runtime.settings()) as opened:
        session, summit = opened.session, opened.summit
        rows = await export.reaction_rows(session, summit.id)
        data = await export.reactions_json(session, summit.id)
        votes, retired, seed = await opinion.inputs(session, summit)
        statements = await opinion.statements(session, summit.id)
    live = mapping.LiveMap.build(votes, retired, seed)
    return {
        "reactions.csv": export.reactions_csv(rows),
        "reactions.json": json.dumps(data, ensure_ascii=False, indent=1),
        "opinion_map.json": json.dumps(
            export.map_json(live.view(), statements), ensure_ascii=False, indent=1
        ),
    }


@click.group("forum")
def forum() -> None:
    """The Burgerforum: reactions, workshops and the opinion map."""


@forum.command("export")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
def export_command(directory: Path) -> None:
    """Write reactions.csv, reactions.json and opinion_map.json into DIR (created if missing).

    Pseudonyms and counts only: hidden reactions appear as counts per proposal and reason;
    spreadsheet formulas in the CSV are neutralised."""
    folder = _folder(directory)
    contents = runtime.run(_collect())
    for name in FILES:
        target = folder / name
        try:
            target.write_text(contents[name], encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"DIR: cannot write {target}: {exc.strerror}") from None
    click.echo(f"wrote {', '.join(FILES)} to {folder}")


commands = [forum]
