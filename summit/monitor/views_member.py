"""A participant's Monitor pages: volunteer for the Monitor group; as a member, the workspace
(each adopted proposal's status and partner reports, the private discussion, the assessment)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from summit.core.routing import PARTICIPANT, page
from summit.core.templating import render
from summit.core.web import db
from summit.monitor import group, tracking
from summit.monitor.views import common
from summit.monitor.web import now, participant, path_int, submit, summit_of, summit_today


@page("/me/monitor", allow=PARTICIPANT, methods=("GET", "POST"))
async def member_home(request: Request) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        person = await participant(request, session)
        if request.method == "POST":
            await group.volunteer(session, person)
        status = await group.status_of(session, person)
        views = (
            await tracking.overview(session, summit.id, summit_today(request))
            if status == "member"
            else []
        )
    return render(
        request, "monitor/member_home.html", {**common(request), "status": status, "views": views}
    )


async def _workspace(
    request: Request, values: dict[str, str], error: tuple[str, str] | None
) -> Response:
    summit = summit_of(request)
    async with db(request).session() as session:
        person = await participant(request, session)
        item = await tracking.get_item(session, summit.id, path_int(request, "iid"))
        if not await group.is_member(session, person):
            return render(
                request,
                "monitor/member_home.html",
                {**common(request), "status": await group.status_of(session, person), "views": []},
                status_code=403,
            )
        view = await tracking.item_view(session, item, summit_today(request), full=True)
        posts = await group.posts(session, item.id)
        assessments = await group.assessments(session, item.id)
    return render(
        request,
        "monitor/member_item.html",
        {
            **common(request),
            "view": view,
            "posts": posts,
            "assessments": assessments,
            "values": values,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@page("/me/monitor/proposals/{iid:int}", allow=PARTICIPANT)
async def member_item(request: Request) -> Response:
    return await _workspace(request, {}, None)


async def _member_action(request: Request, kind: str) -> Response:
    summit = summit_of(request)
    iid = path_int(request, "iid")

    async def action(session: AsyncSession, values: dict[str, str], _form: FormData) -> None:
        person = await participant(request, session)
        item = await tracking.get_item(session, summit.id, iid)
        if kind == "assess":
            await group.assess(
                session,
                item,
                person,
                verdict=values.get("verdict", ""),
                text=values.get("text", ""),
                now=now(),
            )
        else:
            await group.post(session, item, text=values.get("message", ""), participant=person)

    async def again(values: dict[str, str], error: tuple[str, str]) -> Response:
        return await _workspace(request, values, error)

    return await submit(request, action, redirect=f"/me/monitor/proposals/{iid}", rerender=again)


@page("/me/monitor/proposals/{iid:int}/assess", allow=PARTICIPANT, methods=("POST",))
async def member_assess(request: Request) -> Response:
    return await _member_action(request, "assess")


@page("/me/monitor/proposals/{iid:int}/discussion", allow=PARTICIPANT, methods=("POST",))
async def member_post(request: Request) -> Response:
    return await _member_action(request, "post")


routes = [member_home, member_item, member_assess, member_post]
