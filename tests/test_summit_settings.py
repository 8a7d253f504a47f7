"""The organiser creates and edits the summit and enters the coalition partners."""

from __future__ import annotations

import re
from typing import Any

import pytest

from summit.core import i18n
from summit.core import service as repository
from summit.core.rules.summit_spec import SpecError, parse_summit_form, structural_changes
from tests.support.app import Client
from tests.support.http import sign_in_organiser

GOOD = {
    "name": "G1000 Rivierstad",
    "municipality": "Rivierstad",
    "date": "2027-03-13",
    "venue": "Sporthal De Waal",
    "venue_capacity": "800",
    "online_capacity": "400",
    "seats": "1000",
    "table_size": "8",
    "mix_resident": "60",
    "mix_employer": "10",
    "mix_civil_servant": "10",
    "mix_politician": "10",
    "mix_free_thinker": "10",
    "language_nl": "on",
    "language_en": "on",
    "default_language": "nl",
    "features": "age_band, gender, district",
}


def test_a_good_form_becomes_settings() -> None:
    spec = parse_summit_form(GOOD)
    assert spec.slug == "g1000-rivierstad"
    assert spec.mix["resident"] == pytest.approx(0.6)
    assert [f["name"] for f in spec.features] == ["age_band", "gender", "district"]
    assert spec.languages == ["nl", "en"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"municipality": " "}, "municipality"),
        ({"date": "13-03-2027"}, "date"),
        ({"seats": "many"}, "seats"),
        ({"seats": "3"}, "seats"),
        ({"table_size": "40"}, "table_size"),
        ({"mix_resident": "70"}, "mix"),
        ({"mix_employer": "ten"}, "mix_employer"),
        ({"language_nl": "", "language_en": ""}, "languages"),
        ({"default_language": "fr"}, "default_language"),
        ({"features": "Age Band"}, "features"),
        ({"features": "gender, gender"}, "features"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_summit_form({**GOOD, **change})
    assert err.value.field == field


def test_structure_is_frozen_once_selection_starts() -> None:
    spec = parse_summit_form(GOOD)
    before = {
        "seats": 900,
        "mix": spec.mix,
        "table_size": 8,
        "features": ["age_band", "gender", "district"],
    }
    assert structural_changes("registration", before, spec) == ["seats"]
    with i18n.language("en"), pytest.raises(SpecError, match="cannot change once the selection"):
        structural_changes("summit", before, spec)
    assert structural_changes("summit", {**before, "seats": 1000}, spec) == []


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_organiser_creates_a_summit_then_partners_appear_publicly(client: Client) -> None:
    sign_in_organiser(client)
    assert client.get("/organiser").headers["location"] == "/organiser/summit"
    page = client.get("/organiser/summit")
    assert "<h1>Burgertop aanmaken</h1>" in page.text
    bad = client.post(
        "/organiser/summit", data={**GOOD, "mix_resident": "50", "csrf_token": csrf_of(page.text)}
    )
    assert bad.status_code == 400 and "moeten samen 100 % zijn" in bad.text
    made = client.post("/organiser/summit", data={**GOOD, "csrf_token": csrf_of(page.text)})
    assert made.status_code == 303
    assert "G1000 Rivierstad" in client.get("/").text

    partners = client.get("/organiser/partners")
    token = csrf_of(partners.text)
    empty = client.post(
        "/organiser/partners", data={"name": "Gemeente", "commitment": "", "csrf_token": token}
    )
    assert empty.status_code == 400 and 'id="f-commitment-error"' in empty.text
    added = client.post(
        "/organiser/partners",
        data={
            "name": "Gemeente Rivierstad",
            "kind": "municipality",
            "commitment": "Wij voeren het Burgerbesluit uit of leggen publiek uit waarom niet.",
            "signed_on": "2026-10-01",
            "csrf_token": token,
        },
    )
    assert added.status_code == 303
    home = client.get("/").text
    assert "Gemeente Rivierstad" in home and "leggen publiek uit" in home
    actions = [e["action"] for e in client.get("/audit.json").json()["entries"]]
    assert actions[:2] == ["partner.add", "summit.create"]


def test_seats_cannot_change_after_the_selection(client: Client) -> None:
    sign_in_organiser(client)
    page = client.get("/organiser/summit")
    client.post("/organiser/summit", data={**GOOD, "csrf_token": csrf_of(page.text)})

    async def to_summit_phase() -> None:
        async with client.db.session() as session:
            summit = await repository.current_summit(session)
            assert summit is not None
            summit.phase = "summit"

    client.run(to_summit_phase())
    page = client.get("/organiser/summit")
    assert 'value="1000"' in page.text
    refused = client.post(
        "/organiser/summit", data={**GOOD, "seats": "900", "csrf_token": csrf_of(page.text)}
    )
    assert (
        refused.status_code == 400
        and "kan niet meer veranderen nu de selectie is begonnen" in refused.text
    )
    renamed = client.post(
        "/organiser/summit", data={**GOOD, "venue": "Stadhuis", "csrf_token": csrf_of(page.text)}
    )
    assert renamed.status_code == 303
    assert "Stadhuis" in client.get("/").text


def test_only_organisers_edit_settings(demo_client: Any) -> None:
    client, info = demo_client
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "moderator", "password": info.moderator_password, "csrf_token": token},
    )
    assert client.get("/organiser/summit", headers={"accept": "text/html"}).status_code == 403
    assert client.post("/organiser/partners", data={**GOOD, "csrf_token": token}).status_code == 403
