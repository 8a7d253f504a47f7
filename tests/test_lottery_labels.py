"""The registration form asks the register's own values, with labels the organiser sets."""

from __future__ import annotations

import re
from typing import Any

from tests.support.http import csrf_of, login
from tests.support.lottery_http import upload

WIJKEN = ("Centrum", "Noord", "Oost", "Zuid", "West", "Haven", "Bos en Duin", "Oud-Lindeveld")


def _register(n: int) -> str:
    rows = ["BSN;Geslacht;Geboortedatum;Wijk;Adres"]
    for i in range(n):
        rows.append(f"{600000 + i};{'MV'[i % 2]};1970-05-0{i % 9 + 1};{WIJKEN[i % 8]};Weg {i}")
    return "\n".join(rows) + "\n"


def _options(page: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select id="f-feature_{name}".*?</select>', page, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select.group(0))


def test_the_form_asks_the_register_values_with_dutch_labels_and_organiser_labels(
    demo_client: Any,
) -> None:
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    assert upload(client, _register(80)).status_code == 303
    client.get("/?lang=nl")
    form = client.get("/register/self").text
    districts = [value for value, _label in _options(form, "district")]
    assert districts == sorted(WIJKEN)  # all eight wijken of the register, not a fixed list
    genders = dict(_options(form, "gender"))
    assert genders == {"female": "Vrouw", "male": "Man"}
    assert ">Leeftijd <" in form and ">Geslacht <" in form and ">Wijk <" in form
    for raw in (">age_band<", ">district<", ">female<", ">gender <"):
        assert raw not in form

    # The organiser renames a question and an answer in Dutch; English keeps the standard text.
    page = client.get("/organiser/lottery").text
    assert 'name="label:nl:district:"' in page and 'name="label:en:district:Haven"' in page
    token = csrf_of(page)
    saved = client.post(
        "/organiser/lottery/labels",
        data={
            "csrf_token": token,
            "label:nl:district:": "In welke wijk woont u?",
            "label:nl:district:Haven": "Havenkwartier",
            "label:en:district:": "",
        },
    )
    assert saved.status_code == 303
    form = client.get("/register/self").text
    assert "In welke wijk woont u?" in form
    assert ("Haven", "Havenkwartier") in _options(form, "district")
    # the register's shares on the lottery page read the same labels, never the keys
    page = client.get("/organiser/lottery").text
    captions = re.findall(r"<caption>([^<]*)</caption>", page)
    assert "Bevolkingsaandelen: In welke wijk woont u?" in captions, captions
    assert "Bevolkingsaandelen: Geslacht" in captions
    assert not any(key in caption for caption in captions for key in ("age_band", "gender"))
    assert '<th scope="row">Havenkwartier</th>' in page and '<th scope="row">Vrouw</th>' in page
    client.get("/?lang=en")
    form = client.get("/register/self").text
    assert ">District <" in form and ("Haven", "Haven") in _options(form, "district")
    audit = client.get("/audit.json").json()
    assert any(entry["action"] == "summit.labels" for entry in audit["entries"])


def test_a_label_that_is_too_long_is_refused_and_the_form_keeps_what_was_typed(
    demo_client: Any,
) -> None:
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    client.get("/?lang=nl")
    token = csrf_of(client.get("/organiser/lottery").text)
    refused = client.post(
        "/organiser/lottery/labels",
        data={
            "csrf_token": token,
            "label:nl:gender:": "Geslacht volgens uzelf",
            "label:nl:gender:female": "x" * 121,
        },
    )
    assert refused.status_code == 400
    assert "ten hoogste 120 tekens" in refused.text
    assert 'value="Geslacht volgens uzelf"' in refused.text  # nothing typed is lost
    assert "Geslacht volgens uzelf" not in client.get("/register/self").text  # nothing stored
