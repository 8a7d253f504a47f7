"""The forum's settings of a summit: open or not, who may react, and the limits; and when the
video rooms of online workshop meetings open and close (kept in the summit's settings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import Summit, utcnow
from summit.forum.models import ForumSettings
from summit.forum.rules.meetings import check_room_settings
from summit.forum.rules.reactions import MAX_LENGTH_LIMIT, check_methods, parse_postcodes

DEFAULT_METHODS = ["letter_code"]


async def forum_settings(session: AsyncSession, summit_id: int) -> ForumSettings:
    """The summit's forum settings (created with the defaults on first use; when many pages are
    opened at once, one request creates them and the others read that row)."""
    where = ForumSettings.summit_id == summit_id
    row = await session.scalar(select(ForumSettings).where(where))
    if row is None:
        row = ForumSettings(
            summit_id=summit_id,
            open=False,
            methods=list(DEFAULT_METHODS),
            postcodes=[],
            max_length=1000,
            per_hour=10,
            map_seed="",
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:  # another request created them first
            found = await session.scalar(select(ForumSettings).where(where))
            if found is None:
                raise
            row = found
    return row


@dataclass(frozen=True)
class SettingsForm:
    open: bool
    methods: Sequence[str]
    postcodes: str
    max_length: int
    per_hour: int
    map_seed: str = ""


def _checked(form: SettingsForm) -> tuple[list[str], list[str]]:
    methods = check_methods(form.methods)
    postcodes = parse_postcodes([form.postcodes])
    if "postcode" in methods and not postcodes:
        raise InvalidInput("postcodes", _("List the municipality's postcodes to use this check."))
    if not 20 <= form.max_length <= MAX_LENGTH_LIMIT:
        raise InvalidInput(
            "max_length", _("Choose between 20 and %(max)s characters.") % {"max": MAX_LENGTH_LIMIT}
        )
    if not 1 <= form.per_hour <= 1000:
        raise InvalidInput("per_hour", _("Choose between 1 and 1000 reactions an hour."))
    if len(form.map_seed) > 200:
        raise InvalidInput("map_seed", _("Keep the seed under 200 characters."))
    return methods, postcodes


async def save_settings(
    session: AsyncSession, summit: Summit, *, actor: str, form: SettingsForm
) -> ForumSettings:
    methods, postcodes = _checked(form)
    row = await forum_settings(session, summit.id)
    row.open = form.open
    row.methods = methods
    row.postcodes = postcodes
    row.max_length = form.max_length
    row.per_hour = form.per_hour
    row.map_seed = form.map_seed.strip()
    row.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="forum.settings",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={
            "open": row.open,
            "methods": methods,
            "postcodes": len(postcodes),
            "max_length": row.max_length,
            "per_hour": row.per_hour,
            "map_seed": row.map_seed,
        },
    )
    return row


async def save_room_settings(
    session: AsyncSession, summit: Summit, *, actor: str, values: dict[str, int]
) -> dict[str, int]:
    """When online workshop meetings' video rooms open and close (summit settings, minutes):
    ``forum_room_opens_before``, ``forum_meeting_minutes``, ``forum_room_closes_after``."""
    checked = check_room_settings(values)
    fresh = await session.get(Summit, summit.id)
    assert fresh is not None
    fresh.settings = {**(fresh.settings or {}), **checked}
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="forum.meeting_room",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload=checked,
    )
    return checked
