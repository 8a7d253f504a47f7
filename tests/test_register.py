from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summit.core.errors import InvalidInput
from summit.core.rules.draw import extract_digest
from summit.lottery.rules.register import (
    ColumnMapping,
    RegisterError,
    age_band,
    age_on,
    decode_register,
    household_warning,
    parse_register,
    pseudonymise,
)
from tests.support.i18n import english  # noqa: F401  (the rules' messages in English)

KEY = b"k" * 32
SUMMIT = date(2026, 5, 16)
MAPPING = ColumnMapping(
    id="BSN", birth_date="Geboortedatum", gender="Geslacht", postcode="Postcode",
    address="Adres",
)
HEADER = "BSN;Geboortedatum;Geslacht;Postcode;Adres"
GOOD = [
    "1001;1980-01-15;M;1234 AB;Dorpsstraat 1",
    "1002;15-03-1950;V;1234AB;dorpsstraat  1",
    "1003;2001-07-01;V;5678 CD;Kerkweg 2",
    "1004;2012-01-01;M;5678 CD;Kerkweg 2",  # 14 on the summit day: excluded
    "1005;2010-05-16;X;1234 AB;Laan 3",  # turns 16 on the summit day: eligible
]


def excel(lines: list[str]) -> str:
    return "\ufeff" + "\r\n".join([HEADER, *lines]) + "\r\n\r\n"


def test_excel_extract_with_bom_semicolons_and_crlf() -> None:
    register = parse_register(excel(GOOD), MAPPING, summit_date=SUMMIT, key=KEY)
    assert register.rows_read == 5
    assert register.excluded_under_age == 1
    assert [r.source_id for r in register.residents] == ["1001", "1002", "1003", "1005"]
    first, second = register.residents[:2]
    assert first.household == second.household  # same address, spelled differently
    assert first.district == "1234" and first.gender == "male" and first.age_band == "35-49"
    assert register.residents[3].age == 16 and register.residents[3].age_band == "16-24"
    assert register.counts["gender"] == {"female": 2, "male": 1, "other": 1}
    for values in register.shares.values():
        assert sum(values.values()) == pytest.approx(1.0)
    assert register.shares["age_band"]["65+"] == pytest.approx(0.25)


def test_published_extract_carries_no_personal_data() -> None:
    register = parse_register(excel(GOOD), MAPPING, summit_date=SUMMIT, key=KEY)
    published = register.published()
    text = repr(published)
    for line in GOOD:
        for cell in line.split(";"):
            assert cell not in text
    assert {e.pseudonym for e in published} == {pseudonymise(i, KEY) for i in
                                                ("1001", "1002", "1003", "1005")}
    other = parse_register(excel(GOOD), MAPPING, summit_date=SUMMIT, key=b"z" * 32)
    assert extract_digest(other.published()) != extract_digest(published)


def test_comma_delimiter_and_age_column() -> None:
    text = "id,age,sex,district,household\n1,30,f,North,h1\n2,15,m,South,h1\n3,70,m,South,\n"
    mapping = ColumnMapping(id="id", age="age", gender="sex", district="district",
                            household="household")
    register = parse_register(text, mapping, summit_date=SUMMIT, key=KEY,
                              age_bands=(16, 40, 65))
    assert register.excluded_under_age == 1
    assert [r.age_band for r in register.residents] == ["16-39", "65+"]
    assert register.residents[1].household is None


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    [
        ("2001;;M;1234 AB;A 1", "birth_date", "missing"),
        ("2001;2023-02-30;M;1234 AB;A 1", "birth_date", "not a valid date"),
        ("2001;1980-13-01;M;1234 AB;A 1", "birth_date", "not a valid date"),
        ("2001;2030-01-01;M;1234 AB;A 1", "birth_date", "future"),
        ("2001;1850-01-01;M;1234 AB;A 1", "birth_date", "impossible"),
        ("2001;1980-01-01;Q;1234 AB;A 1", "gender", "unknown"),
        ("2001;1980-01-01;;1234 AB;A 1", "gender", "missing"),
        ("2001;1980-01-01;M;12 AB;A 1", "postcode", "malformed"),
        ("2001;1980-01-01;M;1234 AB;", "address", "missing"),
        (";1980-01-01;M;1234 AB;A 1", "id", "missing"),
        ("1001;1980-01-01;M;1234 AB;A 1", "id", "duplicate of row 2"),
        ("2001;1980-01-01;M", "row", "cells"),
    ],
)
def test_each_kind_of_bad_row_rejects_the_file(line: str, field: str, fragment: str) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(excel([*GOOD, line]), MAPPING, summit_date=SUMMIT, key=KEY)
    errors = caught.value.errors
    assert any(e.row == len(GOOD) + 2 and e.field == field and fragment in e.message
               for e in errors), errors
    assert isinstance(caught.value, ValueError)


def test_every_bad_row_is_listed() -> None:
    bad = ["3001;2023-02-30;M;1234 AB;A 1", "3002;1980-01-01;Q;1234 AB;A 1", "3003;x;M;1;A"]
    with pytest.raises(RegisterError) as caught:
        parse_register(excel([*GOOD, *bad]), MAPPING, summit_date=SUMMIT, key=KEY)
    rows = {e.row for e in caught.value.errors}
    assert rows == {7, 8, 9}
    assert {e.field for e in caught.value.errors if e.row == 9} == {"birth_date", "postcode"}
    assert "row 7" in str(caught.value)


def test_bad_age_and_header_problems() -> None:
    mapping = ColumnMapping(id="id", age="age", gender="g")
    with pytest.raises(RegisterError) as caught:
        parse_register("id,age,g\n1,abc,m\n2,-3,v\n", mapping, summit_date=SUMMIT, key=KEY)
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "age"), (3, "age")]
    with pytest.raises(RegisterError, match="not in the header"):
        parse_register("id,leeftijd,g\n1,3,m\n", mapping, summit_date=SUMMIT, key=KEY)
    with pytest.raises(RegisterError, match="empty"):
        parse_register("\ufeff  \r\n", mapping, summit_date=SUMMIT, key=KEY)
    with pytest.raises(RegisterError, match="no residents"):
        parse_register("id,age,g\r\n", mapping, summit_date=SUMMIT, key=KEY)
    with pytest.raises(InvalidInput, match="key"):
        parse_register("id,age,g\n1,30,m\n", mapping, summit_date=SUMMIT, key=b"short")
    with pytest.raises(InvalidInput, match="birth date or an age"):
        parse_register("id,g\n1,m\n", ColumnMapping(id="id", gender="g"),
                       summit_date=SUMMIT, key=KEY)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 5, 16)))
def test_age_on_matches_birthday_rule(born: date) -> None:
    age = age_on(born, SUMMIT)
    birthday_passed = (SUMMIT.month, SUMMIT.day) >= (born.month, born.day)
    assert age == SUMMIT.year - born.year - (0 if birthday_passed else 1)
    band = age_band(age, (16, 25, 35, 50, 65))
    assert (band is None) == (age < 16)


@settings(max_examples=25, deadline=None)
@given(st.permutations(GOOD))
def test_row_order_does_not_change_the_published_extract(lines: list[str]) -> None:
    base = parse_register(excel(GOOD), MAPPING, summit_date=SUMMIT, key=KEY)
    other = parse_register(excel(lines), MAPPING, summit_date=SUMMIT, key=KEY)
    assert extract_digest(other.published()) == extract_digest(base.published())
    assert other.shares == base.shares


# --- real extracts: Windows-1252 files and households keyed by several columns ----------------


def test_windows_1252_file_with_accented_district_names_is_read() -> None:
    header = "BSN;Geboortedatum;Geslacht;Wijk"
    rows = [
        "2001;1980-01-15;M;Zuid-Oëst",
        "2002;1975-02-01;V;Café Kwartier",
        "2003;1990-03-01;V;Noord",
    ]
    raw = "\r\n".join([header, *rows]).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text, encoding = decode_register(raw)
    assert encoding == "Windows-1252"
    mapping = ColumnMapping(
        id="BSN", birth_date="Geboortedatum", gender="Geslacht", district="Wijk"
    )
    register = parse_register(text, mapping, summit_date=SUMMIT, key=KEY)
    assert register.counts["district"] == {"Café Kwartier": 1, "Noord": 1, "Zuid-Oëst": 1}


def test_utf8_with_bom_is_reported_as_utf8_and_latin1_is_the_last_resort() -> None:
    assert decode_register("\ufeffa;b\r\n".encode()) == ("a;b\r\n", "UTF-8")
    # 0x81 is undefined in Windows-1252: only Latin-1 reads it.
    assert decode_register(b"a;\x81b") == ("a;\x81b", "Latin-1")


def _households_file(n: int) -> str:
    lines = ["BSN;Geboortedatum;Geslacht;Postcode;Huisnummer;Toevoeging"]
    for i in range(n):
        house = i // 3  # three residents per house
        suffix = "A" if house % 2 else ""
        postcode = "1234 AB" if house % 4 else "1234ab"  # the same postcode, written two ways
        lines.append(f"{3000 + i};1980-01-15;V;{postcode};{house % 40 + 1};{suffix}")
    return "\r\n".join(lines)


def test_household_key_from_postcode_house_number_and_suffix() -> None:
    mapping = ColumnMapping(
        id="BSN",
        birth_date="Geboortedatum",
        gender="Geslacht",
        postcode="Postcode",
        household="Postcode+Huisnummer+Toevoeging",
    )
    register = parse_register(_households_file(60), mapping, summit_date=SUMMIT, key=KEY)
    assert register.households == 20
    assert register.household_warning() is None
    members = Counter(r.household for r in register.residents)
    assert sorted(set(members.values())) == [3]


def test_household_count_warns_when_the_mapping_looks_wrong() -> None:
    only_postcode = ColumnMapping(
        id="BSN", birth_date="Geboortedatum", gender="Geslacht", household="Postcode"
    )
    register = parse_register(_households_file(60), only_postcode, summit_date=SUMMIT, key=KEY)
    assert register.households == 2  # "1234 AB" and "1234ab" as written: one column, raw
    assert register.household_warning() == "too_few"
    by_id = ColumnMapping(id="BSN", birth_date="Geboortedatum", gender="Geslacht", household="BSN")
    register = parse_register(_households_file(60), by_id, summit_date=SUMMIT, key=KEY)
    assert register.household_warning() == "singletons"
    assert household_warning(None, 100) is None


def test_a_household_column_missing_from_the_header_is_named() -> None:
    mapping = ColumnMapping(
        id="BSN", birth_date="Geboortedatum", gender="Geslacht", household="Postcode+Huisnr"
    )
    with pytest.raises(RegisterError) as caught:
        parse_register(_households_file(3), mapping, summit_date=SUMMIT, key=KEY)
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "household.2")]
