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
from summit.core.i18n import gettext as _
from summit.core.rules.draw import DrawEntry

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
    (a normalised address then keys the household) or neither. ``household`` may join several
    columns with ``+`` (e.g. ``Postcode+Huisnummer+Toevoeging``): the household is then the
    combination of their values."""

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
            "address": self.address,
            "origin": self.origin,
            "education": self.education,
        }
        for i, column in enumerate(self.household_columns()):
            names["household" if i == 0 else f"household.{i + 1}"] = column
        return {k: v for k, v in names.items() if v}

    def household_columns(self) -> list[str]:
        """The column(s) whose values together key a household."""
        if not self.household:
            return []
        return [part.strip() for part in self.household.split("+") if part.strip()]


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

    @property
    def households(self) -> int | None:
        """How many distinct households the residents form (``None``: no household column)."""
        keys = {r.household for r in self.residents if r.household}
        return len(keys) if keys else None

    def household_warning(self) -> str | None:
        """See :func:`household_warning`."""
        return household_warning(self.households, len(self.residents))

    def published(self) -> list[DrawEntry]:
        """The pseudonymised extract the draw is committed to (no personal data)."""
        return sorted(
            (DrawEntry(r.pseudonym, r.household) for r in self.residents),
            key=lambda e: e.pseudonym,
        )


def household_warning(households: int | None, residents: int) -> str | None:
    """Why a household count looks like a wrong column mapping, as a code (or ``None``).

    ``"singletons"``: every resident is a household of one (an id column was mapped);
    ``"too_few"``: more than ten residents per household (a postcode without house number).
    """
    if households is None or residents < 20:
        return None
    if households == residents:
        return "singletons"
    if households * 10 < residents:
        return "too_few"
    return None


def decode_register(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in.

    UTF-8 (with or without a byte-order mark) first; otherwise Windows-1252, which Excel uses
    for "CSV" on Dutch Windows, and Latin-1 for the few bytes Windows-1252 leaves undefined.
    """
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


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


@dataclass(frozen=True)
class _Rules:
    """How each row is read: the column index and the options of :func:`parse_register`."""

    index: Mapping[str, int]
    width: int
    mapping: ColumnMapping
    summit_date: date
    key: bytes
    min_age: int
    age_bands: Sequence[int]
    date_formats: Sequence[str]
    gender_map: Mapping[str, str] | None


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
    _check_options(key, mapping, age_bands)
    header, rows = _read_table(text)
    rules = _Rules(
        index=_column_index(header, mapping),
        width=len(header),
        mapping=mapping,
        summit_date=summit_date,
        key=key,
        min_age=min_age,
        age_bands=age_bands,
        date_formats=date_formats,
        gender_map={k.casefold(): v for k, v in gender_values.items()} if gender_values else None,
    )
    residents: list[Resident] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    excluded = read = 0
    for row_number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # Excel leaves blank lines at the end
        read += 1
        reading = _Row(row, row_number, rules.index)
        resident = _read_resident(reading, rules, first_row_of)
        if reading.errors:
            errors.extend(reading.errors)
        elif resident is None:
            excluded += 1
        else:
            residents.append(resident)
    if errors:
        raise RegisterError(errors)
    if read == 0:
        raise RegisterError([RowError(2, "row", _("the file has a header but no residents"))])
    counts = _counts(residents)
    total = len(residents)
    shares = {f: {v: n / total for v, n in values.items()} for f, values in counts.items()}
    return Register(tuple(residents), excluded, read, shares, counts)


def _check_options(key: bytes, mapping: ColumnMapping, age_bands: Sequence[int]) -> None:
    if len(key) < 16:
        raise InvalidInput("key", _("the pseudonymisation key needs at least 16 bytes"))
    if mapping.birth_date is None and mapping.age is None:
        raise InvalidInput("mapping", _("map either a birth date or an age column"))
    if list(age_bands) != sorted(set(age_bands)) or not age_bands:
        raise InvalidInput("age_bands", _("must be increasing lower bounds"))


def _read_table(text: str) -> tuple[list[str], list[list[str]]]:
    """The header (stripped) and the data rows of a CSV, whatever its delimiter."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RegisterError([RowError(1, "header", _("the file is empty"))])
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    rows = list(reader)
    return [h.strip() for h in rows[0]], rows[1:]


def _column_index(header: Sequence[str], mapping: ColumnMapping) -> dict[str, int]:
    """Each mapped field's column; every missing or doubled header name is an error."""
    errors: list[RowError] = []
    index: dict[str, int] = {}
    for role, column in mapping.columns().items():
        matches = [i for i, h in enumerate(header) if h.casefold() == column.strip().casefold()]
        if not matches:
            errors.append(
                RowError(1, role, _("column %(column)r not in the header") % {"column": column})
            )
        elif len(matches) > 1:
            errors.append(
                RowError(
                    1, role, _("column %(column)r appears more than once") % {"column": column}
                )
            )
        else:
            index[role] = matches[0]
    if errors:
        raise RegisterError(errors)
    return index


def _read_resident(reading: _Row, rules: _Rules, first_row_of: dict[str, int]) -> Resident | None:
    """The row's resident; ``None`` when too young (the row's errors collect on ``reading``)."""
    number, mapping = reading.number, rules.mapping
    if len(reading.row) != rules.width:
        reading.errors.append(
            RowError(
                number,
                "row",
                _("%(n)s cells, the header has %(width)s")
                % {"n": len(reading.row), "width": rules.width},
            )
        )
    source_id = reading.require("id")
    if source_id in first_row_of:
        reading.errors.append(
            RowError(number, "id", _("duplicate of row %(row)s") % {"row": first_row_of[source_id]})
        )
    elif source_id:
        first_row_of[source_id] = number
    age = _read_age(
        reading.cell,
        reading.require,
        number,
        reading.errors,
        rules.summit_date,
        rules.date_formats,
        mapping,
    )
    gender = _read_gender(reading, rules.gender_map)
    district = _read_district(reading, mapping)
    household = _read_household(reading, mapping)
    origin = reading.require("origin") if mapping.origin else None
    education = reading.require("education") if mapping.education else None
    if reading.errors or age is None or age < rules.min_age:
        return None
    band = age_band(age, rules.age_bands)
    if band is None:
        return None  # younger than the lowest band
    return Resident(
        source_id=source_id,
        pseudonym=pseudonymise(source_id, rules.key),
        age=age,
        age_band=band,
        gender=gender,
        district=district or None,
        household=pseudonymise(household, rules.key, purpose="household") if household else None,
        origin=origin,
        education=education,
    )


def _read_gender(reading: _Row, gender_map: Mapping[str, str] | None) -> str:
    gender = reading.require("gender")
    if gender and gender_map is not None:
        mapped = gender_map.get(gender.casefold())
        if mapped is None:
            reading.errors.append(
                RowError(
                    reading.number, "gender", _("unknown value %(gender)r") % {"gender": gender}
                )
            )
        return mapped or gender
    return gender


def _read_district(reading: _Row, mapping: ColumnMapping) -> str | None:
    if mapping.district:
        return reading.require("district")
    if not mapping.postcode:
        return None
    postcode = reading.require("postcode")
    match = _POSTCODE.match(postcode)
    if postcode and not match:
        reading.errors.append(
            RowError(
                reading.number, "postcode", _("malformed %(postcode)r") % {"postcode": postcode}
            )
        )
    return match.group(1) if match else None


def _read_household(reading: _Row, mapping: ColumnMapping) -> str | None:
    if mapping.household:
        count = len(mapping.household_columns())
        if count == 1:
            return reading.cell("household") or None
        roles = ["household", *(f"household.{i}" for i in range(2, count + 1))]
        # "1234 AB" and "1234ab" are the same postcode; the parts are joined unambiguously.
        parts = [_normalise_address(reading.cell(role)).replace(" ", "") for role in roles]
        return "\x1f".join(parts) if any(parts) else None
    if mapping.address:
        return _normalise_address(reading.require("address")) or None
    return None


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
            row_errors.append(
                RowError(row_number, "birth_date", _("not a valid date: %(raw)r") % {"raw": raw})
            )
            return None
        if born > summit_date:
            row_errors.append(
                RowError(row_number, "birth_date", _("in the future: %(raw)s") % {"raw": raw})
            )
            return None
        age = age_on(born, summit_date)
    else:
        raw = require("age")
        if not raw:
            return None
        try:
            age = int(raw)
        except ValueError:
            row_errors.append(
                RowError(row_number, "age", _("not a whole number: %(raw)r") % {"raw": raw})
            )
            return None
        if age < 0:
            row_errors.append(RowError(row_number, "age", _("negative: %(age)s") % {"age": age}))
            return None
    if age > MAX_AGE:
        field_name = "birth_date" if mapping.birth_date else "age"
        row_errors.append(
            RowError(row_number, field_name, _("impossible age %(age)s") % {"age": age})
        )
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
            self.errors.append(RowError(self.number, role, _("missing value")))
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
