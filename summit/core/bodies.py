"""Request bodies, read safely: a size limit per route before any parsing, the CSRF token from a
header or the start of a form (never by buffering a large body), and submitted text cleaned.

Every HTTP route declared with :func:`summit.core.routing.page` gets these; a route that takes
uploads names a larger ``max_body``.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message, Receive

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.security import csrf_matches
from summit.core.text import clean_text, clean_value

#: Default body limit of a route (bytes): forms and JSON of people typing, with room to spare.
DEFAULT_MAX_BODY = 128 * 1024
#: How far into a form body the CSRF token is looked for; uploads send it as their first field.
CSRF_SCAN = 16 * 1024
#: Form fields that are passed on exactly as typed (never shown to anyone).
RAW_FIELDS = frozenset({"password", "csrf_token"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def body_too_large(limit: int) -> HTTPException:
    message = _("This request is larger than the %(size)s kB this page accepts.")
    return HTTPException(413, "body: " + message % {"size": limit // 1024})


def limited(request: Request, receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses (413) a declared or actual body larger than ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        raise body_too_large(limit)
    total = 0

    async def counted() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                raise body_too_large(limit)
        return message

    return counted


async def _prefix(receive: Receive, size: int) -> tuple[list[Message], bytes, bool]:
    """Read messages until ``size`` bytes or the end of the body."""
    messages: list[Message] = []
    data = b""
    while len(data) < size:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, data, True
        data += message.get("body", b"")
        if not message.get("more_body", False):
            return messages, data, True
    return messages, data, False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    queue = deque(messages)

    async def replayed() -> Message:
        return queue.popleft() if queue else await receive()

    return replayed


def _token_in_urlencoded(data: bytes, complete: bool) -> str | None:
    text = data.decode("latin-1")
    if not complete:
        text = text.rsplit("&", 1)[0]  # the last field may be cut off
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=None):
        if name == "csrf_token":
            return value
    return None


def _token_in_multipart(data: bytes, content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";]{1,200})"?', content_type)
    if match is None:
        return None
    boundary = re.escape(match.group(1).encode("latin-1"))
    part = re.search(
        rb"--" + boundary + rb'\r\ncontent-disposition:[ \t]*form-data;[ \t]*name="csrf_token"'
        rb"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]{1,256})\r\n--" + boundary,
        data,
        re.IGNORECASE,
    )
    return part.group(1).decode("latin-1") if part else None


async def checked_csrf(request: Request, receive: Receive) -> Receive:
    """Refuse (403) unless the session's CSRF token came with the request: in the
    ``X-CSRF-Token`` header, or as the ``csrf_token`` field within the first :data:`CSRF_SCAN`
    bytes of a form. Returns the ``receive`` that still yields the whole body."""
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    content_type = request.headers.get("content-type", "")
    if given is None and expected and content_type.startswith(FORM_TYPES):
        messages, data, complete = await _prefix(receive, CSRF_SCAN)
        receive = _replay(messages, receive)
        complete = complete and len(data) <= CSRF_SCAN
        data = data[:CSRF_SCAN]  # however the body arrived: the token is in its first part
        if content_type.startswith(FORM_TYPES[0]):
            given = _token_in_urlencoded(data, complete)
        else:
            given = _token_in_multipart(data, content_type)
    if not csrf_matches(expected, given):
        message = _("The form has expired or did not come from this site. Reload it and try again.")
        raise HTTPException(403, "csrf: " + message)
    return receive


def decode_json(raw: bytes) -> Any:
    """JSON as sent, with strings cleaned (:func:`clean_text`); non-finite numbers (``1e400``,
    ``NaN``), invalid UTF-8 and nesting deeper than Python allows are refused with 400."""

    def finite(text: str) -> float:
        number = float(text)
        if number in (float("inf"), float("-inf")):
            raise ValueError("number out of range")
        return number

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return clean_value(json.loads(raw, parse_float=finite, parse_constant=constant))
    except (ValueError, RecursionError):
        raise InvalidInput("json", _("The request body is not valid JSON.")) from None


class SubmittedRequest(Request):
    """The request the views get: submitted text (form fields, JSON strings) is cleaned of
    invisible and direction-changing characters, and JSON is decoded by :func:`decode_json`."""

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is None:
            form = await super()._get_form(
                max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
            )
            items = form.multi_items()
            self._form = FormData([(clean_text(k), _clean_field(k, v)) for k, v in items])
            # kept for a refusal: the page is shown again with what was typed (core.forms)
            self.state.submitted_form = self._form
        return self._form

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json


def _clean_field(name: str, value: str | UploadFile) -> str | UploadFile:
    if isinstance(value, UploadFile) or name in RAW_FIELDS:
        return value
    return clean_text(value)
