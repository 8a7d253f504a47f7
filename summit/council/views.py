"""Pages and API of the council part: prioritisation (dot voting, table tallies, shortlist),
proposals with versions, the Burgerraad's secret ballot, its public result, the Burgerbesluit
with its signatures, and the plenary screen (also through a revocable display link)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from summit.core.errors import InvalidInput, NotFound, PermissionDenied
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Summit
from summit.core.routing import ORGANISER, PARTICIPANT, PUBLIC, STAFF, page, socket
from summit.core.rules.roles import Principal, Role, council_threshold
from summit.core.templating import render
from summit.core.web import bus, db, forward_events, identity, summit_or_404
from summit.council import service as uc
from summit.council.models import CouncilVote
from summit.council.rules.voting import (
    Membership,
    normalise_receipt,
    parse_membership,
    receipt_key,
    shortlist,
)
from summit.ideas.board import plenary_data

PLENARY_EVENTS = ("priority.", "council.", "decision.", "programme", "round", "themes")

# --- helpers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _refusals() -> Any:
    """Refusals a person should understand: 409 outside the voting window, 403 for non-members."""
    try:
        yield
    except uc.VotingClosed as exc:
        raise HTTPException(409, str(exc)) from None
    except PermissionDenied as exc:
        raise HTTPException(403, str(exc)) from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _int(form: FormData, name: str, *, default: int | None = None) -> int | None:
    text = _text(form, name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(name, "must be a whole number") from None


def _ids(form: FormData, name: str) -> list[int]:
    ids = []
    for value in form.getlist(name):
        try:
            ids.append(int(str(value)))
        except ValueError:
            raise InvalidInput(name, f"{value!r} is not an id") from None
    return ids


def _key(request: Request) -> bytes:
    return receipt_key(request.app.state.settings.secret_key)


def _renderer(request: Request, summit: Summit) -> uc.DocumentRenderer:
    env = request.app.state.templates

    def render_document(context: dict[str, Any]) -> str:
        return uc.render_in_language(
            env, "council/decision_document.html", context, summit.default_language
        )

    return render_document


async def _participant(request: Request, session: Any) -> Participant:
    participant = await session.get(Participant, identity(request).participant_id)
    if participant is None:
        raise HTTPException(401, "login: open your personal link again")
    return participant


async def _publish(request: Request, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
    for channel, event in events:
        await bus(request).publish(channel, {**event, "published_at": time.time()})


def _path(request: Request, name: str) -> int:
    return int(request.path_params[name])


# --- the organiser's overview -------------------------------------------------------------------


@page("/council", allow=STAFF)
async def overview(request: Request) -> Response:
    """Prioritisations, Burgerraad votes, proposals, decisions and display links, with forms."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        context = {
            "themes": await uc.themes(session, summit.id),
            "proposals": await uc.proposals(session, summit.id),
            "priority_votes": await uc.priority_votes(session, summit.id),
            "council_votes": await uc.council_votes(session, summit.id),
            "decisions": await uc.decisions(session, summit.id),
            "display_links": await uc.display_links(session, summit.id),
            "display_url": request.query_params.get("display"),
        }
    return render(request, "council/index.html", context)


@page("/council/themes", allow=ORGANISER, methods=("POST",))
async def add_theme(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        await uc.add_theme(
            session, summit, actor=identity(request).actor, label=_text(form, "label")
        )
    return RedirectResponse("/council#themes", status_code=303)


# --- prioritisation -----------------------------------------------------------------------------


@page("/council/priorities", allow=ORGANISER, methods=("POST",))
async def create_priority(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    settings = uc.PrioritySettings(
        title=_text(form, "title"),
        item_kind=_text(form, "item_kind") or "theme",
        stage=_text(form, "stage") or "agenda",
        votes_per_participant=_int(form, "votes_per_participant", default=5) or 0,
        shortlist_size=_int(form, "shortlist_size", default=12) or 0,
        max_per_item=_int(form, "max_per_item"),
        seed=_text(form, "seed"),
    )
    async with db(request).session() as session:
        vote = await uc.create_priority_vote(
            session,
            summit,
            actor=identity(request).actor,
            settings=settings,
            item_ids=_ids(form, "items") or None,
        )
    return RedirectResponse(f"/council/priorities/{vote.id}", status_code=303)


@page("/council/priorities/{vid:int}", allow=STAFF)
async def priority_manage(request: Request) -> Response:
    """Open/close, live totals and the table-tally form."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_priority_vote(session, summit.id, _path(request, "vid"))
        totals = await uc.priority_totals(session, vote)
    return render(request, "council/priority_manage.html", {"vote": vote, "totals": totals})


async def _priority_status(request: Request, to: str) -> Response:
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    async with db(request).session() as session:
        if to == "open":
            await uc.open_priority_vote(session, summit.id, vote_id, actor=identity(request).actor)
        else:
            await uc.close_priority_vote(session, summit.id, vote_id, actor=identity(request).actor)
    kind = "priority.opened" if to == "open" else "priority.closed"
    await _publish(
        request,
        [
            (f"summit:{summit.id}", {"type": kind, "vote": vote_id}),
            (f"display:{summit.id}", {"type": kind, "vote": vote_id}),
        ],
    )
    return RedirectResponse(f"/council/priorities/{vote_id}", status_code=303)


@page("/council/priorities/{vid:int}/open", allow=ORGANISER, methods=("POST",))
async def priority_open(request: Request) -> Response:
    return await _priority_status(request, "open")


@page("/council/priorities/{vid:int}/close", allow=ORGANISER, methods=("POST",))
async def priority_close(request: Request) -> Response:
    return await _priority_status(request, "closed")


def _dots(form: FormData, prefix: str) -> dict[str, int]:
    dots: dict[str, int] = {}
    for name, value in form.multi_items():
        if not name.startswith(prefix) or not isinstance(value, str):
            continue
        key = name[len(prefix) :]
        text = value.strip()
        if not text:
            continue
        try:
            dots[key] = int(text)
        except ValueError:
            raise InvalidInput(f"dots[{key}]", "must be a whole number") from None
    return dots


@page("/council/priorities/{vid:int}/vote", allow=PARTICIPANT, methods=("GET", "POST"))
async def priority_vote(request: Request) -> Response:
    """A participant distributes their votes over the items (phone or laptop)."""
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    saved = False
    if request.method == "POST":
        form = await request.form()
        dots = _dots(form, "dots-")
        with _refusals():
            async with db(request).session() as session:
                participant = await _participant(request, session)
                await uc.submit_dots(session, vote_id, participant, dots)
        await _publish(
            request, [(f"display:{summit.id}", {"type": "priority.update", "vote": vote_id})]
        )
        saved = True
    async with db(request).session() as session:
        participant = await _participant(request, session)
        vote = await uc.get_priority_vote(session, summit.id, vote_id)
        items = await uc.priority_items(session, vote.id)
        mine = await uc.my_dots(session, vote.id, participant.id)
        hosted = await uc.hosted_table(session, participant)
    return render(
        request,
        "council/priority_vote.html",
        {"vote": vote, "items": items, "mine": mine, "saved": saved, "hosted": hosted},
    )


@page("/council/priorities/{vid:int}/tally", allow=STAFF | PARTICIPANT, methods=("POST",))
async def priority_tally(request: Request) -> Response:
    """A venue table's paper dots, entered by its host or by staff."""
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    form = await request.form()
    ident = identity(request)
    table_number = _int(form, "table")
    if table_number is None:
        raise InvalidInput("table", "is required")
    with _refusals():
        async with db(request).session() as session:
            host = None
            if ident.staff_id is None:
                host = await _participant(request, session)
            await uc.enter_table_tally(
                session,
                summit.id,
                vote_id,
                actor=ident.actor,
                table_number=table_number,
                dots=_dots(form, "dots-"),
                voters=_int(form, "voters"),
                host=host,
            )
    await _publish(
        request, [(f"display:{summit.id}", {"type": "priority.update", "vote": vote_id})]
    )
    target = f"/council/priorities/{vote_id}" if ident.staff_id else "/council/mine"
    return RedirectResponse(target + "?tally=saved", status_code=303)


@page("/council/priorities/{vid:int}/totals.json", allow=PUBLIC)
async def priority_totals(request: Request) -> Response:
    """Live totals (the plenary shows them in the hall) and, once closed, the shortlist."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_priority_vote(session, summit.id, _path(request, "vid"))
        data = (await uc.priority_totals(session, vote)).as_json()
        if vote.status == "closed":
            rows = await uc.shortlist_items(session, summit.id, vote.stage)
            data["shortlist"] = [
                {"rank": r.rank, "theme": r.theme_id, "proposal": r.proposal_id, "votes": r.votes}
                for r in rows
            ]
    return JSONResponse(data)


@page("/council/priorities/{vid:int}/result", allow=PUBLIC)
async def priority_result(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_priority_vote(session, summit.id, _path(request, "vid"))
        totals = await uc.priority_totals(session, vote)
    result = None
    if vote.status == "closed":
        result = shortlist(totals.totals, vote.shortlist_size, vote.seed)
    labels = {item.key: item.label for item in totals.items}
    return render(
        request,
        "council/priority_result.html",
        {"vote": vote, "totals": totals, "result": result, "labels": labels},
    )


# --- proposals ----------------------------------------------------------------------------------


def _proposal_text(form: FormData) -> uc.ProposalText:
    return uc.ProposalText(
        title=_text(form, "title"),
        problem=_text(form, "problem"),
        text=_text(form, "text"),
        who_acts=_text(form, "who_acts"),
        cost=_text(form, "cost"),
    )


async def _author_table(request: Request, session: Any) -> int | None:
    """Staff write for a workshop (no table); a participant must host a table to write."""
    if identity(request).staff_id is not None:
        return None
    participant = await _participant(request, session)
    table = await uc.hosted_table(session, participant)
    if table is None and not participant.is_host:
        raise HTTPException(403, "role: only table hosts and staff write proposals")
    return table.id if table else None


async def _can_write(request: Request, session: AsyncSession) -> bool:
    """Staff, and participants who host a table, write and revise proposals."""
    if identity(request).participant_id is None:
        return identity(request).staff_id is not None
    participant = await _participant(request, session)
    return participant.is_host or await uc.hosted_table(session, participant) is not None


@page("/council/proposals", allow=PUBLIC, methods=("GET", "POST"))
async def proposals(request: Request) -> Response:
    """The public list of proposals; hosts and staff write a new one here."""
    summit = summit_or_404(request)
    if request.method == "POST":
        ident = identity(request)
        if ident.staff_id is None and ident.participant_id is None:
            raise HTTPException(401, "login: log in or open your personal link to write")
        form = await request.form()
        async with db(request).session() as session:
            table_id = await _author_table(request, session)
            proposal = await uc.create_proposal(
                session,
                summit,
                actor=ident.actor,
                content=_proposal_text(form),
                theme_id=_int(form, "theme"),
                table_id=table_id,
            )
        return RedirectResponse(f"/council/proposals/{proposal.id}", status_code=303)
    async with db(request).session() as session:
        rows = await uc.proposals(session, summit.id)
        latest = await uc.latest_versions(session, [p.id for p in rows])
        themes = await uc.shortlisted_themes(session, summit.id)
        can_write = await _can_write(request, session)
    return render(
        request,
        "council/proposals.html",
        {"proposals": rows, "latest": latest, "themes": themes, "can_write": can_write},
    )


@page("/council/proposals/{pid:int}", allow=PUBLIC)
async def proposal_detail(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        proposal = await uc.get_proposal(session, summit.id, _path(request, "pid"))
        versions = await uc.proposal_versions(session, proposal.id)
        can_write = await _can_write(request, session)
    return render(
        request,
        "council/proposal.html",
        {"proposal": proposal, "versions": versions, "can_write": can_write},
    )


@page("/council/proposals/{pid:int}/versions", allow=STAFF | PARTICIPANT, methods=("POST",))
async def proposal_revise(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    proposal_id = _path(request, "pid")
    async with db(request).session() as session:
        table_id = await _author_table(request, session)
        await uc.revise_proposal(
            session,
            summit.id,
            proposal_id,
            actor=identity(request).actor,
            content=_proposal_text(form),
            table_id=table_id,
        )
    return RedirectResponse(f"/council/proposals/{proposal_id}", status_code=303)


# --- the Burgerraad -----------------------------------------------------------------------------


def _deadline(form: FormData) -> dt.datetime | None:
    text = _text(form, "closes_at")
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("closes_at", "use a date and time like 2026-12-20T18:00") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


@page("/council/votes", allow=ORGANISER, methods=("POST",))
async def create_vote(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        vote = await uc.create_council_vote(
            session,
            summit,
            actor=identity(request).actor,
            title=_text(form, "title"),
            proposal_ids=_ids(form, "proposals"),
            closes_at=_deadline(form),
            membership=_membership(form),
        )
    return RedirectResponse(f"/council/votes/{vote.id}/manage", status_code=303)


def _membership(form: FormData) -> Membership:
    listed = re.split(r"[\s,;]+", _text(form, "member_list"))
    return parse_membership(
        _text(form, "membership") or "all",
        [str(r) for r in form.getlist("member_roles")],
        listed,
        [role.value for role in Role],
    )


@page("/council/votes/{vid:int}/manage", allow=STAFF)
async def vote_manage(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_council_vote(session, summit.id, _path(request, "vid"))
        items = await uc.vote_items(session, vote.id)
        latest = await uc.latest_versions(session, [i.proposal_id for i in items])
        voted = await uc.voters(session, vote.id)
        membership = await uc.vote_membership(session, vote.id)
        decision = next(
            (d for d in await uc.decisions(session, summit.id) if d.council_vote_id == vote.id),
            None,
        )
    return render(
        request,
        "council/vote_manage.html",
        {
            "vote": vote,
            "items": items,
            "latest": latest,
            "voted": voted,
            "membership": membership,
            "threshold": council_threshold(vote.members) if vote.members else None,
            "decision": decision,
        },
    )


@page("/council/votes/{vid:int}/open", allow=ORGANISER, methods=("POST",))
async def vote_open(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    async with db(request).session() as session:
        await uc.open_council_vote(
            session, summit.id, vote_id, actor=identity(request).actor, key=_key(request)
        )
    event = {"type": "council.opened", "vote": vote_id}
    await _publish(request, [(f"summit:{summit.id}", event), (f"display:{summit.id}", event)])
    return RedirectResponse(f"/council/votes/{vote_id}/manage", status_code=303)


@page("/council/votes/{vid:int}/close", allow=ORGANISER, methods=("POST",))
async def vote_close(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    async with db(request).session() as session:
        _outcome, decision = await uc.close_council_vote(
            session,
            summit.id,
            vote_id,
            actor=identity(request).actor,
            render_document=_renderer(request, summit),
        )
    event = {"type": "council.closed", "vote": vote_id, "decision": decision.id}
    await _publish(request, [(f"summit:{summit.id}", event), (f"display:{summit.id}", event)])
    return RedirectResponse(f"/council/votes/{vote_id}/result", status_code=303)


async def _ballot_context(request: Request, vote_id: int) -> dict[str, Any]:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        participant = await _participant(request, session)
        vote = await uc.get_council_vote(session, summit.id, vote_id)
        items = await uc.vote_items(session, vote.id)
        latest = await uc.latest_versions(session, [i.proposal_id for i in items])
        versions = {i.proposal_id: latest.get(i.proposal_id) for i in items}
        member = await uc.is_member(session, vote.id, participant.id)
        mine = await uc.my_ballots(session, vote.id, participant.id, _key(request))
        decision = next(
            (d for d in await uc.decisions(session, summit.id) if d.council_vote_id == vote.id),
            None,
        )
    return {
        "vote": vote,
        "items": items,
        "versions": versions,
        "member": member,
        "mine": mine,
        "threshold": council_threshold(vote.members) if vote.members else None,
        "decision": decision,
        "now": dt.datetime.now(dt.UTC),
    }


@page("/council/votes/{vid:int}", allow=PARTICIPANT)
async def ballot(request: Request) -> Response:
    """The member's ballot: for / against / abstain per proposal, the rule, their receipts."""
    context = await _ballot_context(request, _path(request, "vid"))
    context["cast"] = request.query_params.get("cast") == "1"
    return render(request, "council/ballot.html", context)


@page("/council/votes/{vid:int}/ballot", allow=PARTICIPANT, methods=("POST",))
async def cast(request: Request) -> Response:
    """Cast or change the ballot; only the latest ballot per proposal counts."""
    summit = summit_or_404(request)
    vote_id = _path(request, "vid")
    form = await request.form()
    choices: dict[int, str] = {}
    for name, value in form.multi_items():
        if name.startswith("choice-") and isinstance(value, str) and value:
            try:
                choices[int(name[len("choice-") :])] = value
            except ValueError:
                raise InvalidInput(name, "names no proposal") from None
    participant_id = identity(request).participant_id
    assert participant_id is not None
    key = _key(request)

    async def work(session: Any) -> list[uc.CastBallot]:
        return await uc.cast_ballots(
            session,
            summit_id=summit.id,
            vote_id=vote_id,
            participant_id=participant_id,
            choices=choices,
            key=key,
        )

    with _refusals():
        cast_now = await uc.with_retries(db(request), work)
    # The screens re-read the turnout themselves (throttled), so a ballot costs no count here.
    await _publish(request, [(f"display:{summit.id}", {"type": "council.ballot", "vote": vote_id})])
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"ok": True, "receipts": {str(c.proposal): c.receipt for c in cast_now}}
        )
    return RedirectResponse(f"/council/votes/{vote_id}?cast=1#receipts", status_code=303)


async def _outcome(request: Request) -> tuple[CouncilVote, uc.CouncilOutcome | None, Any]:
    """The vote, its published outcome (None until it closes: results stay hidden), decision."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_council_vote(session, summit.id, _path(request, "vid"))
        if vote.status != "closed":
            return vote, None, None
        decision = next(
            (d for d in await uc.decisions(session, summit.id) if d.council_vote_id == vote.id),
            None,
        )
        return vote, await uc.council_outcome(session, vote), decision


@page("/council/votes/{vid:int}/result", allow=PUBLIC)
async def vote_result(request: Request) -> Response:
    """Counts, threshold, adopted/rejected and the receipts of the counted ballots (after close)."""
    vote, outcome, decision = await _outcome(request)
    check = request.query_params.get("receipt", "").strip()
    found: dict[str, Any] | None = None
    if check and outcome is not None:
        code = normalise_receipt(check)
        rows = [r for r in outcome.receipts if r[0] == code]
        found = {"receipt": code, "counted": bool(rows), "rows": rows}
    titles = {r.item.proposal_id: r.title for r in outcome.rows} if outcome else {}
    return render(
        request,
        "council/result.html",
        {
            "vote": vote,
            "outcome": outcome,
            "decision": decision,
            "found": found,
            "titles": titles,
            "membership": Membership.from_json(outcome.meta.membership) if outcome else None,
        },
    )


@page("/council/votes/{vid:int}/result.json", allow=PUBLIC)
async def vote_result_json(request: Request) -> Response:
    _vote, outcome, decision = await _outcome(request)
    if outcome is None:
        raise HTTPException(409, "vote: results are hidden until the vote closes")
    data = outcome.as_json()
    data["decision"] = decision.id if decision else None
    data["membership"] = Membership.from_json(outcome.meta.membership).to_json()
    return JSONResponse(data)


# --- the Burgerbesluit --------------------------------------------------------------------------


@page("/council/decisions/{did:int}", allow=PUBLIC)
async def decision(request: Request) -> Response:
    """The Burgerbesluit, its SHA-256, the signature list; members sign here."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await uc.get_decision(session, summit.id, _path(request, "did"))
        html = await uc.decision_document(session, found.id)
        signed = await uc.signatures(session, found.id)
        vote = (
            await session.get(CouncilVote, found.council_vote_id) if found.council_vote_id else None
        )
        can_sign = signed_already = False
        pid = identity(request).participant_id
        if pid is not None and found.council_vote_id is not None:
            can_sign = await uc.is_member(session, found.council_vote_id, pid)
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
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await uc.get_decision(session, summit.id, _path(request, "did"))
        html = await uc.decision_document(session, found.id)
    return Response(
        html.encode(),
        media_type="text/html; charset=utf-8",
        headers={"x-content-sha256": found.document_hash},
    )


@page("/council/decisions/{did:int}/document.pdf", allow=PUBLIC)
async def decision_pdf(request: Request) -> Response:
    """The document as PDF (WeasyPrint, when installed); the signed object stays the HTML."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        found = await uc.get_decision(session, summit.id, _path(request, "did"))
        html = await uc.decision_document(session, found.id)
    try:
        from weasyprint import HTML
    except ImportError:
        raise NotFound("pdf: install weasyprint for PDF documents; the HTML is printable") from None
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
        found = await uc.get_decision(session, summit.id, _path(request, "did"))
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
    decision_id = _path(request, "did")
    form = await request.form()
    if _text(form, "confirm") != "yes":
        raise InvalidInput("confirm", "tick the box to confirm you sign this Burgerbesluit")
    with _refusals():
        async with db(request).session() as session:
            participant = await _participant(request, session)
            count = await uc.sign_decision(
                session,
                summit.id,
                decision_id,
                participant,
                document_hash=_text(form, "document_sha256"),
            )
    await _publish(
        request,
        [
            (
                f"display:{summit.id}",
                {"type": "decision.signed", "decision": decision_id, "signatures": count},
            )
        ],
    )
    return RedirectResponse(f"/council/decisions/{decision_id}#signatures", status_code=303)


# --- the participant's council page -------------------------------------------------------------


@page("/council/mine", allow=PARTICIPANT)
async def mine(request: Request) -> Response:
    """What the participant can do now: dot votes, the Burgerraad ballot, signing, their table."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        participant = await _participant(request, session)
        priorities = [
            v for v in await uc.priority_votes(session, summit.id) if v.status != "planned"
        ]
        votes = []
        for vote in await uc.council_votes(session, summit.id):
            if vote.status == "planned":
                continue
            votes.append(
                (
                    vote,
                    await uc.is_member(session, vote.id, participant.id),
                    await uc.has_voted(session, vote.id, participant.id),
                )
            )
        to_sign = []
        for found in await uc.decisions(session, summit.id):
            if found.council_vote_id and await uc.is_member(
                session, found.council_vote_id, participant.id
            ):
                to_sign.append((found, await uc.has_signed(session, found.id, participant.id)))
        hosted = await uc.hosted_table(session, participant)
    return render(
        request,
        "council/mine.html",
        {
            "priorities": priorities,
            "votes": votes,
            "to_sign": to_sign,
            "hosted": hosted,
            "tally_saved": request.query_params.get("tally") == "saved",
        },
    )


# --- the plenary screen and display links -------------------------------------------------------


@page("/council/plenary", allow=STAFF)
async def plenary(request: Request) -> Response:
    """The big screen for the hall, for signed-in staff (a display link shows the same)."""
    return render(
        request,
        "council/plenary.html",
        {
            "state_url": "/council/plenary/state.json",
            "themes_url": "/plenary.json",
            "socket_url": "/council/live",
        },
    )


@page("/council/plenary/state.json", allow=STAFF)
async def plenary_state(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        return JSONResponse(await uc.plenary_state(session, summit.id))


@page("/council/display-links", allow=ORGANISER, methods=("POST",))
async def display_link_issue(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        _link, token = await uc.issue_display_link(
            session, summit, actor=identity(request).actor, label=_text(form, "label")
        )
    base = request.app.state.settings.base_url
    return render(request, "council/display_link.html", {"url": f"{base}/display/{token}"})


@page("/council/display-links/{lid:int}/revoke", allow=ORGANISER, methods=("POST",))
async def display_link_revoke(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        await uc.revoke_display_link(
            session, summit.id, _path(request, "lid"), actor=identity(request).actor
        )
    return RedirectResponse("/council#display", status_code=303)


async def _display(request: Request) -> Any:
    token = str(request.path_params["token"])
    async with db(request).session() as session:
        try:
            return await uc.resolve_display_link(session, token)
        except uc.DisplayLinkRejected as exc:
            message = (
                _("This display link has been revoked. Ask the organiser for a new one.")
                if str(exc) == "revoked"
                else _("This display link is not valid.")
            )
            raise HTTPException(404, message) from None


@page("/display/{token}", allow=PUBLIC)
async def display(request: Request) -> Response:
    """The plenary screen without login (big type, high contrast), through a display link."""
    if request.app.state.link_limiter.hit(
        f"display:{request.client.host if request.client else ''}"
    ):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    await _display(request)
    token = request.path_params["token"]
    return render(
        request,
        "council/plenary.html",
        {
            "state_url": f"/display/{token}/state.json",
            "themes_url": f"/display/{token}/themes.json",
            "socket_url": f"/display/{token}/ws",
        },
    )


@page("/display/{token}/state.json", allow=PUBLIC)
async def display_state(request: Request) -> Response:
    link = await _display(request)
    async with db(request).session() as session:
        return JSONResponse(await uc.plenary_state(session, link.summit_id))


@page("/display/{token}/themes.json", allow=PUBLIC)
async def display_themes(request: Request) -> Response:
    """The theme board for the display link's summit (labels and counts, no personal data)."""
    link = await _display(request)
    async with db(request).session() as session:
        data = await plenary_data(session, link.summit_id)
    return JSONResponse(data, headers={"cache-control": "no-store"})


async def _forward(websocket: WebSocket, summit_id: int, still_valid: Any) -> None:
    await forward_events(
        websocket,
        [f"display:{summit_id}", f"summit:{summit_id}"],
        PLENARY_EVENTS,
        still_valid=still_valid,
    )


@socket("/display/{token}/ws", allow=PUBLIC)
async def display_socket(websocket: WebSocket) -> None:
    """Live plenary events for a display link (checked again every minute)."""
    token = str(websocket.path_params["token"])
    database = websocket.app.state.db

    async def valid() -> int | None:
        async with database.session() as session:
            try:
                link = await uc.resolve_display_link(session, token)
            except uc.DisplayLinkRejected:
                return None
            return int(link.summit_id)

    summit_id = await valid()
    if summit_id is None:
        await websocket.close(code=4404, reason="unknown or revoked display link")
        return

    async def still_valid() -> bool:
        return await valid() is not None

    await _forward(websocket, summit_id, still_valid)


@socket("/council/live", allow={Principal.MODERATOR, Principal.ORGANISER})
async def staff_socket(websocket: WebSocket) -> None:
    """Live plenary events for staff pages (the summit channel alone would not carry turnout)."""
    summit = websocket.state.summit
    if not isinstance(summit, Summit):
        await websocket.close(code=4404, reason="no summit")
        return

    async def still_valid() -> bool:
        return True

    await _forward(websocket, summit.id, still_valid)


routes = [
    overview,
    add_theme,
    create_priority,
    priority_manage,
    priority_open,
    priority_close,
    priority_vote,
    priority_tally,
    priority_totals,
    priority_result,
    proposals,
    proposal_detail,
    proposal_revise,
    create_vote,
    vote_manage,
    vote_open,
    vote_close,
    ballot,
    cast,
    vote_result,
    vote_result_json,
    decision,
    decision_document,
    decision_pdf,
    decision_signatures,
    decision_sign,
    mine,
    plenary,
    plenary_state,
    display_link_issue,
    display_link_revoke,
    display,
    display_state,
    display_themes,
    display_socket,
    staff_socket,
]
