"""The invitation letter says when and where the summit is, by when to reply, who sends it and
whom to ask, from the summit's settings; the settings page previews it; the summit's clock
(its time zone) is chosen on the same page."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest

from summit.core import i18n
from summit.core import service as repository
from summit.core.models import Summit
from summit.core.rules.summit_spec import SpecError, parse_summit_form, time_zones
from summit.lottery.letters import details
from tests.support.app import Client
from tests.support.forms import assert_kept
from tests.support.http import csrf_of, sign_in_organiser
from tests.support.lottery_http import SEED, register_csv, upload

GOOD = {
    "name": "G1000 Rivierstad",
    "municipality": "Rivierstad",
    "date": "2027-03-13",
    "venue": "Sporthal De Waal",
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
    "time_zone": "Europe/Amsterdam",
    "reply_by": "2027-02-20",
    "sender_name": "Anna de Vries",
    "sender_function": "Burgemeester van Rivierstad",
    "contact_email": "burgertop@rivierstad.nl",
    "contact_phone": "020 123 4567",
}


def test_the_letter_settings_are_read_and_checked() -> None:
    spec = parse_summit_form(GOOD)
    assert spec.letter == {
        "letter_reply_by": "2027-02-20",
        "letter_sender_name": "Anna de Vries",
        "letter_sender_function": "Burgemeester van Rivierstad",
        "letter_contact_email": "burgertop@rivierstad.nl",
        "letter_contact_phone": "020 123 4567",
    }
    assert spec.time_zone == "Europe/Amsterdam"
    assert parse_summit_form({**GOOD, "time_zone": ""}).time_zone == "Europe/Amsterdam"
    assert parse_summit_form({**GOOD, "time_zone": "Asia/Tokyo"}).time_zone == "Asia/Tokyo"
    assert time_zones()[0] == "Europe/Amsterdam" and "America/New_York" in time_zones()
    for change, field in [
        ({"reply_by": "2027-03-14"}, "reply_by"),  # after the summit day
        ({"reply_by": "2027-03-13"}, "reply_by"),  # on it
        ({"reply_by": "20-02-2027"}, "reply_by"),
        ({"contact_email": "burgertop at rivierstad"}, "contact_email"),
        ({"contact_phone": "bel ons"}, "contact_phone"),
        ({"time_zone": "Europe/Rivierstad"}, "time_zone"),
    ]:
        with pytest.raises(SpecError) as err:
            parse_summit_form({**GOOD, **change})
        assert err.value.field == field, change


def _summit(**settings: str) -> Summit:
    return Summit(
        name="G1000 Rivierstad",
        municipality="Rivierstad",
        date=dt.date(2027, 3, 13),
        venue="Sporthal De Waal",
        settings=settings,
    )


def test_the_letter_is_dated_in_dutch_on_the_summits_clock() -> None:
    i18n.load_catalogues(Path(__file__).resolve().parents[1] / "web" / "locale")
    late = dt.datetime(2027, 1, 1, 23, 30, tzinfo=dt.UTC)  # already 2 January in Amsterdam
    with i18n.language("nl"):
        here = details(_summit(letter_reply_by="2027-02-20"), first_minute=600, now=late)
        tokyo = details(_summit(time_zone="Asia/Tokyo"), now=dt.datetime(2027, 1, 1, 14, 0))
        new_york = details(_summit(time_zone="America/New_York"), now=late)
    assert here.day == "zaterdag 13 maart 2027" and here.starts == "10:00"
    assert here.reply_by == "zaterdag 20 februari 2027"
    assert here.written_on == "zaterdag 2 januari 2027"
    assert tokyo.written_on == "vrijdag 1 januari 2027" and tokyo.starts == ""
    assert new_york.written_on == "vrijdag 1 januari 2027"
    assert here.missing == ("sender_name", "sender_function", "contact_email")
    with i18n.language("en"):
        assert details(_summit()).day == "Saturday 13 March 2027"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _save(client: Client, **change: str) -> Any:
    token = csrf_of(client.get("/organiser/summit").text)
    return client.post("/organiser/summit", data={**GOOD, **change, "csrf_token": token})


def test_the_settings_page_saves_the_letter_and_previews_it(client: Client) -> None:
    sign_in_organiser(client)
    made = _save(client, reply_by="", sender_name="", sender_function="", contact_email="")
    assert made.status_code == 303
    page = client.get("/organiser/summit").text
    assert "Voorbeeld van de uitnodigingsbrief" in page
    missing = _text(page)
    assert (
        "In de brief ontbreekt nog: Aanmelden vóór, Naam van de afzender, "
        "Functie van de afzender, E-mailadres voor vragen." in missing
    )

    assert _save(client).status_code == 303
    page = client.get("/organiser/summit").text
    preview = _text(page.split('class="letter-preview"', 1)[1])
    assert "ontbreekt" not in preview
    for shown in [
        "Wanneer zaterdag 13 maart 2027",
        "Waar Sporthal De Waal",
        "Aanmelden vóór zaterdag 20 februari 2027",
        "Vragen? Mail naar burgertop@rivierstad.nl of bel 020 123 4567.",
        "Met vriendelijke groet, Anna de Vries Burgemeester van Rivierstad",
        "VOORB-EELD0",
    ]:
        assert shown in preview, shown
    assert 'value="Anna de Vries"' in page and 'value="2027-02-20"' in page

    entries = client.get("/audit.json").json()["entries"]
    letter = [e for e in entries if e["action"] == "summit.letter"]
    assert letter and letter[0]["payload"]["changed"] == [
        "contact_email",
        "reply_by",
        "sender_function",
        "sender_name",
    ]
    assert "Anna" not in str(entries)  # the log names the fields, not what they say
    assert _save(client).status_code == 303  # nothing changed: no new entry
    again = client.get("/audit.json").json()["entries"]
    assert [e["action"] for e in again].count("summit.letter") == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reply_by": "2027-03-20"}, "reply_by", "moet vóór de dag van de Burgertop liggen"),
        (
            {"contact_email": "burgertop-at-rivierstad"},
            "contact_email",
            "is geen e-mailadres (naam@voorbeeld.nl)",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "'Mars/Olympus' is geen bekende tijdzone"),
    ],
)
def test_a_bad_value_is_refused_in_dutch_and_the_form_keeps_what_was_typed(
    client: Client, change: dict[str, str], field: str, message: str
) -> None:
    sign_in_organiser(client)
    assert _save(client).status_code == 303
    typed = {"sender_name": "Bram Jansen", "contact_phone": "030 765 4321", **change}
    refused = _save(client, **typed)
    assert refused.status_code == 400
    assert message in _text(refused.text)
    # everything typed is back in its field, the field is marked and the summary links to it
    assert_kept(refused.text, "/organiser/summit", {**GOOD, **typed}, field, message)

    async def saved() -> dict[str, Any]:
        async with client.db.session() as session:
            summit = await repository.current_summit(session)
            assert summit is not None
            return dict(summit.settings)

    stored = client.run(saved())
    assert stored["letter_sender_name"] == "Anna de Vries"  # nothing of the refused form saved
    assert stored["time_zone"] == "Europe/Amsterdam"


def test_the_time_zone_is_chosen_logged_and_used_for_times(client: Client) -> None:
    sign_in_organiser(client)
    assert _save(client).status_code == 303
    page = client.get("/organiser/summit").text
    options = re.findall(r'<option value="([^"]+)"', page.split('name="time_zone"', 1)[1])
    assert options[0] == "Europe/Amsterdam" and "Asia/Tokyo" in options
    assert re.search(r'<option value="Europe/Amsterdam" selected>', page)
    assert re.search(r" CES?T</td>", client.get("/audit").text)

    assert _save(client, time_zone="Asia/Tokyo").status_code == 303
    assert '<option value="Asia/Tokyo" selected>' in client.get("/organiser/summit").text
    audit_page = client.get("/audit").text
    assert " JST</td>" in audit_page and not re.search(r" CES?T</td>", audit_page)
    entries = client.get("/audit.json").json()["entries"]
    zone = [e for e in entries if e["action"] == "summit.time_zone"]
    assert zone[0]["payload"] == {"from": "Europe/Amsterdam", "to": "Asia/Tokyo"}


def test_the_letters_carry_the_settings_and_name_what_is_missing(demo_client: Any) -> None:
    client, info = demo_client
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "organiser", "password": info.organiser_password, "csrf_token": token},
    )
    assert upload(client, register_csv(40)).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text)
    committed = client.post(
        "/organiser/lottery/commit", data={"csrf_token": token, "sample_size": "5"}
    )
    assert committed.status_code == 303
    drawn = client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    assert drawn.status_code == 303

    letters = client.get("/organiser/lottery/letters").text
    assert letters.count('class="letter"') == 5
    notice = _text(letters.split('class="notice', 1)[1].split("</div>", 1)[0])
    assert "In de brief ontbreekt nog:" in notice and "Aanmelden vóór" in notice
    assert 'href="/organiser/summit"' in letters

    page = client.get("/organiser/summit").text
    form = dict(re.findall(r'name="([a-z_]+)" type="[a-z]+" value="([^"]*)"', page))
    form |= {k: "on" for k in re.findall(r'name="(language_[a-z]+)" checked', page)}
    form |= {
        "default_language": "nl",
        "date": "2027-03-13",
        "venue": "Sporthal De Waal",
        **{k: v for k, v in GOOD.items() if k.startswith(("reply", "sender", "contact", "time"))},
        "csrf_token": csrf_of(page),
    }
    assert client.post("/organiser/summit", data=form).status_code == 303

    letters = client.get("/organiser/lottery/letters").text
    assert 'class="notice' not in letters
    text = _text(letters)
    for shown in [
        "Wanneer zaterdag 13 maart 2027",
        "Waar Sporthal De Waal",
        "Aanmelden vóór zaterdag 20 februari 2027",
        "Vragen? Mail naar burgertop@rivierstad.nl of bel 020 123 4567.",
        "Anna de Vries Burgemeester van Rivierstad",
    ]:
        assert text.count(shown) == 5, shown
