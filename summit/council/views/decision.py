"""The Burgerbesluit's pages: the document, its exact bytes and PDF, the signature list, and
signing by the members."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core.errors import InvalidInput, NotFound
from summit.core.forms import form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.middleware import document_policy
from summit.core.routing import PARTICIPANT, PUBLIC, page
from summit.core.templating import render
from summit.core.web import current_participant, db, identity, publish, summit_or_404
from summit.council import decision as uc
from summit.council.models import CouncilVote, Decision
from summit.council.views.ballot import refusals
from summit.council.vote import is_member


async def _found(request: Request) -> tuple[Decision, str]:
    """The decision of the path and its document's HTML."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await uc.get_decision(session, summit.id, path_int(request, "did"))
        return found, await uc.decision_document(session, found.id)


@page("/council/decisions/{did:int}", allow=PUBLIC)
async def decision(request: Request) -> Response:
    """The Burgerbesluit, its SHA-256, the signature list; members sign here."""
    found, html = await _found(request)
    async with db(request).session() as session:
        signed = await uc.signatures(session, found.id)
        vote = (
            await session.get(CouncilVote, found.council_vote_id) if found.council_vote_id else None
        )
        can_sign = signed_already = False
        pid = identity(request).participant_id
        if pid is not None and found.council_vote_id is not None:
            can_sign = await is_member(session, found.council_vote_id, pid)
            signed_already = await uc.has_signed(session, found.id, pid)
    return render(
        request,
        "council/decision.html",
        {
            "decision": found,
            "document": _document_body(html),
            "signatures": signed,
            "signatures_sha256": uc.signatures_digest(found.document_hash, signed),
            "vote": vote,
            "can_sign": can_sign,
            "signed_already": signed_already,
        },
    )


def _document_body(html: str) -> str:
    # The stored document is a whole HTML page; the decision page embeds its <article>.
    start = html.find("<article")
    end = html.rfind("</article>")
    return html[start : end + len("</article>")] if start >= 0 and end > start else ""


@page("/council/decisions/{did:int}/document.html", allow=PUBLIC)
async def decision_document(request: Request) -> Response:
    """The exact bytes whose SHA-256 is published and signed (printable)."""
    found, html = await _found(request)
    policy = document_policy(html, request.app.state.settings.base_url)
    return Response(
        html.encode(),
        media_type="text/html; charset=utf-8",
        headers={"x-content-sha256": found.document_hash, "content-security-policy": policy},
    )


@page("/council/decisions/{did:int}/document.pdf", allow=PUBLIC)
async def decision_pdf(request: Request) -> Response:
    """The document as PDF (WeasyPrint, when installed); the signed object stays the HTML."""
    found, html = await _found(request)
    try:
        from weasyprint import HTML
    except ImportError:
        raise NotFound(
            "pdf: " + _("install weasyprint for PDF documents; the HTML is printable")
        ) from None
    pdf = await asyncio.to_thread(lambda: HTML(string=html).write_pdf())
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="burgerbesluit-{found.id}.pdf"'},
    )


@page("/council/decisions/{did:int}/signatures.json", allow=PUBLIC)
async def decision_signatures(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await uc.get_decision(session, summit.id, path_int(request, "did"))
        signed = await uc.signatures(session, found.id)
        vote = (
            await session.get(CouncilVote, found.council_vote_id) if found.council_vote_id else None
        )
    return JSONResponse(
        {
            "decision": found.id,
            "document_sha256": found.document_hash,
            "members": vote.members if vote else None,
            "signatures": [
                {"pseudonym": p, "signed_at": s.isoformat(timespec="seconds")} for p, s in signed
            ],
            "signatures_sha256": uc.signatures_digest(found.document_hash, signed),
        }
    )


@page("/council/decisions/{did:int}/sign", allow=PARTICIPANT, methods=("POST",))
async def decision_sign(request: Request) -> Response:
    summit = summit_or_404(request)
    decision_id = path_int(request, "did")
    form = await request.form()
    if form_text(form, "confirm") != "yes":
        raise InvalidInput("confirm", _("tick the box to confirm you sign this Burgerbesluit"))
    with refusals():
        async with db(request).session() as session:
            participant = await current_participant(request, session)
            _count, events = await uc.sign_decision(
                session,
                summit.id,
                decision_id,
                participant,
                document_hash=form_text(form, "document_sha256"),
            )
    await publish(request, events)
    return RedirectResponse(f"/council/decisions/{decision_id}#signatures", status_code=303)


routes = [decision, decision_document, decision_pdf, decision_signatures, decision_sign]
