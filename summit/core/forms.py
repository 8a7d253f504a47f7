"""Reading submitted values: the one way every view parses forms, path ids and JSON bodies.

Each helper raises :class:`InvalidInput` naming the field, which the application answers with a
400 page or JSON error; none of them ever raises anything that would become a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from summit.core.bodies import decode_json
from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
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
        raise HTTPException(404, f"{name}: no such item") from None


async def json_object(request: Request, *, limit: int) -> dict[str, Any]:
    """The request body as a JSON object of at most ``limit`` bytes."""
    raw = await request.body()
    if len(raw) > limit:
        raise HTTPException(413, f"body: at most {limit // 1000} kB")
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
