"""The organiser's Monitor page: the agreement text, policy areas, partners' links and e-mail
addresses, the adopted proposals (areas, due date, report interval, milestones, status,
documents), the Monitor group, the mail queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from summit.core.models import Summit
from summit.core.routing import ORGANISER, page
from summit.core.templating import render
from summit.core.web import db, identity
from summit.monitor import group, mail, partners, reports, tracking
from summit.monitor.models import MonitorItem
from summit.monitor.rules import MonitorInputError, _
from summit.monitor.views import common
from summit.monitor.views_partner import UPLOAD_BODY, upload_bytes
from summit.monitor.web import links, now, path_int, submit, summit_of, summit_today

Run = Callable[[AsyncSession, Summit, dict[str, str], FormData], Awaitable[object]]


async def _page(
    request: Request,
    values: dict[str, str],
    error: tuple[str, str] | None,
    link: tuple[str, str] | None = None,
) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        context = {
            "agreement": await partners.agreement(session, summit.id),
            "areas": await partners.areas(session, summit.id),
            "accounts": await partners.accounts(session, summit.id),
            "views": await tracking.overview(session, summit.id, summit_today(request)),
            "adopted": len(await tracking.adopted_proposals(session, summit.id)),
            "volunteers": await group.volunteers(session, summit.id),
            "queue": await mail.queue_counts(session),
        }
    return render(
        request,
        "monitor/organiser.html",
        {**common(request), **context, "values": values, "error": error, "link": link},
        status_code=400 if error else 200,
    )


@page("/organiser/monitor", allow=ORGANISER)
async def organiser_page(request: Request) -> Response:
    return await _page(request, {}, None)


async def _act(request: Request, run: Run) -> Response:
    summit = summit_of(request)

    async def action(session: AsyncSession, values: dict[str, str], form: FormData) -> None:
        fresh = await session.get(Summit, summit.id)
        assert fresh is not None
        await run(session, fresh, values, form)

    async def again(values: dict[str, str], error: tuple[str, str]) -> Response:
        return await _page(request, values, error)

    return await submit(request, action, redirect="/organiser/monitor", rerender=again)


@page("/organiser/monitor/agreement", allow=ORGANISER, methods=("POST",))
async def set_agreement(request: Request) -> Response:
    actor = identity(request).actor

    async def run(s: AsyncSession, summit: Summit, v: dict[str, str], _f: FormData) -> object:
        return await partners.set_agreement(s, summit, v.get("text", ""), actor=actor)

    return await _act(request, run)


@page("/organiser/monitor/areas", allow=ORGANISER, methods=("POST",))
async def set_areas(request: Request) -> Response:
    actor = identity(request).actor

    async def run(s: AsyncSession, summit: Summit, v: dict[str, str], _f: FormData) -> object:
        return await partners.set_areas(s, summit, v.get("areas", "").splitlines(), actor=actor)

    return await _act(request, run)


@page("/organiser/monitor/partners/{pid:int}/link", allow=ORGANISER, methods=("POST",))
async def partner_link(request: Request) -> Response:
    """Issue a partner's personal link (shown once) or revoke it."""
    summit = summit_of(request)
    form = await request.form()
    actor = identity(request).actor
    async with db(request).session() as session:
        partner = await partners.get_partner(session, summit.id, path_int(request, "pid"))
        if form.get("action") == "revoke":
            await partners.revoke_links(session, partner, actor=actor)
            shown = None
        else:
            token = await partners.issue_link(session, partner, actor=actor)
            shown = (partner.name, f"{links(request).base_url}/partner/link/{token}")
    return await _page(request, {}, None, shown)


@page("/organiser/monitor/partners/{pid:int}/email", allow=ORGANISER, methods=("POST",))
async def partner_email(request: Request) -> Response:
    """Where the partner's reminders of due progress reports go (empty: none)."""
    actor = identity(request).actor
    pid = path_int(request, "pid")

    async def run(s: AsyncSession, summit: Summit, v: dict[str, str], _f: FormData) -> object:
        partner = await partners.get_partner(s, summit.id, pid)
        return await reports.set_partner_email(s, partner, v.get("email", ""), actor=actor)

    return await _act(request, run)


@page("/organiser/monitor/follow", allow=ORGANISER, methods=("POST",))
async def follow_adopted(request: Request) -> Response:
    actor = identity(request).actor

    async def run(s: AsyncSession, summit: Summit, _v: dict[str, str], _f: FormData) -> object:
        return await tracking.sync_items(s, summit, actor=actor)

    return await _act(request, run)


async def _on_item(request: Request, work: Callable[..., Awaitable[object]]) -> Response:
    iid = path_int(request, "iid")

    async def run(s: AsyncSession, summit: Summit, v: dict[str, str], f: FormData) -> object:
        item = await tracking.get_item(s, summit.id, iid)
        return await work(s, item, v, f)

    return await _act(request, run)


@page("/organiser/monitor/proposals/{iid:int}", allow=ORGANISER, methods=("POST",))
async def configure_item(request: Request) -> Response:
    actor = identity(request).actor

    async def work(s: AsyncSession, item: MonitorItem, v: dict[str, str], f: FormData) -> object:
        keys = [str(k) for k in f.getlist("areas")]
        return await tracking.configure_item(
            s, item, area_keys=keys, due=v.get("response_due", ""), actor=actor
        )

    return await _on_item(request, work)


@page("/organiser/monitor/proposals/{iid:int}/reports", allow=ORGANISER, methods=("POST",))
async def report_interval(request: Request) -> Response:
    """Partners report on the proposal every N weeks, the first report due on a date."""
    actor = identity(request).actor

    async def work(s: AsyncSession, item: MonitorItem, v: dict[str, str], _f: FormData) -> object:
        return await reports.set_interval(
            s,
            item,
            every_weeks=v.get("report_every_weeks", ""),
            first_due=v.get("report_due", ""),
            actor=actor,
            today=summit_today(request),
        )

    return await _on_item(request, work)


@page("/organiser/monitor/proposals/{iid:int}/milestones", allow=ORGANISER, methods=("POST",))
async def add_milestone(request: Request) -> Response:
    actor = identity(request).actor

    async def work(s: AsyncSession, item: MonitorItem, v: dict[str, str], _f: FormData) -> object:
        if v.get("milestone"):
            if not v["milestone"].isdigit():
                raise MonitorInputError("milestone", _("names no milestone"))
            return await tracking.complete_milestone(
                s, item, int(v["milestone"]), done_on=v.get("done_on", ""), actor=actor
            )
        return await tracking.add_milestone(
            s, item, title=v.get("title", ""), due_on=v.get("due_on", ""), actor=actor
        )

    return await _on_item(request, work)


@page("/organiser/monitor/proposals/{iid:int}/report", allow=ORGANISER, methods=("POST",))
async def report(request: Request) -> Response:
    actor = identity(request).actor

    async def work(s: AsyncSession, item: MonitorItem, v: dict[str, str], _f: FormData) -> object:
        return await tracking.report(
            s,
            item,
            status=v.get("status", ""),
            progress=v.get("progress", ""),
            text=v.get("text", ""),
            actor=actor,
            now=now(),
        )

    return await _on_item(request, work)


@page(
    "/organiser/monitor/proposals/{iid:int}/documents",
    allow=ORGANISER,
    methods=("POST",),
    max_body=UPLOAD_BODY,
)
async def add_document(request: Request) -> Response:
    actor = identity(request).actor

    async def work(s: AsyncSession, item: MonitorItem, v: dict[str, str], f: FormData) -> object:
        return await tracking.add_document(
            s,
            item,
            title=v.get("title", ""),
            url=v.get("url", ""),
            data=await upload_bytes(f),
            actor=actor,
        )

    return await _on_item(request, work)


@page("/organiser/monitor/group", allow=ORGANISER, methods=("POST",))
async def compose_group(request: Request) -> Response:
    actor = identity(request).actor

    async def run(s: AsyncSession, summit: Summit, v: dict[str, str], _f: FormData) -> object:
        seats = v.get("seats", "").strip()
        if not seats.isdigit():
            raise MonitorInputError("seats", _("must be a whole number"))
        return await group.compose(s, summit, seats=int(seats), seed=v.get("seed", ""), actor=actor)

    return await _act(request, run)


routes = [
    organiser_page,
    set_agreement,
    set_areas,
    partner_link,
    partner_email,
    follow_adopted,
    configure_item,
    report_interval,
    add_milestone,
    report,
    add_document,
    compose_group,
]
