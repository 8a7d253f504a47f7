"""Pages and API of the lottery part: register import, the public invitation draw, letters,
registration with a code (public), named and self-registration, withdrawal, and the stage-2
selection with a background solver, a public final draw and replacements."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound, SummitError
from summit.core.forms import form_int, form_text
from summit.core.i18n import gettext as _
from summit.core.labels import feature_labels, role_label
from summit.core.models import Summit
from summit.core.routing import ORGANISER, PUBLIC, page
from summit.core.rules.roles import Role, seats_per_role
from summit.core.templating import render
from summit.core.web import bus, client_key, db, identity, summit_or_404
from summit.lottery import labels
from summit.lottery import selection as sel
from summit.lottery import service as lottery
from summit.lottery.letters import letter_details, qr_svg
from summit.lottery.rules.register import (
    RegisterError,
    RowError,
    decode_register,
    household_warning,
)
from summit.lottery.rules.selection import NoReplacement, SelectionCancelled
from summit.lottery.rules.selection_leximin import LeximinProgress

log = logging.getLogger("summit.lottery")
MAX_UPLOAD = 50 * 1024 * 1024


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def _base(request: Request) -> str:
    return str(request.app.state.settings.base_url).rstrip("/")


# --- The organiser's lottery page -------------------------------------------------------------


async def _overview(request: Request, summit: Summit) -> dict[str, Any]:
    async with db(request).session() as session:
        imported = await lottery.latest_import(session, summit.id)
        draw = await lottery.invitation_draw(session, summit.id)
        counts = await repository.counts(session, summit.id)
        registrations = await lottery.registration_counts(session, summit.id)
    return {
        "imported": imported,
        "label_rows": labels.label_form(summit, imported, _languages(summit)),
        "label_languages": _languages(summit),
        "feature_labels": _share_labels(summit, imported),
        "household_warning": (
            household_warning(imported.households, imported.eligible) if imported else None
        ),
        "draw": draw,
        "counts": counts,
        "registrations": registrations,
        "mapping_fields": lottery.MAPPING_FIELDS,
        "named_roles": [r.value for r in Role if r != Role.RESIDENT],
    }


def _share_labels(summit: Summit, imported: Any) -> dict[str, dict[str, str]]:
    """Labels of the register's questions and answers in the current language (the organiser's
    own, else the built-in ones), also for a register column the summit does not ask about."""
    features = list(summit.features or [])
    known = {str(f.get("name", "")) for f in features}
    extra = [{"name": name} for name in (imported.shares if imported else {}) if name not in known]
    return feature_labels([*features, *extra], i18n.current_language())


LOTTERY = "/organiser/lottery"
SELECTION = "/organiser/selection"


@page(LOTTERY, allow=ORGANISER)
async def lottery_page(request: Request) -> Response:
    summit = summit_or_404(request)
    context = await _overview(request, summit)
    return render(request, "lottery/organiser.html", {**context, "values": {}, "errors": []})


@page(
    "/organiser/lottery/register", allow=ORGANISER, methods=("POST",), max_body=MAX_UPLOAD + 65536
)
async def register_upload(request: Request) -> Response:
    """Upload a register extract: all or nothing, with every bad row listed."""
    summit = summit_or_404(request)
    form = await request.form(max_part_size=MAX_UPLOAD)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    errors: list[Any] = []
    try:
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", _("choose the register file (CSV)"))
        text, encoding = decode_register(await upload.read())
        mapping = lottery.mapping_from(
            {f: values.get(f"map_{f}", "") for f in lottery.MAPPING_FIELDS}
        )
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            await lottery.import_register(
                session,
                fresh,
                text,
                mapping,
                actor=identity(request).actor,
                key=lottery.register_key(_secret(request)),
                encoding=encoding,
            )
    except RegisterError as exc:
        errors = exc.errors
    except InvalidInput as exc:
        errors = [RowError(0, exc.field, exc.detail)]
    if errors:
        context = await _overview(request, summit)
        return render(
            request,
            "lottery/organiser.html",
            {**context, "values": values, "errors": errors},
            status_code=400,
        )
    await bus(request).publish(f"summit:{summit.id}", {"type": "lottery", "step": "register"})
    return RedirectResponse("/organiser/lottery", status_code=303)


@page("/organiser/lottery/labels", allow=ORGANISER, methods=("POST",))
async def save_labels(request: Request) -> Response:
    """The organiser's labels for the registration form's questions and answers."""
    summit = summit_or_404(request)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            await labels.save_labels(
                session, fresh, values, _languages(fresh), actor=identity(request).actor
            )
    except InvalidInput as exc:
        context = await _overview(request, summit)
        context.update({"values": {}, "errors": [], "label_values": values})
        context["label_error"] = (exc.field, exc.detail)
        return render(request, "lottery/organiser.html", context, status_code=400)
    return RedirectResponse("/organiser/lottery#h-labels", status_code=303)


@page("/organiser/lottery/commit", allow=ORGANISER, methods=("POST",), form_page=LOTTERY)
async def commit(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    size = form_int(form, "sample_size")
    digits = form_int(form, "dice_digits", default=20)
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        draw = await lottery.commit_draw(
            session,
            fresh,
            actor=identity(request).actor,
            sample_size=size,
            one_per_household=form.get("one_per_household") == "yes",
            dice_digits=digits,
        )
        log.info("draw committed", extra={"fields": {"commitment": draw.commitment_hash}})
    await bus(request).publish(f"summit:{summit.id}", {"type": "lottery", "step": "commit"})
    return RedirectResponse("/organiser/lottery", status_code=303)


@page("/organiser/lottery/draw", allow=ORGANISER, methods=("POST",), form_page=LOTTERY)
async def run_draw(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        draw = await lottery.run_draw(
            session,
            fresh,
            actor=identity(request).actor,
            seed=str(form.get("seed", "")),
            secret_key=_secret(request),
        )
        log.info("invitations drawn", extra={"fields": {"result": draw.result_hash}})
    await bus(request).publish(f"summit:{summit.id}", {"type": "lottery", "step": "draw"})
    return RedirectResponse("/organiser/lottery", status_code=303)


# --- Published files (public) ---------------------------------------------------------------


@page("/lottery", allow=PUBLIC)
async def public_page(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        draw = await lottery.invitation_draw(session, summit.id)
        imported = await lottery.latest_import(session, summit.id)
        panels = [await sel.panel_draw(session, summit.id, r.value) for r in Role]
    return render(
        request,
        "lottery/public.html",
        {"draw": draw, "imported": imported, "panels": [p for p in panels if p]},
    )


@page("/lottery/extract.csv", allow=PUBLIC)
async def extract_csv(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        entries = await lottery.extract(session, summit.id)
    if not entries:
        raise NotFound("extract: " + _("no register has been imported"))
    return _download(lottery.extract_csv(entries), "text/csv", "extract.csv")


@page("/lottery/commitment.json", allow=PUBLIC)
async def commitment_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        draw = await lottery.invitation_draw(session, summit.id)
    if draw is None:
        raise NotFound("commitment: " + _("no draw has been committed"))
    return _download(lottery.commitment_json(draw).decode(), "application/json", "commitment.json")


@page("/lottery/result.csv", allow=PUBLIC)
async def result_csv(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        draw = await lottery.invitation_draw(session, summit.id)
        if draw is None or draw.status != "drawn":
            raise NotFound("result: " + _("the draw has not been made"))
        entry = await audit.anchor_of(session, action="draw.run", subject=f"draw:{draw.id}")
    body = lottery.result_csv(draw.result["pseudonyms"])
    return _anchored(_download(body, "text/csv", "result.csv"), entry)


def _anchored(response: Response, entry: audit.Anchor | None) -> Response:
    """A draw's published file carries the audit entry that recorded the draw (its place in
    the chain: `summit audit verify --head` later shows nothing before it changed)."""
    if entry is not None:
        response.headers["x-audit-entry"] = str(entry)
    return response


def _download(body: str, media: str, name: str) -> Response:
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@page("/organiser/lottery/letters", allow=ORGANISER)
async def letters(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await lottery.letters(
            session, summit, secret_key=_secret(request), base_url=_base(request)
        )
        details = await letter_details(session, summit)
    items = [(row, lottery.format_code(row.code), qr_svg(row.link)) for row in rows]
    return render(
        request,
        "lottery/letters.html",
        {"letters": items, "base": _base(request), "details": details},
    )


@page("/organiser/lottery/mailmerge.csv", allow=ORGANISER)
async def mail_merge(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await lottery.letters(
            session, summit, secret_key=_secret(request), base_url=_base(request)
        )
    return _download(lottery.mail_merge_csv(rows), "text/csv", "mailmerge.csv")


@page("/organiser/lottery/named", allow=ORGANISER, methods=("POST",), form_page=LOTTERY)
async def named(request: Request) -> Response:
    summit = summit_or_404(request)
    form = await request.form()
    async with db(request).session() as session:
        fresh = await repository.get_summit(session, summit.id)
        invitation, code = await lottery.invite_named(
            session,
            fresh,
            actor=identity(request).actor,
            role=str(form.get("role", "")),
            secret_key=_secret(request),
        )
    link = f"{_base(request)}/register?code={code}"
    return render(
        request,
        "lottery/named.html",
        {"invitation": invitation, "code": lottery.format_code(code), "link": link},
    )


# --- Registration (public) ------------------------------------------------------------------


def _too_many(request: Request) -> bool:
    limiter = request.app.state.link_limiter
    return bool(limiter.hit(client_key(request, "register")))


async def _questions(request: Request, summit: Summit) -> list[labels.Question]:
    async with db(request).session() as session:
        imported = await lottery.latest_import(session, summit.id)
    return labels.questions(summit, imported)


def _languages(summit: Summit) -> list[str]:
    return [str(x) for x in (summit.languages or [])] or i18n.available()


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
                    session, summit, code, secret_key=_secret(request)
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
                languages=_languages(summit),
                questions=[(q.name, q.values) for q in questions],
            )
            async with db(request).session() as session:
                fresh = await repository.get_summit(session, summit.id)
                registration, token = await lottery.register_with_code(
                    session, fresh, code, parsed, actor="public", secret_key=_secret(request)
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
        "summit_languages": _languages(summit),
    }
    return render(request, "lottery/register.html", context, status_code=400 if error else 200)


def _code_message(reason: str) -> str:
    return {
        "unknown": _("This code is not known. Check the letter and try again."),
        "used": _("This code has already been used to register."),
        "withdrawn": _("This invitation was withdrawn."),
    }[reason]


def _confirmation(request: Request, role: str, token: str) -> Response:
    link = f"{_base(request)}/register/withdraw/{token}"
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
                languages=_languages(summit),
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
        "summit_languages": _languages(summit),
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


# --- Stage 2: the selection -----------------------------------------------------------------


@dataclass
class Job:
    """A selection running in a worker thread; ``cancel`` is checked by the solver."""

    role: str
    state: str = "running"  # running | done | failed | cancelled
    progress: float = 0.0
    message: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)  # keep the anytime result
    task: asyncio.Task[None] | None = None
    leximin: LeximinProgress | None = None  # the solver's last structured report
    algorithm: str = ""
    exact: bool = True  # False: stopped, the anytime lottery was stored


_jobs: dict[tuple[int, str], Job] = {}


def job_of(summit_id: int, role: str) -> Job | None:
    return _jobs.get((summit_id, role))


async def _run_job(request: Request, summit_id: int, job: Job, data: sel.SelectionInput) -> None:
    loop = asyncio.get_running_loop()
    events = bus(request)
    database = db(request)
    actor = identity(request).actor
    channel = f"summit:{summit_id}"

    def progress(fraction: float, message: str) -> None:
        job.progress, job.message = float(fraction), message
        payload = {"type": "selection", "role": job.role, "progress": job.progress}
        asyncio.run_coroutine_threadsafe(events.publish(channel, payload), loop)

    try:

        def report(step: LeximinProgress) -> None:
            job.leximin = step

        result = await asyncio.to_thread(
            sel.compute_selection,
            data,
            progress=progress,
            cancel=job.cancel.is_set,
            stop=job.stop.is_set,
            report=report,
        )
        async with database.session() as session:
            summit = await repository.get_summit(session, summit_id)
            await sel.store_selection(session, summit, data, result, actor=actor)
        job.state, job.progress, job.message, job.exact = "done", 1.0, "", result.exact
    except SelectionCancelled:
        job.state, job.message = "cancelled", ""
    except SummitError as exc:
        job.state, job.message = "failed", str(exc)
    except Exception as exc:  # a solver crash must end the job visibly, not silently
        log.exception("selection failed")
        job.state, job.message = "failed", type(exc).__name__
    await events.publish(channel, {"type": "selection", "role": job.role, "state": job.state})


@page("/organiser/selection", allow=ORGANISER)
async def selection_page(request: Request) -> Response:
    summit = summit_or_404(request)
    roles = []
    seats = seats_per_role(summit.mix or {}, summit.seats)
    async with db(request).session() as session:
        registrations = await lottery.registration_counts(session, summit.id)
        for role in Role:
            draw = await sel.panel_draw(session, summit.id, role.value)
            roles.append(
                {
                    "role": role.value,
                    "seats": seats.get(role.value, 0),
                    "registered": registrations.get(role.value, {}),
                    "draw": draw,
                    "report": sel.panel_report(draw) if draw else [],
                    "histogram": sel.probability_histogram(draw) if draw else [],
                    "job": job_of(summit.id, role.value),
                    "detail": progress_text(job) if (job := job_of(summit.id, role.value)) else "",
                }
            )
    return render(request, "lottery/selection.html", {"roles": roles, "links": None})


@page("/organiser/selection/run", allow=ORGANISER, methods=("POST",), form_page=SELECTION)
async def selection_run(request: Request) -> Response:
    """Start the selection of one role in the background."""
    summit = summit_or_404(request)
    form = await request.form()
    role = str(form.get("role", ""))
    current = job_of(summit.id, role)
    if current is not None and current.state == "running":
        raise InvalidInput(
            "role",
            _("the selection for the role %(role)s is already running")
            % {"role": role_label(role)},
        )
    try:
        tolerance = float(str(form.get("tolerance", "0.1")) or 0.1)
    except ValueError:
        raise InvalidInput("tolerance", _("must be a number such as 0.1")) from None
    async with db(request).session() as session:
        data = await sel.selection_input(
            session,
            summit,
            role=role,
            seats=form_int(form, "seats"),
            tolerance=tolerance,
            algorithm=str(form.get("algorithm", "leximin")),
            panels=form_int(form, "panels", default=1000),
        )
    job = Job(role, algorithm=data.algorithm)
    _jobs[(summit.id, role)] = job
    job.task = asyncio.create_task(_run_job(request, summit.id, job, data))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"role": role, "state": job.state}, status_code=202)
    return RedirectResponse("/organiser/selection", status_code=303)


@page("/organiser/selection/status.json", allow=ORGANISER)
async def selection_status(request: Request) -> Response:
    summit = summit_or_404(request)
    return JSONResponse(
        {
            role.value: {
                "state": job.state,
                "progress": job.progress,
                "message": job.message,
                "detail": progress_text(job),
            }
            for role in Role
            if (job := job_of(summit.id, role.value)) is not None
        }
    )


@page("/organiser/selection/cancel", allow=ORGANISER, methods=("POST",), form_page=SELECTION)
async def selection_cancel(request: Request) -> Response:
    """Throw a running selection away: nothing is stored."""
    summit = summit_or_404(request)
    form = await request.form()
    job = job_of(summit.id, str(form.get("role", "")))
    if job is not None and job.state == "running":
        job.cancel.set()
    return RedirectResponse("/organiser/selection", status_code=303)


@page("/organiser/selection/stop", allow=ORGANISER, methods=("POST",), form_page=SELECTION)
async def selection_stop(request: Request) -> Response:
    """Stop a running leximin and keep the lottery found so far (its smallest chance is already
    the maximin); stored and logged as not exact."""
    summit = summit_or_404(request)
    form = await request.form()
    job = job_of(summit.id, str(form.get("role", "")))
    if job is not None and job.state == "running":
        job.stop.set()
    return RedirectResponse("/organiser/selection", status_code=303)


def progress_text(job: Job) -> str:
    """Leximin's progress in words: the iteration, the groups at their final chance, the lowest
    chance so far."""
    step = job.leximin
    if step is None or job.state != "running":
        return ""
    percent = f"{step.minimum * 100:.2f} %"
    if i18n.current_language() != "en":
        percent = percent.replace(".", ",")
    return _(
        "Iteration %(iteration)s: %(fixed)s of %(types)s groups at their final chance; "
        "lowest chance so far %(minimum)s"
    ) % {"iteration": step.iteration, "fixed": step.fixed, "types": step.types, "minimum": percent}


@page("/organiser/selection/draw", allow=ORGANISER, methods=("POST",), form_page=SELECTION)
async def selection_draw(request: Request) -> Response:
    """The public final draw: the index from the seed; selected registrations get links."""
    summit = summit_or_404(request)
    form = await request.form()
    role = str(form.get("role", ""))
    try:
        async with db(request).session() as session:
            fresh = await repository.get_summit(session, summit.id)
            _draw, tokens = await sel.finalise_selection(
                session,
                fresh,
                role=role,
                seed=str(form.get("seed", "")),
                actor=identity(request).actor,
                dropout_rates=form_text(form, "dropout_rates"),
            )
    except InvalidInput as exc:
        if exc.field != "dropout":
            raise
        message = _(
            "The dropout rates could not be read: write one group of the quotas per line as "
            "feature=value: rate, the rate a share below 1 (0.05) or a percentage (5%)."
        )
        raise InvalidInput("dropout_rates", message) from None
    await bus(request).publish(f"summit:{summit.id}", {"type": "selection", "role": role})
    links = sorted((p, f"{_base(request)}/p/{t}") for p, t in tokens.items())
    return render(request, "lottery/selected.html", {"role": role, "links": links})


async def _role_draw(request: Request, *, drawn: bool) -> Any:
    summit = summit_or_404(request)
    role = request.path_params["role"]
    if role not in {r.value for r in Role}:
        raise NotFound("role: " + (_("unknown role %(role)r") % {"role": role}))
    async with db(request).session() as session:
        draw = await sel.panel_draw(session, summit.id, role)
    if draw is None:
        raise NotFound(
            "selection: "
            + (
                _("the selection for the role %(role)s has not been computed")
                % {"role": role_label(role)}
            )
        )
    if drawn and draw.status != "drawn":
        raise NotFound(
            "selection: "
            + (_("the panel for the role %(role)s has not been drawn") % {"role": role_label(role)})
        )
    return draw


@page("/lottery/{role}/panels.json", allow=PUBLIC)
async def panels_json(request: Request) -> Response:
    """The m equally likely panels; published with their hash before the seed is rolled."""
    draw = await _role_draw(request, drawn=False)
    return _download(sel.panels_json(draw).decode(), "application/json", "panels.json")


@page("/lottery/{role}/selected.csv", allow=PUBLIC)
async def selected_csv(request: Request) -> Response:
    """The panel the public seed drew (pool pseudonyms), for `summit verify panel`."""
    draw = await _role_draw(request, drawn=True)
    async with db(request).session() as session:
        entry = await audit.anchor_of(session, action="selection.draw", subject=f"draw:{draw.id}")
    csv_file = _download(sel.selected_csv(sel.drawn_panel(draw)), "text/csv", "selected.csv")
    return _anchored(csv_file, entry)


@page("/lottery/{role}/report.csv", allow=PUBLIC)
async def report_csv(request: Request) -> Response:
    """Panel vs population per feature value (shares only, no personal data)."""
    draw = await _role_draw(request, drawn=True)
    name = f"report-{draw.role}.csv"
    return _download(sel.report_csv(sel.panel_report(draw)), "text/csv", name)


@page("/organiser/selection/{role}/probabilities.csv", allow=ORGANISER)
async def probabilities_csv(request: Request) -> Response:
    """Each registrant's chance of selection (pool pseudonym, probability)."""
    draw = await _role_draw(request, drawn=False)
    name = f"probabilities-{draw.role}.csv"
    return _download(sel.probabilities_csv(draw), "text/csv", name)


routes: list[BaseRoute] = [
    lottery_page,
    register_upload,
    save_labels,
    commit,
    run_draw,
    public_page,
    extract_csv,
    commitment_json,
    result_csv,
    letters,
    mail_merge,
    named,
    register,
    register_self,
    withdraw,
    selection_page,
    selection_run,
    selection_status,
    selection_cancel,
    selection_stop,
    selection_draw,
    panels_json,
    selected_csv,
    report_csv,
    probabilities_csv,
]
