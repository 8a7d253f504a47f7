"""Topic rounds: participants choose a first and a second topic, the round seats them by choice
(topics from the organiser or from the agenda's shortlist)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit import __version__
from summit.core import audit
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.models import Participant as ParticipantRow
from summit.core.models import Round, Seat, Summit, SummitTable, utcnow
from summit.seating.models import RoundTopic, SeatingConfig, SeatingRun, TopicChoice
from summit.seating.rules import (
    TopicSeating,
)
from summit.seating.service import (
    Event,
    check_seed,
    compute_topics,
    inputs_hash,
    round_tables,
    rounds_of,
    tables_by_number,
)
from summit.seating.settings import (
    get_settings,
    participant_record,
    save_settings,
    selected_participants,
)


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


def topic_hosts(tables: dict[str, list[str]], hosts: set[str]) -> dict[str, str | None]:
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
    seed = check_seed(seed)
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
    host_of = topic_hosts(tables_payload, {p.pseudonym for p in people if p.is_host})
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
