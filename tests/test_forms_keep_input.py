"""Forms never lose input: a form refused for a bad value comes back as the same page (400),
with everything typed still in its fields and the Dutch message next to the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from summit.core import service as repository
from tests.support.app import Client
from tests.support.browser import axe_violations, chromium, log_in, needs_chromium, run_server
from tests.support.forms import PASSWORD, assert_kept, dutch, parse
from tests.support.http import csrf_of, login
from tests.support.ideas import become, post_idea, table_people
from tests.support.seating import make_seated_summit


@dataclass(frozen=True)
class Case:
    """A form (its page and action), the values typed, and the field refused with its
    message."""

    name: str
    who: str
    page: str
    action: str
    typed: dict[str, str]
    field: str
    message: Callable[[], str]
    #: fields the page's form sends besides what is typed (hidden fields)
    hidden: dict[str, str] | None = None
    #: typed values that must not come back (passwords)
    secret: str = ""


CASES = [
    Case(
        "programme item",
        "organiser",
        "/programme/manage",
        "/programme/items",
        {"kind": "agenda", "title": "Agenda van de dag", "start": "10:00", "duration": "0"},
        "duration",
        lambda: dutch(
            "must be a whole number of minutes from %(MIN_DURATION)s to %(MAX_DURATION)s",
            MIN_DURATION=1,
            MAX_DURATION=600,
        ),
        {"form_page": "/programme/manage"},
    ),
    Case(
        "programme extend",
        "moderator",
        "/programme/manage",
        "/programme/extend",
        {"minutes": "999"},
        "minutes",
        lambda: dutch("must be a whole number from 1 to %(MAX_EXTEND)s", MAX_EXTEND=120),
    ),
    Case(
        "partner",
        "organiser",
        "/organiser/partners",
        "/organiser/partners",
        {"name": "Woonstichting Rivierstad", "kind": "woningcorporatie", "commitment": "  "},
        "commitment",
        lambda: dutch("write down what the partner commits to"),
    ),
    Case(
        "phase",
        "organiser",
        "/organiser",
        "/organiser/phase",
        {},
        "phase",
        lambda: "",
        {"phase": "monitor"},
    ),
    Case(
        "participant link",
        "organiser",
        "/organiser/participants?role=resident",
        r"/organiser/participants/\d+/link",
        {},
        "action",
        lambda: dutch("must be revoke or issue"),
        {"action": "explode", "form_page": "/organiser/participants?role=resident"},
    ),
    Case(
        "ideas settings",
        "organiser",
        "/organiser/ideas",
        "/organiser/ideas/settings",
        {},
        "who_records",
        lambda: dutch("choose the host or the whole table"),
        {"who_records": "everyone"},
    ),
    Case(
        "seating: seat",
        "organiser",
        "/seating",
        "/seating/seat",
        {"seed": "   ", "rounds": "3"},
        "seed",
        lambda: dutch("give the public seed (e.g. the dice rolled in public)"),
    ),
    Case(
        "seating: settings",
        "organiser",
        "/seating",
        "/seating/settings",
        {
            "rounds": "drie",
            "table_size": "7",
            "venue_areas": "Zaal A: 3",
            "keep_together": "",
            "keep_apart": "",
            "fixed_tables": "",
            "topics": "Wonen\nVerkeer",
        },
        "rounds",
        lambda: dutch("must be a whole number"),
    ),
    Case(
        "video: broadcast",
        "moderator",
        "/moderator/video",
        "/moderator/video/broadcast",
        {"text": "x" * 501},
        "text",
        lambda: dutch("at most %(MAX_BROADCAST)s characters", MAX_BROADCAST=500),
    ),
    Case(
        "theme board: group again",
        "moderator",
        "/moderator/themes",
        "/moderator/themes/recluster",
        {},
        "granularity",
        lambda: dutch("must be fewer, same or more"),
        {"granularity": "sometimes"},
    ),
    Case(
        "login",
        "nobody",
        "/login?next=/organiser/partners",
        "/login",
        {"username": "organiser", "next": "/organiser/partners"},
        "username",
        lambda: dutch("Wrong user name or password."),
        {"form_page": "/login?next=/organiser/partners"},
        secret="not the password",
    ),
]


@pytest.fixture
def seated(client: Client) -> Iterator[Client]:
    """An organiser, a moderator and a seated summit."""

    async def prepare() -> None:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            await repository.add_staff_user(session, "moderator", PASSWORD, "moderator")
        await make_seated_summit(client.db, tokens={})

    client.run(prepare())
    yield client


def _signed_in(client: Client, who: str, page: str) -> str:
    """Sign ``who`` in, read ``page`` in Dutch, and return its CSRF token."""
    if who in ("organiser", "moderator"):
        assert login(client, who, PASSWORD).status_code == 303
    shown = client.get(page + ("&" if "?" in page else "?") + "lang=nl")
    assert shown.status_code == 200, shown.text
    return csrf_of(shown.text)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_refused_form_comes_back_with_what_was_typed(seated: Client, case: Case) -> None:
    client = seated
    csrf = _signed_in(client, case.who, case.page)
    shown = parse(client.get(case.page).text)
    actions = [f.action for f in shown.forms if re.fullmatch(case.action, f.action)]
    assert actions, f"{case.page} has no form posting to {case.action}"
    action = actions[0]
    data = {"csrf_token": csrf, **(case.hidden or {}), **case.typed}
    if case.secret:
        data["password"] = case.secret
    answer = client.post(action, data=data)
    assert answer.status_code == 400
    assert dutch("That did not work") not in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    message = case.message() or _message_of(answer.text, case.field)
    assert_kept(answer.text, action, case.typed, case.field, message)
    # the secret fields are never sent back: the page has its own fresh CSRF token only
    assert csrf_of(answer.text) == csrf
    assert not case.secret or case.secret not in answer.text


def _message_of(page: str, field: str) -> str:
    """The message by the field, when the test cannot name it beforehand (it names values);
    it must still be Dutch."""
    text = parse(page).texts.get(f"f-{field}-error", "").strip()
    assert text and any(word in text.split() for word in ("kan", "moet", "een", "niet"))
    return text


def test_a_json_or_unknown_page_still_gets_the_plain_error(seated: Client) -> None:
    """No page to show the form on (a path with no GET view): today's error page, with the
    message; a JSON caller gets JSON."""
    client = seated
    csrf = _signed_in(client, "organiser", "/programme/manage")
    typed = {"kind": "agenda", "title": "X", "start": "10:00", "duration": "0"}
    plain = client.post(
        "/programme/items", data={"csrf_token": csrf, "form_page": "/no/such/page", **typed}
    )
    assert plain.status_code == 400
    assert dutch("That did not work") in plain.text
    assert "600" in plain.text
    as_json = client.post(
        "/programme/items",
        data={"csrf_token": csrf, **typed},
        headers={"accept": "application/json"},
    )
    assert as_json.status_code == 400 and as_json.json()["status"] == 400
    # a page elsewhere is never fetched: the form page must be a path on this site
    away = client.post(
        "/programme/items",
        data={"csrf_token": csrf, "form_page": "//evil.example/x", **typed},
    )
    assert away.status_code == 400
    forms = [f.action for f in parse(away.text).forms]
    assert "/programme/items" in forms  # the route's own page, not the named one


#: Forms of a participant at a table (the demo summit, with a round open).
TABLE_CASES = [
    Case(
        "idea",
        "host",
        "/me/ideas",
        "/me/ideas",
        {"title": "Fietsbrug over de haven", "body": "x" * 2001, "tags": "verkeer, water"},
        "body",
        lambda: dutch("has at most %(BODY_MAX)s characters (got %(n)s)", BODY_MAX=2000, n=2001),
        {"form_page": "/me/ideas"},
    ),
    Case(
        "idea edit",
        "host",
        "/me/ideas",
        r"/me/ideas/\d+/edit",
        {"title": "  ", "body": "Een brug voor fietsers", "tags": "verkeer"},
        "title",
        lambda: dutch("is required"),
    ),
]


def test_the_self_registration_comes_back_with_what_was_typed(
    demo_client: tuple[Client, Any],
) -> None:
    """The public registration form (no sign-in): a bad e-mail address keeps every answer."""
    client, _info = demo_client
    client.get("/register/self?lang=nl")
    csrf = csrf_of(client.get("/register/self").text)
    typed = {
        "role": "civil_servant",
        "first_name": "Anna",
        "last_name": "de Vries",
        "email": "geen-adres",
        "phone": "0612345678",
        "attendance": "online",
        "accessibility_needs": "Een rolstoelplek",
        "consent": "yes",
    }
    answer = client.post("/register/self", data={"csrf_token": csrf, "step": "details", **typed})
    assert answer.status_code == 400
    message = dutch("is not an e-mail address")
    assert_kept(answer.text, "/register/self", typed, "email", message)


@pytest.mark.parametrize("case", TABLE_CASES, ids=lambda case: case.name)
def test_a_participant_form_comes_back_with_what_was_typed(
    demo_client: tuple[Client, Any], case: Case
) -> None:
    client, _info = demo_client
    people = client.run(table_people(client))
    csrf = become(client, people[case.who])
    if "edit" in case.action:  # an idea to change
        assert post_idea(client, csrf, title="Schaduw op het schoolplein").status_code == 201
    client.get(case.page + "?lang=nl")
    shown = parse(client.get(case.page).text)
    actions = [f.action for f in shown.forms if re.fullmatch(case.action, f.action)]
    assert actions, f"{case.page} has no form posting to {case.action}"
    answer = client.post(actions[0], data={"csrf_token": csrf, **(case.hidden or {}), **case.typed})
    assert answer.status_code == 400
    assert dutch("That did not work") not in answer.text
    assert_kept(answer.text, actions[0], case.typed, case.field, case.message())


async def _prepare_browser(url: str) -> None:
    from summit.core.db import Database, upgrade

    await upgrade(url)
    database = Database(url)
    try:
        async with database.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
        await make_seated_summit(database, tokens={})
    finally:
        await database.dispose()


@pytest.mark.browser
@needs_chromium
def test_in_a_browser_the_refused_form_keeps_what_was_typed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Chromium posts the partner form (no Referer is sent here) with the commitment left
    empty: the same form comes back with the name and kind still typed in, the Dutch message
    next to the commitment field, and no accessibility violations."""
    import asyncio

    data_dir = tmp_path_factory.mktemp("browser-forms")
    asyncio.run(_prepare_browser(f"sqlite+aiosqlite:///{data_dir / 'summit.db'}"))
    with run_server(data_dir, args=["--no-demo"]) as server, chromium() as browser:
        page = browser.new_context(locale="nl-NL").new_page()
        log_in(page, server.url, "organiser", PASSWORD, "/organiser")
        page.goto(server.url + "/organiser/partners?lang=nl")
        page.locator("#f-name").fill("Woonstichting Rivierstad")
        page.locator("#f-kind").fill("woningcorporatie")
        page.locator("#f-signed_on").fill("2026-10-01")
        with page.expect_response("**/organiser/partners") as answered:
            page.get_by_role("button", name=dutch("Add partner")).click()
        assert answered.value.status == 400
        assert page.locator("#f-name").input_value() == "Woonstichting Rivierstad"
        assert page.locator("#f-kind").input_value() == "woningcorporatie"
        assert page.locator("#f-signed_on").input_value() == "2026-10-01"
        commitment = page.locator("#f-commitment")
        assert commitment.get_attribute("aria-invalid") == "true"
        message = page.locator("#" + str(commitment.get_attribute("aria-describedby")))
        assert message.is_visible()
        assert message.inner_text() == dutch("write down what the partner commits to")
        summary = page.get_by_role("alert")
        assert dutch("This form was not saved. Please correct:") in summary.inner_text()
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "f-commitment"
        assert axe_violations(page) == []


def test_a_refused_theme_split_comes_back_open_with_the_new_name(demo: Any) -> None:
    """The theme board has six forms per theme, all posting to one path: the refused one (told
    apart by its form_id) comes back open with its name typed in; the other forms do not."""
    client, info = demo
    assert login(client, "moderator", info.moderator_password).status_code == 303
    client.get("/moderator/themes?lang=nl")
    csrf = csrf_of(client.get("/moderator/themes").text)
    grouped = client.post(
        "/moderator/themes/recluster", data={"csrf_token": csrf, "granularity": "same"}
    )
    assert grouped.status_code == 303
    service = client.app.state.theme_service  # type: ignore[attr-defined]
    client.run(service.drain())
    themes = client.get("/moderator/themes/export.json").json()["themes"]
    key = max(themes, key=lambda t: len(t["ideas"]))["key"]
    typed = {"label": "Ouderen in de wijk"}
    answer = client.post(
        "/moderator/themes/edit",
        data={
            "csrf_token": csrf,
            "form_id": f"split-{key}",
            "action": "split",
            "theme": key,
            **typed,
        },
    )
    assert answer.status_code == 400
    page = parse(answer.text)
    split = [
        f for f in page.forms if any(c.attrs.get("value") == f"split-{key}" for c in f.controls)
    ]
    assert split and split[0].named("label")[0].value == "Ouderen in de wijk"
    ideas = split[0].named("ideas")[0]
    assert ideas.attrs.get("aria-invalid") == "true"
    message = page.texts[ideas.attrs["aria-describedby"]].strip()
    assert message == dutch("tick the ideas that form the new theme")
    assert f"#split-ideas-{key}" in page.links
    # only that form is marked: the rename form of the same theme keeps the theme's name
    rename = [
        f for f in page.forms if any(c.attrs.get("value") == f"rename-{key}" for c in f.controls)
    ]
    assert rename[0].named("label")[0].value != "Ouderen in de wijk"
    assert answer.text.count('role="alert"') == 1


def test_a_refused_topic_choice_keeps_the_first_choice(client: Client) -> None:
    """A participant's topic form: an unknown second topic is refused and the first choice
    stays chosen."""
    tokens: dict[str, str] = {}

    async def prepare() -> None:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
        await make_seated_summit(client.db, tokens=tokens)

    client.run(prepare())
    csrf = _signed_in(client, "organiser", "/seating")
    settings = {
        "csrf_token": csrf,
        "rounds": "2",
        "table_size": "8",
        "features": ["age_band", "gender"],
        "topics": "Wonen\nFietsen\nGroen",
    }
    assert client.post("/seating/settings", data=settings).status_code == 303
    client.cookies.clear()
    client.get(f"/p/{next(iter(tokens.values()))}")
    page = client.get("/me/topics?lang=nl")
    typed = {"first": "Fietsen"}
    answer = client.post(
        "/me/topics", data={"csrf_token": csrf_of(page.text), **typed, "second": "Klimaat"}
    )
    assert answer.status_code == 400
    assert_kept(
        answer.text, "/me/topics", typed, "second", dutch("choose one of the listed topics")
    )
