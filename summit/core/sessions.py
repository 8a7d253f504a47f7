"""Server-side sign-in sessions: start one at login or link opening, end it at logout, when an
account is disabled, or when the link it was opened with stops holding.

The session cookie (signed by Starlette) carries the random token under ``"sid"``; only its
SHA-256 is stored, so a copy of the database does not hold working sessions.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.models import LoginSession, utcnow
from summit.core.security import new_token, token_hash

#: The key of the session token in the signed cookie.
COOKIE_KEY = "sid"


async def start(
    session: AsyncSession,
    *,
    hours: int,
    staff_user_id: int | None = None,
    personal_link_id: int | None = None,
    partner_link_id: int | None = None,
) -> str:
    """A new session for a staff user, a personal link or a partner's link; returns the token
    for the cookie."""
    token = new_token()
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            staff_user_id=staff_user_id,
            personal_link_id=personal_link_id,
            partner_link_id=partner_link_id,
            expires_at=utcnow() + dt.timedelta(hours=hours),
        )
    )
    await session.flush()
    return token


def _active(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (LoginSession.ended_at.is_(None), LoginSession.expires_at > now)


async def active(session: AsyncSession, token: object) -> LoginSession | None:
    """The session of this cookie token, if it has not ended or expired."""
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return None
    return await session.scalar(
        select(LoginSession).where(
            LoginSession.token_hash == token_hash(token), *_active(utcnow())
        )
    )


async def is_active(session: AsyncSession, session_id: int) -> bool:
    found = await session.scalar(
        select(LoginSession.id).where(LoginSession.id == session_id, *_active(utcnow()))
    )
    return found is not None


async def end(session: AsyncSession, *where: ColumnElement[bool], reason: str) -> int:
    """End every open session matching ``where``; returns how many ended."""
    result = await session.execute(
        update(LoginSession)
        .where(LoginSession.ended_at.is_(None), *where)
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def end_token(session: AsyncSession, token: object, *, reason: str = "logout") -> int:
    if not isinstance(token, str):
        return 0
    return await end(session, LoginSession.token_hash == token_hash(token), reason=reason)


async def end_for_staff(session: AsyncSession, staff_user_id: int, *, reason: str) -> int:
    return await end(session, LoginSession.staff_user_id == staff_user_id, reason=reason)
