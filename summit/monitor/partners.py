"""Use cases of the coalition's partners: the agreement text, personal links, signing, areas.

Every function works inside the caller's transaction and writes its audit entry there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit, sessions
from summit.core.errors import NotFound
from summit.core.i18n import gettext
from summit.core.models import LoginSession, Partner, Summit, utcnow
from summit.core.security import new_pseudonym, new_token, token_hash
from summit.core.service import LinkRejected
from summit.core.times import local_date, summit_time_zone
from summit.monitor.models import MonitorArea, PartnerAccount, PartnerAgreement, PartnerLink
from summit.monitor.rules import MonitorInputError, _
from summit.monitor.rules.progress import clean_text

_KEY = re.compile(r"[^a-z0-9]+")


# --- policy areas -------------------------------------------------------------------------------


def area_key(label: str) -> str:
    return _KEY.sub("-", label.strip().lower()).strip("-")[:40]


async def areas(session: AsyncSession, summit_id: int) -> list[MonitorArea]:
    query = select(MonitorArea).where(MonitorArea.summit_id == summit_id)
    return list((await session.execute(query.order_by(MonitorArea.position))).scalars())


async def set_areas(
    session: AsyncSession, summit: Summit, labels: list[str], *, actor: str
) -> list[MonitorArea]:
    """Add the policy areas that are not there yet (one label per line); keys stay stable."""
    cleaned = [clean_text(label, "areas", limit=120) for label in labels if label.strip()]
    if not cleaned:
        raise MonitorInputError("areas", _("name at least one policy area"))
    existing = {a.key: a for a in await areas(session, summit.id)}
    for label in cleaned:
        key = area_key(label)
        if not key:
            raise MonitorInputError("areas", _("%(label)s has no letters or digits"), label=label)
        if key not in existing:
            existing[key] = MonitorArea(
                summit_id=summit.id, key=key, label=label, position=len(existing)
            )
            session.add(existing[key])
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="monitor.areas",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"areas": sorted(existing)},
    )
    return await areas(session, summit.id)


async def check_area_keys(session: AsyncSession, summit_id: int, keys: list[str]) -> list[str]:
    known = {a.key for a in await areas(session, summit_id)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise MonitorInputError(
            "areas", _("unknown policy area: %(areas)s"), areas=", ".join(unknown)
        )
    return sorted(set(keys))


# --- the agreement ------------------------------------------------------------------------------


async def agreement(session: AsyncSession, summit_id: int) -> PartnerAgreement | None:
    """The newest version of the partner agreement."""
    return await session.scalar(
        select(PartnerAgreement)
        .where(PartnerAgreement.summit_id == summit_id)
        .order_by(PartnerAgreement.version.desc())
        .limit(1)
    )


async def set_agreement(
    session: AsyncSession, summit: Summit, text: str, *, actor: str
) -> PartnerAgreement:
    """Publish a new version of the agreement text (signatures name the version they signed)."""
    body = clean_text(text, "text", required=True, limit=20000)
    current = await agreement(session, summit.id)
    if current is not None and current.text == body:
        return current
    digest = hashlib.sha256(body.encode()).hexdigest()
    version = 1 if current is None else current.version + 1
    row = PartnerAgreement(summit_id=summit.id, version=version, text=body, text_sha256=digest)
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="agreement.publish",
        subject=f"agreement:{row.id}",
        summit_id=summit.id,
        payload={"version": version, "text_sha256": digest},
    )
    return row


# --- accounts and links -------------------------------------------------------------------------


async def get_partner(session: AsyncSession, summit_id: int, partner_id: int) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None or partner.summit_id != summit_id:
        raise NotFound(gettext("Partner %(id)s does not exist.") % {"id": partner_id})
    return partner


async def account(session: AsyncSession, partner: Partner) -> PartnerAccount:
    """The partner's account, created on first use."""
    found = await session.scalar(
        select(PartnerAccount).where(PartnerAccount.partner_id == partner.id)
    )
    if found is None:
        found = PartnerAccount(partner_id=partner.id, pseudonym=new_pseudonym("O"), areas=[])
        session.add(found)
        await session.flush()
    return found


async def accounts(session: AsyncSession, summit_id: int) -> list[tuple[Partner, PartnerAccount]]:
    partners = list(
        (
            await session.execute(
                select(Partner).where(Partner.summit_id == summit_id).order_by(Partner.id)
            )
        ).scalars()
    )
    return [(p, await account(session, p)) for p in partners]


async def issue_link(session: AsyncSession, partner: Partner, *, actor: str) -> str:
    """A new personal link for the partner; any earlier one is revoked."""
    await session.execute(
        update(PartnerLink)
        .where(PartnerLink.partner_id == partner.id, PartnerLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    token = new_token()
    session.add(PartnerLink(partner_id=partner.id, token_hash=token_hash(token)))
    owner = await account(session, partner)
    await audit.append(
        session,
        actor=actor,
        action="partner.link_issue",
        subject=owner.pseudonym,
        summit_id=partner.summit_id,
    )
    return token


async def revoke_links(session: AsyncSession, partner: Partner, *, actor: str) -> None:
    await session.execute(
        update(PartnerLink)
        .where(PartnerLink.partner_id == partner.id, PartnerLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    # every session opened with one of the partner's links ends now, not at its next request
    links = select(PartnerLink.id).where(PartnerLink.partner_id == partner.id)
    await sessions.end(session, LoginSession.partner_link_id.in_(links), reason="link")
    owner = await account(session, partner)
    await audit.append(
        session,
        actor=actor,
        action="partner.link_revoke",
        subject=owner.pseudonym,
        summit_id=partner.summit_id,
    )


async def resolve_link(session: AsyncSession, token: str) -> PartnerLink:
    if not token or len(token) > 128:
        raise LinkRejected("unknown")
    link = await session.scalar(
        select(PartnerLink).where(PartnerLink.token_hash == token_hash(token))
    )
    if link is None:
        raise LinkRejected("unknown")
    if link.revoked_at is not None:
        raise LinkRejected("revoked")
    link.last_used_at = utcnow()
    return link


async def link_partner(session: AsyncSession, link_id: int) -> Partner | None:
    """The partner of a still valid link (the request context checks this on every request)."""
    link = await session.get(PartnerLink, link_id)
    if link is None or link.revoked_at is not None:
        return None
    return await session.get(Partner, link.partner_id)


# --- signing and committing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    partner: str
    version: int
    text_sha256: str
    signed_at: dt.datetime
    signatory: str


async def sign(
    session: AsyncSession,
    partner: Partner,
    *,
    signatory: str,
    agreed: bool,
    area_keys: list[str],
    now: dt.datetime | None = None,
) -> PartnerAccount:
    """The partner signs the newest agreement and states the policy areas it commits to."""
    current = await agreement(session, partner.summit_id)
    if current is None:
        raise MonitorInputError("agreement", _("the organiser has not published the agreement yet"))
    if not agreed:
        raise MonitorInputError("agree", _("tick the box to sign the partner agreement"))
    who = clean_text(signatory, "signatory", required=True, limit=200)
    keys = await check_area_keys(session, partner.summit_id, area_keys)
    if not keys:
        raise MonitorInputError("areas", _("choose at least one policy area"))
    owner = await account(session, partner)
    moment = now or utcnow()
    owner.agreement_id, owner.signed_at, owner.signatory, owner.areas = (
        current.id,
        moment,
        who,
        keys,
    )
    summit = await session.get(Summit, partner.summit_id)
    partner.signed_on = local_date(moment, summit_time_zone(summit))  # the summit's day
    await session.flush()
    await audit.append(
        session,
        actor=owner.pseudonym,
        action="agreement.sign",
        subject=owner.pseudonym,
        summit_id=partner.summit_id,
        payload={
            "partner": partner.name,
            "version": current.version,
            "text_sha256": current.text_sha256,
            "areas": keys,
        },
        now=moment,
    )
    return owner


async def signatures(session: AsyncSession, summit_id: int) -> list[Signature]:
    rows = (
        await session.execute(
            select(Partner, PartnerAccount, PartnerAgreement)
            .join(PartnerAccount, PartnerAccount.partner_id == Partner.id)
            .join(PartnerAgreement, PartnerAgreement.id == PartnerAccount.agreement_id)
            .where(Partner.summit_id == summit_id, PartnerAccount.signed_at.is_not(None))
            .order_by(PartnerAccount.signed_at)
        )
    ).all()
    return [
        Signature(p.name, ag.version, ag.text_sha256, acc.signed_at, acc.signatory)
        for p, acc, ag in rows
        if acc.signed_at is not None
    ]
