"""Partner reports at intervals (pure rules).

The organiser sets, per adopted proposal, that the partners report their progress every so many
weeks (:data:`MIN_WEEKS` to :data:`MAX_WEEKS`) and the date the first report is due. A period
ends on its due date; a partner's report counts for the period when it is dated after the
previous due date and by this one. A reminder goes out :data:`REMIND_DAYS` days before the due
date (or when the interval is set, if that is later); the day after the due date a missing
report is overdue, and the next period starts (its due date one interval later).
"""

from __future__ import annotations

import datetime as dt

from summit.monitor.rules import MonitorInputError, _

MIN_WEEKS = 1
MAX_WEEKS = 52
REMIND_DAYS = 7
#: partners whose work is over (or who refused) owe no more reports
NO_REPORTS_STATUSES = frozenset({"done", "stopped"})


def parse_interval(value: str) -> int | None:
    """Weeks between reports; an empty value stops the reports (None)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        weeks = int(text)
    except ValueError:
        raise MonitorInputError(
            "report_every_weeks", _("must be a whole number of weeks from 1 to 52")
        ) from None
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise MonitorInputError(
            "report_every_weeks", _("must be a whole number of weeks from 1 to 52")
        )
    return weeks


def check_first_due(first: dt.date | None, weeks: int, today: dt.date) -> dt.date:
    """The first report's due date: given (today or later, within a year), else one interval
    from today."""
    if first is None:
        return today + dt.timedelta(weeks=weeks)
    if first < today:
        raise MonitorInputError("report_due", _("the first report cannot be due in the past"))
    if first > today + dt.timedelta(days=366):
        raise MonitorInputError("report_due", _("the first report must be due within a year"))
    return first


def period_start(due: dt.date, weeks: int) -> dt.date:
    """The last day before the period that ends on ``due`` (the previous due date)."""
    return due - dt.timedelta(weeks=weeks)


def counts_for(reported_on: dt.date, due: dt.date, weeks: int) -> bool:
    """Whether a report made on ``reported_on`` counts for the period ending on ``due``: made
    after the previous due date and by this one (a late report counts for the next period)."""
    return period_start(due, weeks) < reported_on <= due


def remind_from(due: dt.date) -> dt.date:
    return due - dt.timedelta(days=REMIND_DAYS)


def is_passed(due: dt.date, today: dt.date) -> bool:
    """A report due on ``due`` and not made is overdue from the next day on."""
    return today > due
