"""The organiser's summit settings: parsing and validating them (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from summit.core.i18n import gettext as _
from summit.core.rules.roles import Phase, Role, validate_mix

LANGUAGES = ("nl", "en")  # only languages whose catalogue is complete (tests/test_i18n.py)
#: Settings that shape the lottery and the tables; frozen once the selection has started.
STRUCTURAL = ("seats", "mix", "table_size", "features")
_EDITABLE_STRUCTURE = {Phase.COALITION, Phase.INVITATIONS, Phase.REGISTRATION}


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


def parse_summit_form(form: Mapping[str, str]) -> SummitSpec:
    """Turn the organiser's form into settings, naming the first field that is wrong."""
    raw_date = _text(form, "date", required=False, limit=10)
    date = None
    if raw_date:
        try:
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise SpecError(
                "date", _("use a date such as 2026-09-01, not %(value)r") % {"value": raw_date}
            ) from None
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
    )


def structural_changes(phase: str, before: Mapping[str, object], spec: SummitSpec) -> list[str]:
    """Names of structural settings the spec changes; an error once they are frozen."""
    changed = [name for name in STRUCTURAL if before.get(name) != _value(spec, name)]
    if changed and Phase(phase) not in _EDITABLE_STRUCTURE:
        raise SpecError(
            changed[0], "cannot change once the selection has started (it shapes the lottery)"
        )
    return changed


def _value(spec: SummitSpec, name: str) -> object:
    value = getattr(spec, name)
    if name == "features":
        return [f["name"] for f in value]
    return value
