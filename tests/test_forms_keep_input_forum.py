"""Forms never lose input on the Monitor: a refused form comes back as its own page (400) with
what was typed and the Dutch message by the field, not the bare error page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from summit.app import create_app
from summit.council.models import CouncilVote, PriorityVote, ProposalVersion
from tests.support.app import Client, make_settings
from tests.support.council import Council
from tests.support.forms import assert_kept
from tests.support.forum import CODE, World
from tests.support.http import csrf_of
from tests.support.mail import Smtp
from tests.support.monitor import setup_monitor


@pytest.fixture
def mail_client(db_url: str, tmp_path: Path) -> Iterator[Client]:
    server = Smtp()
    server.controller.start()
    try:
        app = create_app(make_settings(tmp_path, db_url, smtp_url=server.url))
        with Client(app, base_url="http://testserver", follow_redirects=False) as client:
            client.run(client.app.state.monitor_jobs.stop())  # type: ignore[attr-defined]
            yield client
    finally:
        server.controller.stop()


BAD_ADDRESS = "vul een e-mailadres in zoals naam@voorbeeld.nl"

# (page, form's action, bad values, field, Dutch message); {bike} is an item's number
CASES = [
    (
        "/monitor",
        "/monitor/follow",
        {"email": "geen adres", "language": "en"},
        "email",
        BAD_ADDRESS,
    ),
    (
        "/monitor/proposals/{bike}",
        "/monitor/follow",
        {"email": "volger@", "language": "en"},
        "email",
        BAD_ADDRESS,
    ),
]


@pytest.mark.parametrize(("page", "action", "typed", "field", "message"), CASES)
def test_a_refused_monitor_form_comes_back_with_what_was_typed(
    mail_client: Client, page: str, action: str, typed: dict[str, str], field: str, message: str
) -> None:
    client = mail_client
    world = client.run(setup_monitor(client.db))
    bike = world.items["Veilige fietsroutes naar school"]
    page = page.format(bike=bike)
    hidden = {"item": str(bike)} if page.startswith("/monitor/proposals/") else {}
    shown = client.get(page)
    assert shown.status_code == 200
    answer = client.post(
        action, data={"csrf_token": csrf_of(shown.text), "form_page": page, **hidden, **typed}
    )
    assert answer.status_code == 400
    assert "error-summary" in answer.text  # the form's page, not the bare error page
    assert_kept(answer.text, action, typed, field, message)


LONG_LABEL = "hoogstens 120 tekens"

# The Burgerraad's forms: (page, form's action, bad values, field, Dutch message); {p1}, {p2}
# are proposals written first
COUNCIL_CASES = [
    ("/council", "/council/themes", {"label": "   "}, "label", "is verplicht"),
    ("/council", "/council/display-links", {"label": "Zaal " * 30}, "label", LONG_LABEL),
    (
        "/council/priorities/{pv}",
        "/council/priorities/{pv}/tally",
        {"table": "999", "voters": "4", "dots-proposal:{p1}": "3", "dots-proposal:{p2}": "1"},
        "table",
        "tafel 999 bestaat niet",
    ),
    (
        "/council",
        "/council/priorities",
        {
            "title": "Wat vinden we het belangrijkst?",
            "item_kind": "proposal",
            "stage": "proposals",
            "votes_per_participant": "vijf",
            "max_per_item": "2",
            "shortlist_size": "4",
            "seed": "loting-2026",
        },
        "votes_per_participant",
        "moet een geheel getal zijn",
    ),
    (
        "/council",
        "/council/priorities",
        {
            "title": "Prioriteiten",
            "item_kind": "theme",
            "stage": "agenda",
            "votes_per_participant": "3",
            "max_per_item": "9",
            "shortlist_size": "6",
            "seed": "",
        },
        "max_per_item",
        "moet van 1 tot en met het aantal stemmen per deelnemer zijn",
    ),
    (
        "/council",
        "/council/votes",
        {
            "title": "Stemming over groen",
            "proposals": "{p2}",
            "closes_at": "morgen om zes",
            "membership": "roles",
            "member_roles": "resident",
        },
        "closes_at",
        "gebruik een datum en tijd zoals 2026-12-20T18:00",
    ),
    (
        "/council",
        "/council/votes",
        {
            "title": "Stemming over groen",
            "proposals": "{p1}",
            "closes_at": "",
            "membership": "roles",
        },
        "member_roles",
        "kies minstens één rol",
    ),
    (
        "/council",
        "/council/votes",
        {"title": "Stemming", "proposals": "{p1}", "membership": "list", "member_list": " "},
        "member_list",
        "noem minstens één deelnemerscode",
    ),
    (
        "/council/proposals",
        "/council/proposals",
        {
            "title": "Meer bankjes",
            "problem": "Ouderen rusten nergens",
            "text": " ",
            "who_acts": "De wijkraad",
            "cost": "€ 5.000",
        },
        "text",
        "is verplicht",
    ),
    (
        "/council/proposals/{p1}",
        "/council/proposals/{p1}/versions",
        {
            "title": "",
            "problem": "Te weinig schaduw",
            "text": "Plant 40 bomen",
            "who_acts": "De gemeente",
            "cost": "€ 20.000",
        },
        "title",
        "is verplicht",
    ),
]


@pytest.mark.parametrize(("page", "action", "typed", "field", "message"), COUNCIL_CASES)
def test_a_refused_council_form_comes_back_with_what_was_typed(
    council: Council,
    page: str,
    action: str,
    typed: dict[str, str],
    field: str,
    message: str,
) -> None:
    p1, p2 = council.proposals(2)
    council.as_organiser()
    pv = 0
    if "{pv}" in page:  # an open prioritisation of the proposals
        created = council.post(
            "/council/priorities",
            {"title": "Kortste lijst", "item_kind": "proposal", "stage": "proposals"},
            "/council",
        )
        assert created.status_code == 303, created.text
        pv = int(created.headers["location"].rsplit("/", 1)[1])
        council.post(f"/council/priorities/{pv}/open", {}, f"/council/priorities/{pv}")
    page = page.format(p1=p1, p2=p2, pv=pv)
    action = action.format(p1=p1, p2=p2, pv=pv)
    typed = {name.format(p1=p1, p2=p2): value.format(p1=p1, p2=p2) for name, value in typed.items()}
    client = council.client
    shown = client.get(page)
    assert shown.status_code == 200
    before = [council.count(m) for m in (CouncilVote, ProposalVersion, PriorityVote)]
    hidden = {"form_page": page} if action != page and page != "/council" else {}
    answer = client.post(action, data={"csrf_token": csrf_of(shown.text), **hidden, **typed})
    assert answer.status_code == 400, answer.text
    assert "error-summary" in answer.text  # the form's page, not the bare error page
    assert_kept(answer.text, action, typed, field, message)
    assert [council.count(m) for m in (CouncilVote, ProposalVersion, PriorityVote)] == before


def test_a_refused_forum_reaction_comes_back_on_its_proposal_with_what_was_typed(
    world: World,
) -> None:
    world.client.cookies.clear()
    world.client.get("/forum?lang=nl")
    assert world.with_code(CODE).status_code == 303
    page = f"/forum/proposals/{world.proposals[1]}"
    action = f"{page}/react"
    shown = world.client.get(page)
    assert shown.status_code == 200
    # an empty reaction: the choice of stance stays
    typed = {"stance": "question", "text": ""}
    answer = world.client.post(action, data={"csrf_token": csrf_of(shown.text), **typed})
    assert answer.status_code == 400, answer.text
    assert "Reacties" in answer.text  # the proposal's page, not the bare error page
    assert_kept(answer.text, action, typed, "text", "Schrijf een paar woorden: de reactie is leeg.")
    # the same reaction twice: the text stays
    typed = {"stance": "question", "text": "Wie betaalt het onderhoud?"}
    assert world.react(world.proposals[1], **typed).status_code == 303
    answer = world.client.post(action, data={"csrf_token": csrf_of(shown.text), **typed})
    assert answer.status_code == 400, answer.text
    assert "Reacties" in answer.text
    assert_kept(
        answer.text, action, typed, "text", "U hebt deze reactie al geplaatst bij dit voorstel."
    )


def test_a_refused_meeting_reaction_comes_back_on_the_forum_manage_page(world: World) -> None:
    world.staff("organiser")
    world.client.get("/forum?lang=nl")
    page, action = "/forum/manage", "/forum/manage/reactions"
    shown = world.client.get(page)
    assert shown.status_code == 200
    typed = {
        "proposal": str(world.proposals[2]),
        "source": "meeting",
        "meeting_name": "Wijkavond De Hoek",
        "meeting_date": "vorige dinsdag",
        "stance": "concerns",
        "text": "Wie houdt de moestuin bij in de zomer?",
    }
    answer = world.client.post(action, data={"csrf_token": csrf_of(shown.text), **typed})
    assert answer.status_code == 400, answer.text
    assert "Wijkavond De Hoek" in answer.text  # the manage page, not the bare error page
    assert_kept(
        answer.text,
        action,
        typed,
        "meeting_date",
        "Geef de datum van de bijeenkomst als JJJJ-MM-DD.",
    )
