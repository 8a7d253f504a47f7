"""Reading submitted values: the one way every view parses forms, path ids and JSON bodies.

Each helper raises :class:`InvalidInput` naming the field, which the application answers with a
400 page or JSON error; none of them ever raises anything that would become a 500.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from summit.core.bodies import decode_json
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.routing import access_of
from summit.core.text import clean_text

#: Ids and counts in forms and paths fit a signed 64-bit database column.
MAX_ID = 2**63 - 1

Values = FormData | Mapping[str, Any]


def form_text(form: Values, name: str) -> str:
    """The field's text, stripped and without hidden or direction-changing characters
    (:func:`summit.core.text.clean_text`); ``""`` when absent or not text (an uploaded file)."""
    value = form.get(name, "")
    return clean_text(value).strip() if isinstance(value, str) else ""


def parse_int(text: str, name: str, *, low: int = -MAX_ID, high: int = MAX_ID) -> int:
    """``text`` as a whole number within ``low``..``high``."""
    try:
        number = int(text.strip())
    except ValueError:
        raise InvalidInput(name, _("must be a whole number")) from None
    if not low <= number <= high:
        raise InvalidInput(
            name, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
        )
    return number


def form_int(
    form: Values, name: str, *, default: int | None = None, low: int = -MAX_ID, high: int = MAX_ID
) -> int:
    """The field as a whole number; ``default`` when empty (required when there is none)."""
    text = form_text(form, name)
    if not text:
        if default is None:
            raise InvalidInput(name, _("is required"))
        return default
    return parse_int(text, name, low=low, high=high)


def form_optional_int(
    form: Values, name: str, *, low: int = -MAX_ID, high: int = MAX_ID
) -> int | None:
    """The field as a whole number, or ``None`` when left empty."""
    text = form_text(form, name)
    return parse_int(text, name, low=low, high=high) if text else None


def form_ids(form: FormData, name: str) -> list[int]:
    """Every value of a repeated field as a positive id."""
    return [parse_int(str(value), name, low=1) for value in form.getlist(name)]


def path_int(request: Request, name: str) -> int:
    """A path parameter as a positive id; a malformed or oversized one is a 404."""
    try:
        return parse_int(str(request.path_params[name]), name, low=1)
    except InvalidInput:
        raise HTTPException(404, f"{name}: " + _("There is no such item.")) from None


async def json_object(request: Request, *, limit: int) -> dict[str, Any]:
    """The request body as a JSON object of at most ``limit`` bytes."""
    raw = await request.body()
    if len(raw) > limit:
        message = _("This request is larger than the %(size)s kB this page accepts.")
        raise HTTPException(413, "body: " + message % {"size": limit // 1000})
    # strict: text cleaned of hidden characters, no lone surrogates, no 1e400 or NaN
    data = decode_json(raw or b"{}")
    if not isinstance(data, dict):
        raise InvalidInput("json", _("expected a JSON object"))
    return data


def json_int(value: Any, name: str, *, low: int = -MAX_ID, high: int = MAX_ID) -> int | None:
    """A JSON value as a whole number (``None`` when null or empty); floats and bools refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(name, _("must be a whole number"))
    return parse_int(str(value), name, low=low, high=high)


# --- Forms never lose input ---------------------------------------------------------------
#
# When a view refuses a form with :class:`InvalidInput`, the application shows the page the
# form is on again, within the same request (status 400): the page's own GET view renders it,
# and the templates read the refusal through :func:`kept`, :func:`field_error` and the macros of
# ``web/templates/_field.html``. Nothing is stored and nothing is redirected; passwords, files
# and CSRF tokens are never sent back.

#: Hidden field naming the page (path and query) a form is on, when it posts elsewhere.
PAGE_FIELD = "form_page"
#: Hidden field telling apart forms that post to the same path from one page: the refused
#: form is then ``"<path>#<form_id>"`` for the ``form`` argument of the template globals.
FORM_ID_FIELD = "form_id"
#: Fields whose values are never written back into a page.
UNKEPT_FIELDS = frozenset({"password", "csrf_token", PAGE_FIELD, FORM_ID_FIELD})
_STATE_KEY = "form_refusal"


@dataclass
class Refusal:
    """A form refused with :class:`InvalidInput`: what was typed, which field failed and why."""

    action: str
    values: dict[str, list[str]]
    field: str
    message: str
    #: set once the page showed the error summary: without it, the page is not answered
    shown: bool = False


def keepable(name: str) -> bool:
    """Whether a submitted field may be written back into the page (never a secret)."""
    lowered = name.lower()
    return lowered not in UNKEPT_FIELDS and "password" not in lowered


def submitted_values(request: Request) -> dict[str, list[str]]:
    """The text fields of the form this request sent, as parsed by the view (none when the view
    did not read its form), without the fields never written back."""
    form = getattr(request.state, "submitted_form", None)
    values: dict[str, list[str]] = {}
    if isinstance(form, FormData):
        for name, value in form.multi_items():
            if isinstance(value, str) and keepable(name):
                values.setdefault(name, []).append(value)
    return values


_current: ContextVar[Refusal | None] = ContextVar("form_refusal", default=None)


@contextlib.contextmanager
def rendering(request: Request) -> Iterator[None]:
    """While a page renders: the refusal of this request, for the template globals."""
    token = _current.set(getattr(request.state, _STATE_KEY, None))
    try:
        yield
    finally:
        _current.reset(token)


def _refusal(form: str | None) -> Refusal | None:
    refusal = _current.get()
    if refusal is None or (form is not None and form != refusal.action):
        return None
    return refusal


def form_refused(form: str | None = None) -> bool:
    """Whether this page is shown again because a form (the one posting to ``form``) was
    refused."""
    return _refusal(form) is not None


def kept(name: str, default: Any = "", form: str | None = None) -> Any:
    """The value typed into ``name`` when the form was refused, else ``default`` (also when the
    refused form had no such field: text fields are always sent, even empty)."""
    refusal = _refusal(form)
    values = refusal.values.get(name) if refusal is not None else None
    return values[0] if values else default


def kept_list(name: str, default: Iterable[Any] = (), form: str | None = None) -> list[Any]:
    """Every value of a repeated field (checkboxes, multiple select) as refused, else
    ``default``."""
    refusal = _refusal(form)
    if refusal is None:
        return list(default)
    return list(refusal.values.get(name, []))


def kept_checked(
    name: str, default: bool = False, value: str | None = None, form: str | None = None
) -> bool:
    """Whether a checkbox (or radio button with ``value``) was ticked when the form was refused,
    else ``default``."""
    refusal = _refusal(form)
    if refusal is None:
        return default
    values = refusal.values.get(name, [])
    return bool(values) if value is None else str(value) in values


def field_error(name: str, form: str | None = None) -> str | None:
    """The message for field ``name`` when the form was refused because of it."""
    refusal = _refusal(form)
    return refusal.message if refusal is not None and refusal.field == name else None


def error_summary_items(form: str | None = None) -> list[tuple[str, str]]:
    """The refused field and its message, for the summary at the top of the form; marks the
    refusal as shown (a page that never shows it is not answered with, see :func:`refused`)."""
    refusal = _refusal(form)
    if refusal is None:
        return []
    refusal.shown = True
    return [(refusal.field, refusal.message)]


def is_form_post(request: Request) -> bool:
    """A form sent by a browser (not JSON, not the API)."""
    content_type = request.headers.get("content-type", "")
    return (
        request.method == "POST"
        and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
        and not request.url.path.startswith("/api/")
    )


def _local(target: str) -> str | None:
    """``target`` as a path with query on this site, or ``None``."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith("//") or "\\" in parts.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_of(request: Request) -> str:
    """The page (path and query) the refused form is on: the form's ``form_page`` field, else
    the route's declared ``form_page``, else the Referer when it is this site (browsers send
    none here: ``Referrer-Policy: no-referrer``), else the path the form posted to."""
    form = getattr(request.state, "submitted_form", None)
    named = form.get(PAGE_FIELD) if isinstance(form, FormData) else None
    page = _local(named) if isinstance(named, str) else None
    if page:
        return page
    route = request.scope.get("route")
    access = access_of(route) if route is not None else None
    if access is not None and access.form_page:
        return access.form_page
    referer = urlsplit(request.headers.get("referer", ""))
    host = request.headers.get("host", "")
    if referer.netloc and referer.netloc == host and referer.scheme in ("http", "https"):
        local = _local(referer.path + (f"?{referer.query}" if referer.query else ""))
        if local:
            return local
    return request.url.path


async def refused(request: Request, exc: InvalidInput) -> Response | None:
    """The page the form is on, shown again with the typed values and the error (400); ``None``
    when that page cannot show it (it has no GET view, answers otherwise, or has no error
    summary for this form): the caller then answers with the plain error page."""
    page = page_of(request)
    form = getattr(request.state, "submitted_form", None)
    form_id = form.get(FORM_ID_FIELD) if isinstance(form, FormData) else None
    action = request.url.path + (f"#{form_id}" if isinstance(form_id, str) and form_id else "")
    refusal = Refusal(action, submitted_values(request), exc.field, exc.detail)
    request.state.form_refusal = refusal
    path, _sep, query = page.partition("?")
    scope = dict(request.scope)
    for key in ("route", "endpoint", "path_params", "router"):
        scope.pop(key, None)
    scope.update(
        method="GET",
        path=path,
        raw_path=path.encode(),
        query_string=query.encode(),
        headers=[
            (k, v)
            for k, v in request.scope["headers"]
            if k not in (b"content-type", b"content-length", b"transfer-encoding")
        ],
    )
    start: Message = {}
    body: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    try:
        await request.app.router(scope, receive, send)
    except HTTPException:  # no such page, or no GET view there
        return None
    finally:
        request.state.form_refusal = None
    raw = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    content_type = dict(raw).get(b"content-type", b"")
    if start.get("status") != 200 or not refusal.shown or not content_type.startswith(b"text/html"):
        return None
    content = b"".join(body)
    response = Response(content, 400)
    response.raw_headers = [*raw, (b"content-length", str(len(content)).encode())]
    return response
