"""What every ``summit`` command shares: settings, running a coroutine, opening the summit.

Command modules (``summit/<part>/commands.py``) import this module and define their click
commands at module level; ``summit/cli.py`` adds them to the ``summit`` group. Imports go one
way only: cli → commands → runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from summit.core.errors import NotFound, SummitError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from summit.config import Settings
    from summit.core.db import Database
    from summit.core.models import Summit

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; a platform error becomes a one-line CLI error (exit status 1)."""
    try:
        return asyncio.run(coro)
    except SummitError as exc:
        raise click.ClickException(str(exc)) from None


def settings(**overrides: Any) -> Settings:
    """The settings from ``SUMMIT_*`` variables; a bad one is a one-line CLI error."""
    from summit.config import Settings

    try:
        return Settings.from_env(**overrides)
    except SummitError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.asynccontextmanager
async def open_database(config: Settings) -> AsyncIterator[Database]:
    """The database at the schema revision this code expects; disposed on exit."""
    from summit.core.db import Database

    database = Database(config.database_url)
    try:
        await database.check_revision()
        yield database
    finally:
        await database.dispose()


@dataclass(frozen=True)
class OpenSummit:
    """The current summit in an open session (the session commits on a clean exit)."""

    database: Database
    session: AsyncSession
    summit: Summit


@contextlib.asynccontextmanager
async def open_summit(config: Settings) -> AsyncIterator[OpenSummit]:
    """Open the database, check its revision, and load the current summit in one session.

    Raises :class:`NotFound` when the database holds no summit yet.
    """
    async with open_database(config) as database, database.session() as session:
        yield OpenSummit(database, session, await current_summit(session))


async def current_summit(session: AsyncSession) -> Summit:
    """The current summit; :class:`NotFound` when the database holds none yet."""
    from summit.core import service

    summit = await service.current_summit(session)
    if summit is None:
        raise NotFound("summit: there is no summit in this database yet")
    return summit
