"""Who may react and vote on the forum: residents who proved it (letter code, postcode, a
confirmed e-mail address) and the summit's participants.

A resident is a ``Reactor`` known by a keyed hash of the proof (``reactor_key``): the same letter
code or e-mail address finds the same reactor again, and the database never holds the value. A
postcode proves only an area, so every postcode check is a new reactor.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit, utcnow
from summit.core.security import new_pseudonym, new_token, normalise_code, token_hash
from summit.forum.models import Reactor
from summit.forum.rules.reactions import (
    method_names,
    normalise_email,
    normalise_postcode,
    postcode_allowed,
    reactor_key,
)
from summit.forum.settings import forum_settings
from summit.lottery.models import Invitation

CONFIRM_HOURS = 24


async def _allowed(session: AsyncSession, summit_id: int, method: str) -> list[str]:
    settings = await forum_settings(session, summit_id)
    if method not in settings.methods:
        names = method_names()
        allowed = ", ".join(names[m] for m in settings.methods) or _("none")
        raise InvalidInput(
            "method",
            _("This forum does not take part by %(method)s. It accepts: %(allowed)s.")
            % {"method": names.get(method, method), "allowed": allowed},
        )
    return list(settings.postcodes)


async def _reactor(
    session: AsyncSession, summit: Summit, *, kind: str, key: str, pseudonym: str = ""
) -> Reactor:
    found = await session.scalar(
        select(Reactor).where(Reactor.summit_id == summit.id, Reactor.key_hash == key)
    )
    if found is not None:
        return found
    reactor = Reactor(
        summit_id=summit.id, kind=kind, key_hash=key, pseudonym=pseudonym or new_pseudonym("R")
    )
    session.add(reactor)
    await session.flush()
    await audit.append(
        session,
        actor=reactor.pseudonym,
        action="forum.verify",
        subject=reactor.pseudonym,
        summit_id=summit.id,
        payload={"method": kind},
    )
    return reactor


async def by_letter_code(session: AsyncSession, summit: Summit, secret: str, code: str) -> Reactor:
    """A resident with the code on their invitation letter (used to register or not)."""
    await _allowed(session, summit.id, "letter_code")
    clean = normalise_code(code or "")
    if not clean:
        raise InvalidInput("code", _("Type the code from your invitation letter."))
    invitation = await session.scalar(
        select(Invitation).where(
            Invitation.summit_id == summit.id, Invitation.code_hash == token_hash(clean)
        )
    )
    if invitation is None or not 6 <= len(clean) <= 32:
        raise InvalidInput("code", _("This code is not known. Check the letter and try again."))
    if invitation.status == "withdrawn":
        raise InvalidInput("code", _("This invitation was withdrawn."))
    reactor = await _reactor(
        session, summit, kind="letter_code", key=reactor_key(secret, "code", clean)
    )
    reactor.confirmed_at = reactor.confirmed_at or utcnow()
    return reactor


async def by_postcode(session: AsyncSession, summit: Summit, postcode: str) -> Reactor:
    """A resident whose postcode lies in the summit's list (a new reactor every time)."""
    allowed = await _allowed(session, summit.id, "postcode")
    clean = normalise_postcode(postcode)
    if not postcode_allowed(clean, allowed):
        raise InvalidInput(
            "postcode",
            _("Postcode %(postcode)s is not in %(municipality)s.")
            % {"postcode": clean, "municipality": summit.municipality},
        )
    key = reactor_key(secrets.token_hex(16), "postcode", clean)
    reactor = await _reactor(session, summit, kind="postcode", key=key)
    reactor.confirmed_at = utcnow()
    return reactor


async def request_email(
    session: AsyncSession, summit: Summit, secret: str, email: str
) -> tuple[Reactor, str]:
    """A confirmation token for an e-mail address (the caller sends the link); the address
    itself is not stored."""
    await _allowed(session, summit.id, "email")
    clean = normalise_email(email)
    reactor = await _reactor(session, summit, kind="email", key=reactor_key(secret, "email", clean))
    token = new_token()
    reactor.confirm_token_hash = token_hash(token)
    reactor.confirm_expires_at = utcnow() + dt.timedelta(hours=CONFIRM_HOURS)
    await session.flush()
    return reactor, token


async def confirm_email(session: AsyncSession, token: str) -> Reactor:
    reactor = await session.scalar(
        select(Reactor).where(Reactor.confirm_token_hash == token_hash(token or ""))
    )
    if reactor is None:
        raise NotFound(_("This confirmation link is not valid or was already used."))
    expires = reactor.confirm_expires_at
    if expires is not None and expires < utcnow():
        raise NotFound(_("This confirmation link has expired. Ask for a new one."))
    reactor.confirm_token_hash = None
    reactor.confirm_expires_at = None
    if reactor.confirmed_at is None:
        reactor.confirmed_at = utcnow()
        await audit.append(
            session,
            actor=reactor.pseudonym,
            action="forum.confirm",
            subject=reactor.pseudonym,
            summit_id=reactor.summit_id,
        )
    return reactor


async def for_participant(
    session: AsyncSession, participant: Participant, secret: str, *, create: bool = True
) -> Reactor:
    """A summit participant reacts and votes as themselves (their pseudonym, no proof needed).

    Without ``create`` (a page being read) nothing is written: a participant who has not
    reacted or voted yet gets an unsaved reactor (``id`` is None)."""
    summit = await session.get(Summit, participant.summit_id)
    assert summit is not None
    key = reactor_key(secret, "participant", str(participant.id))
    if not create:
        found = await session.scalar(
            select(Reactor).where(Reactor.summit_id == summit.id, Reactor.key_hash == key)
        )
        return found or Reactor(
            summit_id=summit.id, kind="participant", key_hash=key, pseudonym=participant.pseudonym
        )
    reactor = await _reactor(
        session, summit, kind="participant", key=key, pseudonym=participant.pseudonym
    )
    if reactor.participant_id is None:
        reactor.participant_id = participant.id
        reactor.confirmed_at = utcnow()
    return reactor


async def confirmed(
    session: AsyncSession, summit_id: int, reactor_id: int | None
) -> Reactor | None:
    """The reactor of a session, if it still exists and is confirmed."""
    if reactor_id is None:
        return None
    reactor = await session.get(Reactor, reactor_id)
    if reactor is None or reactor.summit_id != summit_id or reactor.confirmed_at is None:
        return None
    return reactor
