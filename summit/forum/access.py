"""Who is calling a forum page: a resident or participant who may react, a workshop's member,
expert, official or organiser; and the forum's rate limits.

Residents and workshop guests are remembered in the signed session (``forum_reactor``,
``forum_guest``: ids only); every request checks them again, so a revoked guest link or a
deleted reactor stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from summit.core.models import Participant, Summit
from summit.core.ratelimit import RateLimiter
from summit.core.rules.roles import Principal
from summit.core.web import client_key, identity
from summit.forum import reactors, workshops
from summit.forum.models import Reactor, Workshop, WorkshopGuest

REACTOR_KEY = "forum_reactor"
GUEST_KEY = "forum_guest"
#: Posts per minute from one address on the forum's public forms (a hall behind one address
#: still fits: each person posts a few times a minute at most).
POSTS_PER_MINUTE = 60
#: Attempts per minute to prove a resident (letter codes and postcodes are guessable).
CHECKS_PER_MINUTE = 10


def secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def limiter(request: Request, name: str, per_minute: int) -> RateLimiter:
    state = request.app.state
    found = getattr(state, name, None)
    if not isinstance(found, RateLimiter):
        found = RateLimiter(per_minute)
        setattr(state, name, found)
    return found


def too_many(request: Request, name: str, per_minute: int) -> bool:
    """Count a hit for this address; True when it is over the limit."""
    return limiter(request, name, per_minute).hit(client_key(request, name)) > 0


def reporter(request: Request) -> str:
    """A keyed hash that tells reporters apart without keeping who they are."""
    who = f"{client_key(request, 'report')}:{request.session.get('csrf', '')}"
    return hmac.new(secret(request).encode(), who.encode(), hashlib.sha256).hexdigest()


async def current_reactor(
    request: Request, session: AsyncSession, summit: Summit, *, create: bool = False
) -> Reactor | None:
    """The caller as a reactor: a participant (always), else a proven resident of this session.
    A participant's reactor row is written only when they act (``create``)."""
    ident = identity(request)
    if ident.participant_id is not None and ident.summit_id == summit.id:
        participant = await session.get(Participant, ident.participant_id)
        if participant is not None:
            return await reactors.for_participant(
                session, participant, secret(request), create=create
            )
    reactor_id = request.session.get(REACTOR_KEY)
    found = await reactors.confirmed(
        session, summit.id, reactor_id if isinstance(reactor_id, int) else None
    )
    if found is None:
        request.session.pop(REACTOR_KEY, None)
    return found


async def current_guest(request: Request, session: AsyncSession) -> WorkshopGuest | None:
    guest_id = request.session.get(GUEST_KEY)
    if not isinstance(guest_id, int):
        return None
    guest = await session.get(WorkshopGuest, guest_id)
    if guest is None or guest.revoked_at is not None:
        request.session.pop(GUEST_KEY, None)
        return None
    return guest


async def author(
    request: Request, session: AsyncSession, workshop: Workshop
) -> workshops.Author | None:
    """Who may write in this workshop: the organiser, a member, or one of its guests."""
    ident = identity(request)
    if Principal.ORGANISER in ident.principals and ident.staff_pseudonym:
        return workshops.Author("organiser", ident.staff_pseudonym)
    if ident.participant_id is not None:
        row = await workshops.membership(session, workshop.id, ident.participant_id)
        if row is not None and row.status == "member" and ident.participant_pseudonym:
            return workshops.Author("member", ident.participant_pseudonym)
    guest = await current_guest(request, session)
    if guest is not None and guest.workshop_id == workshop.id:
        return workshops.Author(guest.role, guest.pseudonym)
    return None
