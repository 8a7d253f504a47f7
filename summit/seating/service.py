"""Seating use cases (tafelindeling): seat a summit, read the stored seating, open and close rounds.

Every function takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there. A seating is a pure function of (participants, settings, seed): the canonical inputs
are stored with each run and their SHA-256 is logged with the seed and the tables by pseudonym, so
``verify_round`` (and anyone with the inputs) can re-run it. Live events are returned, not sent:
the caller publishes them after the transaction commits (``publish``).

The settings are in ``summit.seating.settings``, the verification in ``summit.seating.verify``,
topic rounds in ``summit.seating.topic_rounds``, on-the-day changes (no-shows, arrivals, manual
moves) in ``summit.seating.changes``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import __version__
from summit.core import audit
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.labels import round_status_label
from summit.core.models import Participant as ParticipantRow
from summit.core.models import Round, Seat, Summit, SummitTable, utcnow
from summit.core.rules.names import distinct_names
from summit.seating.models import RoundTopic, SeatingRun
from summit.seating.rules import (
    Constraints,
    Host,
    Participant,
    Seating,
    SeatingError,
    SeatingReport,
    SeatingSettings,
    Table,
    TopicSeating,
    VenueArea,
    evaluate,
    seat_rounds,
    seat_topics,
)
from summit.seating.settings import (
    get_settings,
    mixed_inputs,
    save_settings,
    selected_participants,
)

Event = tuple[str, dict[str, Any]]


class Publisher(Protocol):
    """Anything with the event bus's ``publish`` (in-process or Redis)."""

    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...


MAX_SEED = 200


# --- inputs, hashing, the pure computation ----------------------------------------------------


def canonical_json(value: Any) -> str:
    """The one text form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def inputs_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(inputs).encode()).hexdigest()


def as_invalid(exc: SeatingError) -> InvalidInput:
    """A domain error as the platform's InvalidInput, keeping the field the message names."""
    text = str(exc)
    field_name, _sep, message = text.partition(": ")
    if not message or " " in field_name:
        return InvalidInput("seating", text)
    return InvalidInput(field_name, message)


def person_of(record: dict[str, Any]) -> Participant:
    return Participant(
        str(record["id"]),
        str(record["role"]),
        {str(k): str(v) for k, v in dict(record.get("features", {})).items()},
        str(record.get("mode", "venue")),
    )


def domain_settings(inputs: dict[str, Any]) -> SeatingSettings:
    """The domain's settings from a run's canonical inputs."""
    s = inputs["settings"]
    constraints = Constraints(
        keep_together=tuple(frozenset(g) for g in s.get("keep_together", [])),
        keep_apart=tuple(frozenset(g) for g in s.get("keep_apart", [])),
        fixed_tables={str(k): int(v) for k, v in dict(s.get("fixed_tables", {})).items()},
    )
    return SeatingSettings(
        rounds=int(s.get("rounds", 1)),
        table_size=int(s["table_size"]),
        features=tuple(s.get("features", [])),
        constraints=constraints,
        hosts=tuple(Host(str(h["id"]), str(h["mode"])) for h in inputs.get("hosts", [])),
        hosts_stay=bool(s.get("hosts_stay", True)),
        hybrid_tables=int(s.get("hybrid_tables", 0)),
        remote_seats_per_hybrid_table=int(s.get("remote_seats_per_hybrid_table", 0)),
        venue_areas=tuple(
            VenueArea(a["label"], int(a["tables"])) for a in s.get("venue_areas", [])
        ),
        effort=float(s.get("effort", 1.0)),
    )


# Seatings computed in this process, by (inputs hash, seed): the computation is pure, so a
# round's public verify file (anyone may ask for it) re-uses the result instead of searching
# again for half a second at 1,000 people. A few entries: one summit's mixed seating and retries.
_COMPUTED: dict[tuple[str, str], Seating] = {}
_COMPUTED_KEEP = 4


def compute_rounds(inputs: dict[str, Any], seed: str) -> Seating:
    """Re-run a mixed seating from its canonical inputs (pure; remembered per inputs and seed)."""
    key = (inputs_hash(inputs), seed)
    known = _COMPUTED.get(key)
    if known is not None:
        return known
    try:
        seating = seat_rounds(
            [person_of(p) for p in inputs["participants"]], domain_settings(inputs), seed
        )
    except SeatingError as exc:
        raise as_invalid(exc) from None
    while len(_COMPUTED) >= _COMPUTED_KEEP:
        del _COMPUTED[next(iter(_COMPUTED))]
    _COMPUTED[key] = seating
    return seating


def compute_topics(inputs: dict[str, Any], seed: str) -> TopicSeating:
    """Re-run a topic round from its canonical inputs (pure)."""
    settings = domain_settings(inputs)
    previous = None
    if inputs.get("previous"):
        people = tuple(person_of(p) for p in inputs["participants"])
        previous = Seating(
            tables=(),
            rounds=tuple(tuple(tuple(t) for t in rnd) for rnd in inputs["previous"]),
            hosts=(),
            participants=people,
            settings=settings,
            seed=seed,
        )
    choices = {pid: tuple(c) for pid, c in dict(inputs.get("choices", {})).items()}
    try:
        return seat_topics(
            [person_of(p) for p in inputs["participants"]],
            choices,
            list(inputs["topics"]),
            settings,
            seed,
            previous,
        )
    except SeatingError as exc:
        raise as_invalid(exc) from None


def layout_of(tables: Iterable[Table]) -> list[dict[str, Any]]:
    return [
        {
            "number": t.number,
            "mode": t.mode,
            "area": t.area,
            "seats": [list(s) for s in t.seats],
            "remote_seats": [list(s) for s in t.remote_seats],
        }
        for t in tables
    ]


def tables_of_layout(layout: Iterable[dict[str, Any]]) -> tuple[Table, ...]:
    return tuple(
        Table(
            number=int(t["number"]),
            mode=str(t["mode"]),
            area=str(t.get("area", "")),
            seats=tuple((str(k), int(n)) for k, n in t["seats"]),
            remote_seats=tuple((str(k), int(n)) for k, n in t.get("remote_seats", [])),
        )
        for t in layout
    )


# --- reading the stored seating -----------------------------------------------------------------


async def rounds_of(session: AsyncSession, summit_id: int) -> list[Round]:
    return list(
        (
            await session.execute(
                select(Round).where(Round.summit_id == summit_id).order_by(Round.number)
            )
        ).scalars()
    )


async def get_round(session: AsyncSession, summit_id: int, number: int) -> Round:
    rnd = await session.scalar(
        select(Round).where(Round.summit_id == summit_id, Round.number == number)
    )
    if rnd is None:
        raise NotFound(_("round %(number)s does not exist") % {"number": number})
    return rnd


async def tables_by_number(session: AsyncSession, summit_id: int) -> dict[int, SummitTable]:
    rows = (
        await session.execute(select(SummitTable).where(SummitTable.summit_id == summit_id))
    ).scalars()
    return {t.number: t for t in rows}


async def active_run(session: AsyncSession, summit_id: int, kind: str = "mixed") -> SeatingRun:
    run = await session.scalar(
        select(SeatingRun)
        .where(SeatingRun.summit_id == summit_id, SeatingRun.kind == kind, SeatingRun.active)
        .order_by(SeatingRun.id.desc())
        .limit(1)
    )
    if run is None:
        raise NotFound("seating: " + _("this summit has not been seated yet"))
    return run


async def run_of_round(session: AsyncSession, summit_id: int, number: int) -> SeatingRun:
    runs = (
        await session.execute(
            select(SeatingRun)
            .where(SeatingRun.summit_id == summit_id, SeatingRun.active)
            .order_by(SeatingRun.id.desc())
        )
    ).scalars()
    for run in runs:
        if run.first_round <= number < run.first_round + run.rounds:
            return run
    raise NotFound(_("round %(number)s: no seating was computed for it") % {"number": number})


@dataclass(frozen=True)
class SeatedPerson:
    participant_id: int
    pseudonym: str
    display_name: str
    role: str
    attendance: str
    features: dict[str, Any]
    is_host: bool


@dataclass
class TableSeats:
    number: int
    table_id: int
    kind: str
    area: str
    topic: str
    capacity: int
    people: list[SeatedPerson] = field(default_factory=list)

    @property
    def host(self) -> SeatedPerson | None:
        return next((p for p in self.people if p.is_host), None)

    @property
    def members(self) -> list[SeatedPerson]:
        return [p for p in self.people if not p.is_host]


async def round_tables(session: AsyncSession, rnd: Round) -> list[TableSeats]:
    """The tables of a round with the people at each (hosts marked), in table order."""
    topics = dict(
        (
            await session.execute(
                select(RoundTopic.table_id, RoundTopic.topic).where(RoundTopic.round_id == rnd.id)
            )
        ).all()
    )
    # plain columns, not ORM entities: a round of 1,000 seats is read on every seating page view,
    # and building 3,000 tracked objects for it took most of the page's time
    rows = (
        await session.execute(
            select(
                SummitTable.number,
                SummitTable.id,
                SummitTable.kind,
                SummitTable.area,
                SummitTable.topic,
                SummitTable.capacity,
                ParticipantRow.id,
                ParticipantRow.pseudonym,
                ParticipantRow.display_name,
                ParticipantRow.role,
                ParticipantRow.attendance,
                ParticipantRow.features,
                Seat.is_host,
            )
            .join(SummitTable, SummitTable.id == Seat.table_id)
            .join(ParticipantRow, ParticipantRow.id == Seat.participant_id)
            .where(Seat.round_id == rnd.id)
            .order_by(SummitTable.number, Seat.is_host.desc(), ParticipantRow.pseudonym)
        )
    ).all()
    out: dict[int, TableSeats] = {}
    for number, table_id, kind, area, topic, capacity, *person, is_host in rows:
        entry = out.get(number)
        if entry is None:
            entry = out[number] = TableSeats(
                number, table_id, kind, area, str(topics.get(table_id, topic or "")), capacity
            )
        person_id, pseudonym, display_name, role, attendance, features = person
        entry.people.append(
            SeatedPerson(
                person_id,
                pseudonym,
                display_name,
                role,
                attendance,
                dict(features or {}),
                is_host,
            )
        )
    return [out[n] for n in sorted(out)]


# --- seating a summit ---------------------------------------------------------------------------


@dataclass
class SeatingOutcome:
    run: SeatingRun
    report: SeatingReport | None
    events: list[Event] = field(default_factory=list)


def check_seed(seed: str) -> str:
    seed = (seed or "").strip()
    if not seed:
        raise InvalidInput("seed", _("give the public seed (e.g. the dice rolled in public)"))
    if len(seed) > MAX_SEED:
        raise InvalidInput("seed", _("at most %(max_seed)s characters") % {"max_seed": MAX_SEED})
    return seed


def report_payload(report: SeatingReport) -> dict[str, Any]:
    return {
        "repeated_pairs": report.repeated_pairs,
        "repeated_meetings": report.repeated_meetings,
        "pattern_compliance": round(report.pattern_compliance, 4),
        "diversity_score": round(report.diversity_score, 4),
        "keep_apart_violations": report.keep_apart_violations,
        "keep_together_violations": report.keep_together_violations,
        "fixed_seat_violations": report.fixed_seat_violations,
    }


async def _sync_tables(
    session: AsyncSession, summit_id: int, tables: Sequence[Table], table_size: int
) -> dict[int, SummitTable]:
    """Keep table rows (their ids are referenced by ideas and video rooms) and update them."""
    existing = await tables_by_number(session, summit_id)
    wanted = {t.number for t in tables}
    for number, row in existing.items():
        if number not in wanted:
            await session.delete(row)
    out: dict[int, SummitTable] = {}
    for spec in tables:
        row = existing.get(spec.number) or SummitTable(summit_id=summit_id, number=spec.number)
        row.kind = "hybrid" if spec.hybrid else spec.mode
        row.area = spec.area
        row.capacity = max(spec.size + 1, table_size)
        row.topic = ""
        session.add(row)
        out[spec.number] = row
    await session.flush()
    return out


async def seat_summit(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    seed: str,
    rounds: int | None = None,
    table_size: int | None = None,
) -> SeatingOutcome:
    """Seat the summit's selected participants for every round with the stored settings.

    Replaces an earlier seating only while none of its rounds has started; logs
    ``seating.round`` per round with the seed, the inputs' hash and the tables by pseudonym.
    """
    seed = check_seed(seed)
    existing = await rounds_of(session, summit.id)
    started = [r for r in existing if r.status != "planned"]
    if started:
        raise InvalidInput(
            "rounds",
            _(
                "round %(number)s is %(status)s; a seating whose rounds have started cannot be "
                "replaced (use rebalance or move people by hand)"
            )
            % {"number": started[0].number, "status": round_status_label(started[0].status)},
        )
    config = await get_settings(session, summit)
    if rounds is not None or table_size is not None:
        await save_settings(session, summit, actor=actor, rounds=rounds, table_size=table_size)
    inputs = await mixed_inputs(session, summit, config)
    seating = compute_rounds(inputs, seed)
    report = evaluate(seating)
    digest = inputs_hash(inputs)

    old_titles = {r.number: (r.title, r.duration_seconds) for r in existing}
    for run in (
        await session.execute(
            select(SeatingRun).where(SeatingRun.summit_id == summit.id, SeatingRun.active)
        )
    ).scalars():
        run.active = False
    if existing:
        ids = [r.id for r in existing]
        await session.execute(delete(RoundTopic).where(RoundTopic.round_id.in_(ids)))
        await session.execute(delete(Seat).where(Seat.round_id.in_(ids)))
        await session.execute(delete(Round).where(Round.id.in_(ids)))
        await session.flush()
    tables = await _sync_tables(session, summit.id, seating.tables, config.table_size)
    people = {p.pseudonym: p for p in await selected_participants(session, summit.id)}
    run = SeatingRun(
        summit_id=summit.id,
        kind="mixed",
        first_round=1,
        rounds=len(seating.rounds),
        seed=seed,
        inputs=inputs,
        inputs_hash=digest,
        layout=layout_of(seating.tables),
        report=report_payload(report),
        late_participants=[],
        active=True,
        actor=actor,
    )
    session.add(run)
    await session.flush()
    events: list[Event] = []
    for r, round_tables_ in enumerate(seating.rounds, start=1):
        title, duration = old_titles.get(r, ("", 2400))
        rnd = Round(
            summit_id=summit.id,
            number=r,
            kind="mixed",
            title=title,
            status="planned",
            duration_seconds=duration,
        )
        session.add(rnd)
        await session.flush()
        for number, members in enumerate(round_tables_, start=1):
            host = seating.hosts[r - 1][number - 1]
            for pid in (*members, *([host] if host else [])):
                session.add(
                    Seat(
                        round_id=rnd.id,
                        table_id=tables[number].id,
                        participant_id=people[pid].id,
                        seat_type=people[pid].role,
                        is_host=pid == host,
                    )
                )
        await audit.append(
            session,
            actor=actor,
            action="seating.round",
            subject=f"round:{r}",
            summit_id=summit.id,
            payload={
                "run": run.id,
                "round": r,
                "kind": "mixed",
                "seed": seed,
                "inputs_hash": digest,
                "software": __version__,
                "tables": {str(n): list(m) for n, m in enumerate(round_tables_, start=1)},
                "hosts": {str(n): h for n, h in enumerate(seating.hosts[r - 1], start=1)},
            },
        )
    await session.flush()
    events.append((f"summit:{summit.id}", {"type": "seating", "rounds": len(seating.rounds)}))
    return SeatingOutcome(run, report, events)


# --- round control ------------------------------------------------------------------------------


async def open_round(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    number: int,
    minutes: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Round, list[Event]]:
    """Open a planned round (it starts now) when no other round is open."""
    rnd = await get_round(session, summit.id, number)
    if rnd.status != "planned":
        raise InvalidInput(
            "round",
            _("round %(number)s is %(status)s; only a planned round opens")
            % {"number": number, "status": round_status_label(rnd.status)},
        )
    other = await session.scalar(
        select(Round).where(Round.summit_id == summit.id, Round.status == "open")
    )
    if other is not None:
        raise InvalidInput(
            "round", _("round %(number)s is still open; close it first") % {"number": other.number}
        )
    seated = await session.scalar(select(Seat.id).where(Seat.round_id == rnd.id).limit(1))
    if seated is None:
        raise InvalidInput("round", _("round %(number)s has no seating yet") % {"number": number})
    if minutes is not None:
        if not 1 <= minutes <= 600:
            raise InvalidInput("minutes", _("must be between 1 and 600"))
        rnd.duration_seconds = minutes * 60
    start = now or utcnow()
    rnd.status = "open"
    rnd.started_at = start
    rnd.ends_at = start + dt.timedelta(seconds=rnd.duration_seconds)
    await audit.append(
        session,
        actor=actor,
        action="round.open",
        subject=f"round:{number}",
        summit_id=summit.id,
        payload={"round": number, "minutes": rnd.duration_seconds // 60},
    )
    event = {"type": "round", "round": number, "status": "open", "ends_at": rnd.ends_at.isoformat()}
    return rnd, [(f"summit:{summit.id}", event)]


async def close_round(
    session: AsyncSession, summit: Summit, *, actor: str, number: int
) -> tuple[Round, list[Event]]:
    rnd = await get_round(session, summit.id, number)
    if rnd.status != "open":
        raise InvalidInput(
            "round",
            _("round %(number)s is not open; only an open round closes") % {"number": number},
        )
    rnd.status = "closed"
    rnd.ends_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="round.close",
        subject=f"round:{number}",
        summit_id=summit.id,
        payload={"round": number},
    )
    return rnd, [(f"summit:{summit.id}", {"type": "round", "round": number, "status": "closed"})]


async def publish(bus: Publisher, events: Iterable[Event]) -> None:
    """Send a use case's live events (after its transaction has committed)."""
    for channel, event in events:
        await bus.publish(channel, event)


# --- the participant's tables -------------------------------------------------------------------


@dataclass(frozen=True)
class MyTable:
    round_number: int
    round_title: str
    round_status: str
    round_kind: str
    table_number: int
    table_kind: str
    table_area: str
    topic: str
    is_host: bool
    companions: list[str]


async def participant_tables(session: AsyncSession, participant: ParticipantRow) -> list[MyTable]:
    """The participant's table in every round, with the first names at it (no pseudonyms)."""
    rows = (
        await session.execute(
            select(Seat, Round, SummitTable)
            .join(Round, Round.id == Seat.round_id)
            .join(SummitTable, SummitTable.id == Seat.table_id)
            .where(Seat.participant_id == participant.id)
            .order_by(Round.number)
        )
    ).all()
    out = []
    for seat, rnd, table in rows:
        names = (
            await session.execute(
                select(ParticipantRow.display_name)
                .join(Seat, Seat.participant_id == ParticipantRow.id)
                .where(
                    Seat.round_id == rnd.id,
                    Seat.table_id == table.id,
                    ParticipantRow.id != participant.id,
                )
                .order_by(ParticipantRow.display_name)
            )
        ).scalars()
        topic = await session.scalar(
            select(RoundTopic.topic).where(
                RoundTopic.round_id == rnd.id, RoundTopic.table_id == table.id
            )
        )
        out.append(
            MyTable(
                rnd.number,
                rnd.title,
                rnd.status,
                rnd.kind,
                table.number,
                table.kind,
                table.area,
                topic or table.topic or "",
                seat.is_host,
                distinct_names([name or "—" for name in names]),
            )
        )
    return out
