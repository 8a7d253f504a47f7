"""`summit export` (the whole public record, and its verification) and `summit monitor`
(a partner's personal link, one pass of the background job)."""

from __future__ import annotations

from pathlib import Path

import click

from summit.core import runtime


@click.command("export")
@click.option(
    "--all",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the whole public record with its manifest into this folder.",
)
@click.option(
    "--verify",
    "check",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check an exported folder: file hashes, the audit chain, and the logged digest.",
)
def export(folder: Path | None, check: Path | None) -> None:
    """Export the whole public record (open data, decisions, audit log) or verify an export."""
    if (folder is None) == (check is None):
        raise click.UsageError("give either --all DIR or --verify DIR")
    if check is not None:
        _verify(check)
        return
    assert folder is not None
    settings = runtime.settings()

    async def go() -> dict[str, bytes]:
        from summit.monitor import opendata

        async with runtime.open_summit(settings) as opened:
            summit_id = opened.summit.id
        async with runtime.open_database(settings) as database:
            return await opendata.build_export(database, summit_id)

    from summit.monitor.opendata import write_export

    files = runtime.run(go())
    write_export(folder, files)
    click.echo(f"wrote {len(files)} files to {folder}; manifest.json matches the audit head")


def _verify(folder: Path) -> None:
    import json

    from summit.monitor.opendata import head_is_in_chain, verify_folder

    problems = verify_folder(folder)
    for problem in problems:
        click.echo(f"BROKEN: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    head = json.loads((folder / "manifest.json").read_text())["audit_head"]
    settings = runtime.settings()

    async def live() -> bool | None:
        try:
            async with runtime.open_database(settings) as database, database.session() as s:
                return await head_is_in_chain(s, int(head["seq"]), str(head["hash"]))
        except Exception:  # no database here: the folder alone was checked
            return None

    found = runtime.run(live())
    if found is False:
        click.echo(f"BROKEN: audit head #{head['seq']} is not in this database's chain", err=True)
        raise SystemExit(1)
    where = "and is in this database's audit chain" if found else "(no database to compare with)"
    click.echo(f"OK: every file matches; audit head #{head['seq']} verifies {where}")


@click.group("monitor")
def monitor_group() -> None:
    """The Monitor: partners' links and the background job."""


@monitor_group.command("partner-link")
@click.argument("partner_id", type=int)
def partner_link(partner_id: int) -> None:
    """Issue a partner's personal link (any earlier one stops working) and print it."""
    settings = runtime.settings()

    async def go() -> str:
        from summit.monitor import partners

        async with runtime.open_summit(settings) as opened:
            partner = await partners.get_partner(opened.session, opened.summit.id, partner_id)
            return await partners.issue_link(opened.session, partner, actor="cli")

    token = runtime.run(go())
    click.echo(f"{settings.base_url}/partner/link/{token}")


@monitor_group.command("run-jobs")
def run_jobs() -> None:
    """One pass of the background job: overdue answers, partners' report reminders and overdue
    reports, followers' mail, sending."""
    settings = runtime.settings()

    async def go() -> str:
        from summit.monitor.jobs import run_once

        async with runtime.open_database(settings) as database:
            report = await run_once(database, settings)
        return (
            f"overdue {report.overdue}; reports reminded {report.reminded}, "
            f"overdue {report.reports_overdue}; queued {report.queued}; sent {report.sent}"
        )

    click.echo(runtime.run(go()))


commands: list[click.Command] = [export, monitor_group]
