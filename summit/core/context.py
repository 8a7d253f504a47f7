"""Who is calling, for every request and live socket: the server-side session behind the
cookie, the summit, and the language.

The signed cookie holds only the CSRF token, the language and a random session token (``sid``);
whether that session still stands is decided here, on every request: it must not have ended
(logout, a disabled account) or expired, and a participant's personal link must still hold (not
revoked, not expired, not withdrawn). A session that no longer stands is ended in the database.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from summit.core import i18n, sessions
from summit.core.db import Database
from summit.core.models import LoginSession, Participant, PersonalLink, StaffUser, Summit
from summit.core.routing import Identity
from summit.core.rules.roles import Principal
from summit.core.service import link_still_holds

#: Keys of the cookie that earlier versions trusted directly; ignored and dropped now.
_LEGACY_KEYS = ("staff_id", "link_id")


async def _staff(session: AsyncSession, row: LoginSession, identity: Identity) -> bool:
    user = await session.get(StaffUser, row.staff_user_id)
    if user is None or not user.active:
        return False
    identity.staff_id = user.id
    identity.staff_role = user.role
    identity.staff_pseudonym = user.pseudonym
    identity.principals.add(Principal(user.role))
    if user.role == Principal.ORGANISER:
        identity.principals.add(Principal.MODERATOR)
    return True


async def _participant(session: AsyncSession, link_id: int, identity: Identity) -> Summit | None:
    # One round trip for the link, its participant and their summit.
    row = (
        await session.execute(
            select(Participant, Summit)
            .join(PersonalLink, PersonalLink.participant_id == Participant.id)
            .join(Summit, Summit.id == Participant.summit_id)
            .where(*link_still_holds(link_id))
        )
    ).first()
    if row is None:
        return None
    participant, summit = row
    identity.link_id = link_id
    identity.participant_id = participant.id
    identity.participant_pseudonym = participant.pseudonym
    identity.summit_id = participant.summit_id
    identity.principals.add(Principal.PARTICIPANT)
    return summit


async def load_identity(
    session: AsyncSession, cookie: dict[str, Any]
) -> tuple[Identity, Summit | None]:
    """The caller of this cookie, and the summit of a participant; ends a session that no
    longer stands and drops it from the cookie."""
    identity = Identity()
    for key in _LEGACY_KEYS:
        cookie.pop(key, None)
    row = await sessions.active(session, cookie.get(sessions.COOKIE_KEY))
    if row is None:
        cookie.pop(sessions.COOKIE_KEY, None)
        return identity, None
    summit = None
    holds, reason = True, "disabled"
    if row.staff_user_id is not None:
        holds = await _staff(session, row, identity)
    if holds and row.personal_link_id is not None:
        summit = await _participant(session, row.personal_link_id, identity)
        holds, reason = summit is not None, "link"
    if not holds:
        await sessions.end(session, LoginSession.id == row.id, reason=reason)
        cookie.pop(sessions.COOKIE_KEY, None)
        return Identity(), None
    identity.session_id = row.id
    identity.partner_link_id = row.partner_link_id
    return identity, summit


async def still_holds(database: Database, identity: Identity) -> bool:
    """Whether the session behind a live socket still stands (checked on schedule)."""
    if identity.session_id is None:
        return True
    async with database.session() as session:
        if not await sessions.is_active(session, identity.session_id):
            return False
        if identity.link_id is not None:
            found = await session.scalar(
                select(PersonalLink.id)
                .join(Participant, Participant.id == PersonalLink.participant_id)
                .where(*link_still_holds(identity.link_id))
            )
            if found is None:
                return False
        if identity.staff_id is not None:
            user = await session.get(StaffUser, identity.staff_id)
            return user is not None and user.active
        return True


#: How long a request on a light route (``Access.context`` False) may use the summit read by an
#: earlier one (seconds).
LIGHT_SUMMIT_SECONDS = 5.0


class RequestContext:
    """Loads the caller (:func:`load_identity`), the summit and the language for every request
    and socket; a revoked or expired link or a disabled account stops working at once.

    ``light`` are the path patterns of hot public routes (the ballot box): a request there that
    carries no session is public without a database read, and its summit is the one read for
    such a request at most ``LIGHT_SUMMIT_SECONDS`` ago (the route checks what it writes in its
    own transaction).
    """

    def __init__(self, app: ASGIApp, light: Iterable[re.Pattern[str]] = ()) -> None:
        self.app = app
        self.light = list(light)
        self._summit: tuple[float, Summit | None] | None = None
        self._reading: asyncio.Future[Summit | None] | None = None

    async def _light_summit(self, db: Database) -> Summit | None:
        """The summit read at most ``LIGHT_SUMMIT_SECONDS`` ago; when it is older, one read for
        all the light requests that arrive meanwhile (a burst of ballots waits on the same read
        instead of each taking a connection for it)."""
        if self._summit is not None and time.monotonic() - self._summit[0] <= LIGHT_SUMMIT_SECONDS:
            return self._summit[1]
        reading, loop = self._reading, asyncio.get_running_loop()
        if reading is None or reading.done() or reading.get_loop() is not loop:
            reading = self._reading = asyncio.ensure_future(self._read_summit(db))
        # A request that goes away does not cancel the read the others wait on.
        return await asyncio.shield(reading)

    async def _read_summit(self, db: Database) -> Summit | None:
        started = time.monotonic()
        async with db.session() as session:
            found = await session.scalar(select(Summit).order_by(Summit.id.desc()).limit(1))
        self._summit = (started, found)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or scope.get("path", "").startswith(
            "/static/"
        ):
            await self.app(scope, receive, send)
            return
        db: Database = scope["app"].state.db
        cookie: dict[str, Any] = scope.get("session", {})
        light = (
            scope["type"] == "http"
            and sessions.COOKIE_KEY not in cookie
            and any(p.match(scope.get("path", "")) for p in self.light)
        )
        if light:
            identity, summit = Identity(), await self._light_summit(db)
        else:
            async with db.session() as session:
                identity, summit = await load_identity(session, cookie)
                if summit is None:
                    summit = await session.scalar(
                        select(Summit).order_by(Summit.id.desc()).limit(1)
                    )
        state = scope.setdefault("state", {})
        state["identity"] = identity
        state["summit"] = summit
        wanted = HTTPConnection(scope).query_params.get("lang")
        if wanted and wanted in i18n.available():
            cookie["lang"] = wanted
        chosen = cookie.get("lang")
        default = (
            summit.default_language if summit else scope["app"].state.settings.default_language
        )
        i18n.set_language(chosen if isinstance(chosen, str) else default)
        await self.app(scope, receive, send)
