"""Commands of the foundation's security: ``summit doctor`` and ``summit backup``."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path

import click

from summit.core import runtime


@click.command("doctor")
def doctor() -> None:
    """Check the installation's security setup: where the secret key is (never beside the
    database), file permissions, HTTPS, trusted proxies. Exit 1 when anything needs attention."""
    from summit.core.doctor import check

    findings = check(runtime.settings())
    for finding in findings:
        click.echo(str(finding))
    if any(f.level == "warning" for f in findings):
        sys.exit(1)


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
def backup(destination: Path) -> None:
    """Write a consistent copy of the SQLite database to DESTINATION (a new file, or a folder
    to put a dated file in), without the secret key. PostgreSQL: use pg_dump."""
    from summit.core.doctor import backup_sqlite, sqlite_path

    settings = runtime.settings()
    source = sqlite_path(settings)
    if source is None:
        raise click.ClickException(
            "database: this is PostgreSQL; back it up with pg_dump (the key is never in it)"
        )
    if not source.exists():
        raise click.ClickException(f"database: {source} does not exist")
    if destination.is_dir():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        destination = destination / f"summit-{stamp}.db"
    try:
        size = backup_sqlite(source, destination)
    except FileExistsError:
        raise click.ClickException(f"destination: {destination} already exists") from None
    except (OSError, sqlite3.Error) as exc:
        raise click.ClickException(f"destination: {exc}") from None
    click.echo(f"backup written to {destination} ({size} bytes); the secret key is not in it")


commands: list[click.Command] = [doctor, backup]
