"""The forum's call to action on a participant's home page (``/me``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.i18n import gettext as _
from summit.core.models import Participant
from summit.forum.models import ForumSettings


async def calls_to_action(session: AsyncSession, participant: Participant) -> list[tuple[str, str]]:
    """(text, link) pairs: the forum, while it takes reactions. Reads only (a summit whose
    forum was never set up has it closed)."""
    is_open = await session.scalar(
        select(ForumSettings.open).where(ForumSettings.summit_id == participant.summit_id)
    )
    if not is_open:
        return []
    return [(_("The Burgerforum is open: read the proposals and react."), "/forum")]
