"""The organiser's lottery (stage 1): the register import and its labels, the commitment and
the public invitation draw, its published files, the letters and named invitations."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from summit.core import audit, i18n
from summit.core import service as repository
from summit.core.errors import InvalidInput, NotFound
from summit.core.forms import form_int
from summit.core.i18n import gettext as _
from summit.core.labels import feature_labels
from summit.core.models import Summit
from summit.core.routing import ORGANISER, PUBLIC, page
from summit.core.rules.roles import Role
from summit.core.templating import render
from summit.core.web import bus, db, identity, summit_or_404
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
from summit.lottery.views.common import (
    LOTTERY,
    anchored,
    base,
    download,
    languages,
    log,
    secret,
)

MAX_UPLOAD = 50 * 1024 * 1024


# --- The organiser's lottery page -------------------------------------------------------------


async def _overview(request: Request, summit: Summit) -> dict[str, Any]:
    async with db(request).session() as session:
        imported = await lottery.latest_import(session, summit.id)
        draw = await lottery.invitation_draw(session, summit.id)
        counts = await repository.counts(session, summit.id)
        registrations = await lottery.registration_counts(session, summit.id)
    return {
        "imported": imported,
        "label_rows": labels.label_form(summit, imported, languages(summit)),
        "label_languages": languages(summit),
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
                key=lottery.register_key(secret(request)),
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
                session, fresh, values, languages(fresh), actor=identity(request).actor
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
            secret_key=secret(request),
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
    return download(lottery.extract_csv(entries), "text/csv", "extract.csv")


@page("/lottery/commitment.json", allow=PUBLIC)
async def commitment_json(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        draw = await lottery.invitation_draw(session, summit.id)
    if draw is None:
        raise NotFound("commitment: " + _("no draw has been committed"))
    return download(lottery.commitment_json(draw).decode(), "application/json", "commitment.json")


@page("/lottery/result.csv", allow=PUBLIC)
async def result_csv(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        draw = await lottery.invitation_draw(session, summit.id)
        if draw is None or draw.status != "drawn":
            raise NotFound("result: " + _("the draw has not been made"))
        entry = await audit.anchor_of(session, action="draw.run", subject=f"draw:{draw.id}")
    body = lottery.result_csv(draw.result["pseudonyms"])
    return anchored(download(body, "text/csv", "result.csv"), entry)


@page("/organiser/lottery/letters", allow=ORGANISER)
async def letters(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await lottery.letters(
            session, summit, secret_key=secret(request), base_url=base(request)
        )
        details = await letter_details(session, summit)
    items = [(row, lottery.format_code(row.code), qr_svg(row.link)) for row in rows]
    return render(
        request,
        "lottery/letters.html",
        {"letters": items, "base": base(request), "details": details},
    )


@page("/organiser/lottery/mailmerge.csv", allow=ORGANISER)
async def mail_merge(request: Request) -> Response:
    summit = summit_or_404(request)
    async with db(request).session() as session:
        rows = await lottery.letters(
            session, summit, secret_key=secret(request), base_url=base(request)
        )
    return download(lottery.mail_merge_csv(rows), "text/csv", "mailmerge.csv")


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
            secret_key=secret(request),
        )
    link = f"{base(request)}/register?code={code}"
    return render(
        request,
        "lottery/named.html",
        {"invitation": invitation, "code": lottery.format_code(code), "link": link},
    )


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
]
