"""Data access for the control plane: the use cases the views and the CLI share.

Every function takes an open ``AsyncSession`` inside the caller's transaction, so a use case and
its audit entry commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import TableClause, column, table

from summit.core import audit, sessions
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.labels import phase_label, staff_role_label
from summit.core.models import (
    AuditEntry,
    Participant,
    Partner,
    Person,
    PersonalLink,
    Round,
    Seat,
    StaffUser,
    Summit,
    SummitTable,
    utcnow,
)
from summit.core.rules.roles import Phase, Role, StaffRole, validate_mix
from summit.core.rules.summit_spec import (
    DEFAULT_TIME_ZONE,
    SpecError,
    SummitSpec,
    structural_changes,
)
from summit.core.security import (
    hash_password,
    hash_password_async,
    new_pseudonym,
    new_token,
    token_hash,
    verify_password_async,
)

# --- Staff users ---------------------------------------------------------------------------


async def add_staff_user(
    session: AsyncSession, username: str, password: str, role: str, *, actor: str = "cli"
) -> StaffUser:
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise InvalidInput("username", _("use 1 to 64 letters, digits, '.', '-' or '_'"))
    if role not in {r.value for r in StaffRole}:
        raise InvalidInput(
            "role",
            _("must be one of %(value)s")
            % {"value": ", ".join(staff_role_label(r.value) for r in StaffRole)},
        )
    try:
        password_hash = await hash_password_async(password)
    except ValueError as exc:
        raise InvalidInput("password", str(exc).split(": ", 1)[-1]) from None
    existing = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if existing is not None:
        raise InvalidInput("username", _("%(username)r already exists") % {"username": username})
    user = StaffUser(
        username=username, password_hash=password_hash, role=role, pseudonym=new_pseudonym("S")
    )
    session.add(user)
    await session.flush()
    await audit.append(
        session, actor=actor, action="staff.add", subject=user.pseudonym, payload={"role": role}
    )
    return user


async def staff_user(session: AsyncSession, username: str) -> StaffUser | None:
    """The account of ``username`` (any case), active or not."""
    return await session.scalar(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    )


async def password_matches(user: StaffUser | None, password: str) -> bool:
    """Whether ``password`` is this active account's. Needs no database session: the login
    view checks it between two short sessions, so a flood of logins waiting for Argon2 holds
    no database connection."""
    if user is None or not user.active:
        # Spend the same time as a real check, so a login does not reveal which names exist.
        await verify_password_async(_DUMMY_HASH, password)
        return False
    return await verify_password_async(user.password_hash, password)


async def authenticate(session: AsyncSession, username: str, password: str) -> StaffUser | None:
    user = await staff_user(session, username)
    return user if await password_matches(user, password) else None


async def set_staff_active(
    session: AsyncSession, username: str, active: bool, *, actor: str = "cli"
) -> tuple[StaffUser, int]:
    """Disable (ending every session of the account at once) or enable a staff account;
    returns the user and how many sessions ended."""
    name = username.strip().lower()
    user = await session.scalar(select(StaffUser).where(StaffUser.username == name))
    if user is None:
        raise NotFound("username: " + _("no staff account %(name)r") % {"name": name})
    user.active = active
    ended = 0 if active else await sessions.end_for_staff(session, user.id, reason="disabled")
    await audit.append(
        session,
        actor=actor,
        action="staff.enable" if active else "staff.disable",
        subject=user.pseudonym,
        payload={} if active else {"sessions_ended": ended},
    )
    return user, ended


_DUMMY_HASH = hash_password("not-a-real-password-0000")


# --- Summits -------------------------------------------------------------------------------


async def current_summit(session: AsyncSession) -> Summit | None:
    """The installation's summit: the most recently created one."""
    return await session.scalar(select(Summit).order_by(Summit.id.desc()).limit(1))


async def get_summit(session: AsyncSession, summit_id: int) -> Summit:
    summit = await session.get(Summit, summit_id)
    if summit is None:
        raise NotFound(_("summit %(summit_id)s does not exist") % {"summit_id": summit_id})
    return summit


async def create_summit(session: AsyncSession, *, actor: str, **fields: Any) -> Summit:
    mix = validate_mix(fields.pop("mix", None) or {r.value: s for r, s in _default_mix()})
    summit = Summit(mix=mix, **fields)
    session.add(summit)
    try:
        await session.flush()
    except IntegrityError:
        raise InvalidInput(
            "slug", _("a summit called %(value)r already exists") % {"value": fields.get("slug")}
        ) from None
    await audit.append(
        session,
        actor=actor,
        action="summit.create",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={
            "slug": summit.slug,
            "seats": summit.seats,
            "mix": mix,
            "table_size": summit.table_size,
        },
    )
    return summit


def _default_mix() -> list[tuple[Role, float]]:
    from summit.core.rules.roles import DEFAULT_MIX

    return [(Role(k), v) for k, v in DEFAULT_MIX.items()]


async def advance_phase(session: AsyncSession, summit: Summit, *, actor: str, to: str) -> Summit:
    try:
        target = Phase(to)
    except ValueError:
        raise InvalidInput("phase", _("unknown phase %(phase)r") % {"phase": to}) from None
    current = Phase(summit.phase)
    if current == Phase.CLOSED:
        raise InvalidInput("phase", _("the summit is closed"))
    if target != current.next():
        raise InvalidInput(
            "phase",
            _("a summit in phase %(phase)s can only move on to %(next)s")
            % {"phase": phase_label(current.value), "next": phase_label(current.next().value)},
        )
    summit.phase = target.value
    await audit.append(
        session,
        actor=actor,
        action="summit.phase",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"from": current.value, "to": target.value},
    )
    return summit


@dataclass(frozen=True)
class SummitCounts:
    register_entries: int
    invitations: int
    registrations: int
    participants: dict[str, int]
    tables: dict[str, int]
    rounds: int
    ideas: int
    themes: int
    partners: int
    audit_entries: int

    @property
    def participants_total(self) -> int:
        return sum(self.participants.values())


def _part_table(name: str, *columns: str) -> TableClause:
    return table(name, *(column(c) for c in columns))


async def counts(session: AsyncSession, summit_id: int) -> SummitCounts:
    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    by_role = dict(
        (
            await session.execute(
                select(Participant.role, func.count())
                .where(Participant.summit_id == summit_id, Participant.status != "withdrawn")
                .group_by(Participant.role)
            )
        ).all()
    )
    by_kind = dict(
        (
            await session.execute(
                select(SummitTable.kind, func.count())
                .where(SummitTable.summit_id == summit_id)
                .group_by(SummitTable.kind)
            )
        ).all()
    )
    # The parts' tables are counted by name: core knows no part's models.
    register_entries, invitations, registrations = (
        _part_table(name, "summit_id")
        for name in ("register_entries", "invitations", "registrations")
    )
    ideas, themes = (
        _part_table("ideas", "summit_id", "status"),
        _part_table("themes", "summit_id", "status"),
    )
    return SummitCounts(
        register_entries=await count(register_entries, register_entries.c.summit_id == summit_id),
        invitations=await count(invitations, invitations.c.summit_id == summit_id),
        registrations=await count(registrations, registrations.c.summit_id == summit_id),
        participants={r.value: int(by_role.get(r.value, 0)) for r in Role},
        tables={k: int(v) for k, v in by_kind.items()},
        rounds=await count(Round, Round.summit_id == summit_id),
        ideas=await count(ideas, ideas.c.summit_id == summit_id, ideas.c.status == "active"),
        themes=await count(themes, themes.c.summit_id == summit_id, themes.c.status == "active"),
        partners=await count(Partner, Partner.summit_id == summit_id),
        audit_entries=await count(AuditEntry),
    )


async def partners(session: AsyncSession, summit_id: int) -> list[Partner]:
    return list(
        (
            await session.execute(
                select(Partner).where(Partner.summit_id == summit_id).order_by(Partner.id)
            )
        )
        .scalars()
        .all()
    )


# --- Participants and personal links ---------------------------------------------------------


async def add_participant(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    role: str,
    first_name: str,
    last_name: str = "",
    email: str = "",
    attendance: str = "venue",
    features: dict[str, Any] | None = None,
    accessibility_needs: str = "",
    is_host: bool = False,
    language: str | None = None,
    pseudonym: str | None = None,
) -> tuple[Participant, str]:
    """Add a selected participant and issue their personal link; returns (participant, token).

    ``pseudonym`` is drawn at random unless given (the demo derives it from its seed, so that the
    same seed builds the same summit and the same seating).
    """
    if role not in {r.value for r in Role}:
        raise InvalidInput("role", _("choose one of the listed roles"))
    if attendance not in {"venue", "online"}:
        raise InvalidInput("attendance", _("choose at the venue or online"))
    if not first_name.strip():
        raise InvalidInput("first_name", _("is required"))
    person = Person(
        summit_id=summit.id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        accessibility_needs=accessibility_needs.strip(),
    )
    session.add(person)
    await session.flush()
    participant = Participant(
        summit_id=summit.id,
        pseudonym=pseudonym or new_pseudonym("P"),
        person_id=person.id,
        display_name=first_name.strip(),
        role=role,
        attendance=attendance,
        is_host=is_host,
        language=language or summit.default_language,
        features=dict(features or {}),
    )
    session.add(participant)
    await session.flush()
    token = await issue_link(session, participant, actor=actor, log=False)
    await audit.append(
        session,
        actor=actor,
        action="participant.add",
        subject=participant.pseudonym,
        summit_id=summit.id,
        payload={"role": role, "attendance": attendance, "host": is_host},
    )
    return participant, token


async def issue_link(
    session: AsyncSession, participant: Participant, *, actor: str, log: bool = True
) -> str:
    """A new personal link; any earlier link of this participant is revoked."""
    now = utcnow()
    await session.execute(
        update(PersonalLink)
        .where(PersonalLink.participant_id == participant.id, PersonalLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = new_token()
    session.add(PersonalLink(participant_id=participant.id, token_hash=token_hash(token)))
    await session.flush()
    if log:
        await audit.append(
            session,
            actor=actor,
            action="link.issue",
            subject=participant.pseudonym,
            summit_id=participant.summit_id,
        )
    return token


async def revoke_links(session: AsyncSession, participant: Participant, *, actor: str) -> int:
    result = await session.execute(
        update(PersonalLink)
        .where(PersonalLink.participant_id == participant.id, PersonalLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    revoked = int(getattr(result, "rowcount", 0) or 0)
    await audit.append(
        session,
        actor=actor,
        action="link.revoke",
        subject=participant.pseudonym,
        summit_id=participant.summit_id,
        payload={"revoked": revoked},
    )
    return revoked


class LinkRejected(Exception):
    """A personal link that is unknown, revoked or expired (the message says which)."""


def link_still_holds(
    link_id: int, now: dt.datetime | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Conditions (over ``personal_links`` joined to ``participants``) under which a session
    opened with link ``link_id`` still stands: the link is not revoked and has not expired, the
    person has not withdrawn."""
    return (
        PersonalLink.id == link_id,
        PersonalLink.revoked_at.is_(None),
        or_(PersonalLink.expires_at.is_(None), PersonalLink.expires_at > (now or utcnow())),
        Participant.status != "withdrawn",
    )


async def resolve_link(session: AsyncSession, token: str) -> tuple[Participant, PersonalLink]:
    if not token or len(token) > 128:
        raise LinkRejected("unknown")
    link = await session.scalar(
        select(PersonalLink).where(PersonalLink.token_hash == token_hash(token))
    )
    if link is None:
        raise LinkRejected("unknown")
    if link.revoked_at is not None:
        raise LinkRejected("revoked")
    if link.expires_at is not None and link.expires_at <= utcnow():
        raise LinkRejected("expired")
    participant = await session.get(Participant, link.participant_id)
    if participant is None or participant.status == "withdrawn":
        raise LinkRejected("revoked")
    link.last_used_at = utcnow()
    return participant, link


async def get_participant(
    session: AsyncSession, summit_id: int, participant_id: int
) -> Participant:
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.summit_id != summit_id:
        raise NotFound(
            _("participant %(participant_id)s does not exist") % {"participant_id": participant_id}
        )
    return participant


async def erase_person(session: AsyncSession, participant: Participant, *, actor: str) -> None:
    """Erase a participant's personal data; the pseudonym, counts and audit chain stay intact."""
    if participant.person_id is not None:
        person = await session.get(Person, participant.person_id)
        participant.person_id = None
        if person is not None:
            await session.delete(person)
    participant.display_name = ""
    await session.execute(
        update(PersonalLink)
        .where(PersonalLink.participant_id == participant.id, PersonalLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await audit.append(
        session,
        actor=actor,
        action="person.erase",
        subject=participant.pseudonym,
        summit_id=participant.summit_id,
    )


# --- The participant's day -------------------------------------------------------------------


@dataclass(frozen=True)
class TableView:
    round_number: int
    round_title: str
    round_status: str
    ends_at: dt.datetime | None
    table_number: int
    table_kind: str
    table_area: str
    companions: list[str]
    is_host: bool


async def open_round(session: AsyncSession, summit_id: int) -> Round | None:
    """The round in progress, if any."""
    return await session.scalar(
        select(Round)
        .where(Round.summit_id == summit_id, Round.status == "open")
        .order_by(Round.number)
        .limit(1)
    )


async def current_round(session: AsyncSession, summit_id: int) -> Round | None:
    """The round in progress, else the next planned one."""
    running = await open_round(session, summit_id)
    if running is not None:
        return running
    return await session.scalar(
        select(Round)
        .where(Round.summit_id == summit_id, Round.status == "planned")
        .order_by(Round.number)
        .limit(1)
    )


async def table_for(session: AsyncSession, participant: Participant) -> TableView | None:
    """Where the participant sits in the current round, with the first names at that table."""
    rnd = await current_round(session, participant.summit_id)
    if rnd is None:
        return None
    seat = await session.scalar(
        select(Seat).where(Seat.round_id == rnd.id, Seat.participant_id == participant.id)
    )
    if seat is None:
        return None
    table = await session.get(SummitTable, seat.table_id)
    assert table is not None
    names = (
        await session.execute(
            select(Participant.display_name)
            .join(Seat, Seat.participant_id == Participant.id)
            .where(
                Seat.round_id == rnd.id, Seat.table_id == table.id, Participant.id != participant.id
            )
            .order_by(Participant.display_name)
        )
    ).scalars()
    return TableView(
        round_number=rnd.number,
        round_title=rnd.title,
        round_status=rnd.status,
        ends_at=rnd.ends_at,
        table_number=table.number,
        table_kind=table.kind,
        table_area=table.area,
        companions=[name or "—" for name in names],
        is_host=seat.is_host,
    )


# --- Summit settings and partners (the organiser's coalition phase) ----------------------------


async def save_summit(
    session: AsyncSession, spec: SummitSpec, *, actor: str, summit: Summit | None = None
) -> Summit:
    """Create the summit from the organiser's settings, or update it (structure frozen later)."""
    if summit is None:
        return await create_summit(
            session,
            actor=actor,
            slug=spec.slug,
            name=spec.name,
            municipality=spec.municipality,
            date=spec.date,
            venue=spec.venue,
            venue_capacity=spec.venue_capacity,
            online_capacity=spec.online_capacity,
            seats=spec.seats,
            mix=spec.mix,
            table_size=spec.table_size,
            languages=spec.languages,
            default_language=spec.default_language,
            features=spec.features,
            settings={**spec.letter, "time_zone": spec.time_zone},
        )
    before = {
        "seats": summit.seats,
        "mix": summit.mix,
        "table_size": summit.table_size,
        "features": [f.get("name") for f in summit.features or []],
    }
    try:
        changed = structural_changes(summit.phase, before, spec)
    except SpecError as exc:
        raise InvalidInput(exc.field, exc.detail) from None
    kept = {f.get("name"): f for f in summit.features or []}
    summit.name = spec.name
    summit.municipality = spec.municipality
    summit.date = spec.date
    summit.venue = spec.venue
    summit.venue_capacity = spec.venue_capacity
    summit.online_capacity = spec.online_capacity
    summit.seats = spec.seats
    summit.mix = spec.mix
    summit.table_size = spec.table_size
    summit.languages = spec.languages
    summit.default_language = spec.default_language
    summit.features = [kept.get(f["name"], f) for f in spec.features]
    settings = dict(summit.settings or {})
    letter_changed = [k for k, v in spec.letter.items() if settings.get(k, "") != v]
    zone_before = settings.get("time_zone") or DEFAULT_TIME_ZONE
    summit.settings = {**settings, **spec.letter, "time_zone": spec.time_zone}
    await audit.append(
        session,
        actor=actor,
        action="summit.update",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"changed": changed, "seats": spec.seats, "mix": spec.mix},
    )
    if letter_changed:  # which of the letter's settings changed, not what they say
        await audit.append(
            session,
            actor=actor,
            action="summit.letter",
            subject=f"summit:{summit.id}",
            summit_id=summit.id,
            payload={"changed": sorted(k.removeprefix("letter_") for k in letter_changed)},
        )
    if zone_before != spec.time_zone:
        await audit.append(
            session,
            actor=actor,
            action="summit.time_zone",
            subject=f"summit:{summit.id}",
            summit_id=summit.id,
            payload={"from": zone_before, "to": spec.time_zone},
        )
    return summit


async def add_partner(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    name: str,
    kind: str,
    commitment: str,
    signed_on: str,
) -> Partner:
    """Enter a coalition partner with its signed commitment (shown on the public page)."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", _("is required"))
    if len(name) > 200:
        raise InvalidInput("name", _("at most 200 characters"))
    if not commitment.strip():
        raise InvalidInput("commitment", _("write down what the partner commits to"))
    signed = None
    if signed_on.strip():
        try:
            signed = dt.date.fromisoformat(signed_on.strip())
        except ValueError:
            raise InvalidInput(
                "signed_on",
                _("use a date such as 2026-09-01, not %(value)r") % {"value": signed_on.strip()},
            ) from None
    partner = Partner(
        summit_id=summit.id,
        name=name,
        kind=kind.strip()[:64] or "organisation",
        commitment=commitment.strip()[:5000],
        signed_on=signed,
    )
    session.add(partner)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="partner.add",
        subject=f"partner:{partner.id}",
        summit_id=summit.id,
        payload={"name": partner.name, "kind": partner.kind, "signed_on": signed_on.strip()},
    )
    return partner
