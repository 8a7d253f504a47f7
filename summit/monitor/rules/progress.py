"""Partner responses, progress and the state of the whole Burgerbesluit (pure rules).

A partner answers each adopted proposal in its areas: *will* carry it out (a plan and dates),
*partly* (what it does, and what not and why) or *wont* (with the public reasons the partner
agreement requires). An answer is *overdue* once the due date has passed without one.

Every adopted proposal is in one of four public states, from the partner's own status, the Monitor
group's latest verdict, the answers, the milestones and the due date (:func:`overview_state`):
``done``, ``refused`` (every answer is *wont*, or the work stopped), ``late`` (an answer overdue, a
milestone past its date, or the group says *delayed* / *diverges*), else ``on_track``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from summit.monitor.rules import MonitorInputError, _

ANSWERS = ("will", "partly", "wont")
STATUSES = ("not_started", "in_progress", "done", "stopped")
VERDICTS = ("on_track", "delayed", "diverges", "done")
STATES = ("done", "on_track", "late", "refused")
MAX_TEXT = 5000
MIN_REASONS = 20


def clean_text(value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise MonitorInputError(field, _("is required"))
    if len(text) > limit:
        raise MonitorInputError(field, _("at most %(limit)s characters"), limit=limit)
    return text


def parse_date(value: str, field: str, *, required: bool = False) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise MonitorInputError(field, _("is required"))
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MonitorInputError(
            field, _("use a date like 2027-03-31, got %(value)s"), value=text[:40]
        ) from None


def parse_percent(value: str, field: str = "progress") -> int:
    text = (value or "").strip().rstrip("%").strip()
    try:
        number = int(text)
    except ValueError:
        raise MonitorInputError(field, _("must be a whole number from 0 to 100")) from None
    if not 0 <= number <= 100:
        raise MonitorInputError(field, _("must be a whole number from 0 to 100"))
    return number


def parse_choice(value: str, field: str, choices: Sequence[str]) -> str:
    text = (value or "").strip()
    if text not in choices:
        raise MonitorInputError(field, _("choose one of the listed options"))
    return text


@dataclass(frozen=True)
class ResponseInput:
    """A partner's checked answer to one adopted proposal."""

    answer: str
    plan: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    not_doing: str
    reasons: str
    contact_name: str
    contact_role: str


def _dates(raw: Mapping[str, str], required: bool) -> tuple[dt.date | None, dt.date | None]:
    starts = parse_date(raw.get("starts_on", ""), "starts_on", required=required)
    ends = parse_date(raw.get("ends_on", ""), "ends_on", required=required)
    if starts and ends and ends < starts:
        raise MonitorInputError("ends_on", _("cannot be before the start date"))
    return starts, ends


def check_response(raw: Mapping[str, str]) -> ResponseInput:
    """Check a response form: what each answer requires, and a named contact for every answer."""
    answer = parse_choice(raw.get("answer", ""), "answer", ANSWERS)
    contact_name = clean_text(raw.get("contact_name", ""), "contact_name", required=True, limit=120)
    contact_role = clean_text(raw.get("contact_role", ""), "contact_role", required=True, limit=120)
    acting = answer in {"will", "partly"}
    plan = clean_text(raw.get("plan", ""), "plan", required=acting)
    starts, ends = _dates(raw, acting)
    not_doing = clean_text(raw.get("not_doing", ""), "not_doing", required=answer == "partly")
    reasons = clean_text(raw.get("reasons", ""), "reasons", required=answer == "wont")
    if answer == "wont" and len(reasons) < MIN_REASONS:
        raise MonitorInputError(
            "reasons",
            _("the partner agreement requires public reasons: at least %(n)s characters"),
            n=MIN_REASONS,
        )
    return ResponseInput(
        answer=answer,
        plan=plan if acting else "",
        starts_on=starts if acting else None,
        ends_on=ends if acting else None,
        not_doing=not_doing if answer == "partly" else "",
        reasons=reasons,
        contact_name=contact_name,
        contact_role=contact_role,
    )


def check_in_areas(item_areas: Iterable[str], partner_areas: Iterable[str]) -> None:
    """A partner responds only to proposals that touch an area it committed to."""
    if not set(item_areas) & set(partner_areas):
        raise MonitorInputError(
            "item", _("this proposal is outside the policy areas your organisation committed to")
        )


def is_overdue(due: dt.date | None, answered: bool, today: dt.date) -> bool:
    """An answer is overdue the day after its due date, as long as none has been given."""
    return due is not None and not answered and today > due


def milestone_late(due_on: dt.date, done_on: dt.date | None, today: dt.date) -> bool:
    return done_on is None and today > due_on


@dataclass(frozen=True)
class ItemFacts:
    """What :func:`overview_state` needs to know about one adopted proposal."""

    status: str
    verdict: str | None
    answers: tuple[str, ...]
    overdue: bool
    late_milestones: int


def overview_state(facts: ItemFacts) -> str:
    if facts.status == "done":
        return "done"
    if facts.status == "stopped" or (facts.answers and set(facts.answers) == {"wont"}):
        return "refused"
    if facts.overdue or facts.late_milestones or facts.verdict in {"delayed", "diverges"}:
        return "late"
    return "on_track"


def count_states(states: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for state in states:
        counts[state] += 1
    return counts


@dataclass(frozen=True)
class Event:
    """One dated fact in an item's history: ``kind`` is status, verdict or answer:<partner>."""

    at: dt.datetime
    kind: str
    value: str


@dataclass(frozen=True)
class ItemHistory:
    """Everything about one item that changes over time, to rebuild its state on any day."""

    created: dt.datetime
    response_due: dt.date | None
    partners: tuple[str, ...]  # the partners expected to answer
    events: tuple[Event, ...]
    milestones: tuple[tuple[dt.date, dt.date | None], ...]
    #: progress reports marked overdue: (when marked, when it came in or None)
    missed_reports: tuple[tuple[dt.datetime, dt.datetime | None], ...] = ()
    #: the summit's time zone: a day ends at midnight on its clock
    zone: str = "Europe/Amsterdam"


def state_on(history: ItemHistory, day: dt.date) -> str | None:
    """The item's public state at the end of ``day`` (None before it existed)."""
    end = dt.datetime.combine(day, dt.time.max, tzinfo=ZoneInfo(history.zone))
    if history.created > end:
        return None
    status, verdict = "not_started", None
    answers: dict[str, str] = {}
    for event in sorted(history.events, key=lambda e: e.at):
        if event.at > end:
            break
        if event.kind == "status":
            status = event.value
        elif event.kind == "verdict":
            verdict = event.value
        elif event.kind.startswith("answer:"):
            answers[event.kind] = event.value
    overdue = any(
        is_overdue(history.response_due, f"answer:{p}" in answers, day) for p in history.partners
    ) or any(
        marked <= end and (came is None or came > end) for marked, came in history.missed_reports
    )
    late = sum(
        1 for due, done in history.milestones if milestone_late(due, _done_by(done, day), day)
    )
    facts = ItemFacts(status, verdict, tuple(answers.values()), overdue, late)
    return overview_state(facts)


def _done_by(done: dt.date | None, day: dt.date) -> dt.date | None:
    return done if done is not None and done <= day else None


def sample_days(first: dt.date, last: dt.date, points: int = 12) -> list[dt.date]:
    """Up to ``points`` evenly spaced days from ``first`` to ``last`` (both included)."""
    if last <= first:
        return [first]
    span = (last - first).days
    steps = min(points - 1, span)
    return sorted({first + dt.timedelta(days=round(span * i / steps)) for i in range(steps + 1)})


def state_series(
    histories: Sequence[ItemHistory], days: Sequence[dt.date]
) -> list[tuple[dt.date, dict[str, int]]]:
    """How many items were in each state on each day: the chart of the whole decision."""
    series = []
    for day in days:
        states = [s for s in (state_on(h, day) for h in histories) if s is not None]
        series.append((day, count_states(states)))
    return series
