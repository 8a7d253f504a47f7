"""A partner's pages: open the personal link, sign the agreement, respond to the adopted
proposals in its areas, report progress, add documents, and the private discussion."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core import i18n, sessions
from summit.core.models import Partner
from summit.core.ratelimit import RateLimiter
from summit.core.routing import PUBLIC, page
from summit.core.rules.roles import Principal
from summit.core.security import new_csrf_token
from summit.core.service import LinkRejected
from summit.core.templating import render
from summit.core.web import client_key, db
from summit.monitor import group, partners, tracking
from summit.monitor.access import current_partner, partner_actor
from summit.monitor.models import MonitorItem
from summit.monitor.rules.documents import MAX_PDF_BYTES
from summit.monitor.rules.progress import check_in_areas
from summit.monitor.web import now, path_int, render_form, submit, summit_of, summit_today

log = logging.getLogger("summit.monitor")
PARTNER = {Principal.PARTNER}
UPLOAD_BODY = MAX_PDF_BYTES + 64 * 1024


@page("/partner/link/{token}", allow=PUBLIC)
async def partner_link(request: Request) -> Response:
    limiter: RateLimiter = request.app.state.link_limiter  # shared with participants' links
    if limiter.hit(client_key(request, "partner-link")):
        raise HTTPException(429, i18n.gettext("Too many attempts. Try again in a minute."))
    async with db(request).session() as session:
        try:
            link = await partners.resolve_link(session, str(request.path_params["token"]))
        except LinkRejected as exc:
            log.info("partner link refused", extra={"fields": {"reason": str(exc)}})
            detail = i18n.gettext(
                "This personal link is not valid. Ask the organiser for a new one."
            )
            return render(request, "error.html", {"status": 404, "detail": detail}, 404)
        # a new session for the link; one the browser had before (staff, participant) ends
        await sessions.end_token(session, request.session.get(sessions.COOKIE_KEY))
        token = await sessions.start(
            session, hours=request.app.state.settings.session_hours, partner_link_id=link.id
        )
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    request.session[sessions.COOKIE_KEY] = token
    request.session["csrf"] = new_csrf_token()
    return RedirectResponse("/partner", status_code=303)


@page("/partner/logout", allow=PARTNER, methods=("POST",))
async def partner_logout(request: Request) -> Response:
    async with db(request).session() as session:
        await sessions.end_token(session, request.session.get(sessions.COOKIE_KEY))
    request.session.pop(sessions.COOKIE_KEY, None)
    return RedirectResponse("/", status_code=303)


async def _home(
    request: Request, values: dict[str, str], error: tuple[str, str] | None
) -> Response:
    summit = summit_of(request)
    partner = current_partner(request)
    async with db(request).session() as session:
        owner = await partners.account(session, partner)
        current = await partners.agreement(session, summit.id)
        areas = await partners.areas(session, summit.id)
        mine = [
            await tracking.item_view(session, i, summit_today(request))
            for i in await tracking.items(session, summit.id)
            if set(i.areas or []) & set(owner.areas or [])
        ]
    context = {
        "partner": partner,
        "account": owner,
        "agreement": current,
        "areas": areas,
        "mine": mine,
    }
    return render_form(request, "monitor/partner_home.html", values, error, context)


@page("/partner", allow=PARTNER)
async def partner_home(request: Request) -> Response:
    return await _home(request, {}, None)


@page("/partner/sign", allow=PARTNER, methods=("POST",))
async def partner_sign(request: Request) -> Response:
    partner = current_partner(request)

    async def action(session: AsyncSession, values: dict[str, str], form: FormData) -> None:
        fresh = await session.get(Partner, partner.id)
        assert fresh is not None
        await partners.sign(
            session,
            fresh,
            signatory=values.get("signatory", ""),
            agreed=values.get("agree") == "yes",
            area_keys=[str(v) for v in form.getlist("areas")],
            now=now(),
        )

    async def again(values: dict[str, str], error: tuple[str, str]) -> Response:
        return await _home(request, values, error)

    return await submit(request, action, redirect="/partner", rerender=again)


async def _item_page(
    request: Request, values: dict[str, str], error: tuple[str, str] | None
) -> Response:
    summit = summit_of(request)
    partner = current_partner(request)
    async with db(request).session() as session:
        item = await tracking.get_item(session, summit.id, path_int(request, "iid"))
        view = await tracking.item_view(session, item, summit_today(request), full=True)
        mine = next((r for r, p in view.responses if p.id == partner.id), None)
        owner = await partners.account(session, partner)
        posts = (
            await group.posts(session, item.id)
            if await group.may_discuss(session, item, partner=partner)
            else None
        )
    in_areas = bool(set(item.areas or []) & set(owner.areas or []))
    context = {
        "view": view,
        "mine": mine,
        "in_areas": in_areas,
        "posts": posts,
        "partner": partner,
    }
    return render_form(request, "monitor/partner_item.html", values, error, context)


@page("/partner/proposals/{iid:int}", allow=PARTNER)
async def partner_item(request: Request) -> Response:
    return await _item_page(request, {}, None)


async def _item_action(request: Request, run: Any) -> Response:
    summit = summit_of(request)
    partner = current_partner(request)
    iid = path_int(request, "iid")

    async def action(session: AsyncSession, values: dict[str, str], form: FormData) -> None:
        item: MonitorItem = await tracking.get_item(session, summit.id, iid)
        fresh = await session.get(Partner, partner.id)
        await run(session, item, fresh, values, form)

    async def again(values: dict[str, str], error: tuple[str, str]) -> Response:
        return await _item_page(request, values, error)

    return await submit(request, action, redirect=f"/partner/proposals/{iid}", rerender=again)


@page("/partner/proposals/{iid:int}/respond", allow=PARTNER, methods=("POST",))
async def partner_respond(request: Request) -> Response:
    async def run(
        s: AsyncSession, item: MonitorItem, partner: Partner, v: dict[str, str], _f: FormData
    ) -> None:
        await tracking.respond(s, item, partner, v, now=now())

    return await _item_action(request, run)


@page("/partner/proposals/{iid:int}/report", allow=PARTNER, methods=("POST",))
async def partner_report(request: Request) -> Response:
    actor = partner_actor(request)

    async def run(
        s: AsyncSession, item: MonitorItem, partner: Partner, v: dict[str, str], _f: FormData
    ) -> None:
        await tracking.report(
            s,
            item,
            status=v.get("status", ""),
            progress=v.get("progress", ""),
            text=v.get("text", ""),
            actor=actor,
            partner=partner,
            now=now(),
        )

    return await _item_action(request, run)


async def upload_bytes(form: FormData) -> bytes | None:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(MAX_PDF_BYTES + 1)
    return None


@page(
    "/partner/proposals/{iid:int}/documents", allow=PARTNER, methods=("POST",), max_body=UPLOAD_BODY
)
async def partner_document(request: Request) -> Response:
    actor = partner_actor(request)

    async def run(
        s: AsyncSession, item: MonitorItem, partner: Partner, v: dict[str, str], f: FormData
    ) -> None:
        owner = await partners.account(s, partner)
        check_in_areas(item.areas or [], owner.areas or [])
        await tracking.add_document(
            s,
            item,
            title=v.get("title", ""),
            url=v.get("url", ""),
            data=await upload_bytes(f),
            actor=actor,
            partner=partner,
        )

    return await _item_action(request, run)


@page("/partner/proposals/{iid:int}/discussion", allow=PARTNER, methods=("POST",))
async def partner_post(request: Request) -> Response:
    async def run(
        s: AsyncSession, item: MonitorItem, partner: Partner, v: dict[str, str], _f: FormData
    ) -> None:
        await group.post(s, item, text=v.get("message", ""), partner=partner)

    return await _item_action(request, run)


routes = [
    partner_link,
    partner_logout,
    partner_home,
    partner_sign,
    partner_item,
    partner_respond,
    partner_report,
    partner_document,
    partner_post,
]
