"""Jinja2 templates with gettext, the CSRF token and the caller's identity in every page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from summit import __version__
from summit.core import forms, i18n
from summit.core.i18n import LANGUAGE_NAMES
from summit.core.labels import attendance_label, field_label, role_label
from summit.core.routing import Identity, csrf_token
from summit.core.times import format_datetime, summit_time_zone


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory for every environment of the process: an app made
    again (the tests make one per test) does not compile the same template again. Jinja keys
    each entry by the template's name and checks its source, so an edited template compiles
    anew."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.entries.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.entries[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def make_environment(template_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_BYTECODE,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["datetime"] = _format_datetime
    env.globals["time_zone_name"] = _time_zone_name
    env.globals["version"] = __version__
    env.globals["language_names"] = LANGUAGE_NAMES
    env.filters["role_label"] = role_label
    env.filters["attendance_label"] = attendance_label
    env.filters["field_label"] = field_label
    # a refused form shown again: the typed values and the message by the field (core.forms)
    env.globals["kept"] = forms.kept
    env.globals["kept_list"] = forms.kept_list
    env.globals["kept_checked"] = forms.kept_checked
    env.globals["field_error"] = forms.field_error
    env.globals["form_refused"] = forms.form_refused
    env.globals["error_summary_items"] = forms.error_summary_items
    env.globals["form_page_field"] = forms.PAGE_FIELD
    env.globals["form_id_field"] = forms.FORM_ID_FIELD
    return env


@pass_context
def _format_datetime(context: Context, value: dt.datetime | str | None) -> str:
    """Every time on a page in the summit's time zone, with the zone's name (one formatter)."""
    zone = context.get("time_zone") or summit_time_zone(context.get("summit"))
    return format_datetime(value, zone)


@pass_context
def _time_zone_name(context: Context) -> str:
    """The zone the page's times are in (and typed times are read in), e.g. Europe/Amsterdam."""
    return str(context.get("time_zone") or summit_time_zone(context.get("summit")))


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    identity = getattr(request.state, "identity", None) or Identity()
    values = {
        "request": request,
        "identity": identity,
        "csrf_token": csrf_token(request),
        "lang": i18n.current_language(),
        "languages": i18n.available(),
        "summit": getattr(request.state, "summit", None),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
    }
    values.update(context or {})
    with forms.rendering(request):
        html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)
