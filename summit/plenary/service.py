"""Display links for the hall's screen, and what the plenary screen shows of the votes.

A display link opens the plenary screen without a login; only the SHA-256 of its token is kept,
and it can be revoked. The screen's themes come from the ideas part (``summit.ideas.board``),
the prioritisation and the Burgerraad from the council part.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import rows_of
from summit.core.errors import NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Summit, utcnow
from summit.core.security import new_token, token_hash
from summit.council import clean_text, council_outcome, priority_totals, turnout
from summit.council.models import CouncilVote, PriorityVote
from summit.plenary.models import DisplayLink


async def issue_display_link(
    session: AsyncSession, summit: Summit, *, actor: str, label: str = ""
) -> tuple[DisplayLink, str]:
    """A new display link; the token is returned once and only its hash is stored."""
    token = new_token()
    link = DisplayLink(
        summit_id=summit.id,
        token_hash=token_hash(token),
        label=clean_text(label, "label", limit=120),
    )
    session.add(link)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="display.issue",
        subject=f"display:{link.id}",
        summit_id=summit.id,
        payload={"label": link.label},
    )
    return link, token


async def revoke_display_link(
    session: AsyncSession, summit_id: int, link_id: int, *, actor: str
) -> DisplayLink:
    link = await session.get(DisplayLink, link_id)
    if link is None or link.summit_id != summit_id:
        raise NotFound(_("display link %(link_id)s does not exist") % {"link_id": link_id})
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        await audit.append(
            session,
            actor=actor,
            action="display.revoke",
            subject=f"display:{link.id}",
            summit_id=summit_id,
        )
    return link


async def display_links(session: AsyncSession, summit_id: int) -> list[DisplayLink]:
    where = DisplayLink.summit_id == summit_id
    return await rows_of(session, DisplayLink, where, order_by=DisplayLink.id.desc())


class DisplayLinkRejected(Exception):
    """An unknown or revoked display link (the message says which)."""


async def resolve_display_link(session: AsyncSession, token: str) -> DisplayLink:
    if not token or len(token) > 128:
        raise DisplayLinkRejected("unknown")
    link = await session.scalar(
        select(DisplayLink).where(DisplayLink.token_hash == token_hash(token))
    )
    if link is None:
        raise DisplayLinkRejected("unknown")
    if link.revoked_at is not None:
        raise DisplayLinkRejected("revoked")
    return link


async def plenary_state(session: AsyncSession, summit_id: int) -> dict[str, Any]:
    """What the plenary screen shows: the latest prioritisation and the latest Burgerraad vote
    (its turnout while open, its result once closed)."""
    state: dict[str, Any] = {"priority": None, "council": None}
    latest_priority = await session.scalar(
        select(PriorityVote)
        .where(PriorityVote.summit_id == summit_id, PriorityVote.status != "planned")
        .order_by(PriorityVote.id.desc())
        .limit(1)
    )
    if latest_priority is not None:
        state["priority"] = (await priority_totals(session, latest_priority)).as_json()
    latest_council = await session.scalar(
        select(CouncilVote)
        .where(CouncilVote.summit_id == summit_id, CouncilVote.status != "planned")
        .order_by(CouncilVote.id.desc())
        .limit(1)
    )
    if latest_council is not None:
        if latest_council.status == "closed":
            outcome = await council_outcome(session, latest_council, with_receipts=False)
            state["council"] = outcome.as_json()
        else:
            state["council"] = await turnout(session, latest_council)
    return state
