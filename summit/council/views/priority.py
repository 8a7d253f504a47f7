"""Prioritisation pages: creating, opening and closing a dot vote, voting with dots, a venue
table's paper tally, the live totals and the result with its shortlist."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from summit.core.errors import InvalidInput
from summit.core.forms import form_ids, form_int, form_optional_int, form_text, path_int
from summit.core.i18n import gettext as _
from summit.core.routing import ORGANISER, PARTICIPANT, PUBLIC, STAFF, page
from summit.core.templating import render
from summit.core.web import current_participant, db, identity, publish, summit_or_404
from summit.council import priority as uc
from summit.council.proposals import hosted_table
from summit.council.rules.voting import shortlist
from summit.council.views.ballot import refusals


@page("/council/priorities", allow=ORGANISER, methods=("POST",), form_page="/council")
async def create_priority(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    settings = uc.PrioritySettings(
        title=form_text(form, "title"),
        item_kind=form_text(form, "item_kind") or "theme",
        stage=form_text(form, "stage") or "agenda",
        votes_per_participant=form_int(form, "votes_per_participant", default=5),
        shortlist_size=form_int(form, "shortlist_size", default=12),
        max_per_item=form_optional_int(form, "max_per_item"),
        seed=form_text(form, "seed"),
    )
    async with db(request).session() as session:
        vote = await uc.create_priority_vote(
            session,
            summit,
            actor=identity(request).actor,
            settings=settings,
            item_ids=form_ids(form, "items") or None,
        )
    return RedirectResponse(f"/council/priorities/{vote.id}", status_code=303)


@page("/council/priorities/{vid:int}", allow=STAFF)
async def priority_manage(request: Request) -> Response:
    """Open/close, live totals and the table-tally form."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_priority_vote(session, summit.id, path_int(request, "vid"))
        totals = await uc.priority_totals(session, vote)
    return render(request, "council/priority_manage.html", {"vote": vote, "totals": totals})


@page("/council/priorities/{vid:int}/open", allow=ORGANISER, methods=("POST",))
async def priority_open(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    async with db(request).session() as session:
        _vote, events = await uc.open_priority_vote(
            session, summit.id, vote_id, actor=identity(request).actor
        )
    await publish(request, events)
    return RedirectResponse(f"/council/priorities/{vote_id}", status_code=303)


@page("/council/priorities/{vid:int}/close", allow=ORGANISER, methods=("POST",))
async def priority_close(request: Request) -> Response:
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    async with db(request).session() as session:
        _shortlist, events = await uc.close_priority_vote(
            session, summit.id, vote_id, actor=identity(request).actor
        )
    await publish(request, events)
    return RedirectResponse(f"/council/priorities/{vote_id}", status_code=303)


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
            raise InvalidInput(f"dots[{key}]", _("must be a whole number")) from None
    return dots


@page("/council/priorities/{vid:int}/vote", allow=PARTICIPANT, methods=("GET", "POST"))
async def priority_vote(request: Request) -> Response:
    """A participant distributes their votes over the items (phone or laptop)."""
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    saved = False
    if request.method == "POST":
        dots = _dots(await request.form(), "dots-")
        with refusals():
            async with db(request).session() as session:
                participant = await current_participant(request, session)
                _clean, events = await uc.submit_dots(session, vote_id, participant, dots)
        await publish(request, events)
        saved = True
    async with db(request).session() as session:
        participant = await current_participant(request, session)
        vote = await uc.get_priority_vote(session, summit.id, vote_id)
        context = {
            "vote": vote,
            "items": await uc.priority_items(session, vote.id),
            "mine": await uc.my_dots(session, vote.id, participant.id),
            "saved": saved,
            "hosted": await hosted_table(session, participant),
        }
    return render(request, "council/priority_vote.html", context)


@page("/council/priorities/{vid:int}/tally", allow=STAFF | PARTICIPANT, methods=("POST",))
async def priority_tally(request: Request) -> Response:
    """A venue table's paper dots, entered by its host or by staff."""
    summit = summit_or_404(request)
    vote_id = path_int(request, "vid")
    form = await request.form()
    ident = identity(request)
    table_number = form_int(form, "table")
    with refusals():
        async with db(request).session() as session:
            host = None
            if ident.staff_id is None:
                host = await current_participant(request, session)
            _row, events = await uc.enter_table_tally(
                session,
                summit.id,
                vote_id,
                actor=ident.actor,
                table_number=table_number,
                dots=_dots(form, "dots-"),
                voters=form_optional_int(form, "voters"),
                host=host,
            )
    await publish(request, events)
    target = f"/council/priorities/{vote_id}" if ident.staff_id else "/council/mine"
    return RedirectResponse(target + "?tally=saved", status_code=303)


@page("/council/priorities/{vid:int}/totals.json", allow=PUBLIC)
async def priority_totals(request: Request) -> Response:
    """Live totals (the plenary shows them in the hall) and, once closed, the shortlist."""
    summit = summit_or_404(request)
    async with db(request).session() as session:
        vote = await uc.get_priority_vote(session, summit.id, path_int(request, "vid"))
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
        vote = await uc.get_priority_vote(session, summit.id, path_int(request, "vid"))
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


routes = [
    create_priority,
    priority_manage,
    priority_open,
    priority_close,
    priority_vote,
    priority_tally,
    priority_totals,
    priority_result,
]
