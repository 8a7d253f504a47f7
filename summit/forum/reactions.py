"""Reactions on the forum's proposals: placing one, entering paper and meeting reactions,
reporting, hiding with a public reason, and reading them back with their counts.

A hidden reaction's text is erased; its SHA-256 stays in the audit log (logged when it was
placed) and the number hidden per reason stays public.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import rows_of
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Summit, utcnow
from summit.core.times import local_date, summit_time_zone
from summit.forum.models import Citation, Reaction, Reactor, Report, Revision, Statement, Workshop
from summit.forum.proposals import forum_proposal
from summit.forum.rules.reactions import (
    SOURCES,
    STANCES,
    check_reason,
    check_stance,
    clean_text,
    text_digest,
)
from summit.forum.settings import forum_settings

MAX_MEETING_NAME = 200


async def _check_open(session: AsyncSession, summit_id: int) -> int:
    settings = await forum_settings(session, summit_id)
    if not settings.open:
        raise PermissionDenied(_("The forum does not take reactions at the moment."))
    return settings.max_length


async def _duplicate(
    session: AsyncSession, proposal_id: int, reactor_id: int | None, digest: str
) -> None:
    if reactor_id is None:
        return
    found = await session.scalar(
        select(Reaction.id).where(
            Reaction.proposal_id == proposal_id,
            Reaction.reactor_id == reactor_id,
            Reaction.text_sha256 == digest,
        )
    )
    if found is not None:
        raise InvalidInput("text", _("You already placed this reaction on this proposal."))


async def _rate(session: AsyncSession, summit_id: int, reactor: Reactor) -> None:
    settings = await forum_settings(session, summit_id)
    since = utcnow() - dt.timedelta(hours=1)
    recent = await session.scalar(
        select(func.count())
        .select_from(Reaction)
        .where(Reaction.reactor_id == reactor.id, Reaction.created_at >= since)
    )
    if int(recent or 0) >= settings.per_hour:
        raise PermissionDenied(
            _("You placed %(count)s reactions in the last hour, the most allowed. Try again later.")
            % {"count": settings.per_hour}
        )


async def _log(session: AsyncSession, reaction: Reaction, actor: str) -> None:
    payload: dict[str, object] = {
        "proposal": reaction.proposal_id,
        "stance": reaction.stance,
        "source": reaction.source,
        "sha256": reaction.text_sha256,
    }
    if reaction.source == "meeting":
        payload["meeting"] = reaction.meeting_name
        payload["date"] = reaction.meeting_date.isoformat() if reaction.meeting_date else None
    await audit.append(
        session,
        actor=actor,
        action="forum.react",
        subject=f"reaction:{reaction.id}",
        summit_id=reaction.summit_id,
        payload=payload,
    )


async def react(
    session: AsyncSession,
    summit: Summit,
    *,
    reactor: Reactor,
    proposal_id: int,
    stance: str,
    text: str,
) -> Reaction:
    """A resident or participant reacts online."""
    max_length = await _check_open(session, summit.id)
    await forum_proposal(session, summit.id, proposal_id)
    check_stance(stance)
    clean = clean_text(text, max_length)
    digest = text_digest(clean)
    await _duplicate(session, proposal_id, reactor.id, digest)
    await _rate(session, summit.id, reactor)
    reaction = Reaction(
        summit_id=summit.id,
        proposal_id=proposal_id,
        reactor_id=reactor.id,
        stance=stance,
        text=clean,
        text_sha256=digest,
        source="online",
        author_role="participant" if reactor.kind == "participant" else "resident",
    )
    session.add(reaction)
    await session.flush()
    await _log(session, reaction, reactor.pseudonym)
    return reaction


@dataclass(frozen=True)
class PaperReaction:
    """A reaction staff type in from a paper form or a meeting (bijeenkomst)."""

    proposal_id: int
    stance: str
    text: str
    source: str
    meeting_name: str = ""
    meeting_date: str = ""


def _meeting(form: PaperReaction, today: dt.date) -> tuple[str, dt.date | None]:
    if form.source not in SOURCES or form.source == "online":
        raise InvalidInput("source", _("Choose a paper form or a meeting."))
    if form.source == "paper":
        return "", None
    name = form.meeting_name.strip()
    if not name:
        raise InvalidInput("meeting_name", _("Name the meeting the reaction comes from."))
    if len(name) > MAX_MEETING_NAME:
        raise InvalidInput("meeting_name", _("Keep the meeting's name under 200 characters."))
    try:
        day = dt.date.fromisoformat(form.meeting_date.strip())
    except ValueError:
        raise InvalidInput("meeting_date", _("Give the meeting's date as YYYY-MM-DD.")) from None
    if day > today:  # the summit's day: at 00:30 in Amsterdam it is already tomorrow
        raise InvalidInput("meeting_date", _("The meeting's date cannot be in the future."))
    return name, day


async def enter(
    session: AsyncSession, summit: Summit, *, actor: str, form: PaperReaction
) -> Reaction:
    """Staff enter a reaction from a paper form or a meeting; it is marked as such."""
    settings = await forum_settings(session, summit.id)
    await forum_proposal(session, summit.id, form.proposal_id)
    check_stance(form.stance)
    name, day = _meeting(form, local_date(utcnow(), summit_time_zone(summit)))
    clean = clean_text(form.text, settings.max_length)
    reaction = Reaction(
        summit_id=summit.id,
        proposal_id=form.proposal_id,
        reactor_id=None,
        stance=form.stance,
        text=clean,
        text_sha256=text_digest(clean),
        source=form.source,
        meeting_name=name,
        meeting_date=day,
        entered_by=actor,
        author_role="resident",
    )
    session.add(reaction)
    await session.flush()
    await _log(session, reaction, actor)
    return reaction


async def get_reaction(session: AsyncSession, summit_id: int, reaction_id: int) -> Reaction:
    reaction = await session.get(Reaction, reaction_id)
    if reaction is None or reaction.summit_id != summit_id:
        raise NotFound(_("This reaction does not exist."))
    return reaction


async def report(session: AsyncSession, summit_id: int, reaction_id: int, *, reporter: str) -> bool:
    """Someone reports a reaction; False when this reporter already did."""
    reaction = await get_reaction(session, summit_id, reaction_id)
    if reaction.status == "hidden":
        return False
    known = await session.scalar(
        select(Report.id).where(Report.reaction_id == reaction.id, Report.reporter_hash == reporter)
    )
    if known is not None:
        return False
    session.add(Report(reaction_id=reaction.id, reporter_hash=reporter))
    await session.execute(
        update(Reaction)
        .where(Reaction.id == reaction.id)
        .values(report_count=Reaction.report_count + 1)
    )
    await audit.append(
        session,
        actor="public",
        action="forum.report",
        subject=f"reaction:{reaction.id}",
        summit_id=summit_id,
    )
    return True


async def hide(
    session: AsyncSession, summit_id: int, reaction_id: int, *, actor: str, reason: str
) -> Reaction:
    """A moderator hides a reaction with a public reason; its text is erased, its hash stays."""
    check_reason(reason)
    reaction = await get_reaction(session, summit_id, reaction_id)
    if reaction.status == "hidden":
        raise InvalidInput("reaction", _("This reaction is already hidden."))
    reaction.status = "hidden"
    reaction.hidden_reason = reason
    reaction.hidden_by = actor
    reaction.hidden_at = utcnow()
    reaction.text = ""
    await session.execute(
        update(Statement).where(Statement.reaction_id == reaction.id).values(status="retired")
    )
    await audit.append(
        session,
        actor=actor,
        action="forum.hide",
        subject=f"reaction:{reaction.id}",
        summit_id=summit_id,
        payload={
            "proposal": reaction.proposal_id,
            "reason": reason,
            "sha256": reaction.text_sha256,
        },
    )
    return reaction


#: Reactions per page on a proposal's public page (newest first).
PER_PAGE = 50


@dataclass
class ReactionList:
    """A proposal's reactions as the public sees them: one page of the visible ones (newest
    first), and counts over all of them."""

    visible: list[Reaction]
    hidden: Counter[str] = field(default_factory=Counter)  # reason -> count
    stances: Counter[str] = field(default_factory=Counter)
    used: dict[int, list[tuple[int, str, int]]] = field(default_factory=dict)
    reporters: dict[int, str] = field(default_factory=dict)  # reactor id -> pseudonym
    page: int = 1
    pages: int = 1

    @property
    def hidden_total(self) -> int:
        return sum(self.hidden.values())

    @property
    def visible_total(self) -> int:
        return sum(self.stances.values())


async def usage(
    session: AsyncSession, reaction_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, int]]]:
    """Reaction id -> [(workshop id, workshop title, revision number)] citing it."""
    if not reaction_ids:
        return {}
    rows = (
        await session.execute(
            select(Citation.reaction_id, Workshop.id, Workshop.title, Revision.number)
            .join(Revision, Revision.id == Citation.revision_id)
            .join(Workshop, Workshop.id == Revision.workshop_id)
            .where(Citation.reaction_id.in_(list(reaction_ids)))
            .order_by(Revision.id)
        )
    ).all()
    found: dict[int, list[tuple[int, str, int]]] = {}
    for reaction_id, workshop_id, title, number in rows:
        found.setdefault(reaction_id, []).append((workshop_id, title, number))
    return found


async def _counts(session: AsyncSession, proposal_id: int, listing: ReactionList) -> None:
    rows = await session.execute(
        select(Reaction.status, Reaction.stance, Reaction.hidden_reason, func.count())
        .where(Reaction.proposal_id == proposal_id)
        .group_by(Reaction.status, Reaction.stance, Reaction.hidden_reason)
    )
    for status, stance, reason, count in rows.tuples():
        if status == "visible":
            listing.stances[stance] += int(count)
        else:
            listing.hidden[reason] += int(count)


async def reactions_of(
    session: AsyncSession, proposal_id: int, *, page: int | None = 1
) -> ReactionList:
    """The visible reactions (one page of ``PER_PAGE``, or all with ``page=None``), newest
    first, with the counts per stance and per reason for hiding, who placed them and which
    workshop revisions cite them."""
    listing = ReactionList(visible=[])
    await _counts(session, proposal_id, listing)
    query = (
        select(Reaction)
        .where(Reaction.proposal_id == proposal_id, Reaction.status == "visible")
        .order_by(Reaction.id.desc())
    )
    if page is not None:
        listing.pages = max(1, -(-listing.visible_total // PER_PAGE))
        listing.page = min(max(page, 1), listing.pages)
        query = query.limit(PER_PAGE).offset((listing.page - 1) * PER_PAGE)
    listing.visible = list((await session.execute(query)).scalars())
    listing.used = await usage(session, [r.id for r in listing.visible])
    ids = {r.reactor_id for r in listing.visible if r.reactor_id is not None}
    if ids:
        rows = await session.execute(
            select(Reactor.id, Reactor.pseudonym).where(Reactor.id.in_(ids))
        )
        listing.reporters = dict(rows.tuples().all())
    return listing


async def stance_counts(session: AsyncSession, summit_id: int) -> dict[int, dict[str, int]]:
    """Proposal id -> visible reactions per stance, for the forum's list."""
    rows = (
        await session.execute(
            select(Reaction.proposal_id, Reaction.stance, func.count())
            .where(Reaction.summit_id == summit_id, Reaction.status == "visible")
            .group_by(Reaction.proposal_id, Reaction.stance)
        )
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for proposal_id, stance, count in rows:
        counts.setdefault(proposal_id, dict.fromkeys(STANCES, 0))[stance] = int(count)
    return counts


async def moderation_queue(
    session: AsyncSession, summit_id: int, limit: int = 200
) -> list[Reaction]:
    """Visible reactions, the most reported first, then the newest."""
    return list(
        (
            await session.execute(
                select(Reaction)
                .where(Reaction.summit_id == summit_id, Reaction.status == "visible")
                .order_by(Reaction.report_count.desc(), Reaction.id.desc())
                .limit(limit)
            )
        ).scalars()
    )


async def mine(session: AsyncSession, reactor_id: int) -> list[Reaction]:
    return await rows_of(session, Reaction, Reaction.reactor_id == reactor_id, order_by=Reaction.id)
