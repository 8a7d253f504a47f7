"""On the summit day: no-shows, late arrivals and leavers (rebalance), and the organiser's moves.

The stored seating (the active run's inputs and table layout, and the seats in the database) is
turned back into the domain's ``Seating``; the domain decides the fewest moves, and every move is
written to the seats, logged as ``seating.move`` and announced on the participant's channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.labels import attendance_label
from summit.core.models import Participant as ParticipantRow
from summit.core.models import Round, Seat, Summit, SummitTable
from summit.core.service import current_round
from summit.seating.models import SeatingRun
from summit.seating.rules import (
    Move,
    Participant,
    Seating,
    SeatingError,
    Violation,
    apply_move,
    check_move,
    rebalance,
)
from summit.seating.service import (
    Event,
    active_run,
    as_invalid,
    domain_settings,
    get_round,
    person_of,
    round_tables,
    tables_by_number,
    tables_of_layout,
)
from summit.seating.settings import participant_record


class MoveRefused(InvalidInput):
    """A manual move that breaks seating rules; the organiser may confirm an override."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(
            "move", "; ".join(v.message for v in violations) + " (confirm to override)"
        )
        self.violations = list(violations)


@dataclass
class DayOutcome:
    moves: list[Move] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class Loaded:
    run: SeatingRun
    seating: Seating
    rounds: list[Round]
    people: dict[str, ParticipantRow]
    tables: dict[int, SummitTable]
    hosts: set[str]


async def load_seating(session: AsyncSession, summit: Summit) -> Loaded:
    """The active mixed seating as the domain sees it, rebuilt from the database."""
    run = await active_run(session, summit.id, "mixed")
    inputs = dict(run.inputs)
    settings = domain_settings(inputs)
    people = [person_of(p) for p in [*inputs["participants"], *run.late_participants]]
    host_ids = {h.id for h in settings.hosts}
    layout = tables_of_layout(run.layout)
    rows = {
        p.pseudonym: p
        for p in (
            await session.execute(
                select(ParticipantRow).where(ParticipantRow.summit_id == summit.id)
            )
        ).scalars()
    }
    rounds: list[Round] = []
    members: list[tuple[tuple[str, ...], ...]] = []
    hosts: list[tuple[str | None, ...]] = []
    for number in range(run.first_round, run.first_round + run.rounds):
        rnd = await get_round(session, summit.id, number)
        rounds.append(rnd)
        seated = {t.number: t for t in await round_tables(session, rnd)}
        row: list[tuple[str, ...]] = []
        host_row: list[str | None] = []
        for table in layout:
            at = seated.get(table.number)
            row.append(tuple(sorted(p.pseudonym for p in at.members)) if at else ())
            host = at.host if at else None
            host_row.append(host.pseudonym if host else None)
        members.append(tuple(row))
        hosts.append(tuple(host_row))
    seating = Seating(
        tables=layout,
        rounds=tuple(members),
        hosts=tuple(hosts),
        participants=tuple(people),
        settings=settings,
        seed=run.seed,
    )
    return Loaded(run, seating, rounds, rows, await tables_by_number(session, summit.id), host_ids)


def _index(loaded: Loaded, rnd: Round) -> int:
    """The domain's round number (1-based within the run) of a stored round."""
    if rnd.kind != "mixed" or not (
        loaded.run.first_round <= rnd.number < loaded.run.first_round + loaded.run.rounds
    ):
        raise InvalidInput(
            "round",
            _("round %(number)s is not a mixed round of the current seating")
            % {"number": rnd.number},
        )
    if rnd.status == "closed":
        raise InvalidInput("round", _("round %(number)s is closed") % {"number": rnd.number})
    return rnd.number - loaded.run.first_round + 1


async def _seats_of(session: AsyncSession, rnd: Round) -> dict[int, Seat]:
    rows = (await session.execute(select(Seat).where(Seat.round_id == rnd.id))).scalars()
    return {s.participant_id: s for s in rows}


async def _log_move(
    session: AsyncSession,
    summit: Summit,
    loaded: Loaded,
    *,
    actor: str,
    round_number: int,
    pseudonym: str,
    source: int | None,
    target: int | None,
    reason: str,
    extra: dict[str, object] | None = None,
) -> list[Event]:
    await audit.append(
        session,
        actor=actor,
        action="seating.move",
        subject=pseudonym,
        summit_id=summit.id,
        payload={
            "run": loaded.run.id,
            "round": round_number,
            "from": source,
            "to": target,
            "reason": reason,
            **(extra or {}),
        },
    )
    person = loaded.people[pseudonym]
    event = {"type": "seat", "round": round_number, "from": source, "table": target}
    return [(f"participant:{person.id}", event)]


async def _log_moves(
    session: AsyncSession, summit: Summit, loaded: Loaded, actor: str, moves: Sequence[Move]
) -> list[Event]:
    """Log every move of the domain (rounds numbered within the run) as ``seating.move``."""
    offset = loaded.run.first_round - 1
    events: list[Event] = []
    for move in moves:
        events += await _log_move(
            session,
            summit,
            loaded,
            actor=actor,
            round_number=move.round + offset,
            pseudonym=move.participant_id,
            source=move.from_table,
            target=move.to_table,
            reason=move.reason,
        )
    return events


async def _round_to_repair(session: AsyncSession, summit: Summit, number: int | None) -> Round:
    if number is not None:
        return await get_round(session, summit.id, number)
    rnd = await current_round(session, summit.id)
    if rnd is None:
        raise InvalidInput("round", _("there is no open or planned round"))
    return rnd


def _newcomers(loaded: Loaded, absent: Sequence[str], arrived: Sequence[str]) -> list[Participant]:
    """Arrivals who were not in the seating's inputs (hosts aside); every name must be a
    participant, and newcomers must be selected."""
    for pid in (*absent, *arrived):
        if pid not in loaded.people:
            raise InvalidInput(
                "participant", _("%(pid)r is not a participant of this summit") % {"pid": pid}
            )
    if set(absent) & set(arrived):
        raise InvalidInput(
            "arrived",
            _("%(value)s is also absent") % {"value": sorted(set(absent) & set(arrived))[0]},
        )
    known = {p.id for p in loaded.seating.participants}
    features = list(loaded.seating.settings.features)
    newcomers = [
        person_of(participant_record(loaded.people[pid], features))
        for pid in arrived
        if pid not in known and pid not in loaded.hosts
    ]
    for p in newcomers:
        if loaded.people[p.id].status != "selected":
            raise InvalidInput("arrived", _("%(id)s is not a selected participant") % {"id": p.id})
    return newcomers


async def _store_rounds(session: AsyncSession, loaded: Loaded, new: Seating, r: int) -> None:
    """Make the stored seats of rounds ``r`` and later those of ``new`` (hosts stay)."""
    by_pid = {p.pseudonym: p for p in loaded.people.values()}
    for later in range(r, len(loaded.rounds) + 1):
        stored = loaded.rounds[later - 1]
        seats = await _seats_of(session, stored)
        want = {
            pid: number for number, ids in enumerate(new.rounds[later - 1], start=1) for pid in ids
        }
        for pid, number in want.items():
            person = by_pid[pid]
            table_id = loaded.tables[number].id
            seat = seats.pop(person.id, None)
            if seat is None:
                session.add(
                    Seat(
                        round_id=stored.id,
                        table_id=table_id,
                        participant_id=person.id,
                        seat_type=person.role,
                        is_host=False,
                    )
                )
            elif seat.table_id != table_id:
                seat.table_id = table_id
        for seat in seats.values():
            if not seat.is_host:
                await session.delete(seat)
    await session.flush()


async def rebalance_round(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    absent: Sequence[str] = (),
    arrived: Sequence[str] = (),
    round_number: int | None = None,
) -> DayOutcome:
    """Repair the current round (and the later, unstarted ones) for no-shows, leavers and late
    arrivals with the fewest moves; every move is logged and announced."""
    loaded = await load_seating(session, summit)
    rnd = await _round_to_repair(session, summit, round_number)
    r = _index(loaded, rnd)
    absent = sorted(set(absent))
    arrived = sorted(set(arrived))
    newcomers = _newcomers(loaded, absent, arrived)
    known = {p.id for p in loaded.seating.participants}
    try:
        new, moves = rebalance(
            loaded.seating,
            r,
            absent_ids=[p for p in absent if p not in loaded.hosts],
            arrived_ids=[p for p in arrived if p in known],
            new_participants=newcomers,
        )
    except SeatingError as exc:
        raise as_invalid(exc) from None
    await _store_rounds(session, loaded, new, r)
    outcome = DayOutcome()
    outcome.events += await _log_moves(session, summit, loaded, actor, moves)
    outcome.moves += moves
    outcome.moves += await _host_changes(
        session, summit, loaded, r, absent, arrived, actor, outcome
    )
    if newcomers:
        features = list(loaded.seating.settings.features)
        loaded.run.late_participants = [
            *loaded.run.late_participants,
            *(participant_record(loaded.people[p.id], features) for p in newcomers),
        ]
    outcome.events.append(
        (f"summit:{summit.id}", {"type": "seating", "round": rnd.number, "moves": len(moves)})
    )
    return outcome


async def _host_changes(
    session: AsyncSession,
    summit: Summit,
    loaded: Loaded,
    r: int,
    absent: Sequence[str],
    arrived: Sequence[str],
    actor: str,
    outcome: DayOutcome,
) -> list[Move]:
    """Hosts are not in the table pattern: an absent host leaves their table without a host, a
    returning host takes the first table of their kind that has none."""
    moves: list[Move] = []
    for pid in [p for p in absent if p in loaded.hosts]:
        person = loaded.people[pid]
        for later in range(r, len(loaded.rounds) + 1):
            seat = (await _seats_of(session, loaded.rounds[later - 1])).get(person.id)
            if seat is None:
                continue
            number = next(n for n, t in loaded.tables.items() if t.id == seat.table_id)
            await session.delete(seat)
            moves.append(Move(later, pid, number, None, "absent"))
    for pid in [p for p in arrived if p in loaded.hosts]:
        person = loaded.people[pid]
        wanted = {"venue", "hybrid"} if person.attendance == "venue" else {"online"}
        for later in range(r, len(loaded.rounds) + 1):
            stored = loaded.rounds[later - 1]
            seats = await _seats_of(session, stored)
            if person.id in seats:
                continue
            hosted = {s.table_id for s in seats.values() if s.is_host}
            free = [
                n
                for n, t in sorted(loaded.tables.items())
                if t.kind in wanted
                and t.id not in hosted
                and any(t.id == s.table_id for s in seats.values())
            ]
            if not free:
                raise InvalidInput(
                    "arrived",
                    _("%(pid)s: every table of this kind (%(attendance)s) has a host")
                    % {"pid": pid, "attendance": attendance_label(person.attendance)},
                )
            session.add(
                Seat(
                    round_id=stored.id,
                    table_id=loaded.tables[free[0]].id,
                    participant_id=person.id,
                    seat_type=person.role,
                    is_host=True,
                )
            )
            moves.append(Move(later, pid, None, free[0], "arrived"))
    await session.flush()
    outcome.events += await _log_moves(session, summit, loaded, actor, moves)
    return moves


_MOVE_FIELDS = {"to_table": "table", "participant_id": "participant"}


def _as_move_refusal(exc: SeatingError) -> InvalidInput:
    """A refused move, with the fields named as the move form names them."""
    refused = as_invalid(exc)
    return InvalidInput(_MOVE_FIELDS.get(refused.field, refused.field), refused.detail)


def _host_violations(loaded: Loaded, r: int, pseudonym: str, to_table: int) -> list[Violation]:
    seating = loaded.seating
    if not 1 <= to_table <= len(seating.tables):
        raise InvalidInput(
            "table",
            _("%(to_table)s is not a table (1..%(n)s)")
            % {"to_table": to_table, "n": len(seating.tables)},
        )
    out: list[Violation] = []
    host = seating.hosts[r - 1][to_table - 1]
    if host and host != pseudonym:
        out.append(Violation("host", f"table {to_table} already has a host ({host})"))
    person = loaded.people[pseudonym]
    table = seating.tables[to_table - 1]
    if person.attendance != table.mode:
        out.append(
            Violation(
                "mode",
                f"{pseudonym} takes part {person.attendance}; table {to_table} is a "
                f"{table.mode} table",
            )
        )
    return out


async def check_manual_move(
    session: AsyncSession, summit: Summit, *, round_number: int, pseudonym: str, to_table: int
) -> list[Violation]:
    """What a manual move would break (pattern, size, mode, fixed seat, keep together/apart,
    repeated meetings); empty when it is fine."""
    loaded = await load_seating(session, summit)
    rnd = await get_round(session, summit.id, round_number)
    r = _index(loaded, rnd)
    return _violations(loaded, r, pseudonym, to_table)


def _violations(loaded: Loaded, r: int, pseudonym: str, to_table: int) -> list[Violation]:
    if pseudonym not in loaded.people:
        raise NotFound(_("participant %(pseudonym)s does not exist") % {"pseudonym": pseudonym})
    if pseudonym in loaded.hosts:
        return _host_violations(loaded, r, pseudonym, to_table)
    try:
        return check_move(loaded.seating, r, pseudonym, to_table)
    except SeatingError as exc:
        raise _as_move_refusal(exc) from None


async def move_participant(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    round_number: int,
    pseudonym: str,
    to_table: int,
    override: bool = False,
) -> DayOutcome:
    """Move one person by hand. Refused with ``MoveRefused`` when it breaks a rule, unless the
    organiser confirms an override (logged with the rules it breaks)."""
    loaded = await load_seating(session, summit)
    rnd = await get_round(session, summit.id, round_number)
    r = _index(loaded, rnd)
    violations = _violations(loaded, r, pseudonym, to_table)
    if violations and not override:
        raise MoveRefused(violations)
    person = loaded.people[pseudonym]
    seat = (await _seats_of(session, rnd)).get(person.id)
    if seat is None:
        raise InvalidInput(
            "participant",
            _("%(pseudonym)s is not seated in round %(round_number)s")
            % {"pseudonym": pseudonym, "round_number": round_number},
        )
    source = next(n for n, t in loaded.tables.items() if t.id == seat.table_id)
    if source == to_table:
        return DayOutcome()
    if pseudonym not in loaded.hosts:
        try:
            apply_move(loaded.seating, r, pseudonym, to_table)
        except SeatingError as exc:
            raise _as_move_refusal(exc) from None
    seat.table_id = loaded.tables[to_table].id
    await session.flush()
    outcome = DayOutcome(moves=[Move(round_number, pseudonym, source, to_table, "manual")])
    outcome.events = await _log_move(
        session,
        summit,
        loaded,
        actor=actor,
        round_number=round_number,
        pseudonym=pseudonym,
        source=source,
        target=to_table,
        reason="manual",
        extra={"override": bool(violations), "violations": [v.message for v in violations]},
    )
    outcome.events.append(
        (f"summit:{summit.id}", {"type": "seating", "round": round_number, "moves": 1})
    )
    return outcome
