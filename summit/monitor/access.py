"""Partners as callers: opening a partner's personal link starts a server-side session (the core
``sessions`` table, :mod:`summit.core.sessions`) that names the link. On every request
:class:`PartnerContext` checks that the link still holds and adds the *partner* principal; logging
out ends the session, and revoking the link ends all of the partner's sessions at once.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from summit.core import sessions
from summit.core.db import Database
from summit.core.i18n import gettext as _
from summit.core.models import LoginSession, Partner
from summit.core.routing import Identity
from summit.core.rules.roles import Principal
from summit.monitor import partners


class PartnerContext:
    """Runs after the core request context: loads the partner behind the session, if any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        identity = state.get("identity")
        # static files carry no identity (the core context skips them); the core context read
        # the session row and tells whether it names a partner's link: only then a read here
        if (
            isinstance(identity, Identity)
            and identity.session_id is not None
            and identity.partner_link_id is not None
        ):
            db: Database = scope["app"].state.db
            link_id = identity.partner_link_id
            async with db.session() as session:
                partner = await partners.link_partner(session, link_id)
                if partner is None:  # revoked since: the session ends here
                    ended = LoginSession.id == identity.session_id
                    await sessions.end(session, ended, reason="link")
                    scope.get("session", {}).pop(sessions.COOKIE_KEY, None)
                    identity.session_id = None
                pseudonym = (await partners.account(session, partner)).pseudonym if partner else ""
            if partner is not None:
                identity.principals.add(Principal.PARTNER)
                state["partner"] = partner
                state["partner_pseudonym"] = pseudonym
        await self.app(scope, receive, send)


def current_partner(request: Request) -> Partner:
    partner = getattr(request.state, "partner", None)
    if not isinstance(partner, Partner):
        raise HTTPException(401, "login: " + _("Open your organisation's personal link again."))
    return partner


def partner_actor(request: Request) -> str:
    return str(getattr(request.state, "partner_pseudonym", "") or "partner")
