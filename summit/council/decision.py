"""The Burgerbesluit: the document a closed Burgerraad vote publishes and its members sign.

The document is rendered once, in the summit's default language; ``decisions.document_hash`` is
the SHA-256 of its exact bytes (kept in ``decision_documents``), logged in ``decision.publish``.
Each member signs once, confirming the hash they were shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.db import rows_of
from summit.core.errors import NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit
from summit.core.times import summit_time_zone
from summit.council.models import Decision, DecisionDocument, DecisionSignature
from summit.council.rules.voting import VotingError
from summit.council.vote import CouncilOutcome, count_and_close, is_member

Event = tuple[str, dict[str, Any]]
DocumentRenderer = Callable[[dict[str, Any]], str]

#: The Burgerbesluit's print style, inside the document so its SHA-256 covers how it looks.
DOCUMENT_CSS = """\
body { font-family: Georgia, "Times New Roman", serif; color: #111; background: #fff;
  max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 2rem; margin-bottom: .25rem; }
h2 { border-bottom: 1px solid #444; padding-bottom: .2rem; margin-top: 2rem; }
.proposal { page-break-inside: avoid; margin-bottom: 1.5rem; }
.counts { font-family: system-ui, sans-serif; font-size: .95rem; }
table { border-collapse: collapse; width: 100%; font-family: system-ui, sans-serif;
  font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #999; }
code { font-family: ui-monospace, monospace; word-break: break-all; }
@page { margin: 2cm; }
@media screen and (max-width: 40rem) {
  table { display: block; overflow-x: auto; }
  th, td { padding: .3rem .35rem; }
}
"""


def document_context(
    outcome: CouncilOutcome, summit: Summit, anchor: audit.Anchor
) -> dict[str, Any]:
    """Everything the Burgerbesluit document shows; the same input renders the same bytes.

    ``anchor`` is the audit log's head when the document is drawn up: printed on it, so that a
    log shortened or rewritten afterwards no longer contains it (``summit audit verify --head``).
    """
    return {
        "audit_seq": anchor.seq,
        "audit_head": anchor.hash,
        "document_css": DOCUMENT_CSS,
        "summit_name": summit.name,
        "municipality": summit.municipality,
        "vote_title": outcome.vote.title,
        "closed_at": outcome.vote.closes_at,
        "time_zone": summit_time_zone(summit),
        "members": outcome.vote.members,
        "threshold": outcome.meta.threshold,
        "voters": outcome.meta.voters,
        "receipts_sha256": outcome.meta.receipts_sha256,
        "adopted": outcome.adopted,
        "rejected": outcome.rejected,
    }


def render_in_language(env: Any, template: str, context: dict[str, Any], language: str) -> str:
    """Render a template in a fixed language (the summit's), whatever the caller's language."""
    previous = i18n.current_language()
    i18n.set_language(language)
    try:
        return str(env.get_template(template).render({"lang": language, **context}))
    finally:
        i18n.set_language(previous)


async def publish_decision(
    session: AsyncSession, outcome: CouncilOutcome, *, actor: str, render: DocumentRenderer
) -> Decision:
    """Write the Burgerbesluit of a closed vote and log its SHA-256."""
    summit = await repository.get_summit(session, outcome.vote.summit_id)
    anchor = await audit.current_anchor(session)
    html = render(document_context(outcome, summit, anchor))
    digest = hashlib.sha256(html.encode()).hexdigest()
    decision = Decision(summit_id=summit.id, council_vote_id=outcome.vote.id, document_hash=digest)
    session.add(decision)
    await session.flush()
    session.add(
        DecisionDocument(decision_id=decision.id, html=html, language=summit.default_language)
    )
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="decision.publish",
        subject=f"decision:{decision.id}",
        summit_id=summit.id,
        payload={
            "vote": outcome.vote.id,
            "document_sha256": digest,
            "audit_head": anchor.hash,
            "adopted": [r.item.proposal_id for r in outcome.adopted],
            "rejected": [r.item.proposal_id for r in outcome.rejected],
        },
    )
    return decision


async def close_council_vote(
    session: AsyncSession,
    summit_id: int,
    vote_id: int,
    *,
    actor: str,
    render_document: DocumentRenderer,
) -> tuple[CouncilOutcome, Decision, list[Event]]:
    """Close the vote, count it and publish the Burgerbesluit, in one transaction."""
    outcome = await count_and_close(session, summit_id, vote_id, actor=actor)
    decision = await publish_decision(session, outcome, actor=actor, render=render_document)
    event = {"type": "council.closed", "vote": vote_id, "decision": decision.id}
    events = [(f"summit:{summit_id}", event), (f"display:{summit_id}", event)]
    return outcome, decision, events


async def get_decision(session: AsyncSession, summit_id: int, decision_id: int) -> Decision:
    decision = await session.get(Decision, decision_id)
    if decision is None or decision.summit_id != summit_id:
        raise NotFound(_("decision %(decision_id)s does not exist") % {"decision_id": decision_id})
    return decision


async def decisions(session: AsyncSession, summit_id: int) -> list[Decision]:
    where = Decision.summit_id == summit_id
    return await rows_of(session, Decision, where, order_by=Decision.id.desc())


async def decision_of_vote(session: AsyncSession, vote_id: int) -> Decision | None:
    """The Burgerbesluit a closed vote published (``None`` before it closes)."""
    query = select(Decision).where(Decision.council_vote_id == vote_id).order_by(Decision.id)
    return await session.scalar(query.limit(1))


async def decision_document(session: AsyncSession, decision_id: int) -> str:
    html = await session.scalar(
        select(DecisionDocument.html).where(DecisionDocument.decision_id == decision_id)
    )
    if html is None:
        raise NotFound(_("decision %(decision_id)s has no document") % {"decision_id": decision_id})
    return str(html)


async def signatures(session: AsyncSession, decision_id: int) -> list[tuple[str, dt.datetime]]:
    rows = (
        await session.execute(
            select(Participant.pseudonym, DecisionSignature.signed_at)
            .join(Participant, Participant.id == DecisionSignature.participant_id)
            .where(DecisionSignature.decision_id == decision_id)
            .order_by(DecisionSignature.signed_at, Participant.pseudonym)
        )
    ).all()
    return [(str(p), s) for p, s in rows]


def signatures_digest(document_hash: str, rows: Iterable[tuple[str, dt.datetime]]) -> str:
    """SHA-256 of the public signature list: the document hash, then "pseudonym signed-at" lines."""
    lines = [document_hash] + [
        f"{pseudonym} {signed.isoformat(timespec='seconds')}" for pseudonym, signed in rows
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def sign_decision(
    session: AsyncSession,
    summit_id: int,
    decision_id: int,
    participant: Participant,
    *,
    document_hash: str,
) -> tuple[int, list[Event]]:
    """A member confirms the Burgerbesluit with the hash they were shown; returns the count."""
    decision = await get_decision(session, summit_id, decision_id)
    if decision.council_vote_id is None or not await is_member(
        session, decision.council_vote_id, participant.id
    ):
        raise PermissionDenied("member: " + _("only members of this Burgerraad sign its decision"))
    if document_hash.strip().lower() != decision.document_hash:
        raise VotingError(
            "document_sha256", _("the document you confirmed is not the published Burgerbesluit")
        )
    if await has_signed(session, decision.id, participant.id):
        raise VotingError("signature", _("you have already signed this Burgerbesluit"))
    session.add(DecisionSignature(decision_id=decision.id, participant_id=participant.id))
    await session.flush()
    count = int(
        await session.scalar(
            select(func.count())
            .select_from(DecisionSignature)
            .where(DecisionSignature.decision_id == decision.id)
        )
        or 0
    )
    await audit.append(
        session,
        actor=participant.pseudonym,
        action="decision.sign",
        subject=f"decision:{decision.id}",
        summit_id=summit_id,
        payload={
            "document_sha256": decision.document_hash,
            "signatures": count,
            "signatures_sha256": signatures_digest(
                decision.document_hash, await signatures(session, decision.id)
            ),
        },
    )
    event = {"type": "decision.signed", "decision": decision.id, "signatures": count}
    return count, [(f"display:{summit_id}", event)]


async def has_signed(session: AsyncSession, decision_id: int, participant_id: int) -> bool:
    found = await session.scalar(
        select(DecisionSignature.id).where(
            DecisionSignature.decision_id == decision_id,
            DecisionSignature.participant_id == participant_id,
        )
    )
    return found is not None
