"""The Monitor group (klankbordgroep): volunteers, the organiser's confirmation (a seeded draw
when there are more volunteers than seats), public assessments and the private discussion.

The draw is the lottery's own (`summit.core.rules.draw`): the volunteers' pseudonyms are the
extract, the seed is thrown in public (ten ten-sided dice), and anyone can re-run it with
:func:`verify_draw` from what is published.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.models import Participant, Partner, Summit, utcnow
from summit.core.rules.draw import DrawEntry, SeedSpec, draw_sample, extract_digest, normalise_seed
from summit.monitor import notify, partners
from summit.monitor.models import (
    MonitorAssessment,
    MonitorDraw,
    MonitorItem,
    MonitorPost,
    MonitorVolunteer,
)
from summit.monitor.rules import MonitorInputError, MonitorRefusal, _
from summit.monitor.rules.progress import VERDICTS, clean_text, parse_choice

SEED = SeedSpec(kind="dice", digits=10)


async def volunteer(session: AsyncSession, participant: Participant) -> MonitorVolunteer:
    """A participant offers to join the Monitor group (again: no change)."""
    row = await session.scalar(
        select(MonitorVolunteer).where(
            MonitorVolunteer.summit_id == participant.summit_id,
            MonitorVolunteer.participant_id == participant.id,
        )
    )
    if row is None:
        row = MonitorVolunteer(summit_id=participant.summit_id, participant_id=participant.id)
        session.add(row)
        await session.flush()
        await audit.append(
            session,
            actor=participant.pseudonym,
            action="monitor.volunteer",
            subject=participant.pseudonym,
            summit_id=participant.summit_id,
        )
    return row


async def volunteers(
    session: AsyncSession, summit_id: int
) -> list[tuple[MonitorVolunteer, Participant]]:
    rows = await session.execute(
        select(MonitorVolunteer, Participant)
        .join(Participant, Participant.id == MonitorVolunteer.participant_id)
        .where(MonitorVolunteer.summit_id == summit_id)
        .order_by(Participant.pseudonym)
    )
    return [(v, p) for v, p in rows.all()]


async def status_of(session: AsyncSession, participant: Participant) -> str | None:
    return await session.scalar(
        select(MonitorVolunteer.status).where(
            MonitorVolunteer.summit_id == participant.summit_id,
            MonitorVolunteer.participant_id == participant.id,
        )
    )


async def is_member(session: AsyncSession, participant: Participant) -> bool:
    return await status_of(session, participant) == "member"


async def compose(
    session: AsyncSession,
    summit: Summit,
    *,
    seats: int,
    seed: str,
    actor: str,
    now: dt.datetime | None = None,
) -> MonitorDraw | None:
    """Confirm the group: everyone when the volunteers fit the seats, else a seeded draw."""
    if seats < 1:
        raise MonitorInputError("seats", _("must be at least 1"))
    waiting = [(v, p) for v, p in await volunteers(session, summit.id) if v.status == "volunteered"]
    if not waiting:
        raise MonitorInputError("seats", _("there are no new volunteers to confirm"))
    moment = now or utcnow()
    entries = [DrawEntry(p.pseudonym) for _v, p in waiting]
    draw = None
    chosen = {p.pseudonym for _v, p in waiting}
    if len(waiting) > seats:
        clean_seed = normalise_seed(seed, SEED)
        drawn = draw_sample(entries, seats, clean_seed)
        chosen = set(drawn)
        draw = MonitorDraw(
            summit_id=summit.id,
            seats=seats,
            seed=clean_seed,
            volunteers_sha256=extract_digest(entries),
            volunteers=sorted(e.pseudonym for e in entries),
            drawn=drawn,
        )
        session.add(draw)
    for row, person in waiting:
        row.status = "member" if person.pseudonym in chosen else "not_drawn"
        row.decided_at = moment
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="monitor.group",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={
            "seats": seats,
            "volunteers": len(waiting),
            "volunteers_sha256": extract_digest(entries),
            "seed": draw.seed if draw else None,
            "members": sorted(chosen),
        },
        now=moment,
    )
    return draw


def verify_draw(draw: MonitorDraw) -> bool:
    """Re-run a published draw of the Monitor group from its volunteers and seed."""
    entries = [DrawEntry(p) for p in draw.volunteers]
    if extract_digest(entries) != draw.volunteers_sha256:
        return False
    return draw_sample(entries, draw.seats, draw.seed) == list(draw.drawn)


async def draws(session: AsyncSession, summit_id: int) -> list[MonitorDraw]:
    query = select(MonitorDraw).where(MonitorDraw.summit_id == summit_id)
    return list((await session.execute(query.order_by(MonitorDraw.id))).scalars())


async def members(session: AsyncSession, summit_id: int) -> list[str]:
    return sorted(
        p.pseudonym for v, p in await volunteers(session, summit_id) if v.status == "member"
    )


async def _require_member(session: AsyncSession, participant: Participant) -> None:
    if not await is_member(session, participant):
        raise MonitorRefusal(_("only members of the Monitor group can do this"))


async def assess(
    session: AsyncSession,
    item: MonitorItem,
    participant: Participant,
    *,
    verdict: str,
    text: str,
    now: dt.datetime | None = None,
) -> MonitorAssessment:
    """The group's public verdict on an adopted proposal, posted by one of its members."""
    await _require_member(session, participant)
    row = MonitorAssessment(
        item_id=item.id,
        verdict=parse_choice(verdict, "verdict", VERDICTS),
        text=clean_text(text, "text", required=True),
        author=participant.pseudonym,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    await notify.record(
        session,
        item.summit_id,
        kind="assessment",
        key=f"assessment:{row.id}",
        item=item,
        summary={"verdict": row.verdict},
        now=row.created_at,
    )
    await audit.append(
        session,
        actor=participant.pseudonym,
        action="monitor.assess",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"verdict": row.verdict},
        now=row.created_at,
    )
    return row


async def assessments(session: AsyncSession, item_id: int) -> list[MonitorAssessment]:
    query = select(MonitorAssessment).where(MonitorAssessment.item_id == item_id)
    return list((await session.execute(query.order_by(MonitorAssessment.id))).scalars())


async def may_discuss(
    session: AsyncSession,
    item: MonitorItem,
    *,
    participant: Participant | None = None,
    partner: Partner | None = None,
) -> bool:
    """The discussion of an item is for the group's members and the item's partners only."""
    if participant is not None and await is_member(session, participant):
        return True
    if partner is not None:
        owner = await partners.account(session, partner)
        return owner.signed_at is not None and bool(set(owner.areas) & set(item.areas or []))
    return False


async def post(
    session: AsyncSession,
    item: MonitorItem,
    *,
    text: str,
    participant: Participant | None = None,
    partner: Partner | None = None,
) -> MonitorPost:
    if not await may_discuss(session, item, participant=participant, partner=partner):
        raise MonitorRefusal(
            _("this discussion is for the Monitor group and the partners concerned")
        )
    author, kind = (
        (partner.name, "partner")
        if partner
        else (participant.pseudonym if participant else "", "member")
    )
    row = MonitorPost(
        item_id=item.id,
        author=author,
        author_kind=kind,
        text=clean_text(text, "message", required=True),
    )
    session.add(row)
    await session.flush()
    return row


async def posts(session: AsyncSession, item_id: int) -> list[MonitorPost]:
    query = select(MonitorPost).where(MonitorPost.item_id == item_id)
    return list((await session.execute(query.order_by(MonitorPost.id))).scalars())
