"""Public pages of the Monitor: the whole Burgerbesluit, each adopted proposal, the partners, the
Monitor group, following by e-mail or Atom, open data, and the G1000's public lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core import i18n
from summit.core.errors import InvalidInput
from summit.core.routing import PUBLIC, page
from summit.core.templating import render
from summit.core.web import db
from summit.council.models import Decision
from summit.monitor import group, notify, opendata, partners, tracking
from summit.monitor.models import MonitorDocument, MonitorItem
from summit.monitor.rules import charts
from summit.monitor.rules.lifecycle import steps
from summit.monitor.rules.opendata import AtomEntry, atom_feed
from summit.monitor.rules.progress import count_states, sample_days, state_series
from summit.monitor.web import (
    error_text,
    links,
    mail_enabled,
    path_int,
    summit_of,
    summit_today,
    wake_jobs,
)

LABELS = {
    "status": notify.STATUS_LABELS,
    "verdict": notify.VERDICT_LABELS,
    "answer": notify.ANSWER_LABELS,
    "state": notify.STATE_LABELS,
}


def label(kind: str, value: str | None) -> str:
    return i18n.gettext(LABELS[kind].get(value or "", "")) if value else "—"


def bar(percent: int) -> Markup:
    return Markup(charts.progress_bar(percent, i18n.gettext("Progress")))


def common(request: Request) -> dict[str, Any]:
    return {
        "label": label,
        "bar": bar,
        "mail_enabled": mail_enabled(request),
        "today": summit_today(request),
    }


async def _chart(session: Any, summit_id: int, today: dt.date) -> Markup:
    histories = await tracking.histories(session, summit_id)
    if not histories:
        return Markup("")
    first = min(h.created for h in histories).date()
    series = state_series(histories, sample_days(first, today))
    names = {k: i18n.gettext(v) for k, v in notify.STATE_LABELS.items()}
    title = i18n.gettext("Adopted proposals by state over time")
    return Markup(charts.state_chart(series, names, title))


@page("/monitor", allow=PUBLIC)
async def overview(request: Request) -> Response:
    summit = summit_of(request)
    today = summit_today(request)
    async with db(request).session() as session:
        views = await tracking.overview(session, summit.id, today)
        chart = await _chart(session, summit.id, today)
        recent = await notify.changes(session, summit.id, limit=10)
    counts = count_states(v.state for v in views)
    return render(
        request,
        "monitor/overview.html",
        {
            **common(request),
            "views": views,
            "counts": counts,
            "chart": chart,
            "recent": recent,
            "describe": notify.describe,
        },
    )


def _timeline(view: tracking.ItemView, today: dt.date) -> Markup:
    marks = [
        (m.due_on, m.title, "done" if m.done_on else ("late" if today > m.due_on else "milestone"))
        for m in view.milestones
    ]
    if view.item.response_due:
        marks.append((view.item.response_due, i18n.gettext("responses due"), "event"))
    if not marks:
        return Markup("")
    return Markup(charts.timeline(marks, today, i18n.gettext("Timeline")))


@page("/monitor/proposals/{iid:int}", allow=PUBLIC)
async def item_page(request: Request) -> Response:
    summit = summit_of(request)
    today = summit_today(request)
    async with db(request).session() as session:
        item = await tracking.get_item(session, summit.id, path_int(request, "iid"))
        view = await tracking.item_view(session, item, today, full=True)
        text = await tracking.proposal_text(session, item)
        assessments = await group.assessments(session, item.id)
        names = {p.id: p.name for _r, p in view.responses} | {p.id: p.name for p in view.owed}
        areas = {a.key: a.label for a in await partners.areas(session, summit.id)}
    return render(
        request,
        "monitor/item.html",
        {
            **common(request),
            "view": view,
            "text": text,
            "assessments": assessments,
            "timeline": _timeline(view, today),
            "partner_names": names,
            "areas": areas,
        },
    )


@page("/monitor/documents/{did:int}.pdf", allow=PUBLIC)
async def document_pdf(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        row = await session.get(MonitorDocument, path_int(request, "did"))
        item = await session.get(MonitorItem, row.item_id) if row else None
    if row is None or row.data is None or item is None or item.summit_id != summit.id:
        raise HTTPException(404, "document: not found")
    return Response(
        row.data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="document-{row.id}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _feed(request: Request, title: str, rows: list[Any], item_id: int | None) -> Response:
    base = request.app.state.settings.base_url
    entries = [
        AtomEntry(
            id=f"{base}/monitor/changes/{c.id}",
            title=f"{c.summary.get('title') or title}: "
            + i18n.gettext(notify.KIND_SUBJECTS[c.kind]),
            updated=c.created_at,
            link=links(request).item(c.item_id),
            summary=notify.describe(c),
        )
        for c in rows
    ]
    updated = rows[0].created_at if rows else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    path = f"/monitor/proposals/{item_id}/feed.atom" if item_id else "/monitor/feed.atom"
    body = atom_feed(
        feed_id=f"{base}{path}",
        title=title,
        self_url=f"{base}{path}",
        updated=updated,
        entries=entries,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@page("/monitor/feed.atom", allow=PUBLIC)
async def feed(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        rows = await notify.changes(session, summit.id)
    return _feed(
        request, i18n.gettext("Monitor of %(summit)s") % {"summit": summit.name}, rows, None
    )


@page("/monitor/proposals/{iid:int}/feed.atom", allow=PUBLIC)
async def item_feed(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        item = await tracking.get_item(session, summit.id, path_int(request, "iid"))
        rows = await notify.changes(session, summit.id, item_id=item.id)
    return _feed(request, item.title, rows, item.id)


# --- following by e-mail ---


@page("/monitor/follow", allow=PUBLIC, methods=("POST",))
async def follow(request: Request) -> Response:
    summit = summit_of(request)
    if not mail_enabled(request):
        raise HTTPException(
            409,
            i18n.gettext("E-mail is not set up on this platform; follow the Atom feed instead."),
        )
    form = await request.form()
    raw_item = str(form.get("item", "") or "")
    # a bad address raises InvalidInput("email", ...): the page the form is on comes back with
    # the address typed and the message by the field (summit.core.forms)
    try:
        async with db(request).session() as session:
            item = (
                await tracking.get_item(session, summit.id, int(raw_item))
                if raw_item.isdigit()
                else None
            )
            await notify.subscribe(
                session,
                summit,
                email=str(form.get("email", "")),
                item=item,
                links=links(request),
                language=str(form.get("language", "") or "") or None,
            )
    except InvalidInput as exc:
        # the Monitor's errors carry the English msgid: hand on the message in the user's language
        raise InvalidInput(exc.field, error_text(exc)) from None
    wake_jobs(request)
    return render(
        request,
        "monitor/follow.html",
        {"step": "sent", "error": None, "email": str(form.get("email", ""))},
    )


def _check(request: Request, purpose: str) -> int:
    sub_id = path_int(request, "sid")
    secret = request.app.state.settings.secret_key
    if not notify.token_matches(secret, purpose, sub_id, str(request.path_params["token"])):
        raise HTTPException(
            404, i18n.gettext("This link is not valid. Check that you copied it completely.")
        )
    return sub_id


@page("/monitor/follow/{sid:int}/confirm/{token}", allow=PUBLIC, methods=("GET", "POST"))
async def follow_confirm(request: Request) -> Response:
    sub_id = _check(request, "confirm")
    if request.method == "GET":
        return render(request, "monitor/follow.html", {"step": "confirm"})
    async with db(request).session() as session:
        await notify.confirm(session, await notify.get_subscription(session, sub_id))
    return render(request, "monitor/follow.html", {"step": "confirmed"})


@page("/monitor/follow/{sid:int}/stop/{token}", allow=PUBLIC, methods=("GET", "POST"), csrf=False)
async def follow_stop(request: Request) -> Response:
    """One click: a GET shows one button; its POST (or a mail client's RFC 8058 POST) ends it.
    The token in the address authenticates the request, so no CSRF token is needed."""
    sub_id = _check(request, "stop")
    if request.method == "GET":
        return render(request, "monitor/follow.html", {"step": "stop"})
    async with db(request).session() as session:
        await notify.unsubscribe(session, await notify.get_subscription(session, sub_id))
    return render(request, "monitor/follow.html", {"step": "stopped"})


# --- partners, group, lifecycle ---


@page("/monitor/partners", allow=PUBLIC)
async def partners_page(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        current = await partners.agreement(session, summit.id)
        signed = await partners.signatures(session, summit.id)
        accounts = await partners.accounts(session, summit.id)
        areas = {a.key: a.label for a in await partners.areas(session, summit.id)}
    return render(
        request,
        "monitor/partners.html",
        {"agreement": current, "signatures": signed, "accounts": accounts, "areas": areas},
    )


@page("/monitor/group", allow=PUBLIC)
async def group_page(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        rows = await group.volunteers(session, summit.id)
        draws = [(d, group.verify_draw(d)) for d in await group.draws(session, summit.id)]
    return render(request, "monitor/group.html", {"rows": rows, "draws": draws})


@page("/g1000", allow=PUBLIC)
async def lifecycle(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        decided = await session.scalar(
            select(Decision.id).where(Decision.summit_id == summit.id).limit(1)
        )
        decisions = list(
            (
                await session.execute(select(Decision.id).where(Decision.summit_id == summit.id))
            ).scalars()
        )
        views = await tracking.overview(session, summit.id, summit_today(request))
        signed = await partners.signatures(session, summit.id)
    return render(
        request,
        "monitor/lifecycle.html",
        {
            "steps": steps(summit.phase, decided is not None),
            "decisions": decisions,
            "counts": count_states(v.state for v in views),
            "signed": signed,
        },
    )


# --- open data ---


@page("/open-data", allow=PUBLIC)
async def open_data(request: Request) -> Response:
    return render(request, "monitor/opendata.html", {"datasets": list(opendata.DATASETS.values())})


@page("/open-data/{name}.{fmt}", allow=PUBLIC)
async def open_dataset(request: Request) -> Response:
    summit = summit_of(request)
    dataset = opendata.DATASETS.get(str(request.path_params["name"]))
    fmt = str(request.path_params["fmt"])
    if dataset is None or fmt not in {"json", "csv"}:
        raise HTTPException(404, "open data: no such dataset")
    async with db(request).session() as session:
        rows = await dataset.build(session, summit.id, summit_today(request))
    if fmt == "json":
        return Response(opendata.as_json(dataset, summit, rows), media_type="application/json")
    return Response(
        opendata.as_csv(dataset, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{dataset.name}.csv"'},
    )


@page("/open-data/changes.atom", allow=PUBLIC)
async def open_changes(request: Request) -> Response:
    return RedirectResponse("/monitor/feed.atom", status_code=301)


routes = [
    overview,
    item_page,
    document_pdf,
    feed,
    item_feed,
    follow,
    follow_confirm,
    follow_stop,
    partners_page,
    group_page,
    lifecycle,
    open_data,
    open_changes,
    open_dataset,
]


def _parts() -> list[Any]:
    from summit.monitor import views_member, views_organiser, views_partner

    return [*views_partner.routes, *views_member.routes, *views_organiser.routes]


routes += _parts()
