"""Partners as callers: a partner opens its personal link once; the signed session cookie then
names that link, and on every request :class:`PartnerContext` checks that it still holds (not
revoked) and adds the *partner* principal. Revoking the link ends the partner's session at its
next request.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from summit.core.db import Database
from summit.core.models import Partner
from summit.core.routing import Identity
from summit.core.rules.roles import Principal
from summit.monitor import partners

COOKIE_KEY = "partner_link"


class PartnerContext:
    """Runs after the core request context: loads the partner behind the session, if any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cookie: dict[str, Any] = scope.get("session", {})
        link_id = cookie.get(COOKIE_KEY)
        state = scope.setdefault("state", {})
        identity = state.get("identity")
        # static files carry no identity (the core context skips them): leave the cookie alone
        if isinstance(link_id, int) and isinstance(identity, Identity):
            db: Database = scope["app"].state.db
            async with db.session() as session:
                partner = await partners.link_partner(session, link_id)
                pseudonym = (await partners.account(session, partner)).pseudonym if partner else ""
            if partner is None:
                cookie.pop(COOKIE_KEY, None)  # revoked: the partner's session ends here
            else:
                identity.principals.add(Principal.PARTNER)
                state["partner"] = partner
                state["partner_pseudonym"] = pseudonym
        await self.app(scope, receive, send)


def current_partner(request: Request) -> Partner:
    partner = getattr(request.state, "partner", None)
    if not isinstance(partner, Partner):
        raise HTTPException(401, "login: open your organisation's personal link again")
    return partner


def partner_actor(request: Request) -> str:
    return str(getattr(request.state, "partner_pseudonym", "") or "partner")
