"""Werkplaatsen: workshops that rework a proposal (or a theme into one) with volunteers from the
summit, experts and officials, and hand the result to the Burgerraad.

Membership: participants volunteer; the organiser confirms them while there is room, and when
there are more volunteers than places, draws the members by lot with the lottery's committed
draw (commit first, then the public seed). Every decision is an audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import __version__
from summit.core import audit
from summit.core.db import rows_of
from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit, utcnow
from summit.core.rules.draw import Commitment, DrawError
from summit.core.security import new_pseudonym, new_token, token_hash
from summit.core.times import from_wall_clock, summit_time_zone
from summit.council import ProposalText, version_digest
from summit.forum.models import (
    Citation,
    Contribution,
    Meeting,
    Reaction,
    Revision,
    Workshop,
    WorkshopGuest,
    WorkshopMember,
)
from summit.forum.proposals import forum_proposal, submit_version
from summit.forum.rules.workshops import (
    SEED,
    check_capacity,
    check_guest_role,
    commit_draw,
    run_draw,
)
from summit.ideas.models import Theme

MAX_TEXT = 20_000


def _text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    clean = (value or "").strip()
    if required and not clean:
        raise InvalidInput(name, _("This field is required."))
    if len(clean) > limit:
        raise InvalidInput(name, _("Keep it under %(max)s characters.") % {"max": limit})
    return clean


@dataclass(frozen=True)
class Author:
    """Who acts in a workshop: a member (participant), an expert or official (guest link), or
    the organiser."""

    role: str  # member | expert | official | organiser
    pseudonym: str


# --- the workshop -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopForm:
    title: str
    description: str
    capacity: int
    proposal_id: int | None = None
    theme_id: int | None = None


async def _subject(session: AsyncSession, summit: Summit, form: WorkshopForm) -> None:
    if (form.proposal_id is None) == (form.theme_id is None):
        raise InvalidInput("subject", _("Choose one proposal or one theme for the workshop."))
    if form.proposal_id is not None:
        await forum_proposal(session, summit.id, form.proposal_id)
        return
    theme = await session.get(Theme, form.theme_id)
    if theme is None or theme.summit_id != summit.id:
        raise InvalidInput("subject", _("This theme does not exist."))


async def create(
    session: AsyncSession, summit: Summit, *, actor: str, form: WorkshopForm
) -> Workshop:
    title = _text(form.title, "title", required=True, limit=200)
    description = _text(form.description, "description", limit=5000)
    check_capacity(form.capacity)
    await _subject(session, summit, form)
    workshop = Workshop(
        summit_id=summit.id,
        proposal_id=form.proposal_id,
        theme_id=form.theme_id,
        title=title,
        description=description,
        capacity=form.capacity,
        status="open",
    )
    session.add(workshop)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="forum.workshop",
        subject=f"workshop:{workshop.id}",
        summit_id=summit.id,
        payload={
            "title": title,
            "proposal": form.proposal_id,
            "theme": form.theme_id,
            "capacity": form.capacity,
        },
    )
    return workshop


async def get(session: AsyncSession, summit_id: int, workshop_id: int) -> Workshop:
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None or workshop.summit_id != summit_id:
        raise NotFound(_("This workshop does not exist."))
    return workshop


async def all_of(session: AsyncSession, summit_id: int) -> list[Workshop]:
    return await rows_of(session, Workshop, Workshop.summit_id == summit_id, order_by=Workshop.id)


def _check_open(workshop: Workshop) -> None:
    if workshop.status != "open":
        raise InvalidInput(
            "workshop", _("This workshop has submitted its proposal; it no longer changes.")
        )


# --- membership ---------------------------------------------------------------------------------


async def members(session: AsyncSession, workshop_id: int) -> list[tuple[WorkshopMember, str]]:
    """(membership row, participant pseudonym), in the order people volunteered."""
    rows = (
        await session.execute(
            select(WorkshopMember, Participant.pseudonym)
            .join(Participant, Participant.id == WorkshopMember.participant_id)
            .where(WorkshopMember.workshop_id == workshop_id)
            .order_by(WorkshopMember.id)
        )
    ).all()
    return [(row, pseudonym) for row, pseudonym in rows]


async def membership(
    session: AsyncSession, workshop_id: int, participant_id: int
) -> WorkshopMember | None:
    return await session.scalar(
        select(WorkshopMember).where(
            WorkshopMember.workshop_id == workshop_id,
            WorkshopMember.participant_id == participant_id,
        )
    )


async def volunteer(session: AsyncSession, workshop: Workshop, participant: Participant) -> None:
    _check_open(workshop)
    if participant.summit_id != workshop.summit_id or participant.status == "withdrawn":
        raise PermissionDenied(_("Only the summit's participants can join a workshop."))
    if workshop.commitment_hash and workshop.seed is None:
        raise InvalidInput(
            "workshop", _("The members are being drawn by lot; volunteering is closed.")
        )
    if await membership(session, workshop.id, participant.id) is not None:
        raise InvalidInput("workshop", _("You have already volunteered for this workshop."))
    session.add(WorkshopMember(workshop_id=workshop.id, participant_id=participant.id))
    await session.flush()
    await audit.append(
        session,
        actor=participant.pseudonym,
        action="forum.volunteer",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
    )


async def _count(session: AsyncSession, workshop_id: int, status: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(WorkshopMember)
            .where(WorkshopMember.workshop_id == workshop_id, WorkshopMember.status == status)
        )
        or 0
    )


async def confirm(session: AsyncSession, workshop: Workshop, pseudonym: str, *, actor: str) -> None:
    """The organiser confirms a volunteer while every volunteer fits; otherwise a draw decides."""
    _check_open(workshop)
    row = next((m for m, p in await members(session, workshop.id) if p == pseudonym), None)
    if row is None or row.status != "volunteer":
        raise InvalidInput("member", _("%(name)s has not volunteered.") % {"name": pseudonym})
    seated = await _count(session, workshop.id, "member")
    waiting = await _count(session, workshop.id, "volunteer")
    if seated + waiting > workshop.capacity:
        raise InvalidInput(
            "member",
            _("There are more volunteers than places (%(places)s): draw the members by lot.")
            % {"places": workshop.capacity - seated},
        )
    row.status = "member"
    row.decided_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="forum.member",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={"member": pseudonym, "decision": "confirmed"},
    )


async def _waiting(session: AsyncSession, workshop_id: int) -> list[str]:
    return sorted(p for m, p in await members(session, workshop_id) if m.status == "volunteer")


async def commit(session: AsyncSession, workshop: Workshop, *, actor: str) -> Commitment:
    """Publish the draw's commitment: the waiting volunteers' hash and the free places."""
    _check_open(workshop)
    free = workshop.capacity - await _count(session, workshop.id, "member")
    if free < 1:
        raise InvalidInput("draw", _("The workshop is full."))
    commitment = commit_draw(
        await _waiting(session, workshop.id), free, software_version=__version__
    )
    workshop.commitment = commitment.as_dict()
    workshop.commitment_hash = commitment.hash
    workshop.seed = None
    workshop.drawn = []
    await audit.append(
        session,
        actor=actor,
        action="forum.draw.commit",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={"commitment": commitment.as_dict(), "commitment_hash": commitment.hash},
    )
    return commitment


def _draw_error(exc: DrawError) -> InvalidInput:
    if exc.field == "seed":
        return InvalidInput(
            "seed", _("Type the %(digits)s dice digits rolled in public.") % {"digits": SEED.digits}
        )
    return InvalidInput(
        "draw", _("The volunteers changed since the commitment: commit the draw again.")
    )


async def draw(session: AsyncSession, workshop: Workshop, *, actor: str, seed: str) -> list[str]:
    """Draw the members among the waiting volunteers with the public seed."""
    _check_open(workshop)
    if not workshop.commitment_hash or workshop.seed is not None:
        raise InvalidInput("draw", _("Commit the draw first, then enter the seed."))
    commitment = Commitment.from_dict(dict(workshop.commitment))
    waiting = await _waiting(session, workshop.id)
    try:
        drawn = run_draw(waiting, commitment, seed)
    except DrawError as exc:
        raise _draw_error(exc) from None
    now = utcnow()
    chosen = set(drawn)
    for row, pseudonym in await members(session, workshop.id):
        if row.status == "volunteer":
            row.status = "member" if pseudonym in chosen else "not_drawn"
            row.decided_at = now
    workshop.seed = seed.strip()
    workshop.drawn = drawn
    await audit.append(
        session,
        actor=actor,
        action="forum.draw",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={"commitment_hash": workshop.commitment_hash, "seed": seed.strip(), "drawn": drawn},
    )
    return drawn


# --- experts and officials ----------------------------------------------------------------------


async def invite(
    session: AsyncSession, workshop: Workshop, *, actor: str, role: str, name: str
) -> tuple[WorkshopGuest, str]:
    """An expert or official with a personal link; returns (guest, token) — shown once."""
    _check_open(workshop)
    check_guest_role(role)
    label = _text(name, "name", required=True, limit=120)
    token = new_token()
    guest = WorkshopGuest(
        workshop_id=workshop.id,
        role=role,
        display_name=label,
        pseudonym=new_pseudonym("E" if role == "expert" else "O"),
        token_hash=token_hash(token),
    )
    session.add(guest)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="forum.guest.invite",
        subject=guest.pseudonym,
        summit_id=workshop.summit_id,
        payload={"workshop": workshop.id, "role": role},
    )
    return guest, token


async def revoke(session: AsyncSession, workshop: Workshop, guest_id: int, *, actor: str) -> None:
    guest = await session.get(WorkshopGuest, guest_id)
    if guest is None or guest.workshop_id != workshop.id:
        raise NotFound(_("This guest does not exist."))
    if guest.revoked_at is None:
        guest.revoked_at = utcnow()
        await audit.append(
            session,
            actor=actor,
            action="forum.guest.revoke",
            subject=guest.pseudonym,
            summit_id=workshop.summit_id,
            payload={"workshop": workshop.id},
        )


async def guest_by_token(session: AsyncSession, token: str) -> WorkshopGuest:
    guest = await session.scalar(
        select(WorkshopGuest).where(WorkshopGuest.token_hash == token_hash(token or ""))
    )
    if guest is None:
        raise NotFound(_("This link is not valid. Check that you copied it completely."))
    if guest.revoked_at is not None:
        raise NotFound(_("This link has been revoked. Ask the organiser for a new one."))
    return guest


async def guests(session: AsyncSession, workshop_id: int) -> list[WorkshopGuest]:
    return await rows_of(
        session, WorkshopGuest, WorkshopGuest.workshop_id == workshop_id, order_by=WorkshopGuest.id
    )


# --- meetings and contributions -----------------------------------------------------------------


@dataclass(frozen=True)
class MeetingForm:
    title: str
    starts_at: str  # YYYY-MM-DDTHH:MM on the summit's clock
    place: str
    online: bool


def _when(value: str, zone: str) -> dt.datetime:
    """The start as typed, on the summit's clock (``zone``), in UTC."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("starts_at", _("Give the date and time as YYYY-MM-DD HH:MM.")) from None
    return from_wall_clock(moment, zone)


async def plan(
    session: AsyncSession, workshop: Workshop, *, actor: str, form: MeetingForm
) -> Meeting:
    _check_open(workshop)
    title = _text(form.title, "title", required=True, limit=200)
    starts = _when(form.starts_at, summit_time_zone(await session.get(Summit, workshop.summit_id)))
    if starts < utcnow():
        raise InvalidInput("starts_at", _("A meeting is planned in the future."))
    place = _text(form.place, "place", limit=200)
    if not form.online and not place:
        raise InvalidInput("place", _("Give the place, or choose an online meeting."))
    meeting = Meeting(
        workshop_id=workshop.id, title=title, starts_at=starts, place=place, online=form.online
    )
    session.add(meeting)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="forum.meeting",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={"meeting": meeting.id, "starts_at": starts.isoformat(), "online": form.online},
    )
    return meeting


async def meetings(session: AsyncSession, workshop_id: int) -> list[Meeting]:
    return await rows_of(
        session, Meeting, Meeting.workshop_id == workshop_id, order_by=Meeting.starts_at
    )


async def contribute(
    session: AsyncSession, workshop: Workshop, *, author: Author, text: str
) -> Contribution:
    _check_open(workshop)
    note = Contribution(
        workshop_id=workshop.id,
        author_role=author.role,
        author=author.pseudonym,
        text=_text(text, "note", required=True, limit=5000),
    )
    session.add(note)
    await session.flush()
    await audit.append(
        session,
        actor=author.pseudonym,
        action="forum.contribute",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={"role": author.role, "contribution": note.id},
    )
    return note


async def contributions(session: AsyncSession, workshop_id: int) -> list[Contribution]:
    return await rows_of(
        session, Contribution, Contribution.workshop_id == workshop_id, order_by=Contribution.id
    )


# --- revisions and the submission ---------------------------------------------------------------


def clean_revision(text: ProposalText) -> ProposalText:
    return ProposalText(
        title=_text(text.title, "title", required=True, limit=200),
        problem=_text(text.problem, "problem"),
        text=_text(text.text, "proposal", required=True),
        who_acts=_text(text.who_acts, "who_acts"),
        cost=_text(text.cost, "cost"),
    )


async def _citable(session: AsyncSession, workshop: Workshop, ids: Sequence[int]) -> list[int]:
    unique = sorted(set(ids))
    if not unique:
        return []
    found = set(
        (
            await session.execute(
                select(Reaction.id).where(
                    Reaction.id.in_(unique),
                    Reaction.proposal_id == workshop.proposal_id,
                    Reaction.status == "visible",
                )
            )
        ).scalars()
    )
    missing = [i for i in unique if i not in found]
    if missing:
        raise InvalidInput(
            "cites",
            _("Reaction %(id)s is not a visible reaction on this proposal.") % {"id": missing[0]},
        )
    return unique


async def revise(
    session: AsyncSession,
    workshop: Workshop,
    *,
    author: Author,
    text: ProposalText,
    cites: Sequence[int],
) -> Revision:
    """A new revision of the workshop's proposal, citing the reactions it answers."""
    _check_open(workshop)
    clean = clean_revision(text)
    cited = await _citable(session, workshop, cites)
    latest = await session.scalar(
        select(func.max(Revision.number)).where(Revision.workshop_id == workshop.id)
    )
    revision = Revision(
        workshop_id=workshop.id,
        number=int(latest or 0) + 1,
        author_role=author.role,
        author=author.pseudonym,
        sha256=version_digest(clean),
        title=clean.title,
        problem=clean.problem,
        text=clean.text,
        who_acts=clean.who_acts,
        cost=clean.cost,
    )
    session.add(revision)
    await session.flush()
    for reaction_id in cited:
        session.add(Citation(revision_id=revision.id, reaction_id=reaction_id))
    await audit.append(
        session,
        actor=author.pseudonym,
        action="forum.revise",
        subject=f"workshop:{workshop.id}",
        summit_id=workshop.summit_id,
        payload={
            "revision": revision.number,
            "role": author.role,
            "sha256": revision.sha256,
            "cites": cited,
        },
    )
    return revision


async def revisions(session: AsyncSession, workshop_id: int) -> list[Revision]:
    """Newest first."""
    return await rows_of(
        session, Revision, Revision.workshop_id == workshop_id, order_by=Revision.number.desc()
    )


async def citations(session: AsyncSession, revision_ids: Sequence[int]) -> dict[int, list[int]]:
    if not revision_ids:
        return {}
    rows = (
        await session.execute(
            select(Citation.revision_id, Citation.reaction_id)
            .where(Citation.revision_id.in_(list(revision_ids)))
            .order_by(Citation.reaction_id)
        )
    ).all()
    found: dict[int, list[int]] = {}
    for revision_id, reaction_id in rows:
        found.setdefault(revision_id, []).append(reaction_id)
    return found


def _text_of(revision: Revision) -> ProposalText:
    return ProposalText(
        revision.title, revision.problem, revision.text, revision.who_acts, revision.cost
    )


async def submit(
    session: AsyncSession, summit: Summit, workshop: Workshop, *, actor: str
) -> Revision:
    """Freeze the newest revision and make it the proposal's version for the Burgerraad."""
    _check_open(workshop)
    newest = next(iter(await revisions(session, workshop.id)), None)
    if newest is None:
        raise InvalidInput("workshop", _("Write a revision before submitting."))
    text = _text_of(newest)
    proposal_id, version = await submit_version(
        session,
        summit,
        actor=actor,
        workshop_id=workshop.id,
        proposal_id=workshop.proposal_id,
        theme_id=workshop.theme_id,
        text=text,
    )
    workshop.proposal_id = proposal_id
    workshop.status = "submitted"
    workshop.submitted_revision_id = newest.id
    workshop.submitted_version = version
    workshop.submitted_sha256 = newest.sha256
    workshop.submitted_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="forum.submit",
        subject=f"workshop:{workshop.id}",
        summit_id=summit.id,
        payload={
            "revision": newest.number,
            "proposal": proposal_id,
            "version": version,
            "sha256": newest.sha256,
        },
    )
    return newest
