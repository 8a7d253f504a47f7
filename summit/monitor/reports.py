"""Partner reports at intervals: the partner's e-mail address, the interval per adopted proposal,
and the job's step that reminds partners of a report that is due and marks a missing one overdue.

Every report a partner owes is one row of ``monitor_report_dues`` (item, partner, due date; unique).
Sending its reminder and marking it overdue are each claimed with a conditional update of that
row, in the same transaction as the outbox mail, the public change and the audit entry: a
restarted or second worker finds the claim taken and sends nothing twice. Time comes in as ``now``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit, i18n
from summit.core.models import Partner, Summit
from summit.core.times import local_date, summit_time_zone
from summit.monitor import mail, notify, partners, tracking
from summit.monitor.models import MonitorItem, MonitorUpdate, PartnerResponse, ReportDue
from summit.monitor.rules.progress import parse_date
from summit.monitor.rules.reports import (
    NO_REPORTS_STATUSES,
    check_first_due,
    counts_for,
    is_passed,
    parse_interval,
    remind_from,
)

# --- what the organiser sets --------------------------------------------------------------------


async def set_partner_email(
    session: AsyncSession, partner: Partner, email: str, *, actor: str
) -> str:
    """Where the partner's reminders go; empty clears it. The address is not logged publicly."""
    address = notify.check_email(email) if (email or "").strip() else ""
    owner = await partners.account(session, partner)
    owner.email = address
    await audit.append(
        session,
        actor=actor,
        action="partner.email",
        subject=owner.pseudonym,
        summit_id=partner.summit_id,
        payload={"partner": partner.name, "email": "set" if address else "cleared"},
    )
    return address


async def set_interval(
    session: AsyncSession,
    item: MonitorItem,
    *,
    every_weeks: str,
    first_due: str,
    actor: str,
    today: dt.date,
) -> MonitorItem:
    """Partners report on the item every ``every_weeks`` weeks, the first report due on
    ``first_due`` (default: one interval from today); an empty interval stops the reports."""
    weeks = parse_interval(every_weeks)
    if weeks is None:
        item.report_every_weeks, item.report_due = None, None
    else:
        due = check_first_due(parse_date(first_due, "report_due"), weeks, today)
        item.report_every_weeks, item.report_due = weeks, due
    await audit.append(
        session,
        actor=actor,
        action="monitor.report_interval",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={
            "every_weeks": item.report_every_weeks,
            "first_due": str(item.report_due) if item.report_due else None,
        },
    )
    return item


# --- who owes what ------------------------------------------------------------------------------


async def reporting_partners(session: AsyncSession, item: MonitorItem) -> list[Partner]:
    """The partners that owe the item's reports: committed to its areas and not refusing it."""
    refused = set(
        (
            await session.execute(
                select(PartnerResponse.partner_id).where(
                    PartnerResponse.item_id == item.id, PartnerResponse.answer == "wont"
                )
            )
        ).scalars()
    )
    return [p for p in await tracking.partners_for(session, item) if p.id not in refused]


async def _report_times(
    session: AsyncSession, item: MonitorItem, partner: Partner
) -> list[dt.datetime]:
    """When the partner reported on the item (any status update it published)."""
    return list(
        (
            await session.execute(
                select(MonitorUpdate.created_at).where(
                    MonitorUpdate.item_id == item.id, MonitorUpdate.partner_id == partner.id
                )
            )
        ).scalars()
    )


def _in_period(times: list[dt.datetime], due: dt.date, weeks: int, zone: str) -> bool:
    return any(counts_for(local_date(moment, zone), due, weeks) for moment in times)


async def _claim_row(
    session: AsyncSession, item: MonitorItem, partner: Partner, due: dt.date, now: dt.datetime
) -> ReportDue:
    """The one row for this partner's report due on ``due`` (made by whichever worker is first)."""

    async def find() -> ReportDue | None:
        return await session.scalar(
            select(ReportDue).where(
                ReportDue.item_id == item.id,
                ReportDue.partner_id == partner.id,
                ReportDue.due_on == due,
            )
        )

    row = await find()
    if row is None:
        try:
            async with session.begin_nested():
                session.add(
                    ReportDue(item_id=item.id, partner_id=partner.id, due_on=due, created_at=now)
                )
                await session.flush()
        except IntegrityError:
            pass  # another worker made it first
        row = await find()
    assert row is not None
    return row


async def _take(session: AsyncSession, row: ReportDue, column: str, now: dt.datetime) -> bool:
    """Set ``column`` if nobody did: True for the one caller that did."""
    target = getattr(ReportDue, column)
    result = await session.execute(
        update(ReportDue)
        .where(ReportDue.id == row.id, target.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


# --- the job's step -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    reminded: int
    overdue: int


async def scan(
    session: AsyncSession,
    summit: Summit,
    links: notify.Links,
    *,
    now: dt.datetime,
    mail_on: bool,
) -> ScanResult:
    """Remind partners of reports that are due, mark missed ones overdue (once each), and move
    each item's due date on to the next period once its date has passed. Reminders are mailed
    only when e-mail is on (``mail_on``); they are logged either way."""
    zone = summit_time_zone(summit)  # due dates are the summit's days
    today = local_date(now, zone)
    reminded = overdue = 0
    query = select(MonitorItem).where(
        MonitorItem.summit_id == summit.id,
        MonitorItem.report_every_weeks.is_not(None),
        MonitorItem.report_due.is_not(None),
    )
    for item in list((await session.execute(query.order_by(MonitorItem.id))).scalars()):
        weeks, due = item.report_every_weeks, item.report_due
        if weeks is None or due is None:
            continue
        # done or stopped: nobody owes the periods that pass meanwhile (the due date still moves
        # on, so a proposal taken up again is not overdue for the time it was done)
        paused = item.status in NO_REPORTS_STATUSES
        owing = [] if paused else await reporting_partners(session, item)
        while is_passed(due, today):
            for partner in owing:
                times = await _report_times(session, item, partner)
                if _in_period(times, due, weeks, zone):
                    continue
                row = await _claim_row(session, item, partner, due, now)
                if await _take(session, row, "overdue_at", now):
                    await _mark_overdue(session, item, partner, due, now)
                    overdue += 1
                    # a report that came in late, before this pass noticed, ends the mark
                    late = min((t for t in times if local_date(t, zone) > due), default=None)
                    if late is not None and row.reported_at is None:
                        row.reported_at = late
            due = due + dt.timedelta(weeks=weeks)
            item.report_due = due
        if paused or today < remind_from(due):
            continue
        for partner in owing:
            if _in_period(await _report_times(session, item, partner), due, weeks, zone):
                continue
            row = await _claim_row(session, item, partner, due, now)
            if await _take(session, row, "reminded_at", now):
                await _remind(session, summit, item, partner, row, links, now, mail_on)
                reminded += 1
    return ScanResult(reminded, overdue)


async def _mark_overdue(
    session: AsyncSession, item: MonitorItem, partner: Partner, due: dt.date, now: dt.datetime
) -> None:
    await notify.record(
        session,
        item.summit_id,
        kind="report_overdue",
        key=f"report-overdue:{item.id}:{partner.id}:{due}",
        item=item,
        summary={"partner": partner.name, "due": str(due)},
        now=now,
    )
    await audit.append(
        session,
        actor="system",
        action="partner.report_overdue",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"partner": partner.name, "due": str(due)},
        now=now,
    )


async def _remind(
    session: AsyncSession,
    summit: Summit,
    item: MonitorItem,
    partner: Partner,
    row: ReportDue,
    links: notify.Links,
    now: dt.datetime,
    mail_on: bool,
) -> None:
    owner = await partners.account(session, partner)
    mailed = bool(owner.email) and mail_on
    if mailed:
        values = {
            "partner": partner.name,
            "title": item.title,
            "summit": summit.name,
            "due": row.due_on.isoformat(),
            "link": f"{links.base_url}/partner/proposals/{item.id}",
            "public": links.item(item.id),
        }
        await mail.enqueue(
            session,
            to=owner.email,
            subject=i18n.gettext("Progress report due on %(due)s: %(title)s") % values,
            body=i18n.gettext(
                "Dear %(partner)s,\n\n"
                "Your progress report on “%(title)s” (%(summit)s) is due on %(due)s.\n\n"
                "Open your personal link, then report here:\n%(link)s\n\n"
                "A report that has not come in by then is shown publicly as overdue:\n%(public)s"
            )
            % values,
            dedupe_key=f"monitor-report-reminder:{row.id}",
        )
    await audit.append(
        session,
        actor="system",
        action="partner.report_reminder",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"partner": partner.name, "due": str(row.due_on), "mailed": mailed},
        now=now,
    )
