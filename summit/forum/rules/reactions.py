"""What a reaction is and who may place one (pure: no database, web or I/O).

A reaction is a stance (support, concerns, question) and a short text. Its identity for the
duplicate check and the audit log is the SHA-256 of the text with runs of white space collapsed
and letters lower-cased, so re-sending the same words with other spacing is a duplicate too.
Residents are known by a keyed hash of what proved them (e-mail address, letter code or a one-off
postcode check), never by the value itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _

STANCES = ("support", "concerns", "question")
SOURCES = ("online", "paper", "meeting")
#: How a resident proves they may react (a summit setting; participants always may).
METHODS = ("email", "postcode", "letter_code")
#: The only reasons a moderator may give for hiding a reaction; shown publicly.
HIDE_REASONS = ("insult", "discrimination", "personal_data", "spam", "off_topic", "unlawful")
MIN_LENGTH = 3
MAX_LENGTH_LIMIT = 5000
_SPACE = re.compile(r"\s+")
_POSTCODE = re.compile(r"^(\d{4})\s*([A-Za-z]{2})?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def stance_names() -> dict[str, str]:
    return {"support": _("Support"), "concerns": _("Concerns"), "question": _("Question")}


def reason_names() -> dict[str, str]:
    return {
        "insult": _("Insulting or a personal attack"),
        "discrimination": _("Discriminating"),
        "personal_data": _("Contains someone's personal data"),
        "spam": _("Spam or advertising"),
        "off_topic": _("Not about this proposal"),
        "unlawful": _("Unlawful content"),
    }


def method_names() -> dict[str, str]:
    return {
        "email": _("a confirmed e-mail address"),
        "postcode": _("a postcode in the municipality"),
        "letter_code": _("the code on your invitation letter"),
    }


def clean_text(text: str, max_length: int, field: str = "text") -> str:
    """The reaction's text, stripped; refused when empty, too short or too long."""
    clean = (text or "").strip()
    if not clean:
        raise InvalidInput(field, _("Write a few words: the reaction is empty."))
    if len(clean) < MIN_LENGTH:
        raise InvalidInput(field, _("Write at least %(min)s characters.") % {"min": MIN_LENGTH})
    if len(clean) > max_length:
        raise InvalidInput(
            field,
            _("Keep it under %(max)s characters (you wrote %(count)s).")
            % {"max": max_length, "count": len(clean)},
        )
    return clean


def check_stance(stance: str) -> str:
    if stance not in STANCES:
        raise InvalidInput("stance", _("Choose support, concerns or a question."))
    return stance


def check_reason(reason: str) -> str:
    if reason not in HIDE_REASONS:
        raise InvalidInput("reason", _("Choose one of the listed reasons for hiding."))
    return reason


def text_digest(text: str) -> str:
    """SHA-256 of the text as compared for duplicates (spacing and case ignored)."""
    return hashlib.sha256(_SPACE.sub(" ", text.strip()).lower().encode("utf-8")).hexdigest()


def reactor_key(secret: str, kind: str, value: str) -> str:
    """A keyed hash of what proved a resident, so the database alone cannot recover it."""
    message = f"forum:{kind}:{value}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def normalise_email(value: str) -> str:
    clean = (value or "").strip().lower()
    if not _EMAIL.match(clean) or len(clean) > 254:
        raise InvalidInput("email", _("This does not look like an e-mail address."))
    return clean


def normalise_postcode(value: str) -> str:
    """A Dutch postcode as ``1234AB`` (or ``1234`` for a four-digit area)."""
    match = _POSTCODE.match((value or "").strip())
    if not match:
        raise InvalidInput("postcode", _("Write a postcode like 1234 AB."))
    return match.group(1) + (match.group(2) or "").upper()


def parse_postcodes(lines: Iterable[str]) -> list[str]:
    """The summit's postcode list: one per line or comma; four digits cover a whole area."""
    found: list[str] = []
    for raw in lines:
        for part in re.split(r"[,;\n]+", raw):
            if not part.strip():
                continue
            try:
                code = normalise_postcode(part)
            except InvalidInput:
                raise InvalidInput(
                    "postcodes", _("“%(value)s” is not a postcode.") % {"value": part.strip()}
                ) from None
            if code not in found:
                found.append(code)
    return found


def postcode_allowed(postcode: str, allowed: Iterable[str]) -> bool:
    """Whether a normalised postcode lies in the list (a full postcode or its four-digit area)."""
    codes = set(allowed)
    return postcode in codes or postcode[:4] in codes


def check_methods(methods: Iterable[str]) -> list[str]:
    chosen = [m for m in METHODS if m in set(methods)]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise InvalidInput("methods", _("Choose from the listed ways to take part."))
    return chosen
