"""Programme use cases (dagprogramma): define the day, then run it item by item, on time.

Every function takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there; live events are returned, not sent (publish them after the commit with
``summit.seating.publish``). An item linked to a seating round opens that round when the day
advances into it and closes it when the day moves on, through ``summit.seating``'s use cases, so
the round's own log entries and events are written as well.

Planned times are minutes after local midnight on the summit's day (``summit.date``, or the day the
programme started, or today) in ``TIMEZONE``; actual times are UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import seating as seating_uc
from summit import video as video_uc
from summit.core import audit
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Round, Summit, utcnow
from summit.programme.models import ProgrammeItem, ProgrammeState
from summit.seating import Event

TIMEZONE = ZoneInfo("Europe/Amsterdam")
KINDS = (
    "welcome",
    "round",
    "agenda",
    "topic_round",
    "proposals",
    "prioritisation",
    "closing",
    "break",
)
ROUND_KINDS = ("round", "topic_round")
MIN_DURATION = 1
MAX_DURATION = 600
MAX_EXTEND = video_uc.MAX_EXTEND_MINUTES
MAX_ITEMS = 60
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


# --- validation (pure) --------------------------------------------------------------------------


def parse_time(text: str, field: str = "start") -> int:
    """``"09:30"`` → minutes after midnight; anything else is an InvalidInput naming ``field``."""
    match = _TIME.match(text.strip())
    if not match:
        raise InvalidInput(field, _("%(text)r is not a time of day like 09:30") % {"text": text})
    return int(match.group(1)) * 60 + int(match.group(2))


def format_time(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class Slot:
    """What ordering checks need of an item: its title, planned start and duration."""

    title: str
    start_minute: int
    duration_minutes: int


def check_item(kind: str, title: str, duration: int, round_number: int | None) -> None:
    """Field errors of one item, the first one found."""
    if kind not in KINDS:
        raise InvalidInput("kind", _("choose one of the listed kinds"))
    if not title.strip():
        raise InvalidInput("title", _("give the item a title"))
    if len(title) > 200:
        raise InvalidInput("title", _("at most 200 characters"))
    if isinstance(duration, bool) or not MIN_DURATION <= duration <= MAX_DURATION:
        raise InvalidInput(
            "duration",
            _("must be a whole number of minutes from %(MIN_DURATION)s to %(MAX_DURATION)s")
            % {"MIN_DURATION": MIN_DURATION, "MAX_DURATION": MAX_DURATION},
        )
    if kind == "round" and round_number is None:
        raise InvalidInput("round", _("a round item names the round it opens"))
    if round_number is not None:
        if kind not in ROUND_KINDS:
            raise InvalidInput(
                "round",
                _("only a round or topic round links a round, not %(kind)s") % {"kind": kind},
            )
        if not 1 <= round_number <= seating_uc.MAX_ROUNDS:
            raise InvalidInput(
                "round",
                _("must be from 1 to %(MAX_ROUNDS)s") % {"MAX_ROUNDS": seating_uc.MAX_ROUNDS},
            )


def check_order(slots: Sequence[Slot]) -> None:
    """Each item starts no earlier than the previous one ends, and the day ends by midnight."""
    for before, after in itertools.pairwise(slots):
        end = before.start_minute + before.duration_minutes
        if after.start_minute < end:
            raise InvalidInput(
                "start",
                _("“%(after)s” starts at %(starts)s, before “%(before)s” ends at %(ends)s")
                % {
                    "after": after.title,
                    "starts": format_time(after.start_minute),
                    "before": before.title,
                    "ends": format_time(end),
                },
            )
    if slots and slots[-1].start_minute + slots[-1].duration_minutes > 24 * 60:
        raise InvalidInput(
            "duration", _("“%(value)s” runs past midnight") % {"value": slots[-1].title}
        )


def swap_slots(first: Slot, second: Slot) -> tuple[Slot, Slot]:
    """Neighbours change places within the time they took together, keeping the gap between
    them, so every other item keeps its time."""
    gap = second.start_minute - (first.start_minute + first.duration_minutes)
    new_first = Slot(second.title, first.start_minute, second.duration_minutes)
    new_second = Slot(
        first.title, first.start_minute + second.duration_minutes + gap, first.duration_minutes
    )
    return new_first, new_second


# --- reading ------------------------------------------------------------------------------------


async def items_of(session: AsyncSession, summit_id: int) -> list[ProgrammeItem]:
    query = (
        select(ProgrammeItem)
        .where(ProgrammeItem.summit_id == summit_id)
        .order_by(ProgrammeItem.position, ProgrammeItem.id)
    )
    return list((await session.execute(query)).scalars().all())


async def get_item(session: AsyncSession, summit_id: int, item_id: int) -> ProgrammeItem:
    item = await session.get(ProgrammeItem, item_id)
    if item is None or item.summit_id != summit_id:
        raise NotFound(_("programme item %(item_id)s not found") % {"item_id": item_id})
    return item


async def state_of(
    session: AsyncSession, summit_id: int, *, create: bool = False
) -> ProgrammeState:
    state = await session.scalar(
        select(ProgrammeState).where(ProgrammeState.summit_id == summit_id)
    )
    if state is None:
        state = ProgrammeState(summit_id=summit_id, finished=False, updated_at=utcnow())
        if create:
            session.add(state)
            await session.flush()
    return state


def _slots(items: Sequence[ProgrammeItem]) -> list[Slot]:
    return [Slot(i.title, i.start_minute, i.duration_minutes) for i in items]


def _renumber(items: Sequence[ProgrammeItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _item_payload(item: ProgrammeItem) -> dict[str, Any]:
    return {
        "item": item.id,
        "kind": item.kind,
        "title": item.title,
        "start": format_time(item.start_minute),
        "minutes": item.duration_minutes,
        "round": item.round_number,
    }


def _event(summit: Summit, action: str, **extra: Any) -> Event:
    return (f"summit:{summit.id}", {"type": "programme", "action": action, **extra})


# --- defining the day ---------------------------------------------------------------------------


async def add_item(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    kind: str,
    title: str,
    start: str,
    duration: int,
    round_number: int | None = None,
) -> tuple[ProgrammeItem, list[Event]]:
    """Add an item; it takes its place by start time and may not overlap its neighbours."""
    title = title.strip()
    check_item(kind, title, duration, round_number)
    minute = parse_time(start)
    items = await items_of(session, summit.id)
    if len(items) >= MAX_ITEMS:
        raise InvalidInput(
            "kind", _("a programme has at most %(MAX_ITEMS)s items") % {"MAX_ITEMS": MAX_ITEMS}
        )
    item = ProgrammeItem(
        summit_id=summit.id,
        kind=kind,
        title=title,
        round_number=round_number,
        start_minute=minute,
        duration_minutes=duration,
        extended_minutes=0,
        created_at=utcnow(),
    )
    index = sum(1 for other in items if other.start_minute <= minute)
    ordered = [*items[:index], item, *items[index:]]
    check_order(_slots(ordered))
    session.add(item)
    _renumber(ordered)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="programme.item.add",
        subject=f"programme:{item.id}",
        summit_id=summit.id,
        payload={**_item_payload(item), "position": item.position},
    )
    return item, [_event(summit, "edit", item=item.id)]


async def update_item(
    session: AsyncSession,
    summit: Summit,
    item_id: int,
    *,
    actor: str,
    kind: str,
    title: str,
    start: str,
    duration: int,
    round_number: int | None = None,
) -> tuple[ProgrammeItem, list[Event]]:
    """Change an item; it keeps its place, so its new times must fit between its neighbours."""
    title = title.strip()
    check_item(kind, title, duration, round_number)
    minute = parse_time(start)
    item = await get_item(session, summit.id, item_id)
    if item.started_at is not None and (
        minute != item.start_minute or round_number != item.round_number or kind != item.kind
    ):
        raise InvalidInput("start", _("this item has started: only its title and duration change"))
    items = await items_of(session, summit.id)
    slots = [
        Slot(title, minute, duration)
        if other.id == item.id
        else Slot(other.title, other.start_minute, other.duration_minutes)
        for other in items
    ]
    check_order(slots)
    before = _item_payload(item)
    item.kind, item.title, item.round_number = kind, title, round_number
    item.start_minute, item.duration_minutes = minute, duration
    await audit.append(
        session,
        actor=actor,
        action="programme.item.edit",
        subject=f"programme:{item.id}",
        summit_id=summit.id,
        payload={"before": before, "after": _item_payload(item)},
    )
    return item, [_event(summit, "edit", item=item.id)]


async def delete_item(
    session: AsyncSession, summit: Summit, item_id: int, *, actor: str
) -> list[Event]:
    item = await get_item(session, summit.id, item_id)
    state = await state_of(session, summit.id)
    if state.current_item_id == item.id:
        raise InvalidInput("item", _("the current item cannot be deleted; advance first"))
    payload = _item_payload(item)
    await session.delete(item)
    await session.flush()
    _renumber(await items_of(session, summit.id))
    await audit.append(
        session,
        actor=actor,
        action="programme.item.delete",
        subject=f"programme:{item_id}",
        summit_id=summit.id,
        payload=payload,
    )
    return [_event(summit, "edit", item=item_id)]


async def move_item(
    session: AsyncSession, summit: Summit, item_id: int, *, actor: str, direction: str
) -> list[Event]:
    """Swap an item with its neighbour (``up`` or ``down``); see ``swap_slots`` for the times."""
    if direction not in {"up", "down"}:
        raise InvalidInput("direction", _("must be up or down"))
    items = await items_of(session, summit.id)
    index = next((i for i, other in enumerate(items) if other.id == item_id), None)
    if index is None:
        raise NotFound(_("programme item %(item_id)s not found") % {"item_id": item_id})
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(items):
        raise InvalidInput(
            "direction",
            _("the item is already the first")
            if direction == "up"
            else _("the item is already the last"),
        )
    first, second = sorted((index, other_index))
    a, b = items[first], items[second]
    if a.started_at is not None or b.started_at is not None:
        raise InvalidInput("direction", _("items that have started stay where they are"))
    new_first, new_second = swap_slots(
        Slot(a.title, a.start_minute, a.duration_minutes),
        Slot(b.title, b.start_minute, b.duration_minutes),
    )
    b.start_minute, a.start_minute = new_first.start_minute, new_second.start_minute
    items[first], items[second] = b, a
    check_order(_slots(items))
    _renumber(items)
    await audit.append(
        session,
        actor=actor,
        action="programme.item.move",
        subject=f"programme:{item_id}",
        summit_id=summit.id,
        payload={
            "direction": direction,
            "order": [i.id for i in items],
            "starts": {str(i.id): format_time(i.start_minute) for i in (a, b)},
        },
    )
    return [_event(summit, "edit", item=item_id)]


# --- running the day ----------------------------------------------------------------------------


async def _round_status(session: AsyncSession, summit_id: int, number: int) -> str | None:
    return await session.scalar(
        select(Round.status).where(Round.summit_id == summit_id, Round.number == number)
    )


async def _close_other_rounds(
    session: AsyncSession, summit: Summit, *, actor: str, keep: int
) -> list[Event]:
    """Close every open round but ``keep`` (one opened on the seating page, or over time), so
    "next" moves the day on in one action; each close is logged as usual."""
    numbers = await session.scalars(
        select(Round.number).where(
            Round.summit_id == summit.id, Round.status == "open", Round.number != keep
        )
    )
    events: list[Event] = []
    for number in list(numbers):
        _rnd, closed = await seating_uc.close_round(session, summit, actor=actor, number=number)
        events += closed
    return events


async def advance(
    session: AsyncSession, summit: Summit, *, actor: str, now: dt.datetime | None = None
) -> tuple[ProgrammeState, list[Event]]:
    """Finish the current item (closing its open round) and start the next (opening its
    planned round, after closing any other round still open); past the last item the day is
    finished."""
    now = now or utcnow()
    state = await state_of(session, summit.id, create=True)
    if state.finished:
        raise InvalidInput("programme", _("the programme has finished"))
    items = await items_of(session, summit.id)
    if not items:
        raise InvalidInput("programme", _("the programme has no items yet"))
    events: list[Event] = []
    current = next((i for i in items if i.id == state.current_item_id), None)
    if current is not None:
        current.finished_at = now
        number = current.round_number
        if number is not None and await _round_status(session, summit.id, number) == "open":
            _rnd, round_events = await seating_uc.close_round(
                session, summit, actor=actor, number=number
            )
            events += round_events
        following = [i for i in items if i.position > current.position]
    else:
        following = [i for i in items if i.started_at is None]
    nxt = following[0] if following else None
    state.paused_at = None
    state.updated_at = now
    if nxt is None:
        state.current_item_id, state.ends_at, state.finished = None, None, True
    else:
        number = nxt.round_number
        if number is not None:
            events += await _close_other_rounds(session, summit, actor=actor, keep=number)
        if number is not None and await _round_status(session, summit.id, number) != "open":
            _rnd, round_events = await seating_uc.open_round(
                session, summit, actor=actor, number=number, minutes=nxt.duration_minutes, now=now
            )
            events += round_events
        nxt.started_at = now
        state.current_item_id = nxt.id
        state.ends_at = now + dt.timedelta(minutes=nxt.duration_minutes + nxt.extended_minutes)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="programme.advance",
        subject=f"programme:{nxt.id if nxt else 'end'}",
        summit_id=summit.id,
        payload={
            "from": current.id if current else None,
            "to": nxt.id if nxt else None,
            "ends_at": state.ends_at.isoformat() if state.ends_at else None,
            "round": nxt.round_number if nxt else None,
        },
        now=now,
    )
    event = _event(
        summit,
        "advance",
        item=nxt.id if nxt else None,
        ends_at=state.ends_at.isoformat() if state.ends_at else None,
    )
    return state, [*events, event]


async def _running(session: AsyncSession, summit: Summit) -> tuple[ProgrammeState, ProgrammeItem]:
    state = await state_of(session, summit.id)
    if state.current_item_id is None or state.ends_at is None:
        raise InvalidInput("programme", _("no item is running; advance to start the programme"))
    return state, await get_item(session, summit.id, state.current_item_id)


async def extend(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    minutes: int,
    now: dt.datetime | None = None,
) -> tuple[ProgrammeState, list[Event]]:
    """Give the current item ``minutes`` more (from its end, or from now if it has run over);
    its open linked round gets the same."""
    if isinstance(minutes, bool) or not 1 <= minutes <= MAX_EXTEND:
        raise InvalidInput(
            "minutes",
            _("must be a whole number from 1 to %(MAX_EXTEND)s") % {"MAX_EXTEND": MAX_EXTEND},
        )
    now = now or utcnow()
    state, item = await _running(session, summit)
    assert state.ends_at is not None
    # While paused the clock stands still, so an overrun is measured at the pause.
    base = state.ends_at if state.paused_at else max(state.ends_at, now)
    previous = state.ends_at
    state.ends_at = base + dt.timedelta(minutes=minutes)
    state.updated_at = now
    item.extended_minutes += minutes
    events: list[Event] = []
    number = item.round_number
    if number is not None and await _round_status(session, summit.id, number) == "open":
        _rnd, events = await video_uc.extend_round(
            session, summit, actor=actor, number=number, minutes=minutes, now=now
        )
    await audit.append(
        session,
        actor=actor,
        action="programme.extend",
        subject=f"programme:{item.id}",
        summit_id=summit.id,
        payload={
            "minutes": minutes,
            "from": previous.isoformat(),
            "ends_at": state.ends_at.isoformat(),
        },
        now=now,
    )
    return state, [*events, _event(summit, "extend", item=item.id, minutes=minutes)]


async def pause(
    session: AsyncSession, summit: Summit, *, actor: str, now: dt.datetime | None = None
) -> tuple[ProgrammeState, list[Event]]:
    """Stop the current item's clock (a linked round's own timer is not paused)."""
    now = now or utcnow()
    state, item = await _running(session, summit)
    if state.paused_at is not None:
        raise InvalidInput("programme", _("the programme is already paused"))
    state.paused_at = now
    state.updated_at = now
    await audit.append(
        session,
        actor=actor,
        action="programme.pause",
        subject=f"programme:{item.id}",
        summit_id=summit.id,
        payload={"item": item.id},
        now=now,
    )
    return state, [_event(summit, "pause", item=item.id)]


async def resume(
    session: AsyncSession, summit: Summit, *, actor: str, now: dt.datetime | None = None
) -> tuple[ProgrammeState, list[Event]]:
    """Restart the clock; the item ends later by exactly the length of the pause."""
    now = now or utcnow()
    state, item = await _running(session, summit)
    if state.paused_at is None or state.ends_at is None:
        raise InvalidInput("programme", _("the programme is not paused"))
    paused_for = max(now - state.paused_at, dt.timedelta(0))
    state.ends_at = state.ends_at + paused_for
    state.paused_at = None
    state.updated_at = now
    await audit.append(
        session,
        actor=actor,
        action="programme.resume",
        subject=f"programme:{item.id}",
        summit_id=summit.id,
        payload={"item": item.id, "paused_seconds": int(paused_for.total_seconds())},
        now=now,
    )
    return state, [_event(summit, "resume", item=item.id, ends_at=state.ends_at.isoformat())]


# --- the public view of the day ------------------------------------------------------------------


def summit_day(summit: Summit, items: Sequence[ProgrammeItem], now: dt.datetime) -> dt.date:
    if summit.date is not None:
        return summit.date
    started = [i.started_at for i in items if i.started_at is not None]
    return (min(started) if started else now).astimezone(TIMEZONE).date()


def planned_at(day: dt.date, minute: int) -> dt.datetime:
    # Aware arithmetic on a ZoneInfo datetime is wall-clock time: a DST change is handled.
    local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=TIMEZONE) + dt.timedelta(minutes=minute)
    return local.astimezone(dt.UTC)


def behind_minutes(
    ends_at: dt.datetime, paused_at: dt.datetime | None, planned_end: dt.datetime, now: dt.datetime
) -> int:
    """How late the current item will end compared with its planned end, in whole minutes."""
    effective = ends_at + (now - paused_at if paused_at else dt.timedelta(0))
    late = (max(effective, now) - planned_end).total_seconds()
    return max(0, math.floor(late / 60))


async def snapshot(
    session: AsyncSession, summit: Summit, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The schedule, the current item with its end, and the server time (no personal data)."""
    now = now or utcnow()
    items = await items_of(session, summit.id)
    state = await state_of(session, summit.id)
    day = summit_day(summit, items, now)
    current = next((i for i in items if i.id == state.current_item_id), None)
    rows: list[dict[str, Any]] = []
    for item in items:
        if current is not None and item.id == current.id:
            status = "current"
        elif item.finished_at is not None:
            status = "done"
        else:
            status = "planned"
        rows.append(
            {
                "id": item.id,
                "position": item.position,
                "kind": item.kind,
                "title": item.title,
                "round": item.round_number,
                "start": format_time(item.start_minute),
                "end": format_time(item.start_minute + item.duration_minutes),
                "duration_minutes": item.duration_minutes,
                "extended_minutes": item.extended_minutes,
                "planned_start_at": planned_at(day, item.start_minute).isoformat(),
                "planned_end_at": planned_at(
                    day, item.start_minute + item.duration_minutes
                ).isoformat(),
                "started_at": item.started_at.isoformat() if item.started_at else None,
                "finished_at": item.finished_at.isoformat() if item.finished_at else None,
                "status": status,
            }
        )
    if state.finished:
        phase = "finished"
    elif current is None:
        phase = "not_started"
    else:
        phase = "paused" if state.paused_at else "running"
    now_row: dict[str, Any] | None = None
    if current is not None and state.ends_at is not None:
        row = next(r for r in rows if r["id"] == current.id)
        stop = state.paused_at or now
        planned_end = planned_at(day, current.start_minute + current.duration_minutes)
        now_row = {
            **row,
            "ends_at": state.ends_at.isoformat(),
            "paused_at": state.paused_at.isoformat() if state.paused_at else None,
            "remaining_seconds": int((state.ends_at - stop).total_seconds()),
            "behind_minutes": behind_minutes(state.ends_at, state.paused_at, planned_end, now),
        }
        upcoming = [r for r in rows if r["position"] > current.position][:3]
    else:
        upcoming = [r for r in rows if r["status"] == "planned"][:3] if not state.finished else []
    return {
        "summit": summit.name,
        "day": day.isoformat(),
        "timezone": str(TIMEZONE),
        "server_time": now.isoformat(),
        "status": phase,
        "current": now_row,
        "next": upcoming,
        "items": rows,
    }
