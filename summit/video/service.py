"""Online video tables (videotafels): who sits at which video table now, and the moderator's
actions on the day (extend or close a round with a countdown, broadcast, calls, visits).

Every function takes an open ``AsyncSession`` inside the caller's transaction and writes its audit
entries there; live events are returned, not sent: the caller publishes them after the commit
(``summit.seating.publish``). The media plane itself (``summit.media``) knows nothing of the
database; ``summit.video_hub`` connects the two.

Media ids: a participant is ``p<participants.id>``, a staff member ``s<staff_users.id>``, a table
``t<tables.id>`` and a round ``r<rounds.id>`` — never a pseudonym or a name, so the media plane
and the browsers see no personal data and nothing that links to the public audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import AuditEntry, Participant, Round, Seat, Summit, SummitTable, utcnow
from summit.core.rules.names import distinct_names
from summit.seating import Event, close_round, get_round, open_round

#: Table kinds that have a video room: online tables, and hybrid tables (a screen in the hall).
VIDEO_KINDS = ("online", "hybrid")
MAX_BROADCAST = 500
MAX_EXTEND_MINUTES = 120


def participant_media_id(participant_id: int) -> str:
    return f"p{participant_id}"


def staff_media_id(staff_id: int) -> str:
    return f"s{staff_id}"


def table_media_id(table_id: int) -> str:
    return f"t{table_id}"


def round_media_id(round_id: int) -> str:
    return f"r{round_id}"


def parse_media_id(value: str, prefix: str) -> int | None:
    """The database id inside a media id of the given kind (``"p17"``, ``"p"`` → 17)."""
    if not value.startswith(prefix) or not value[len(prefix) :].isdigit():
        return None
    return int(value[len(prefix) :])


# --- where people sit now ---------------------------------------------------------------------


def pick_video_round(rounds: Sequence[Round]) -> Round | None:
    """The round whose tables the video rooms show (pure; ``rounds`` in any order).

    The open round; between rounds the last round that ran (its tables stay together in the
    break, and everyone moves when the next round opens — re-pointing, not reconnecting); before
    the first round the first planned one, so people can meet their table before the start.
    """
    ordered = sorted(rounds, key=lambda r: r.number)
    opened = [r for r in ordered if r.status == "open"]
    if opened:
        return opened[0]
    closed = [r for r in ordered if r.status == "closed"]
    if closed:
        return closed[-1]
    planned = [r for r in ordered if r.status == "planned"]
    return planned[0] if planned else None


async def video_round(session: AsyncSession, summit_id: int) -> Round | None:
    """``pick_video_round`` over the summit's rounds."""
    rounds = (await session.execute(select(Round).where(Round.summit_id == summit_id))).scalars()
    return pick_video_round(list(rounds))


@dataclass(frozen=True)
class VideoSeat:
    """A participant's place at a video table in the video round."""

    participant_id: int
    round_id: int
    round_number: int
    round_status: str
    round_title: str
    ends_at: dt.datetime | None
    table_id: int
    table_number: int
    table_kind: str
    is_host: bool

    @property
    def media_table(self) -> str:
        return table_media_id(self.table_id)


async def seats_at_video_tables(
    session: AsyncSession, summit_id: int, participant_ids: list[int] | None = None
) -> dict[int, VideoSeat]:
    """Participant id → their video seat this round (people at venue tables are left out)."""
    rnd = await video_round(session, summit_id)
    if rnd is None:
        return {}
    query = (
        select(Seat, SummitTable)
        .join(SummitTable, SummitTable.id == Seat.table_id)
        .where(Seat.round_id == rnd.id, SummitTable.kind.in_(VIDEO_KINDS))
    )
    if participant_ids is not None:
        if not participant_ids:
            return {}
        query = query.where(Seat.participant_id.in_(participant_ids))
    out = {}
    for seat, table in (await session.execute(query)).all():
        out[seat.participant_id] = VideoSeat(
            seat.participant_id,
            rnd.id,
            rnd.number,
            rnd.status,
            rnd.title,
            rnd.ends_at,
            table.id,
            table.number,
            table.kind,
            seat.is_host,
        )
    return out


async def video_seat(session: AsyncSession, participant: Participant) -> VideoSeat | None:
    """Where ``participant`` sits at a video table now, looked up in the database (never taken
    from the browser); ``None`` for people at a venue table or without a seat."""
    seats = await seats_at_video_tables(session, participant.summit_id, [participant.id])
    return seats.get(participant.id)


@dataclass(frozen=True)
class Member:
    media_id: str
    name: str
    is_host: bool


async def table_members(session: AsyncSession, round_id: int, table_id: int) -> list[Member]:
    """Who sits at a table in a round: media id and first name only."""
    rows = (
        await session.execute(
            select(Participant.id, Participant.display_name, Seat.is_host)
            .join(Seat, Seat.participant_id == Participant.id)
            .where(Seat.round_id == round_id, Seat.table_id == table_id)
            .order_by(Seat.is_host.desc(), Participant.display_name, Participant.id)
        )
    ).all()
    names = distinct_names([name or "—" for _pid, name, _host in rows])
    return [
        Member(participant_media_id(pid), label, bool(host))
        for (pid, _name, host), label in zip(rows, names, strict=True)
    ]


@dataclass(frozen=True)
class VideoTable:
    table_id: int
    number: int
    kind: str
    members: list[tuple[Participant, bool]]  # (participant, is host)

    @property
    def media_table(self) -> str:
        return table_media_id(self.table_id)


async def video_tables(
    session: AsyncSession, summit_id: int
) -> tuple[Round | None, list[VideoTable]]:
    """The video round and its video tables with their people (for the moderator)."""
    rnd = await video_round(session, summit_id)
    if rnd is None:
        return None, []
    rows = (
        await session.execute(
            select(SummitTable, Participant, Seat.is_host)
            .join(Seat, Seat.table_id == SummitTable.id)
            .join(Participant, Participant.id == Seat.participant_id)
            .where(Seat.round_id == rnd.id, SummitTable.kind.in_(VIDEO_KINDS))
            .order_by(SummitTable.number, Seat.is_host.desc(), Participant.display_name)
        )
    ).all()
    tables: dict[int, VideoTable] = {}
    for table, person, host in rows:
        entry = tables.setdefault(table.id, VideoTable(table.id, table.number, table.kind, []))
        entry.members.append((person, bool(host)))
    return rnd, sorted(tables.values(), key=lambda t: t.number)


async def slot_count(session: AsyncSession, summit_id: int) -> int:
    """Download slots a browser offers: the largest video table, less oneself, plus one for a
    visiting moderator (at most 16, the protocol's limit)."""
    capacity = await session.scalar(
        select(SummitTable.capacity)
        .where(SummitTable.summit_id == summit_id, SummitTable.kind.in_(VIDEO_KINDS))
        .order_by(SummitTable.capacity.desc())
        .limit(1)
    )
    return max(2, min(16, int(capacity or 8)))


# --- the moderator's round control ------------------------------------------------------------


def _round_event(summit: Summit, rnd: Round, **extra: object) -> Event:
    event: dict[str, object] = {
        "type": "round",
        "round": rnd.number,
        "status": rnd.status,
        "ends_at": rnd.ends_at.isoformat() if rnd.ends_at else None,
        **extra,
    }
    return (f"summit:{summit.id}", event)


def _minutes(value: int | None, name: str = "minutes") -> int:
    if value is None or isinstance(value, bool) or not 1 <= value <= MAX_EXTEND_MINUTES:
        raise InvalidInput(
            name,
            _("must be a whole number from 1 to %(MAX_EXTEND_MINUTES)s")
            % {"MAX_EXTEND_MINUTES": MAX_EXTEND_MINUTES},
        )
    return value


async def _open(session: AsyncSession, summit: Summit, number: int | None) -> Round:
    if number is None:
        raise InvalidInput("round", _("give the round number"))
    rnd = await get_round(session, summit.id, number)
    if rnd.status != "open":
        raise InvalidInput(
            "round",
            _("round %(number)s is not open; only an open round changes") % {"number": number},
        )
    return rnd


async def extend_round(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    number: int,
    minutes: int,
    now: dt.datetime | None = None,
) -> tuple[Round, list[Event]]:
    """Give the open round ``minutes`` more (from its end, or from now if it has run over)."""
    minutes = _minutes(minutes)
    rnd = await _open(session, summit, number)
    start = now or utcnow()
    base = max(rnd.ends_at or start, start)
    previous = rnd.ends_at
    rnd.ends_at = base + dt.timedelta(minutes=minutes)
    await audit.append(
        session,
        actor=actor,
        action="round.extend",
        subject=f"round:{number}",
        summit_id=summit.id,
        payload={
            "round": number,
            "minutes": minutes,
            "from": previous.isoformat() if previous else None,
            "ends_at": rnd.ends_at.isoformat(),
        },
    )
    return rnd, [_round_event(summit, rnd, change="extend")]


async def close_round_in(
    session: AsyncSession,
    summit: Summit,
    *,
    actor: str,
    number: int,
    minutes: int,
    now: dt.datetime | None = None,
) -> tuple[Round, list[Event]]:
    """Start the closing countdown: the open round now ends in ``minutes`` (the tables see the
    countdown; the round is closed when it reaches zero, or at once with ``close``)."""
    minutes = _minutes(minutes)
    rnd = await _open(session, summit, number)
    rnd.ends_at = (now or utcnow()) + dt.timedelta(minutes=minutes)
    await audit.append(
        session,
        actor=actor,
        action="round.closing",
        subject=f"round:{number}",
        summit_id=summit.id,
        payload={"round": number, "minutes": minutes, "ends_at": rnd.ends_at.isoformat()},
    )
    return rnd, [_round_event(summit, rnd, change="closing")]


async def next_round(
    session: AsyncSession, summit: Summit, *, actor: str, minutes: int | None = None
) -> tuple[Round, list[Event]]:
    """Close the open round (if any) and open the next planned one: the round switch."""
    events: list[Event] = []
    rounds = list(
        (
            await session.execute(
                select(Round).where(Round.summit_id == summit.id).order_by(Round.number)
            )
        ).scalars()
    )
    for rnd in rounds:
        if rnd.status == "open":
            _closed, closed_events = await close_round(
                session, summit, actor=actor, number=rnd.number
            )
            events += closed_events
    planned = [r for r in rounds if r.status == "planned"]
    if not planned:
        raise InvalidInput("round", _("there is no planned round left to open"))
    opened, open_events = await open_round(
        session, summit, actor=actor, number=planned[0].number, minutes=minutes
    )
    return opened, events + open_events


async def due_closing(session: AsyncSession, summit_id: int, now: dt.datetime) -> Round | None:
    """The open round whose closing countdown (``round.closing``) has run out, if any."""
    rnd = await session.scalar(
        select(Round).where(Round.summit_id == summit_id, Round.status == "open")
    )
    if rnd is None or rnd.ends_at is None or rnd.ends_at > now:
        return None
    last = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.summit_id == summit_id,
            AuditEntry.subject == f"round:{rnd.number}",
            AuditEntry.action.in_(("round.closing", "round.extend", "round.open")),
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    return rnd if last is not None and last.action == "round.closing" else None


# --- broadcast, calls, visits -------------------------------------------------------------------


async def broadcast(session: AsyncSession, summit: Summit, *, actor: str, text: str) -> list[Event]:
    """A message to every table (shown on every open page of the summit)."""
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("text", _("type the message to send to all tables"))
    if len(text) > MAX_BROADCAST:
        raise InvalidInput(
            "text", _("at most %(MAX_BROADCAST)s characters") % {"MAX_BROADCAST": MAX_BROADCAST}
        )
    entry = await audit.append(
        session,
        actor=actor,
        action="video.broadcast",
        subject=f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"text": text},
    )
    event = {"type": "broadcast", "text": text, "seq": entry.seq, "from": "moderator"}
    return [(f"summit:{summit.id}", event)]


@dataclass(frozen=True)
class Call:
    """A "call the moderator" request from a table."""

    seq: int
    created_at: str
    table_number: int
    round_number: int
    answered_by: str | None


async def call_moderator(
    session: AsyncSession, participant: Participant, seat: VideoSeat
) -> tuple[Call, list[Event]]:
    """A participant asks for the moderator at their table (logged by pseudonym, no name)."""
    recent = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.summit_id == participant.summit_id,
            AuditEntry.action == "video.call",
            AuditEntry.actor == participant.pseudonym,
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    if recent is not None:
        answered = await _answers(session, participant.summit_id, [recent.seq])
        if recent.seq not in answered:
            # one open call per person: a second click does not queue again
            call = Call(
                recent.seq,
                recent.created_at,
                int(recent.payload.get("table", 0)),
                int(recent.payload.get("round", 0)),
                None,
            )
            return call, []
    entry = await audit.append(
        session,
        actor=participant.pseudonym,
        action="video.call",
        subject=f"table:{seat.table_number}",
        summit_id=participant.summit_id,
        payload={"round": seat.round_number, "table": seat.table_number},
    )
    call = Call(entry.seq, entry.created_at, seat.table_number, seat.round_number, None)
    event = {"type": "video.call", "call": entry.seq, "table": seat.table_number}
    return call, [(f"staff:{participant.summit_id}", event)]


async def _answers(session: AsyncSession, summit_id: int, seqs: list[int]) -> dict[int, str]:
    rows = (
        await session.execute(
            select(AuditEntry).where(
                AuditEntry.summit_id == summit_id, AuditEntry.action == "video.answer"
            )
        )
    ).scalars()
    wanted = set(seqs)
    return {
        int(r.payload["call"]): r.actor for r in rows if int(r.payload.get("call", 0)) in wanted
    }


async def calls(session: AsyncSession, summit_id: int, limit: int = 50) -> list[Call]:
    """The latest calls, newest first, with who answered them."""
    rows = list(
        (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.summit_id == summit_id, AuditEntry.action == "video.call")
                .order_by(AuditEntry.seq.desc())
                .limit(limit)
            )
        ).scalars()
    )
    answered = await _answers(session, summit_id, [r.seq for r in rows])
    return [
        Call(
            r.seq,
            r.created_at,
            int(r.payload.get("table", 0)),
            int(r.payload.get("round", 0)),
            answered.get(r.seq),
        )
        for r in rows
    ]


async def answer_call(
    session: AsyncSession, summit: Summit, *, actor: str, seq: int
) -> list[Event]:
    """Mark a call as taken by this moderator."""
    entry = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.seq == seq,
            AuditEntry.summit_id == summit.id,
            AuditEntry.action == "video.call",
        )
    )
    if entry is None:
        raise InvalidInput("call", _("there is no call #%(seq)s") % {"seq": seq})
    if seq in await _answers(session, summit.id, [seq]):
        return []
    await audit.append(
        session,
        actor=actor,
        action="video.answer",
        subject=entry.subject,
        summit_id=summit.id,
        payload={"call": seq},
    )
    return [(f"staff:{summit.id}", {"type": "video.answer", "call": seq})]


async def video_table_by_number(session: AsyncSession, summit_id: int, number: int) -> SummitTable:
    table = await session.scalar(
        select(SummitTable).where(SummitTable.summit_id == summit_id, SummitTable.number == number)
    )
    if table is None or table.kind not in VIDEO_KINDS:
        raise InvalidInput(
            "table", _("%(number)s is not an online or hybrid table") % {"number": number}
        )
    return table


async def log_visit(
    session: AsyncSession, summit: Summit, *, actor: str, table_number: int | None
) -> None:
    """A moderator starts (or, with ``None``, ends) listening in at a table."""
    await audit.append(
        session,
        actor=actor,
        action="video.visit" if table_number is not None else "video.visit.end",
        subject=f"table:{table_number}" if table_number is not None else f"summit:{summit.id}",
        summit_id=summit.id,
        payload={"table": table_number},
    )


async def log_drain(
    session: AsyncSession, summit: Summit, *, actor: str, node_id: str, undo: bool
) -> None:
    """An organiser drains a media node (new tables go elsewhere, its tables move at the next
    round change), or with ``undo`` lets it take tables again."""
    await audit.append(
        session,
        actor=actor,
        action="video.node.undrain" if undo else "video.node.drain",
        subject=f"media-node:{node_id}",
        summit_id=summit.id,
        payload={"node": node_id},
    )


async def media_table_nodes(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """The record of assignments: media table id -> (node id, reason)."""
    from summit.video.models import MediaTableNode

    rows = await session.execute(
        select(MediaTableNode.media_table, MediaTableNode.node_id, MediaTableNode.reason)
    )
    return {table: (node, reason) for table, node, reason in rows.all()}


__all__ = [
    "Call",
    "Member",
    "VIDEO_KINDS",
    "VideoSeat",
    "VideoTable",
    "answer_call",
    "broadcast",
    "call_moderator",
    "calls",
    "close_round_in",
    "due_closing",
    "extend_round",
    "log_drain",
    "log_visit",
    "media_table_nodes",
    "next_round",
    "participant_media_id",
    "pick_video_round",
    "round_media_id",
    "seats_at_video_tables",
    "slot_count",
    "staff_media_id",
    "table_media_id",
    "table_members",
    "video_round",
    "video_seat",
    "video_table_by_number",
    "video_tables",
]
