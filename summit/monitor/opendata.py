"""Open data: every public object as a dataset (JSON and CSV at a stable URL), and the export of
the whole public record with a manifest that is anchored in the audit log.

No personal data: people appear as pseudonyms, partners as organisations; a response's contact
*name* is shown on its page but left out of the data (its function stays).

Hook for other parts (the Burgerforum's reactions, for one): build a :class:`Dataset` and call
:func:`register`; it appears on ``/open-data``, at ``/open-data/NAME.json`` and ``.csv``, and in
``summit export --all``. Document its fields in docs/open-data.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit
from summit.core.db import Database
from summit.core.errors import NotFound
from summit.core.i18n import gettext
from summit.core.models import AuditEntry, Partner, Summit, utcnow
from summit.core.times import local_date, summit_time_zone
from summit.council.models import (
    CouncilVote,
    CouncilVoteItem,
    Decision,
    DecisionDocument,
    Proposal,
)
from summit.monitor import group, partners, tracking
from summit.monitor.models import MonitorChange, MonitorItem, PartnerAgreement, ReportDue
from summit.monitor.rules import _
from summit.monitor.rules.opendata import (
    MANIFEST,
    build_manifest,
    data_digest,
    file_hashes,
    to_csv,
    to_json,
    verify_export,
)

Builder = Callable[[AsyncSession, int, dt.date], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str  # an English msgid, translated on the page
    fields: tuple[str, ...]
    build: Builder


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    DATASETS[dataset.name] = dataset
    return dataset


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _partners(session: AsyncSession, summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for partner, acc in await partners.accounts(session, summit_id):
        signed = await session.get(PartnerAgreement, acc.agreement_id) if acc.agreement_id else None
        rows.append(
            {
                "partner_id": partner.id,
                "name": partner.name,
                "kind": partner.kind,
                "commitment": partner.commitment,
                "signed_at": _iso(acc.signed_at),
                "signed_by_function": acc.signatory,
                "agreement_version": signed.version if signed else None,
                "agreement_sha256": signed.text_sha256 if signed else None,
                "areas": list(acc.areas or []),
            }
        )
    return rows


async def _proposals(session: AsyncSession, summit_id: int, today: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "item_id": v.item.id,
            "proposal_id": v.item.proposal_id,
            "decision_id": v.item.decision_id,
            "title": v.item.title,
            "areas": list(v.item.areas or []),
            "response_due": _iso(v.item.response_due),
            "status": v.item.status,
            "progress": v.item.progress,
            "state": v.state,
            "assessment": v.assessment.verdict if v.assessment else None,
            "responses": len(v.responses),
            "overdue_responses": len(v.overdue),
            "report_every_weeks": v.item.report_every_weeks,
            "report_due": _iso(v.item.report_due),
            "overdue_reports": len(v.overdue_reports),
            "updated_at": _iso(v.item.updated_at),
        }
        for v in await tracking.overview(session, summit_id, today)
    ]


async def _responses(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    rows = []
    for item in await tracking.items(session, summit_id):
        for response, partner in await tracking.responses(session, item.id):
            rows.append(
                {
                    "item_id": item.id,
                    "proposal_id": item.proposal_id,
                    "partner_id": partner.id,
                    "partner": partner.name,
                    "answer": response.answer,
                    "plan": response.plan,
                    "starts_on": _iso(response.starts_on),
                    "ends_on": _iso(response.ends_on),
                    "not_doing": response.not_doing,
                    "reasons": response.reasons,
                    "contact_function": response.contact_role,
                    "responded_at": _iso(response.responded_at),
                    "updated_at": _iso(response.updated_at),
                }
            )
    return rows


async def _milestones(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    return [
        {
            "milestone_id": m.id,
            "item_id": item.id,
            "title": m.title,
            "due_on": _iso(m.due_on),
            "done_on": _iso(m.done_on),
        }
        for item in await tracking.items(session, summit_id)
        for m in await tracking.milestones(session, item.id)
    ]


async def _history(session: AsyncSession, summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in await _all_partners(session, summit_id)}
    return [
        {
            "update_id": u.id,
            "item_id": item.id,
            "status": u.status,
            "progress": u.progress,
            "report": u.text,
            "partner": names.get(u.partner_id) if u.partner_id else None,
            "created_at": _iso(u.created_at),
        }
        for item in await tracking.items(session, summit_id)
        for u in await tracking.updates(session, item.id)
    ]


async def _report_dues(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(ReportDue, Partner.name)
        .join(MonitorItem, MonitorItem.id == ReportDue.item_id)
        .join(Partner, Partner.id == ReportDue.partner_id)
        .where(MonitorItem.summit_id == summit_id)
        .order_by(ReportDue.due_on, ReportDue.id)
    )
    return [
        {
            "item_id": due.item_id,
            "partner_id": due.partner_id,
            "partner": name,
            "due_on": _iso(due.due_on),
            "reminded": due.reminded_at is not None,
            "overdue_at": _iso(due.overdue_at),
            "reported_at": _iso(due.reported_at),
        }
        for due, name in rows.tuples().all()
    ]


async def _all_partners(session: AsyncSession, summit_id: int) -> list[Partner]:
    return list(
        (await session.execute(select(Partner).where(Partner.summit_id == summit_id))).scalars()
    )


async def _assessments(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    return [
        {
            "assessment_id": a.id,
            "item_id": item.id,
            "verdict": a.verdict,
            "text": a.text,
            "author": a.author,
            "created_at": _iso(a.created_at),
        }
        for item in await tracking.items(session, summit_id)
        for a in await group.assessments(session, item.id)
    ]


async def _documents(
    session: AsyncSession, summit_id: int, _today: dt.date
) -> list[dict[str, Any]]:
    return [
        {
            "document_id": d.id,
            "item_id": item.id,
            "title": d.title,
            "kind": d.kind,
            "url": d.url or f"/monitor/documents/{d.id}.pdf",
            "bytes": d.size,
            "sha256": d.sha256,
            "created_at": _iso(d.created_at),
        }
        for item in await tracking.items(session, summit_id)
        for d in await tracking.documents(session, item.id)
    ]


async def _group(session: AsyncSession, summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    return [
        {"pseudonym": p.pseudonym, "status": v.status, "decided_at": _iso(v.decided_at)}
        for v, p in await group.volunteers(session, summit_id)
    ]


async def _council(session: AsyncSession, summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(CouncilVote, CouncilVoteItem, Proposal)
        .join(CouncilVoteItem, CouncilVoteItem.council_vote_id == CouncilVote.id)
        .join(Proposal, Proposal.id == CouncilVoteItem.proposal_id)
        .where(CouncilVote.summit_id == summit_id, CouncilVote.status == "closed")
        .order_by(CouncilVote.id, CouncilVoteItem.position)
    )
    return [
        {
            "vote_id": vote.id,
            "vote": vote.title,
            "members": vote.members,
            "proposal_id": proposal.id,
            "proposal": proposal.title,
            "for": item.votes_for,
            "against": item.against,
            "abstain": item.abstain,
            "adopted": item.adopted,
        }
        for vote, item, proposal in rows.all()
    ]


async def _changes(session: AsyncSession, summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    query = select(MonitorChange).where(MonitorChange.summit_id == summit_id)
    return [
        {
            "change_id": c.id,
            "kind": c.kind,
            "item_id": c.item_id,
            "created_at": _iso(c.created_at),
            "summary": c.summary,
        }
        for c in (await session.execute(query.order_by(MonitorChange.id))).scalars()
    ]


AUDIT_FIELDS = (
    "seq",
    "created_at",
    "summit_id",
    "actor",
    "action",
    "subject",
    "payload",
    "payload_digest",
    "prev_hash",
    "entry_hash",
)


async def _audit(session: AsyncSession, _summit_id: int, _today: dt.date) -> list[dict[str, Any]]:
    return await audit_rows(session, None)


async def audit_rows(session: AsyncSession, up_to: int | None) -> list[dict[str, Any]]:
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if up_to is not None:
        query = query.where(AuditEntry.seq <= up_to)
    return [
        {f: getattr(e, f) for f in AUDIT_FIELDS} for e in (await session.execute(query)).scalars()
    ]


for _dataset in (
    Dataset(
        "partners",
        _("Partners, their signature and policy areas"),
        (
            "partner_id",
            "name",
            "kind",
            "commitment",
            "signed_at",
            "signed_by_function",
            "agreement_version",
            "agreement_sha256",
            "areas",
        ),
        _partners,
    ),
    Dataset(
        "responses",
        _("Partners' responses to the adopted proposals"),
        (
            "item_id",
            "proposal_id",
            "partner_id",
            "partner",
            "answer",
            "plan",
            "starts_on",
            "ends_on",
            "not_doing",
            "reasons",
            "contact_function",
            "responded_at",
            "updated_at",
        ),
        _responses,
    ),
    Dataset(
        "proposals",
        _("Adopted proposals with their status"),
        (
            "item_id",
            "proposal_id",
            "decision_id",
            "title",
            "areas",
            "response_due",
            "status",
            "progress",
            "state",
            "assessment",
            "responses",
            "overdue_responses",
            "report_every_weeks",
            "report_due",
            "overdue_reports",
            "updated_at",
        ),
        _proposals,
    ),
    Dataset(
        "milestones",
        _("Milestones"),
        ("milestone_id", "item_id", "title", "due_on", "done_on"),
        _milestones,
    ),
    Dataset(
        "status-history",
        _("Status history and progress reports"),
        ("update_id", "item_id", "status", "progress", "report", "partner", "created_at"),
        _history,
    ),
    Dataset(
        "report-dues",
        _("Progress reports owed by the partners, and which became overdue"),
        ("item_id", "partner_id", "partner", "due_on", "reminded", "overdue_at", "reported_at"),
        _report_dues,
    ),
    Dataset(
        "assessments",
        _("Assessments by the Monitor group"),
        ("assessment_id", "item_id", "verdict", "text", "author", "created_at"),
        _assessments,
    ),
    Dataset(
        "documents",
        _("Documents"),
        ("document_id", "item_id", "title", "kind", "url", "bytes", "sha256", "created_at"),
        _documents,
    ),
    Dataset(
        "monitor-group",
        _("The Monitor group (pseudonyms)"),
        ("pseudonym", "status", "decided_at"),
        _group,
    ),
    Dataset(
        "council-results",
        _("Results of the Burgerraad votes"),
        (
            "vote_id",
            "vote",
            "members",
            "proposal_id",
            "proposal",
            "for",
            "against",
            "abstain",
            "adopted",
        ),
        _council,
    ),
    Dataset(
        "changes",
        _("Changes followed by the Monitor"),
        ("change_id", "kind", "item_id", "created_at", "summary"),
        _changes,
    ),
    Dataset("audit", _("The audit log (hash chain)"), AUDIT_FIELDS, _audit),
):
    register(_dataset)


def as_json(dataset: Dataset, summit: Summit, rows: list[dict[str, Any]]) -> bytes:
    return to_json(
        {
            "dataset": dataset.name,
            "summit": summit.slug,
            "fields": list(dataset.fields),
            "rows": rows,
        }
    )


def as_csv(dataset: Dataset, rows: list[dict[str, Any]]) -> bytes:
    return to_csv(dataset.fields, rows).encode("utf-8")


# --- the whole public record ---------------------------------------------------------------------


async def _record_files(session: AsyncSession, summit: Summit, today: dt.date) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for dataset in DATASETS.values():
        if dataset.name == "audit":
            continue
        rows = await dataset.build(session, summit.id, today)
        files[f"{dataset.name}.json"] = as_json(dataset, summit, rows)
        files[f"{dataset.name}.csv"] = as_csv(dataset, rows)
    current = await partners.agreement(session, summit.id)
    if current is not None:
        files["partner-agreement.txt"] = current.text.encode("utf-8")
    docs = await session.execute(
        select(DecisionDocument)
        .join(Decision, Decision.id == DecisionDocument.decision_id)
        .where(Decision.summit_id == summit.id)
        .order_by(DecisionDocument.decision_id)
    )
    for doc in docs.scalars():
        files[f"decision-{doc.decision_id}.html"] = doc.html.encode("utf-8")
    return files


async def build_export(db: Database, summit_id: int, *, actor: str = "cli") -> dict[str, bytes]:
    """The whole public record as files, ``manifest.json`` included; the data files' digest is
    logged (``export.publish``) and that entry is the manifest's audit head."""
    now = utcnow()
    async with db.session() as session:
        summit = await session.get(Summit, summit_id)
        if summit is None:
            raise NotFound(gettext("Summit %(id)s does not exist.") % {"id": summit_id})
        files = await _record_files(session, summit, local_date(now, summit_time_zone(summit)))
        entry = await audit.append(
            session,
            actor=actor,
            action="export.publish",
            subject=f"summit:{summit.id}",
            summit_id=summit.id,
            payload={"data_sha256": data_digest(file_hashes(files)), "files": len(files)},
            now=now,
        )
        head = (entry.seq, entry.entry_hash)
        info = {"slug": summit.slug, "name": summit.name}
    async with db.session() as session:
        rows = await audit_rows(session, head[0])
    audit_set = DATASETS["audit"]
    files["audit.json"] = as_json(audit_set, summit, rows)
    files["audit.csv"] = as_csv(audit_set, rows)
    manifest = build_manifest(files, summit=info, audit_head=head, created_at=now)
    return {**files, MANIFEST: to_json(manifest)}


def write_export(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def verify_folder(folder: Path) -> list[str]:
    """Problems with an exported folder (empty: intact, and its data matches the audit head)."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    return verify_export(files)


async def head_is_in_chain(session: AsyncSession, seq: int, entry_hash: str) -> bool:
    """Whether a manifest's audit head is an entry of this installation's live chain."""
    found = await session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == seq))
    return found == entry_hash
