"""Registration (public): with the code from the letter, named and self-registration, and
withdrawal with the link from the confirmation (a reserve then takes the seat)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound
from summit.core.i18n import gettext as _
from summit.core.models import Summit
from summit.core.routing import PUBLIC, page
from summit.core.templating import render
from summit.core.web import bus, client_key, db, summit_or_404
from summit.lottery import labels
from summit.lottery import selection as sel
from summit.lottery import service as lottery
from summit.lottery.rules.selection import NoReplacement
from summit.lottery.views.common import base, languages, log, secret


def _too_many(request: Request) -> bool:
    limiter = request.app.state.link_limiter
    return bool(limiter.hit(client_key(request, "register")))


async def _questions(request: Request, summit: Summit) -> list[labels.Question]:
    async with db(request).session() as session:
        imported = await lottery.latest_import(session, summit.id)
    return labels.questions(summit, imported)


@page("/register", allow=PUBLIC, methods=("GET", "POST"))
async def register(request: Request) -> Response:
    """Enter the code from the letter (or arrive from its QR code), then the registration form."""
    summit = summit_or_404(request)
    code = request.query_params.get("code", "")
    values: dict[str, str] = {}
    error: tuple[str, str] | None = None
    invitation = None
    if request.method == "POST":
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        code = values.get("code", "")
    if code:
        if _too_many(request):
            raise HTTPException(429, _("Too many attempts. Try again in a minute."))
        async with db(request).session() as session:
            try:
                invitation = await lottery.find_invitation(
                    session, summit, code, secret_key=secret(request)
                )
            except lottery.CodeRejected as exc:
                log.info("registration code refused", extra={"fields": {"reason": exc.reason}})
                error = ("code", _code_message(exc.reason))
    questions = await _questions(request, summit)
    if invitation is not None and request.method == "POST" and values.get("step") == "details":
        try:
            parsed = lottery.parse_registration_form(
                values,
                summit,
                languages=languages(summit),
                questions=[(q.name, q.values) for q in questions],
            )
            async with db(request).session() as session:
                fresh = await repository.get_summit(session, summit.id)
                registration, token = await lottery.register_with_code(
                    session, fresh, code, parsed, actor="public", secret_key=secret(request)
                )
        except lottery.CodeRejected as exc:
            error = ("code", _code_message(exc.reason))
        except InvalidInput as exc:
            error = (exc.field, exc.detail)
        else:
            return _confirmation(request, registration.role, token)
    context = {
        "code": code,
        "invitation": invitation if error is None or error[0] != "code" else None,
        "values": values,
        "error": error,
        "questions": questions,
        "self_role": None,
        "summit_languages": languages(summit),
    }
    return render(request, "lottery/register.html", context, status_code=400 if error else 200)


def _code_message(reason: str) -> str:
    return {
        "unknown": _("This code is not known. Check the letter and try again."),
        "used": _("This code has already been used to register."),
        "withdrawn": _("This invitation was withdrawn."),
    }[reason]


def _confirmation(request: Request, role: str, token: str) -> Response:
    link = f"{base(request)}/register/withdraw/{token}"
    return render(request, "lottery/registered.html", {"role": role, "withdraw_link": link})


@page("/register/self", allow=PUBLIC, methods=("GET", "POST"))
async def register_self(request: Request) -> Response:
    """Self-registration for civil servants and free thinkers (no code)."""
    summit = summit_or_404(request)
    values: dict[str, str] = {}
    error: tuple[str, str] | None = None
    role = request.query_params.get("role", "free_thinker")
    questions = await _questions(request, summit)
    if request.method == "POST":
        if _too_many(request):
            raise HTTPException(429, _("Too many attempts. Try again in a minute."))
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        role = values.get("role", "")
        try:
            parsed = lottery.parse_registration_form(
                values,
                summit,
                languages=languages(summit),
                questions=[(q.name, q.values) for q in questions],
            )
            async with db(request).session() as session:
                fresh = await repository.get_summit(session, summit.id)
                await lottery.check_self_registration(session, fresh, parsed)
                registration, token = await lottery.register_self(
                    session, fresh, role, parsed, actor="public"
                )
        except InvalidInput as exc:
            error = (exc.field, exc.detail)
        else:
            return _confirmation(request, registration.role, token)
    context = {
        "code": "",
        "invitation": None,
        "values": values,
        "error": error,
        "questions": questions,
        "self_role": role if role in lottery.SELF_ROLES else "free_thinker",
        "self_roles": lottery.SELF_ROLES,
        "summit_languages": languages(summit),
    }
    return render(request, "lottery/register.html", context, status_code=400 if error else 200)


@page("/register/withdraw/{token}", allow=PUBLIC, methods=("GET", "POST"))
async def withdraw(request: Request) -> Response:
    """Withdraw a registration at any time; a selected member's seat goes to a reserve."""
    summit = summit_or_404(request)
    if _too_many(request):
        raise HTTPException(429, _("Too many attempts. Try again in a minute."))
    token = request.path_params["token"]
    if request.method == "GET":
        return render(request, "lottery/withdraw.html", {"done": False, "token": token})
    async with db(request).session() as session:
        try:
            registration = await lottery.withdraw(session, token, actor="public")
        except NotFound:
            raise HTTPException(404, _("This withdrawal link is not known.")) from None
        registration_id = registration.id
    try:
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            await sel.replace_withdrawn(session, fresh, registration_id, actor="public")
    except NoReplacement:
        log.warning(
            "no reserve fits a withdrawn seat", extra={"fields": {"registration": registration_id}}
        )
    await bus(request).publish(f"summit:{summit.id}", {"type": "lottery", "step": "withdraw"})
    return render(request, "lottery/withdraw.html", {"done": True, "token": token})


routes: list[BaseRoute] = [
    register,
    register_self,
    withdraw,
]
