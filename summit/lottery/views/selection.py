"""The stage-2 selection: a background solver per role with progress, cancel and stop (keep
leximin's anytime lottery), the public final draw, replacements and the published files."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound, SummitError
from summit.core.forms import form_int, form_text
from summit.core.i18n import gettext as _
from summit.core.labels import role_label
from summit.core.routing import ORGANISER, PUBLIC, page
from summit.core.rules.roles import Role, seats_per_role
from summit.core.templating import render
from summit.core.web import bus, db, identity, summit_or_404
from summit.lottery import selection as sel
from summit.lottery import service as lottery
from summit.lottery.rules.selection import SelectionCancelled
from summit.lottery.rules.selection_leximin import LeximinProgress
from summit.lottery.views.common import SELECTION, anchored, base, download, log


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
    if step.phase == "stopping":  # stopped before leximin had a lottery: the maximin's is kept
        return step.message()
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
    links = sorted((p, f"{base(request)}/p/{t}") for p, t in tokens.items())
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
    return download(sel.panels_json(draw).decode(), "application/json", "panels.json")


@page("/lottery/{role}/selected.csv", allow=PUBLIC)
async def selected_csv(request: Request) -> Response:
    """The panel the public seed drew (pool pseudonyms), for `summit verify panel`."""
    draw = await _role_draw(request, drawn=True)
    async with db(request).session() as session:
        entry = await audit.anchor_of(session, action="selection.draw", subject=f"draw:{draw.id}")
    csv_file = download(sel.selected_csv(sel.drawn_panel(draw)), "text/csv", "selected.csv")
    return anchored(csv_file, entry)


@page("/lottery/{role}/report.csv", allow=PUBLIC)
async def report_csv(request: Request) -> Response:
    """Panel vs population per feature value (shares only, no personal data)."""
    draw = await _role_draw(request, drawn=True)
    name = f"report-{draw.role}.csv"
    return download(sel.report_csv(sel.panel_report(draw)), "text/csv", name)


@page("/organiser/selection/{role}/probabilities.csv", allow=ORGANISER)
async def probabilities_csv(request: Request) -> Response:
    """Each registrant's chance of selection (pool pseudonym, probability)."""
    draw = await _role_draw(request, drawn=False)
    name = f"probabilities-{draw.role}.csv"
    return download(sel.probabilities_csv(draw), "text/csv", name)


routes: list[BaseRoute] = [
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
