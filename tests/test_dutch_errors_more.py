"""A Dutch user meets the platform's own refusals in Dutch: the login and role refusals (401 and
403), an unknown item (404), the Monitor's missing partner, adopted proposal, milestone,
subscription and summit, and the theme board's refusals. Each is raised here for real, read as
a Dutch user and checked for English words and raw keys (tests/support/dutch.py); the pages of
a 401, a 403 and a 404 are read as a Dutch visitor sees them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from clustering import ConstraintError
from summit.core import forms, i18n
from summit.core import service as repository
from summit.core.errors import NotFound
from summit.ideas.decisions import constraint_text
from summit.monitor import notify, opendata, partners, tracking
from tests.support.app import Client
from tests.support.dutch import english_in
from tests.support.monitor import setup_monitor

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<[^>]+>")


@pytest.fixture(autouse=True)
def dutch() -> Iterator[None]:
    i18n.load_catalogues(ROOT / "web" / "locale")
    with i18n.language("nl"):
        yield


def _message(detail: str) -> str:
    """The message after the machine's ``key: `` prefix (the client's, as on every error)."""
    return detail.split(": ", 1)[-1]


def _shown(page: str) -> str:
    """The error page's heading and message, as a person reads them."""
    main = page.split("<h1", 1)[1].split("Terug naar", 1)[0]
    return " ".join(html.unescape(TAG.sub(" ", "<h1" + main)).split())


def test_an_unknown_or_oversized_item_number_is_refused_in_dutch() -> None:
    request = Request({"type": "http", "path_params": {"pid": str(10**30)}})
    with pytest.raises(HTTPException) as refused:
        forms.path_int(request, "pid")
    assert refused.value.status_code == 404
    assert _message(refused.value.detail) == "Dit onderdeel bestaat niet."


@pytest.mark.anyio
async def test_a_too_large_body_is_refused_in_dutch() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{" + b" " * 5000 + b"}", "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(HTTPException) as refused:
        await forms.json_object(request, limit=2000)
    assert refused.value.status_code == 413
    text = _message(refused.value.detail)
    assert text == "Dit verzoek is groter dan de 2 kB die deze pagina aanneemt."


def test_the_theme_boards_refusals_speak_dutch() -> None:
    # the theme library's own messages (English, for developers), as it raises them
    library = [
        "cannot merge theme 't1' with itself",
        "a split of theme 't1' needs some but not all of its ideas",
        "idea '4' would be split from its duplicate",
        "idea '4' cannot duplicate itself",
        "unknown theme 't9'",
        "unknown idea '99'",
        "the new label of theme 't1' is empty",
        "malformed constraints: bad",
    ]
    shown = [constraint_text(ConstraintError(text)) for text in library]
    assert len(set(shown)) == len(library)
    problems = [f"{text!r} {english_in(text)}" for text in shown if english_in(text)]
    assert not problems, "\n".join(problems)
    assert shown[0] == "Een thema kan niet met zichzelf worden samengevoegd."
    assert shown[4] == "Thema t9 bestaat niet (meer); laad de pagina opnieuw."


@pytest.mark.anyio
async def test_the_monitors_missing_things_speak_dutch(database: Any) -> None:
    world = await setup_monitor(database, people=3)
    messages: list[str] = []
    async with database.session() as session:
        item = await tracking.get_item(session, world.summit_id, next(iter(world.items.values())))
        calls = (
            partners.get_partner(session, world.summit_id, 987654),
            tracking.get_item(session, world.summit_id, 987654),
            tracking.complete_milestone(
                session, item, 987654, done_on="2027-04-01", actor="test"
            ),
            notify.get_subscription(session, 987654),
        )
        for call in calls:
            with pytest.raises(NotFound) as missing:
                await call
            messages.append(str(missing.value))
    with pytest.raises(NotFound) as missing:
        await opendata.build_export(database, 987654)
    messages.append(str(missing.value))
    assert messages == [
        "Partner 987654 bestaat niet.",
        "Aangenomen voorstel 987654 wordt niet gevolgd door de Monitor.",
        "Mijlpaal 987654 bestaat niet.",
        "Abonnement 987654 bestaat niet.",
        "Burgertop 987654 bestaat niet.",
    ]
    assert not [m for m in messages if english_in(m)]


def test_no_summit_yet_reads_dutch(client: Client) -> None:
    page = client.get("/monitor/proposals/1", headers={"accept": "text/html"})
    assert page.status_code == 404
    shown = _shown(page.text)
    assert shown == "Niet gevonden Er is nog geen burgertop aangemaakt."
    english = client.get("/monitor/proposals/1?lang=en", headers={"accept": "text/html"})
    assert "No summit has been created yet." in english.text


def test_the_refusal_pages_read_dutch(client: Client) -> None:
    async def summit_with_a_resident() -> str:
        async with client.db.session() as session:
            summit = await repository.create_summit(
                session, actor="test", slug="t", name="G1000 Test", municipality="Test",
                phase="council", languages=["nl", "en"],
            )  # fmt: skip
            _person, token = await repository.add_participant(
                session, summit, actor="test", role="resident", first_name="Ans"
            )
        return str(token)

    token = client.run(summit_with_a_resident())
    html_page = {"accept": "text/html"}
    json_api = {"accept": "application/json"}

    # 401: a visitor without a personal link asks for a participant's page
    anonymous = client.get("/api/ideas/table", headers=json_api)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == (
        "login: Voor deze pagina moet je inloggen of je persoonlijke link openen."
    )

    # 403: a participant opens the organiser's page
    assert client.get(f"/p/{token}").status_code == 303
    wrong_role = client.get("/organiser/summit", headers=html_page)
    assert wrong_role.status_code == 403
    shown = _shown(wrong_role.text)
    assert shown == "Niet toegestaan Je rol staat dit niet toe."  # no raw key before it
    assert not english_in(_message(shown))

    # 404: an item number no item has (beyond any id) and an adopted proposal that is not there
    unknown = client.get(f"/forum/proposals/{10**30}", headers=html_page)
    assert unknown.status_code == 404
    assert _shown(unknown.text) == "Niet gevonden Dit onderdeel bestaat niet."
    missing = client.get("/monitor/proposals/987654", headers=html_page)
    assert missing.status_code == 404
    shown = _shown(missing.text)
    assert shown == "Niet gevonden Aangenomen voorstel 987654 wordt niet gevolgd door de Monitor."
    assert not english_in(shown)

    # the same refusal for a reader who chose English
    english = client.get("/organiser/summit?lang=en", headers=html_page)
    assert english.status_code == 403 and "Your role does not allow this." in english.text

