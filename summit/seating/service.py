"""Seating use cases (tafelindeling): seat a summit, verify it, open and close rounds, topic rounds.

Every function takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there. A seating is a pure function of (participants, settings, seed): the canonical inputs
are stored with each run and their SHA-256 is logged with the seed and the tables by pseudonym, so
``verify_round`` (and anyone with the inputs) can re-run it. Live events are returned, not sent:
the caller publishes them after the transaction commits (``publish``).

On-the-day changes (no-shows, arrivals, manual moves) are in ``summit.seating.changes``.
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
from summit.core.models import AuditEntry, Round, Seat, Summit, SummitTable, utcnow
from summit.core.models import Participant as ParticipantRow
from summit.core.rules.names import distinct_names
from summit.seating.models import RoundTopic, SeatingConfig, SeatingRun, TopicChoice
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

Event = tuple[str, dict[str, Any]]


class Publisher(Protocol):
    """Anything with the event bus's ``publish`` (in-process or Redis)."""

    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...


MAX_SEED = 200
MAX_ROUNDS = 12


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


# --- settings ---------------------------------------------------------------------------------


def feature_names(summit: Summit) -> list[str]:
    names = []
    for feature in summit.features or []:
        name = feature.get("name") if isinstance(feature, dict) else feature
        if isinstance(name, str) and name:
            names.append(name)
    return names


async def get_settings(session: AsyncSession, summit: Summit) -> SeatingConfig:
    """The summit's seating settings; defaults from the summit (table size, features)."""
    config = await session.scalar(select(SeatingConfig).where(SeatingConfig.summit_id == summit.id))
    if config is None:
        config = SeatingConfig(
            summit_id=summit.id,
            rounds=4,
            table_size=summit.table_size or 8,
            features=feature_names(summit),
            hosts_stay=True,
            hybrid_tables=0,
            remote_seats_per_hybrid_table=0,
            venue_areas=[],
            keep_together=[],
            keep_apart=[],
            fixed_tables={},
            effort=1.0,
            topics=[],
        )
        session.add(config)
        await session.flush()
    return config


def _groups(value: Any, name: str) -> list[list[str]]:
    if not isinstance(value, list):
        raise InvalidInput(name, _("give a list of groups of pseudonyms"))
    groups = []
    for i, group in enumerate(value, start=1):
        if not isinstance(group, list | tuple) or len(group) < 2:
            raise InvalidInput(name, _("group %(i)s needs at least two pseudonyms") % {"i": i})
        members = sorted({str(m).strip() for m in group if str(m).strip()})
        if len(members) < 2:
            raise InvalidInput(
                name, _("group %(i)s needs at least two different pseudonyms") % {"i": i}
            )
        groups.append(members)
    return groups


_WHOLE = {
    "rounds": (1, MAX_ROUNDS),
    "table_size": (2, 30),
    "hybrid_tables": (0, 1000),
    "remote_seats_per_hybrid_table": (0, 10),
}


def _whole(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(key, _("must be a whole number"))
    low, high = _WHOLE[key]
    if not low <= value <= high:
        raise InvalidInput(
            key, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
        )
    return value


def _features(value: Any, known: set[str]) -> list[str]:
    features = [str(f) for f in value]
    unknown = [f for f in features if f not in known]
    if unknown:
        raise InvalidInput(
            "features", _("%(unknown)r is not a feature of this summit") % {"unknown": unknown[0]}
        )
    return list(dict.fromkeys(features))


def _effort(value: Any) -> float:
    if not isinstance(value, int | float) or not 0 < float(value) <= 10:
        raise InvalidInput("effort", _("must be a number above 0 and at most 10"))
    return float(value)


def _areas(value: Any) -> list[dict[str, Any]]:
    areas = []
    for area in value:
        label, tables = str(area["label"]).strip(), area["tables"]
        if not label or not isinstance(tables, int) or tables < 1:
            raise InvalidInput(
                "venue_areas", _("%(area)r: give a name and tables ≥ 1") % {"area": area}
            )
        areas.append({"label": label[:64], "tables": tables})
    return areas


def _fixed(value: Any) -> dict[str, int]:
    fixed: dict[str, int] = {}
    for pid, number in dict(value).items():
        if not isinstance(number, int) or number < 1:
            raise InvalidInput("fixed_tables", _("%(pid)s: give a table number ≥ 1") % {"pid": pid})
        fixed[str(pid).strip()] = number
    return fixed


def _topics(value: Any) -> list[str]:
    topics = [str(t).strip()[:200] for t in value if str(t).strip()]
    if len(set(topics)) != len(topics):
        raise InvalidInput("topics", _("each topic may appear only once"))
    return topics


def _setting(key: str, value: Any, known_features: set[str]) -> Any:
    """The checked value of one setting; ``InvalidInput`` names the setting."""
    if key in _WHOLE:
        return _whole(key, value)
    if key == "features":
        return _features(value, known_features)
    if key == "hosts_stay":
        return bool(value)
    if key == "effort":
        return _effort(value)
    if key == "venue_areas":
        return _areas(value)
    if key in {"keep_together", "keep_apart"}:
        return _groups(value, key)
    if key == "fixed_tables":
        return _fixed(value)
    if key == "topics":
        return _topics(value)
    raise InvalidInput(key, _("is not a seating setting"))


async def _check_named(session: AsyncSession, summit: Summit, config: SeatingConfig) -> None:
    """Every pseudonym the constraints name is a participant of the summit."""
    pseudonyms = set(
        (
            await session.execute(
                select(ParticipantRow.pseudonym).where(ParticipantRow.summit_id == summit.id)
            )
        ).scalars()
    )
    named = [
        *(m for g in config.keep_together for m in g),
        *(m for g in config.keep_apart for m in g),
        *config.fixed_tables,
    ]
    for pid in named:
        if pid not in pseudonyms:
            raise InvalidInput(
                "constraints", _("%(pid)r is not a participant of this summit") % {"pid": pid}
            )


async def save_settings(
    session: AsyncSession, summit: Summit, *, actor: str, **values: Any
) -> SeatingConfig:
    """Change the seating settings; unknown pseudonyms and features are refused by name."""
    config = await get_settings(session, summit)
    known_features = set(feature_names(summit))
    for key, value in values.items():
        if value is not None:
            setattr(config, key, _setting(key, value, known_features))
    await _check_named(session, summit, config)
    config.updated_at = utcnow()
    await audit.append(
        session,
        actor=actor,
        action="seating.settings",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload=settings_payload(config),
    )
    return config


def settings_payload(config: SeatingConfig) -> dict[str, Any]:
    return {
        "rounds": config.rounds,
        "table_size": config.table_size,
        "features": list(config.features),
        "hosts_stay": config.hosts_stay,
        "hybrid_tables": config.hybrid_tables,
        "remote_seats_per_hybrid_table": config.remote_seats_per_hybrid_table,
        "venue_areas": list(config.venue_areas),
        "keep_together": list(config.keep_together),
        "keep_apart": list(config.keep_apart),
        "fixed_tables": dict(config.fixed_tables),
        "effort": config.effort,
    }


async def selected_participants(session: AsyncSession, summit_id: int) -> list[ParticipantRow]:
    """Who is seated: selected participants (not withdrawn, not reserves)."""
    return list(
        (
            await session.execute(
                select(ParticipantRow)
                .where(ParticipantRow.summit_id == summit_id, ParticipantRow.status == "selected")
                .order_by(ParticipantRow.pseudonym)
            )
        ).scalars()
    )


def participant_record(p: ParticipantRow, features: Sequence[str]) -> dict[str, Any]:
    values = dict(p.features or {})
    return {
        "id": p.pseudonym,
        "role": p.role,
        "mode": p.attendance,
        # only the features that are balanced enter the inputs (and the hash)
        "features": {f: str(values[f]) for f in features if f in values},
    }


async def mixed_inputs(
    session: AsyncSession, summit: Summit, config: SeatingConfig
) -> dict[str, Any]:
    people = await selected_participants(session, summit.id)
    return {
        "kind": "mixed",
        "participants": [participant_record(p, config.features) for p in people if not p.is_host],
        "hosts": [{"id": p.pseudonym, "mode": p.attendance} for p in people if p.is_host],
        "settings": settings_payload(config),
    }


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


def _check_seed(seed: str) -> str:
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
    seed = _check_seed(seed)
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


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """MATCH, or the first difference found between the log, a re-run and the database."""

    round: int
    ok: bool
    message: str
    seed: str = ""
    inputs_hash: str = ""

    def __str__(self) -> str:
        return f"MATCH: {self.message}" if self.ok else f"DIFFERENT: {self.message}"


def _first_difference(
    ours: dict[str, list[str]], theirs: dict[str, list[str]], what: str, other: str
) -> str | None:
    for number in sorted(set(ours) | set(theirs), key=int):
        a, b = sorted(ours.get(number, [])), sorted(theirs.get(number, []))
        if a != b:
            listed = ", ".join(a) or "(empty)"
            return f"table {number}: {what} {listed}; {other} {', '.join(b) or '(empty)'}"
    return None


def _rerun(
    run: SeatingRun, data: dict[str, Any], seed: str, number: int
) -> tuple[dict[str, list[str]], dict[str, str | None]] | None:
    """Tables (members without the host) and hosts of round ``number`` re-run from ``data``;
    ``None`` when the re-run has no such round."""
    if data.get("kind") == "topic":
        topic = compute_topics(data, seed)
        mapping = {int(m["domain"]): int(m["number"]) for m in run.layout}
        full = {str(mapping[t.number]): list(t.members) for t in topic.tables}
        hosts = _topic_hosts(full, {h["id"] for h in data.get("hosts", [])})
        return {k: [m for m in v if m != hosts[k]] for k, v in full.items()}, hosts
    seating = compute_rounds(data, seed)
    index = number - run.first_round
    if not 0 <= index < len(seating.rounds):
        return None
    tables = {str(n): list(m) for n, m in enumerate(seating.rounds[index], start=1)}
    return tables, {str(n): h for n, h in enumerate(seating.hosts[index], start=1)}


def _host_difference(ours: dict[str, str | None], logged: dict[str, Any]) -> str | None:
    for key in sorted(set(ours) | set(logged), key=int):
        if ours.get(key) != logged.get(key):
            return (
                f"table {key}: the re-run's host is {ours.get(key)}, the log says {logged.get(key)}"
            )
    return None


async def _replay_moves(
    session: AsyncSession,
    summit: Summit,
    entry: AuditEntry,
    run: SeatingRun,
    number: int,
    expected: dict[str, set[str]],
) -> int:
    """Apply the day's logged moves of the round to ``expected``; returns how many there were."""
    moves = (
        await session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.summit_id == summit.id,
                AuditEntry.action == "seating.move",
                AuditEntry.seq > entry.seq,
            )
            .order_by(AuditEntry.seq)
        )
    ).scalars()
    count = 0
    for move in moves:
        p = dict(move.payload)
        if p.get("run") != run.id or p.get("round") != number:
            continue
        count += 1
        if p.get("from") is not None:
            expected.get(str(p["from"]), set()).discard(move.subject)
        if p.get("to") is not None:
            expected.setdefault(str(p["to"]), set()).add(move.subject)
    return count


async def _round_entry(session: AsyncSession, summit: Summit, number: int) -> AuditEntry:
    entry = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.summit_id == summit.id,
            AuditEntry.action == "seating.round",
            AuditEntry.subject == f"round:{number}",
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    if entry is None:
        raise NotFound(_("round %(number)s: the log has no seating for it") % {"number": number})
    return entry


async def verify_round(
    session: AsyncSession, summit: Summit, number: int, inputs: dict[str, Any] | None = None
) -> Verification:
    """Re-run round ``number`` from its logged inputs and seed; compare with the log, then
    replay the logged moves and compare with the seats in the database.

    ``inputs``: verify from a published inputs file instead of the stored copy.
    """
    entry = await _round_entry(session, summit, number)
    logged = dict(entry.payload)
    run = await session.get(SeatingRun, int(logged["run"]))
    if run is None:
        return Verification(number, False, f"the inputs of run {logged['run']} are missing")
    data = inputs if inputs is not None else dict(run.inputs)
    seed = str(logged["seed"])
    digest = inputs_hash(data)
    if digest != logged["inputs_hash"]:
        return Verification(
            number,
            False,
            f"inputs: they hash to {digest[:16]}…, the log says {str(logged['inputs_hash'])[:16]}…",
            seed,
            digest,
        )
    log_tables = {k: list(v) for k, v in dict(logged["tables"]).items()}
    log_hosts = {k: v for k, v in dict(logged.get("hosts", {})).items()}
    again = _rerun(run, data, seed, number)
    if again is None:
        return Verification(number, False, "the re-run has no such round", seed, digest)
    diff = _first_difference(again[0], log_tables, "the re-run seats", "the log says")
    diff = diff or _host_difference(again[1], log_hosts)
    if diff is not None:
        return Verification(number, False, diff, seed, digest)
    # the day's logged moves turn the logged seating into what the database should hold
    expected = {k: set(v) for k, v in log_tables.items()}
    for k, h in log_hosts.items():
        if h:
            expected.setdefault(k, set()).add(h)
    count = await _replay_moves(session, summit, entry, run, number, expected)
    rnd = await get_round(session, summit.id, number)
    stored = {
        str(t.number): [p.pseudonym for p in t.people] for t in await round_tables(session, rnd)
    }
    want = {k: sorted(v) for k, v in expected.items() if v}
    diff = _first_difference(stored, want, "the database seats", "the log says")
    if diff is not None:
        return Verification(number, False, diff, seed, digest)
    return Verification(
        number,
        True,
        f"round {number} re-run from seed {seed!r} and inputs {digest[:16]}… gives the logged "
        f"tables; with {count} logged move(s) they equal the seats in the database",
        seed,
        digest,
    )


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


# --- topic rounds -------------------------------------------------------------------------------


async def set_topic_choice(
    session: AsyncSession,
    summit: Summit,
    participant: ParticipantRow,
    *,
    first: str,
    second: str = "",
) -> TopicChoice:
    """Store a participant's first and second topic (the topics the organiser listed)."""
    config = await get_settings(session, summit)
    topics = list(config.topics)
    first, second = first.strip(), second.strip()
    if first not in topics:
        raise InvalidInput("first", _("choose one of the listed topics"))
    if second and second not in topics:
        raise InvalidInput("second", _("choose one of the listed topics"))
    if second == first:
        second = ""
    choice = await session.scalar(
        select(TopicChoice).where(
            TopicChoice.summit_id == summit.id, TopicChoice.participant_id == participant.id
        )
    )
    if choice is None:
        choice = TopicChoice(summit_id=summit.id, participant_id=participant.id, first=first)
        session.add(choice)
    choice.first, choice.second, choice.updated_at = first, second, utcnow()
    await session.flush()
    await audit.append(
        session,
        actor=participant.pseudonym,
        action="topic.choice",
        subject=participant.pseudonym,
        summit_id=summit.id,
        payload={"first": first, "second": second},
    )
    return choice


async def topic_choices(session: AsyncSession, summit_id: int) -> dict[str, tuple[str, ...]]:
    rows = (
        await session.execute(
            select(ParticipantRow.pseudonym, TopicChoice.first, TopicChoice.second)
            .join(TopicChoice, TopicChoice.participant_id == ParticipantRow.id)
            .where(TopicChoice.summit_id == summit_id)
        )
    ).all()
    return {pid: (first, second) if second else (first,) for pid, first, second in rows}


def _topic_hosts(tables: dict[str, list[str]], hosts: set[str]) -> dict[str, str | None]:
    # the first host (by pseudonym) at a topic table records its ideas
    return {k: next((m for m in sorted(v) if m in hosts), None) for k, v in tables.items()}


@dataclass
class TopicOutcome:
    run: SeatingRun
    round: Round
    second_choice: list[str]
    unchosen: list[str]
    lacking_roles: list[tuple[int, list[str]]]
    repeated_pairs: int
    events: list[Event] = field(default_factory=list)


def _topic_target(existing: Sequence[Round], round_number: int | None) -> Round | None:
    """The unstarted topic round to replace, or ``None`` for a new round after the last."""
    if round_number is None:
        return None
    target = next((r for r in existing if r.number == round_number), None)
    if target is not None and (target.kind != "topic" or target.status != "planned"):
        raise InvalidInput(
            "round",
            _("round %(round_number)s is not a topic round that is still planned")
            % {"round_number": round_number},
        )
    return target


async def _topic_inputs(
    session: AsyncSession,
    summit: Summit,
    config: SeatingConfig,
    people: Sequence[ParticipantRow],
    earlier: Sequence[Round],
) -> dict[str, Any]:
    """The canonical inputs of a topic round: people, choices, topics and the earlier rounds'
    tables (to avoid repeated meetings)."""
    choices = await topic_choices(session, summit.id)
    previous = [
        [sorted(p.pseudonym for p in t.people) for t in await round_tables(session, r)]
        for r in earlier
    ]
    features = list(config.features)
    ids = {p.pseudonym for p in people}
    return {
        "kind": "topic",
        "participants": [participant_record(p, features) for p in people],
        "hosts": [{"id": p.pseudonym, "mode": p.attendance} for p in people if p.is_host],
        "choices": {pid: list(c) for pid, c in sorted(choices.items()) if pid in ids},
        "topics": list(config.topics),
        "previous": previous,
        "settings": {"table_size": config.table_size, "features": features, "rounds": 1},
    }


async def _topic_layout(
    session: AsyncSession, summit: Summit, config: SeatingConfig, result: TopicSeating
) -> tuple[list[dict[str, Any]], dict[int, SummitTable]]:
    """Physical tables: venue topic tables on venue tables in order, online ones on online
    tables; new tables (numbered after the last) where there are too few."""
    existing_tables = await tables_by_number(session, summit.id)
    free = {
        "venue": [n for n, t in sorted(existing_tables.items()) if t.kind in {"venue", "hybrid"}],
        "online": [n for n, t in sorted(existing_tables.items()) if t.kind == "online"],
    }
    next_number = max(existing_tables, default=0) + 1
    layout: list[dict[str, Any]] = []
    for t in result.tables:
        pool = free[t.mode]
        if pool:
            number = pool.pop(0)
        else:
            number = next_number
            next_number += 1
            existing_tables[number] = SummitTable(
                summit_id=summit.id,
                number=number,
                kind=t.mode,
                area="",
                capacity=max(config.table_size, len(t.members) + 1),
            )
            session.add(existing_tables[number])
        layout.append({"domain": t.number, "number": number, "topic": t.topic, "mode": t.mode})
    await session.flush()
    return layout, existing_tables


async def _topic_round(
    session: AsyncSession, summit: Summit, existing: Sequence[Round], target: Round | None
) -> Round:
    """A new planned topic round after the last, or ``target`` emptied of its topics, seats and
    active run."""
    if target is None:
        target = Round(
            summit_id=summit.id,
            number=max((r.number for r in existing), default=0) + 1,
            kind="topic",
            title="",
            status="planned",
            duration_seconds=2400,
        )
        session.add(target)
        await session.flush()
        return target
    await session.execute(delete(RoundTopic).where(RoundTopic.round_id == target.id))
    await session.execute(delete(Seat).where(Seat.round_id == target.id))
    for run in (
        await session.execute(
            select(SeatingRun).where(
                SeatingRun.summit_id == summit.id,
                SeatingRun.kind == "topic",
                SeatingRun.first_round == target.number,
                SeatingRun.active,
            )
        )
    ).scalars():
        run.active = False
    return target


def _add_topic_seats(
    session: AsyncSession,
    target: Round,
    result: TopicSeating,
    mapping: dict[int, int],
    tables: dict[int, SummitTable],
    people: Sequence[ParticipantRow],
    host_of: dict[str, str | None],
) -> None:
    by_pid = {p.pseudonym: p for p in people}
    for t in result.tables:
        number = mapping[t.number]
        table = tables[number]
        session.add(RoundTopic(round_id=target.id, table_id=table.id, topic=t.topic))
        for pid in t.members:
            session.add(
                Seat(
                    round_id=target.id,
                    table_id=table.id,
                    participant_id=by_pid[pid].id,
                    seat_type=by_pid[pid].role,
                    is_host=host_of[str(number)] == pid,
                )
            )


async def seat_topic_round(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    seed: str,
    topics: Sequence[str] | None = None,
    round_number: int | None = None,
) -> TopicOutcome:
    """Form topic tables from the participants' first and second choices (themaronde).

    A new round after the last one, or a replacement of an unstarted topic round. Venue topic
    tables take the venue's table numbers in order, online ones the online tables'.
    """
    seed = _check_seed(seed)
    config = await get_settings(session, summit)
    if topics is not None:
        await save_settings(session, summit, actor=actor, topics=list(topics))
    if not config.topics:
        raise InvalidInput("topics", _("type in at least one topic"))
    existing = await rounds_of(session, summit.id)
    target = _topic_target(existing, round_number)
    people = await selected_participants(session, summit.id)
    earlier = [r for r in existing if target is None or r.number < target.number]
    inputs = await _topic_inputs(session, summit, config, people, earlier)
    result = compute_topics(inputs, seed)
    digest = inputs_hash(inputs)
    layout, tables = await _topic_layout(session, summit, config, result)
    target = await _topic_round(session, summit, existing, target)
    mapping = {m["domain"]: m["number"] for m in layout}
    tables_payload = {str(mapping[t.number]): list(t.members) for t in result.tables}
    host_of = _topic_hosts(tables_payload, {p.pseudonym for p in people if p.is_host})
    _add_topic_seats(session, target, result, mapping, tables, people, host_of)
    lacking = [(mapping[n], list(types)) for n, types in result.lacking_roles]
    run = SeatingRun(
        summit_id=summit.id,
        kind="topic",
        first_round=target.number,
        rounds=1,
        seed=seed,
        inputs=inputs,
        inputs_hash=digest,
        layout=layout,
        report={
            "second_choice": list(result.second_choice),
            "unchosen": list(result.unchosen),
            "lacking_roles": [[n, t] for n, t in lacking],
            "repeated_pairs": result.repeated_pairs,
        },
        late_participants=[],
        active=True,
        actor=actor,
    )
    session.add(run)
    await session.flush()
    # topic tables list their members with the host among them; the log keeps them apart
    await audit.append(
        session,
        actor=actor,
        action="seating.round",
        subject=f"round:{target.number}",
        summit_id=summit.id,
        payload={
            "run": run.id,
            "round": target.number,
            "kind": "topic",
            "seed": seed,
            "inputs_hash": digest,
            "software": __version__,
            "tables": {k: [m for m in v if m != host_of[k]] for k, v in tables_payload.items()},
            "hosts": host_of,
            "topics": {str(mapping[t.number]): t.topic for t in result.tables},
            "second_choice": len(result.second_choice),
            "unchosen": len(result.unchosen),
        },
    )
    events: list[Event] = [
        (f"summit:{summit.id}", {"type": "seating", "round": target.number, "kind": "topic"})
    ]
    return TopicOutcome(
        run,
        target,
        list(result.second_choice),
        list(result.unchosen),
        lacking,
        result.repeated_pairs,
        events,
    )


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


async def topics_from_agenda(session: AsyncSession, summit: Summit, *, actor: str) -> list[str]:
    """Take the topic round's topics from the agenda-setting shortlist (the top themes).

    The prioritisation's shortlist (``shortlist_items`` of stage ``agenda``) decides the topics;
    participants then choose a first and a second one.
    """
    from summit.council.models import ShortlistItem
    from summit.ideas.models import Theme

    rows = (
        await session.execute(
            select(Theme.label)
            .join(ShortlistItem, ShortlistItem.theme_id == Theme.id)
            .where(ShortlistItem.summit_id == summit.id, ShortlistItem.stage == "agenda")
            .order_by(ShortlistItem.rank)
        )
    ).scalars()
    topics = list(dict.fromkeys(label.strip() for label in rows if label.strip()))
    if not topics:
        raise InvalidInput(
            "topics", _("the agenda has no shortlist yet: close the prioritisation first")
        )
    await save_settings(session, summit, actor=actor, topics=topics)
    await audit.append(
        session,
        actor=actor,
        action="seating.topics_from_agenda",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"topics": topics},
    )
    return topics
