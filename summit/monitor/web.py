"""Helpers the Monitor's pages share: translated errors, form handling, the clock, mail links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from summit.core import i18n
from summit.core.errors import InvalidInput
from summit.core.models import Participant, Summit, utcnow
from summit.core.times import local_date, summit_time_zone
from summit.core.web import db, identity
from summit.monitor import notify
from summit.monitor.rules import MonitorInputError, MonitorRefusal, _

Action = Callable[[AsyncSession, dict[str, str], FormData], Awaitable[Any]]
Rerender = Callable[[dict[str, str], tuple[str, str]], Awaitable[Response]]


def error_text(exc: InvalidInput) -> str:
    """The error's message in the caller's language."""
    if isinstance(exc, MonitorInputError):
        text = i18n.gettext(exc.msgid)
        return text % exc.params if exc.params else text
    return exc.detail


def now() -> dt.datetime:
    return utcnow()


def summit_today(request: Request) -> dt.date:
    """Today on the summit's clock (its time zone), the day due dates are compared with."""
    return local_date(now(), summit_time_zone(summit_of(request)))


def links(request: Request) -> notify.Links:
    settings = request.app.state.settings
    return notify.Links(settings.base_url, settings.secret_key)


def mail_enabled(request: Request) -> bool:
    return bool(request.app.state.settings.smtp_url)


def wake_jobs(request: Request) -> None:
    jobs = getattr(request.app.state, "monitor_jobs", None)
    if jobs is not None:
        jobs.wake()


async def submit(
    request: Request, action: Action, *, redirect: str, rerender: Rerender
) -> Response:
    """Run ``action`` on the submitted form in one transaction: redirect on success; on bad
    input nothing is stored and the page is shown again (400) with what was typed."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        async with db(request).session() as session:
            await action(session, values, form)
    except InvalidInput as exc:
        return await rerender(values, (exc.field, error_text(exc)))
    except MonitorRefusal as exc:
        raise HTTPException(403, i18n.gettext(exc.msgid)) from None
    wake_jobs(request)
    return RedirectResponse(redirect, status_code=303)


async def participant(request: Request, session: AsyncSession) -> Participant:
    found = await session.get(Participant, identity(request).participant_id)
    if found is None:
        raise MonitorInputError("login", _("Open your personal link again."))
    return found


def path_int(request: Request, name: str) -> int:
    return int(request.path_params[name])


def summit_of(request: Request) -> Summit:
    from summit.core.web import summit_or_404

    return summit_or_404(request)


def render_form(
    request: Request,
    template: str,
    values: dict[str, str],
    error: tuple[str, str] | None,
    context: dict[str, Any],
) -> Response:
    """A page with a form: what was typed, the refusal next to its field, 400 when refused."""
    from summit.core.templating import render
    from summit.monitor.views import common

    return render(
        request,
        template,
        {**common(request), **context, "values": values, "error": error},
        status_code=400 if error else 200,
    )
