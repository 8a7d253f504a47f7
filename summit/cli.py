"""The ``summit`` command: ``serve`` (the default), ``demo``, ``db``, ``user``, ``audit``,
``doctor``, ``backup``."""

from __future__ import annotations

import sys
from typing import Any, TypeVar

import click

import summit.schema  # noqa: F401  (registers every part's tables before the first query)
from summit import __version__
from summit.core import i18n, runtime

T = TypeVar("T")
#: Largest WebSocket message the server accepts (bytes); signalling and pings are far smaller.
WS_MAX_SIZE = 256 * 1024


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is named (``summit --port 9000`` works too)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in {"--help", "-h", "--version"}):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="summit")
@click.pass_context
def main(ctx: click.Context) -> None:
    """G1000 citizens' summit platform.

    Without a command, runs `serve`. Configuration comes from SUMMIT_* environment variables
    (see docs/configuration.md); the default is a SQLite file in ./data and no other services.
    """
    # The command line speaks English (its messages and errors from the rules) for the length of
    # the command; the server does not: its pages follow each visitor's language, and a page
    # made before the visitor is known (the database is away) the platform's default.
    if ctx.invoked_subcommand not in (None, "serve"):
        ctx.with_resource(i18n.language("en"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--demo/--no-demo",
    default=True,
    show_default=True,
    help="Create the demo summit on first start when the database holds no summit.",
)
def serve(host: str, port: int, demo: bool) -> None:
    """Start the platform (one process) and print where to open it."""
    import uvicorn

    from summit.app import create_app
    from summit.core import logs
    from summit.core.db import Database, upgrade
    from summit.core.doctor import check
    from summit.demo import create_demo, credentials_path, has_summit, save_credentials

    base = f"http://{host}:{port}"
    settings = runtime.settings(**({} if _env_has("SUMMIT_BASE_URL") else {"base_url": base}))
    logs.configure(settings.log_level)

    async def prepare() -> str | None:
        db = Database(settings.database_url)
        try:
            await db.ping()
            if settings.is_sqlite:
                # The embedded default migrates itself; PostgreSQL is migrated on purpose.
                await upgrade(settings.database_url, secret_key=settings.secret_key)
            await db.check_revision()
            if demo and not await has_summit(db):
                info = await create_demo(db)
                save_credentials(info, settings.data_dir, settings.base_url)
                return info.render(settings.base_url)
            path = credentials_path(settings.data_dir)
            return path.read_text() if path.exists() else None
        finally:
            await db.dispose()

    message = runtime.run(prepare())
    click.echo(f"G1000 summit platform {__version__} on {settings.base_url}/")
    for finding in check(settings):
        if finding.level == "warning":
            click.echo(str(finding), err=True)
    if message:
        click.echo(message)
    app = create_app(settings)
    # X-Forwarded-For is read by the app only from SUMMIT_TRUSTED_PROXIES (uvicorn's own
    # handling would believe any local process); live-socket messages are small.
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        ws_max_size=WS_MAX_SIZE,
    )


def _env_has(name: str) -> bool:
    import os

    return name in os.environ


@main.command()
@click.option("--participants", default=200, show_default=True, type=click.IntRange(16, 5000))
@click.option(
    "--rounds", default=4, show_default=True, type=click.IntRange(1, 8), help="Rounds to seat."
)
def demo(participants: int, rounds: int) -> None:
    """Create the demo summit in an empty database and print its logins and links."""
    from summit.core.db import Database, upgrade
    from summit.demo import create_demo, has_summit, save_credentials

    settings = runtime.settings()

    async def go() -> str:
        db = Database(settings.database_url)
        try:
            await db.ping()
            if settings.is_sqlite:
                await upgrade(settings.database_url, secret_key=settings.secret_key)
            await db.check_revision()
            if await has_summit(db):
                raise click.ClickException(
                    "the database already holds a summit; point SUMMIT_DATA_DIR or "
                    "SUMMIT_DATABASE_URL at an empty database for the demo"
                )
            info = await create_demo(db, participants=participants, rounds=rounds)
            save_credentials(info, settings.data_dir, settings.base_url)
            return info.render(settings.base_url)
        finally:
            await db.dispose()

    click.echo(runtime.run(go()))


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Migrate the database schema (creates it on an empty database)."""
    from summit.core.db import Database, upgrade

    settings = runtime.settings()

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            await database.ping()
            await upgrade(settings.database_url, revision, secret_key=settings.secret_key)
            return await database.current_revision()
        finally:
            await database.dispose()

    click.echo(f"database at revision {runtime.run(go())}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and whether it is the newest."""
    from summit.core.db import Database, head_revision

    settings = runtime.settings()

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            return await database.current_revision()
        finally:
            await database.dispose()

    current = runtime.run(go())
    head = head_revision()
    click.echo(f"current {current or '(empty)'}; newest {head}")
    if current != head:
        sys.exit(1)


@main.group()
def user() -> None:
    """Organiser and moderator accounts."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["organiser", "moderator"]), required=True, help="The user's role."
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of asking for it.",
)
def user_add(username: str, role: str, password_stdin: bool) -> None:
    """Add an organiser or moderator who logs in with a password."""
    from summit.core import service as repository
    from summit.core.db import Database

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = runtime.settings()

    async def go() -> str:
        database = Database(settings.database_url)
        try:
            await database.check_revision()
            async with database.session() as session:
                created = await repository.add_staff_user(session, username, password, role)
                return created.pseudonym
        finally:
            await database.dispose()

    pseudonym = runtime.run(go())
    click.echo(f"added {role} {username.strip().lower()} ({pseudonym})")


def _set_active(username: str, active: bool) -> tuple[str, int]:
    from summit.core import service as repository

    settings = runtime.settings()

    async def go() -> tuple[str, int]:
        async with runtime.open_database(settings) as database, database.session() as session:
            user, ended = await repository.set_staff_active(session, username, active)
            return user.pseudonym, ended

    return runtime.run(go())


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable a staff account and end all its sessions at once (logged)."""
    pseudonym, ended = _set_active(username, False)
    click.echo(f"disabled {username.strip().lower()} ({pseudonym}); {ended} sessions ended")


@user.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Enable a disabled staff account again (logged); it logs in anew."""
    pseudonym, _ended = _set_active(username, True)
    click.echo(f"enabled {username.strip().lower()} ({pseudonym})")


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--head",
    "published",
    default=None,
    help="A head published earlier (HASH, or '#SEQ HASH'): also check that the log still "
    "contains it, i.e. was not cut back or rewritten since.",
)
def audit_verify(published: str | None) -> None:
    """Re-check every link of the audit chain; exit 1 at the first broken one."""
    from summit.core import audit as audit_log

    settings = runtime.settings()

    async def go() -> Any:
        async with runtime.open_database(settings) as database, database.session() as session:
            report = await audit_log.verify(session)
            anchored = None
            if published is not None:
                anchored = await audit_log.check_head(session, published, report)
            return report, anchored

    report, anchored = runtime.run(go())
    if not report.ok:
        click.echo(
            f"BROKEN at entry #{report.broken_seq}: {report.reason} "
            f"({report.entries} entries before it check out)",
            err=True,
        )
        sys.exit(1)
    if anchored is not None and not anchored.ok:
        click.echo(f"BROKEN: head {published}: {anchored.reason}", err=True)
        sys.exit(1)
    click.echo(f"OK: {report.entries} entries; head {report.head}")
    if anchored is not None:
        click.echo(f"OK: the published head is entry {anchored.anchor}; nothing before it changed")


def _register_parts() -> None:
    from summit.core import commands as core
    from summit.council import commands as council
    from summit.forum import commands as forum
    from summit.ideas import commands as ideas
    from summit.lottery import commands as lottery
    from summit.media import commands as media
    from summit.monitor import commands as monitor
    from summit.seating import commands as seating

    for module in (core, lottery, seating, ideas, council, forum, monitor, media):
        for command in module.commands:
            main.add_command(command)


_register_parts()
