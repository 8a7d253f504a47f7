"""Import of a population-register extract (BRP-uittreksel) for the invitation draw.

The text is a CSV as the municipality delivers it, often saved from Excel: a UTF-8 byte-order
mark, ``;`` or ``,`` as delimiter, CRLF line ends. Columns are mapped by :class:`ColumnMapping`.
Every row is validated; a file with any bad row is rejected whole (:class:`RegisterError`
carries one :class:`RowError` per bad row and field). Residents younger than ``min_age`` on the
summit date are excluded and counted. Ids and households are pseudonymised with a keyed
SHA-256 (HMAC), so the published extract (:meth:`Register.published`) holds no personal data.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from summit.core.errors import InvalidInput
from summit.lottery.rules.draw import DrawEntry

DEFAULT_AGE_BANDS: tuple[int, ...] = (16, 25, 35, 50, 65)
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y%m%d")
DEFAULT_GENDER_VALUES: Mapping[str, str] = {
    "m": "male",
    "man": "male",
    "male": "male",
    "v": "female",
    "f": "female",
    "vrouw": "female",
    "female": "female",
    "x": "other",
    "o": "unknown",
    "onbekend": "unknown",
    "unknown": "unknown",
}
MAX_AGE = 125
_POSTCODE = re.compile(r"^\s*(\d{4})\s*[A-Za-z]{0,2}\s*$")


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` is the spreadsheet row number (the header is row 1)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


class RegisterError(InvalidInput):
    """The extract is rejected; ``errors`` lists every bad row and field."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__("register", f"{len(self.errors)} error(s): {shown}{more}")


@dataclass(frozen=True)
class ColumnMapping:
    """Which header names hold which fields. Give ``birth_date`` or ``age``; ``district`` or
    ``postcode`` (the district is then the 4-digit PC4 area); ``household`` or ``address``
    (a normalised address then keys the household) or neither."""

    id: str
    gender: str
    birth_date: str | None = None
    age: str | None = None
    district: str | None = None
    postcode: str | None = None
    household: str | None = None
    address: str | None = None
    origin: str | None = None
    education: str | None = None

    def columns(self) -> dict[str, str]:
        names = {
            "id": self.id,
            "gender": self.gender,
            "birth_date": self.birth_date,
            "age": self.age,
            "district": self.district,
            "postcode": self.postcode,
            "household": self.household,
            "address": self.address,
            "origin": self.origin,
            "education": self.education,
        }
        return {k: v for k, v in names.items() if v}


@dataclass(frozen=True)
class Resident:
    """An eligible resident. ``source_id`` stays with the organiser (for the letters);
    everything published uses ``pseudonym``."""

    source_id: str
    pseudonym: str
    age: int
    age_band: str
    gender: str
    district: str | None = None
    household: str | None = None
    origin: str | None = None
    education: str | None = None

    def features(self) -> dict[str, str]:
        out = {"age_band": self.age_band, "gender": self.gender}
        for name in ("district", "origin", "education"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class Register:
    residents: tuple[Resident, ...]
    excluded_under_age: int
    rows_read: int
    shares: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def published(self) -> list[DrawEntry]:
        """The pseudonymised extract the draw is committed to (no personal data)."""
        return sorted(
            (DrawEntry(r.pseudonym, r.household) for r in self.residents),
            key=lambda e: e.pseudonym,
        )


def age_band_labels(bounds: Sequence[int]) -> list[str]:
    """``(16, 25, 35)`` → ``["16-24", "25-34", "35+"]``."""
    labels = []
    for i, low in enumerate(bounds):
        if i + 1 < len(bounds):
            labels.append(f"{low}-{bounds[i + 1] - 1}")
        else:
            labels.append(f"{low}+")
    return labels


def age_band(age: int, bounds: Sequence[int]) -> str | None:
    labels = age_band_labels(bounds)
    band = None
    for low, label in zip(bounds, labels, strict=True):
        if age >= low:
            band = label
    return band


def pseudonymise(value: str, key: bytes, *, purpose: str = "id") -> str:
    """Keyed SHA-256 (HMAC) of a value, hex; ``purpose`` separates ids from households."""
    message = f"{purpose}\x1f{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _normalise_address(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def parse_register(
    text: str,
    mapping: ColumnMapping,
    *,
    summit_date: date,
    key: bytes,
    min_age: int = 16,
    age_bands: Sequence[int] = DEFAULT_AGE_BANDS,
    date_formats: Sequence[str] = DEFAULT_DATE_FORMATS,
    gender_values: Mapping[str, str] | None = DEFAULT_GENDER_VALUES,
) -> Register:
    """Parse and validate a register extract; raise :class:`RegisterError` listing every bad row.

    ``gender_values`` maps the file's codes (case-insensitive) to feature values; a code not in
    it is an error. Pass ``None`` to keep the file's values as they are.
    """
    if len(key) < 16:
        raise InvalidInput("key", "the pseudonymisation key needs at least 16 bytes")
    if mapping.birth_date is None and mapping.age is None:
        raise InvalidInput("mapping", "map either a birth date or an age column")
    if list(age_bands) != sorted(set(age_bands)) or not age_bands:
        raise InvalidInput("age_bands", "must be increasing lower bounds")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RegisterError([RowError(1, "header", "the file is empty")])
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    rows = list(reader)
    header = [h.strip() for h in rows[0]]
    errors: list[RowError] = []
    index: dict[str, int] = {}
    for role, column in mapping.columns().items():
        matches = [i for i, h in enumerate(header) if h.casefold() == column.strip().casefold()]
        if not matches:
            errors.append(RowError(1, role, f"column {column!r} not in the header"))
        elif len(matches) > 1:
            errors.append(RowError(1, role, f"column {column!r} appears more than once"))
        else:
            index[role] = matches[0]
    if errors:
        raise RegisterError(errors)
    gender_map = {k.casefold(): v for k, v in gender_values.items()} if gender_values else None

    residents: list[Resident] = []
    first_row_of: dict[str, int] = {}
    excluded = 0
    read = 0
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # Excel leaves blank lines at the end
        read += 1
        reading = _Row(row, row_number, index)
        row_errors = reading.errors
        cell, require = reading.cell, reading.require
        if len(row) != len(header):
            row_errors.append(
                RowError(row_number, "row", f"{len(row)} cells, the header has {len(header)}")
            )
        source_id = require("id")
        if source_id:
            if source_id in first_row_of:
                row_errors.append(
                    RowError(row_number, "id", f"duplicate of row {first_row_of[source_id]}")
                )
            else:
                first_row_of[source_id] = row_number
        age = _read_age(cell, require, row_number, row_errors, summit_date, date_formats, mapping)
        gender = require("gender")
        if gender and gender_map is not None:
            mapped = gender_map.get(gender.casefold())
            if mapped is None:
                row_errors.append(RowError(row_number, "gender", f"unknown value {gender!r}"))
            gender = mapped or gender
        district: str | None = None
        if mapping.district:
            district = require("district")
        elif mapping.postcode:
            postcode = require("postcode")
            match = _POSTCODE.match(postcode)
            if postcode and not match:
                row_errors.append(RowError(row_number, "postcode", f"malformed {postcode!r}"))
            district = match.group(1) if match else None
        household: str | None = None
        if mapping.household:
            household = cell("household") or None
        elif mapping.address:
            household = _normalise_address(require("address")) or None
        origin = require("origin") if mapping.origin else None
        education = require("education") if mapping.education else None

        if row_errors:
            errors.extend(row_errors)
            continue
        assert age is not None
        if age < min_age:
            excluded += 1
            continue
        band = age_band(age, age_bands)
        if band is None:
            excluded += 1  # younger than the lowest band
            continue
        residents.append(
            Resident(
                source_id=source_id,
                pseudonym=pseudonymise(source_id, key),
                age=age,
                age_band=band,
                gender=gender,
                district=district or None,
                household=pseudonymise(household, key, purpose="household") if household else None,
                origin=origin,
                education=education,
            )
        )
    if errors:
        raise RegisterError(errors)
    if read == 0:
        raise RegisterError([RowError(2, "row", "the file has a header but no residents")])
    counts = _counts(residents)
    total = len(residents)
    shares = {f: {v: n / total for v, n in values.items()} for f, values in counts.items()}
    return Register(tuple(residents), excluded, read, shares, counts)


def _read_age(
    cell: Callable[[str], str],
    require: Callable[[str], str],
    row_number: int,
    row_errors: list[RowError],
    summit_date: date,
    date_formats: Sequence[str],
    mapping: ColumnMapping,
) -> int | None:
    if mapping.birth_date:
        raw = require("birth_date")
        if not raw:
            return None
        born = _parse_date(raw, date_formats)
        if born is None:
            row_errors.append(RowError(row_number, "birth_date", f"not a valid date: {raw!r}"))
            return None
        if born > summit_date:
            row_errors.append(RowError(row_number, "birth_date", f"in the future: {raw}"))
            return None
        age = age_on(born, summit_date)
    else:
        raw = require("age")
        if not raw:
            return None
        try:
            age = int(raw)
        except ValueError:
            row_errors.append(RowError(row_number, "age", f"not a whole number: {raw!r}"))
            return None
        if age < 0:
            row_errors.append(RowError(row_number, "age", f"negative: {age}"))
            return None
    if age > MAX_AGE:
        field_name = "birth_date" if mapping.birth_date else "age"
        row_errors.append(RowError(row_number, field_name, f"impossible age {age}"))
        return None
    return age


class _Row:
    def __init__(self, row: list[str], number: int, index: Mapping[str, int]) -> None:
        self.row, self.number, self.index = row, number, index
        self.errors: list[RowError] = []

    def cell(self, role: str) -> str:
        i = self.index.get(role)
        return self.row[i].strip() if i is not None and i < len(self.row) else ""

    def require(self, role: str) -> str:
        value = self.cell(role)
        if not value:
            self.errors.append(RowError(self.number, role, "missing value"))
        return value


def _parse_date(raw: str, formats: Sequence[str]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _counts(residents: Sequence[Resident]) -> dict[str, dict[str, int]]:
    counters: dict[str, Counter[str]] = {}
    for resident in residents:
        for feature, value in resident.features().items():
            counters.setdefault(feature, Counter())[value] += 1
    return {f: dict(sorted(c.items())) for f, c in sorted(counters.items())}
