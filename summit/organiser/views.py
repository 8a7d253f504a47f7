"""The organiser's dashboard and the moderator's overview of the day."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core import audit
from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.forms import form_text
from summit.core.i18n import gettext as _
from summit.core.models import Participant, Seat, SummitTable, utcnow
from summit.core.routing import ORGANISER, STAFF, page
from summit.core.rules.roles import Phase, Role
from summit.core.rules.summit_spec import LETTER_FIELDS, SpecError, parse_summit_form, time_zones
from summit.core.templating import render
from summit.core.web import bus, db, identity, summit_or_404
from summit.council import member_of_open_vote
from summit.ideas.models import Idea
from summit.lottery import letter_preview


async def _dashboard_data(request: Request) -> dict[str, object]:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        counts = await repository.counts(session, summit.id)
        head_seq, head_hash = await audit.head(session)
        current = await repository.current_round(session, summit.id)
    return {
        "counts": counts,
        "head_seq": head_seq,
        "head_hash": head_hash,
        "round": current,
        "phases": list(Phase),
        "roles": list(Role),
    }


@page("/organiser", allow=ORGANISER)
async def dashboard(request: Request) -> Response:
    if getattr(request.state, "summit", None) is None:
        return RedirectResponse("/organiser/summit", status_code=303)
    return render(request, "organiser/dashboard.html", await _dashboard_data(request))


@page("/organiser/status.json", allow=STAFF)
async def status_json(request: Request) -> Response:
    data = await _dashboard_data(request)
    counts = data["counts"]
    summit = summit_or_404(request)
    return JSONResponse(
        {
            "phase": summit.phase,
            "counts": dataclasses.asdict(counts),  # type: ignore[call-overload]
            "audit_head": {"seq": data["head_seq"], "hash": data["head_hash"]},
        }
    )


@page("/organiser/phase", allow=ORGANISER, methods=("POST",), form_page="/organiser")
async def advance_phase(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    target = str(form.get("phase", ""))
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        await repository.advance_phase(session, fresh, actor=identity(request).actor, to=target)
    await bus(request).publish(f"summit:{summit.id}", {"type": "phase", "phase": target})
    return RedirectResponse("/organiser", status_code=303)


@page("/organiser/participants", allow=ORGANISER)
async def participants(request: Request) -> Response:
    summit = summit_or_404(request)
    role = request.query_params.get("role")
    async with db(request).session() as session:
        query = select(Participant).where(Participant.summit_id == summit.id)
        if role:
            query = query.where(Participant.role == role)
        rows = list((await session.execute(query.order_by(Participant.id).limit(500))).scalars())
    return render(request, "organiser/participants.html", {"participants": rows, "role": role})


@page(
    "/organiser/participants/{pid:int}/link",
    allow=ORGANISER,
    methods=("POST",),
    form_page="/organiser/participants",
)
async def participant_link(request: Request) -> Response:
    """Revoke a participant's personal link, or issue a new one (shown once)."""
    summit = summit_or_404(request)
    form = await request.form()
    action = str(form.get("action", ""))
    token = None
    async with db(request).session() as session:
        participant = await repository.get_participant(
            session, summit.id, request.path_params["pid"]
        )
        if action == "revoke":
            await repository.revoke_links(session, participant, actor=identity(request).actor)
        elif action == "issue":
            if await member_of_open_vote(session, participant.id):
                raise HTTPException(
                    409,
                    _(
                        "A Burgerraad vote with this member is open: their personal link cannot "
                        "be issued again until it closes, so that nobody can vote in their place."
                    ),
                )
            token = await repository.issue_link(session, participant, actor=identity(request).actor)
        else:
            raise InvalidInput("action", _("must be revoke or issue"))
    base = request.app.state.settings.base_url
    return render(
        request,
        "organiser/link.html",
        {"participant": participant, "link": f"{base}/p/{token}" if token else None},
    )


@page("/organiser/participants/{pid:int}/erase", allow=ORGANISER, methods=("POST",))
async def participant_erase(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        participant = await repository.get_participant(
            session, summit.id, request.path_params["pid"]
        )
        await repository.erase_person(session, participant, actor=identity(request).actor)
    return RedirectResponse("/organiser/participants", status_code=303)


@page("/moderator", allow=STAFF)
async def moderator(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        current = await repository.current_round(session, summit.id)
        tables: list[Any] = []
        if current is not None:
            seated = (
                select(Seat.table_id, func.count().label("people"))
                .where(Seat.round_id == current.id)
                .group_by(Seat.table_id)
                .subquery()
            )
            ideas = (
                select(Idea.table_id, func.count().label("ideas"))
                .where(Idea.round_id == current.id, Idea.status == "active")
                .group_by(Idea.table_id)
                .subquery()
            )
            query = (
                select(SummitTable, seated.c.people, ideas.c.ideas)
                .join(seated, seated.c.table_id == SummitTable.id)
                .outerjoin(ideas, ideas.c.table_id == SummitTable.id)
                .where(SummitTable.summit_id == summit.id)
                .order_by(SummitTable.number)
            )
            tables = list((await session.execute(query)).all())
    overtime = 0
    if current is not None and current.status == "open" and current.ends_at is not None:
        overtime = max(0, int((utcnow() - current.ends_at).total_seconds() // 60))
    context = {"round": current, "tables": tables, "overtime_minutes": overtime}
    return render(request, "moderator.html", context)


routes = [
    dashboard,
    status_json,
    advance_phase,
    participants,
    participant_link,
    participant_erase,
    moderator,
]


@page("/organiser/summit", allow=ORGANISER, methods=("GET", "POST"))
async def summit_settings(request: Request) -> Response:
    """Create the summit (when there is none yet) or edit its settings. A refused form comes
    back as this page with what was typed (``summit.core.forms``)."""
    summit = getattr(request.state, "summit", None)
    if request.method == "POST":
        form = await request.form()
        try:
            spec = parse_summit_form({k: str(v) for k, v in form.items()})
        except SpecError as exc:
            raise InvalidInput(exc.field, exc.detail) from None
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id) if summit else None
            saved = await repository.save_summit(
                session, spec, actor=identity(request).actor, summit=fresh
            )
            saved_id = saved.id
        await bus(request).publish(f"summit:{saved_id}", {"type": "summit"})
        return RedirectResponse("/organiser", status_code=303)
    preview = None
    if summit is not None:  # the letter as the saved settings print it
        async with db(request).session() as session:
            stored = await repository.get_summit(session, summit.id)
            preview = await letter_preview(session, stored, request.app.state.settings.base_url)
    return render(
        request,
        "organiser/summit.html",
        {
            "roles": list(Role),
            "editing": summit is not None,
            "time_zones": time_zones(),
            "letter_settings": LETTER_FIELDS,
            "preview": preview,
        },
    )


@page("/organiser/partners", allow=ORGANISER, methods=("GET", "POST"))
async def partners_page(request: Request) -> Response:
    summit = summit_or_404(request)
    if request.method == "POST":
        # a refused partner comes back on this page as typed (core.forms)
        form = await request.form()
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            await repository.add_partner(
                session,
                fresh,
                actor=identity(request).actor,
                name=form_text(form, "name"),
                kind=form_text(form, "kind"),
                commitment=form_text(form, "commitment"),
                signed_on=form_text(form, "signed_on"),
            )
        return RedirectResponse("/organiser/partners", status_code=303)
    async with db(request).session() as session:
        partners = await repository.partners(session, summit.id)
    return render(request, "organiser/partners.html", {"partners": partners})


routes += [summit_settings, partners_page]
