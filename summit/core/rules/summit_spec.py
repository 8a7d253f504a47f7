"""The organiser's summit settings: parsing and validating them (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from summit.core.i18n import gettext as _
from summit.core.rules.roles import Phase, Role, validate_mix

LANGUAGES = ("nl", "en")  # only languages whose catalogue is complete (tests/test_i18n.py)
#: Settings that shape the lottery and the tables; frozen once the selection has started.
STRUCTURAL = ("seats", "mix", "table_size", "features")
_EDITABLE_STRUCTURE = {Phase.COALITION, Phase.INVITATIONS, Phase.REGISTRATION}
#: The zone of the summit's clock when none is chosen (``summit.core.times`` reads the setting).
DEFAULT_TIME_ZONE = "Europe/Amsterdam"
#: What the invitation letter says besides the date and venue: form field → ``Summit.settings``
#: key. The reply deadline is an ISO date; the others are text.
LETTER_FIELDS = {
    "reply_by": "letter_reply_by",
    "sender_name": "letter_sender_name",
    "sender_function": "letter_sender_function",
    "contact_email": "letter_contact_email",
    "contact_phone": "letter_contact_phone",
}
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]+\.[^@\s<>\"',;]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}$")


class SpecError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


@dataclass(frozen=True)
class SummitSpec:
    name: str
    municipality: str
    date: dt.date | None
    venue: str
    venue_capacity: int
    online_capacity: int
    seats: int
    mix: dict[str, float]
    table_size: int
    languages: list[str]
    default_language: str
    features: list[dict[str, object]] = field(default_factory=list)
    #: The letter's settings by ``Summit.settings`` key (empty text: not given).
    letter: dict[str, str] = field(default_factory=dict)
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def slug(self) -> str:
        text = unicodedata.normalize("NFKD", f"{self.name}").encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        return slug[:64] or "summit"


def _text(form: Mapping[str, str], name: str, *, required: bool, limit: int = 200) -> str:
    value = str(form.get(name, "")).strip()
    if required and not value:
        raise SpecError(name, _("is required"))
    if len(value) > limit:
        raise SpecError(name, _("at most %(limit)s characters") % {"limit": limit})
    return value


def _int(form: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    raw = str(form.get(name, "")).strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SpecError(name, _("must be a whole number")) from None
    if not low <= value <= high:
        raise SpecError(
            name, _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
        )
    return value


@cache
def time_zones() -> list[str]:
    """The IANA zones to choose from, Europe/Amsterdam first, then the rest by name."""
    names = sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC")
    return [DEFAULT_TIME_ZONE, *(n for n in names if n != DEFAULT_TIME_ZONE)]


def _date(form: Mapping[str, str], name: str) -> dt.date | None:
    raw = _text(form, name, required=False, limit=10)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise SpecError(
            name, _("use a date such as 2026-09-01, not %(value)r") % {"value": raw}
        ) from None


def parse_time_zone(form: Mapping[str, str]) -> str:
    """The chosen IANA zone (the default when none is chosen); an unknown name is refused."""
    name = str(form.get("time_zone", "")).strip()
    if not name:
        return DEFAULT_TIME_ZONE
    if name not in time_zones():
        raise SpecError("time_zone", _("%(value)r is not a known time zone") % {"value": name})
    return name


def parse_letter(form: Mapping[str, str], date: dt.date | None) -> dict[str, str]:
    """The letter's reply deadline, sender and contact; a deadline that is not before the summit
    day, a malformed e-mail address or telephone number is refused."""
    reply_by = _date(form, "reply_by")
    if reply_by is not None and date is not None and reply_by >= date:
        raise SpecError("reply_by", _("must be before the day of the summit"))
    email = _text(form, "contact_email", required=False, limit=254)
    if email and not _EMAIL.match(email):
        raise SpecError("contact_email", _("is not an e-mail address (name@example.nl)"))
    phone = _text(form, "contact_phone", required=False, limit=30)
    if phone and not _PHONE.match(phone):
        raise SpecError(
            "contact_phone", _("use digits, spaces and dashes only, such as 020 123 4567")
        )
    values = {
        "reply_by": reply_by.isoformat() if reply_by else "",
        "sender_name": _text(form, "sender_name", required=False, limit=120),
        "sender_function": _text(form, "sender_function", required=False, limit=120),
        "contact_email": email,
        "contact_phone": phone,
    }
    return {LETTER_FIELDS[name]: value for name, value in values.items()}


def parse_summit_form(form: Mapping[str, str]) -> SummitSpec:
    """Turn the organiser's form into settings, naming the first field that is wrong."""
    date = _date(form, "date")
    percents: dict[str, float] = {}
    for role in Role:
        key = f"mix_{role.value}"
        raw = str(form.get(key, "")).strip().replace(",", ".").rstrip("%").strip()
        try:
            percents[role.value] = float(raw) if raw else 0.0
        except ValueError:
            raise SpecError(
                key, _("expected a percentage, not %(value)r") % {"value": raw}
            ) from None
    try:
        mix = validate_mix({k: v / 100 for k, v in percents.items()})
    except ValueError as exc:
        raise SpecError("mix", str(exc).split(": ", 1)[-1]) from None
    languages = [lang for lang in LANGUAGES if str(form.get(f"language_{lang}", "")) in {"on", "1"}]
    if not languages:
        raise SpecError("languages", _("choose at least one language"))
    default_language = str(form.get("default_language", languages[0]))
    if default_language not in languages:
        raise SpecError("default_language", _("must be one of the summit's languages"))
    names = [n.strip() for n in str(form.get("features", "")).split(",") if n.strip()]
    for name in names:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
            raise SpecError(
                "features", _("%(name)r: use lower-case letters, digits and _") % {"name": name}
            )
    if len(set(names)) != len(names):
        raise SpecError("features", _("a feature is named twice"))
    return SummitSpec(
        name=_text(form, "name", required=True),
        municipality=_text(form, "municipality", required=True),
        date=date,
        venue=_text(form, "venue", required=False),
        venue_capacity=_int(form, "venue_capacity", 0, 100_000, 0),
        online_capacity=_int(form, "online_capacity", 0, 100_000, 0),
        seats=_int(form, "seats", 8, 100_000, 1000),
        mix=mix,
        table_size=_int(form, "table_size", 3, 16, 8),
        languages=languages,
        default_language=default_language,
        features=[{"name": n, "values": []} for n in names],
        letter=parse_letter(form, date),
        time_zone=parse_time_zone(form),
    )


def structural_changes(phase: str, before: Mapping[str, object], spec: SummitSpec) -> list[str]:
    """Names of structural settings the spec changes; an error once they are frozen."""
    changed = [name for name in STRUCTURAL if before.get(name) != _value(spec, name)]
    if changed and Phase(phase) not in _EDITABLE_STRUCTURE:
        raise SpecError(
            changed[0], _("cannot change once the selection has started (it shapes the lottery)")
        )
    return changed


def _value(spec: SummitSpec, name: str) -> object:
    value = getattr(spec, name)
    if name == "features":
        return [f["name"] for f in value]
    return value
