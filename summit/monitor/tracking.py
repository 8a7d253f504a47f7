"""Use cases after the Burgerbesluit: the adopted proposals the Monitor follows, the partners'
responses, milestones, status and progress reports, documents, and overdue answers.

Time comes in as an argument (``now`` / ``today``) wherever it matters, so tests inject a clock
instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.errors import NotFound
from summit.core.i18n import gettext
from summit.core.models import Partner, Summit, utcnow
from summit.core.times import local_date, summit_time_zone
from summit.council.models import CouncilVoteItem, Decision, Proposal, ProposalVersion
from summit.monitor import notify, partners
from summit.monitor.models import (
    MonitorAssessment,
    MonitorDocument,
    MonitorItem,
    MonitorMilestone,
    MonitorUpdate,
    PartnerAccount,
    PartnerResponse,
    ReportDue,
)
from summit.monitor.rules import MonitorInputError, _
from summit.monitor.rules.documents import check_link, check_pdf
from summit.monitor.rules.progress import (
    STATUSES,
    Event,
    ItemFacts,
    ItemHistory,
    check_in_areas,
    check_response,
    clean_text,
    is_overdue,
    milestone_late,
    overview_state,
    parse_choice,
    parse_date,
    parse_percent,
)

# --- the adopted proposals ----------------------------------------------------------------------


async def adopted_proposals(
    session: AsyncSession, summit_id: int
) -> list[tuple[Decision, Proposal, ProposalVersion | None]]:
    """Every proposal adopted in a published Burgerbesluit, with the text that was voted on."""
    rows = (
        await session.execute(
            select(Decision, Proposal, CouncilVoteItem.proposal_version)
            .join(CouncilVoteItem, CouncilVoteItem.council_vote_id == Decision.council_vote_id)
            .join(Proposal, Proposal.id == CouncilVoteItem.proposal_id)
            .where(Decision.summit_id == summit_id, CouncilVoteItem.adopted.is_(True))
            .order_by(Decision.id, CouncilVoteItem.position)
        )
    ).all()
    found = []
    for decision, proposal, version in rows:
        text = await session.scalar(
            select(ProposalVersion).where(
                ProposalVersion.proposal_id == proposal.id, ProposalVersion.version == version
            )
        )
        found.append((decision, proposal, text))
    return found


async def sync_items(session: AsyncSession, summit: Summit, *, actor: str) -> list[MonitorItem]:
    """Follow every adopted proposal that the Monitor does not follow yet."""
    known = {i.proposal_id for i in await items(session, summit.id)}
    added = []
    for decision, proposal, version in await adopted_proposals(session, summit.id):
        if proposal.id in known:
            continue
        item = MonitorItem(
            summit_id=summit.id,
            proposal_id=proposal.id,
            decision_id=decision.id,
            title=(version.title if version else proposal.title)[:200],
            areas=[],
        )
        session.add(item)
        known.add(proposal.id)
        added.append(item)
    await session.flush()
    if added:
        await audit.append(
            session,
            actor=actor,
            action="monitor.follow",
            subject=f"summit:{summit.id}",
            summit_id=summit.id,
            payload={"proposals": [i.proposal_id for i in added]},
        )
    return added


async def items(session: AsyncSession, summit_id: int) -> list[MonitorItem]:
    query = select(MonitorItem).where(MonitorItem.summit_id == summit_id)
    return list((await session.execute(query.order_by(MonitorItem.id))).scalars())


async def get_item(session: AsyncSession, summit_id: int, item_id: int) -> MonitorItem:
    item = await session.get(MonitorItem, item_id)
    if item is None or item.summit_id != summit_id:
        raise NotFound(
            gettext("Adopted proposal %(id)s is not followed by the Monitor.") % {"id": item_id}
        )
    return item


async def proposal_text(session: AsyncSession, item: MonitorItem) -> ProposalVersion | None:
    voted = await session.scalar(
        select(CouncilVoteItem.proposal_version)
        .join(Decision, Decision.council_vote_id == CouncilVoteItem.council_vote_id)
        .where(Decision.id == item.decision_id, CouncilVoteItem.proposal_id == item.proposal_id)
    )
    return await session.scalar(
        select(ProposalVersion).where(
            ProposalVersion.proposal_id == item.proposal_id, ProposalVersion.version == voted
        )
    )


async def configure_item(
    session: AsyncSession, item: MonitorItem, *, area_keys: list[str], due: str, actor: str
) -> MonitorItem:
    """The organiser names the item's policy areas and the date the partners must answer by."""
    keys = await partners.check_area_keys(session, item.summit_id, area_keys)
    if not keys:
        raise MonitorInputError("areas", _("choose at least one policy area"))
    response_due = parse_date(due, "response_due", required=True)
    item.areas, item.response_due = keys, response_due
    await audit.append(
        session,
        actor=actor,
        action="monitor.configure",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"areas": keys, "response_due": str(response_due)},
    )
    return item


# --- partner responses --------------------------------------------------------------------------


async def partners_for(session: AsyncSession, item: MonitorItem) -> list[Partner]:
    """The signed partners that committed to one of the item's areas: they owe an answer."""
    rows = (
        await session.execute(
            select(Partner, PartnerAccount)
            .join(PartnerAccount, PartnerAccount.partner_id == Partner.id)
            .where(Partner.summit_id == item.summit_id, PartnerAccount.signed_at.is_not(None))
            .order_by(Partner.id)
        )
    ).all()
    return [p for p, acc in rows if set(acc.areas or []) & set(item.areas or [])]


async def respond(
    session: AsyncSession,
    item: MonitorItem,
    partner: Partner,
    raw: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
) -> PartnerResponse:
    """A partner's public answer (a new one replaces its earlier answer; both are logged)."""
    owner = await partners.account(session, partner)
    if owner.signed_at is None:
        raise MonitorInputError("agreement", _("sign the partner agreement first"))
    check_in_areas(item.areas or [], owner.areas or [])
    checked = check_response(raw)
    moment = now or utcnow()
    row = await session.scalar(
        select(PartnerResponse).where(
            PartnerResponse.item_id == item.id, PartnerResponse.partner_id == partner.id
        )
    )
    if row is None:
        row = PartnerResponse(item_id=item.id, partner_id=partner.id, responded_at=moment)
        session.add(row)
    for name, value in vars(checked).items():
        setattr(row, name, value)
    row.updated_at = moment
    await session.flush()
    await notify.record(
        session,
        item.summit_id,
        kind="response",
        key=f"response:{row.id}:{moment.isoformat()}",
        item=item,
        summary={"partner": partner.name, "answer": checked.answer},
        now=moment,
    )
    await audit.append(
        session,
        actor=owner.pseudonym,
        action="partner.respond",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"partner": partner.name, "answer": checked.answer},
        now=moment,
    )
    return row


async def responses(session: AsyncSession, item_id: int) -> list[tuple[PartnerResponse, Partner]]:
    rows = await session.execute(
        select(PartnerResponse, Partner)
        .join(Partner, Partner.id == PartnerResponse.partner_id)
        .where(PartnerResponse.item_id == item_id)
        .order_by(Partner.id)
    )
    return [(r, p) for r, p in rows.all()]


async def overdue_partners(
    session: AsyncSession, item: MonitorItem, today: dt.date
) -> list[Partner]:
    answered = {p.id for _r, p in await responses(session, item.id)}
    return [
        p
        for p in await partners_for(session, item)
        if is_overdue(item.response_due, p.id in answered, today)
    ]


async def scan_overdue(session: AsyncSession, summit_id: int, *, now: dt.datetime) -> int:
    """Record (once) every answer that became overdue by ``now``; returns how many are new."""
    found = 0
    today = local_date(now, summit_time_zone(await session.get(Summit, summit_id)))
    for item in await items(session, summit_id):
        for partner in await overdue_partners(session, item, today):
            change = await notify.record(
                session,
                summit_id,
                kind="overdue",
                key=f"overdue:{item.id}:{partner.id}:{item.response_due}",
                item=item,
                summary={"partner": partner.name, "due": str(item.response_due)},
                now=now,
            )
            if change is None:
                continue
            found += 1
            await audit.append(
                session,
                actor="system",
                action="partner.overdue",
                subject=f"proposal:{item.proposal_id}",
                summit_id=summit_id,
                payload={"partner": partner.name, "due": str(item.response_due)},
                now=now,
            )
    return found


# --- milestones, status, reports, documents ------------------------------------------------------


async def add_milestone(
    session: AsyncSession, item: MonitorItem, *, title: str, due_on: str, actor: str
) -> MonitorMilestone:
    name = clean_text(title, "title", required=True, limit=200)
    due = parse_date(due_on, "due_on", required=True)
    assert due is not None
    row = MonitorMilestone(item_id=item.id, title=name, due_on=due)
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="monitor.milestone",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"milestone": row.id, "title": name, "due_on": str(due)},
    )
    return row


async def complete_milestone(
    session: AsyncSession, item: MonitorItem, milestone_id: int, *, done_on: str, actor: str
) -> MonitorMilestone:
    row = await session.get(MonitorMilestone, milestone_id)
    if row is None or row.item_id != item.id:
        raise NotFound(gettext("Milestone %(id)s does not exist.") % {"id": milestone_id})
    row.done_on = parse_date(done_on, "done_on", required=True)
    await audit.append(
        session,
        actor=actor,
        action="monitor.milestone_done",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"milestone": row.id, "done_on": str(row.done_on)},
    )
    return row


async def milestones(session: AsyncSession, item_id: int) -> list[MonitorMilestone]:
    query = select(MonitorMilestone).where(MonitorMilestone.item_id == item_id)
    return list((await session.execute(query.order_by(MonitorMilestone.due_on))).scalars())


async def report(
    session: AsyncSession,
    item: MonitorItem,
    *,
    status: str,
    progress: str,
    text: str,
    actor: str,
    partner: Partner | None = None,
    now: dt.datetime | None = None,
) -> MonitorUpdate:
    """A status and progress update (with text, a progress report); kept as history."""
    if partner is not None:
        owner = await partners.account(session, partner)
        check_in_areas(item.areas or [], owner.areas or [])
    row = MonitorUpdate(
        item_id=item.id,
        partner_id=partner.id if partner else None,
        status=parse_choice(status, "status", STATUSES),
        progress=parse_percent(progress),
        text=clean_text(text, "text"),
        actor=actor,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    item.status, item.progress, item.updated_at = row.status, row.progress, row.created_at
    if partner is not None:  # the partner's reports that were owed are in now
        await session.execute(
            update(ReportDue)
            .where(
                ReportDue.item_id == item.id,
                ReportDue.partner_id == partner.id,
                ReportDue.reported_at.is_(None),
            )
            .values(reported_at=row.created_at)
            .execution_options(synchronize_session=False)
        )
    await notify.record(
        session,
        item.summit_id,
        kind="status",
        key=f"status:{row.id}",
        item=item,
        summary={"status": row.status, "progress": row.progress},
        now=row.created_at,
    )
    await audit.append(
        session,
        actor=actor,
        action="monitor.status",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"status": row.status, "progress": row.progress, "report": bool(row.text)},
        now=row.created_at,
    )
    return row


async def updates(session: AsyncSession, item_id: int) -> list[MonitorUpdate]:
    query = select(MonitorUpdate).where(MonitorUpdate.item_id == item_id)
    return list((await session.execute(query.order_by(MonitorUpdate.id))).scalars())


async def add_document(
    session: AsyncSession,
    item: MonitorItem,
    *,
    title: str,
    url: str = "",
    data: bytes | None = None,
    actor: str,
    partner: Partner | None = None,
) -> MonitorDocument:
    """A link, or a PDF checked by its bytes and size; nothing is stored when a check fails."""
    name = clean_text(title, "title", required=True, limit=200)
    row = MonitorDocument(
        item_id=item.id, partner_id=partner.id if partner else None, title=name, actor=actor
    )
    if data is not None:
        checked = check_pdf(data)
        row.kind, row.size, row.sha256, row.data = "pdf", checked.size, checked.sha256, data
    else:
        row.kind, row.url = "link", check_link(url)
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="monitor.document",
        subject=f"proposal:{item.proposal_id}",
        summit_id=item.summit_id,
        payload={"document": row.id, "kind": row.kind, "sha256": row.sha256, "url": row.url},
    )
    return row


async def documents(session: AsyncSession, item_id: int) -> list[MonitorDocument]:
    query = select(MonitorDocument).where(MonitorDocument.item_id == item_id)
    return list((await session.execute(query.order_by(MonitorDocument.id))).scalars())


# --- what the pages show ------------------------------------------------------------------------


async def overdue_reports(session: AsyncSession, item_id: int) -> list[tuple[ReportDue, Partner]]:
    """The item's progress reports that became overdue and have not come in since."""
    rows = await session.execute(
        select(ReportDue, Partner)
        .join(Partner, Partner.id == ReportDue.partner_id)
        .where(
            ReportDue.item_id == item_id,
            ReportDue.overdue_at.is_not(None),
            ReportDue.reported_at.is_(None),
        )
        .order_by(ReportDue.due_on, Partner.id)
    )
    return [(r, p) for r, p in rows.tuples().all()]


async def latest_assessment(session: AsyncSession, item_id: int) -> MonitorAssessment | None:
    return await session.scalar(
        select(MonitorAssessment)
        .where(MonitorAssessment.item_id == item_id)
        .order_by(MonitorAssessment.id.desc())
        .limit(1)
    )


@dataclass
class ItemView:
    item: MonitorItem
    state: str
    assessment: MonitorAssessment | None
    responses: list[tuple[PartnerResponse, Partner]]
    owed: list[Partner]
    overdue: list[Partner]
    milestones: list[MonitorMilestone]
    late_milestones: int
    updates: list[MonitorUpdate] = field(default_factory=list)
    documents: list[MonitorDocument] = field(default_factory=list)
    #: progress reports overdue and still missing (the report due, the partner)
    overdue_reports: list[tuple[ReportDue, Partner]] = field(default_factory=list)


async def item_view(
    session: AsyncSession, item: MonitorItem, today: dt.date, *, full: bool = False
) -> ItemView:
    answered = await responses(session, item.id)
    owed = await partners_for(session, item)
    done = {p.id for _r, p in answered}
    overdue = [p for p in owed if is_overdue(item.response_due, p.id in done, today)]
    stones = await milestones(session, item.id)
    late = sum(1 for m in stones if milestone_late(m.due_on, m.done_on, today))
    assessment = await latest_assessment(session, item.id)
    missing = await overdue_reports(session, item.id)
    facts = ItemFacts(
        item.status,
        assessment.verdict if assessment else None,
        tuple(r.answer for r, _p in answered),
        bool(overdue) or bool(missing),
        late,
    )
    view = ItemView(item, overview_state(facts), assessment, answered, owed, overdue, stones, late)
    view.overdue_reports = missing
    if full:
        view.updates = await updates(session, item.id)
        view.documents = await documents(session, item.id)
    return view


async def overview(session: AsyncSession, summit_id: int, today: dt.date) -> list[ItemView]:
    return [await item_view(session, i, today) for i in await items(session, summit_id)]


async def histories(session: AsyncSession, summit_id: int) -> list[ItemHistory]:
    """Each item's dated facts, to draw the state of the whole decision over time."""
    found = []
    zone = summit_time_zone(await session.get(Summit, summit_id))
    for item in await items(session, summit_id):
        events = [Event(u.created_at, "status", u.status) for u in await updates(session, item.id)]
        assessments = await session.execute(
            select(MonitorAssessment).where(MonitorAssessment.item_id == item.id)
        )
        events += [Event(a.created_at, "verdict", a.verdict) for a in assessments.scalars()]
        answered = await responses(session, item.id)
        events += [Event(r.responded_at, f"answer:{p.id}", r.answer) for r, p in answered]
        stones = await milestones(session, item.id)
        owed = tuple(str(p.id) for p in await partners_for(session, item))
        found.append(
            ItemHistory(
                created=item.created_at,
                response_due=item.response_due,
                partners=owed,
                events=tuple(events),
                milestones=tuple((m.due_on, m.done_on) for m in stones),
                missed_reports=tuple(
                    (r.overdue_at, r.reported_at)
                    for r in (
                        await session.execute(
                            select(ReportDue).where(
                                ReportDue.item_id == item.id, ReportDue.overdue_at.is_not(None)
                            )
                        )
                    ).scalars()
                    if r.overdue_at is not None
                ),
                zone=zone,
            )
        )
    return found
