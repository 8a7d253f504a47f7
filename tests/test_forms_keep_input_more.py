"""Forms never lose input, more forms: the seating page's move, rebalance and from-agenda
forms come back refused (400) as the seating page itself, with what was chosen still chosen and
the Dutch message by the field (``summit.core.forms``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from summit.core import service as repository
from tests.support.app import Client
from tests.support.forms import parse
from tests.support.http import csrf_of, login
from tests.support.seating import make_seated_summit
from tests.test_forms_keep_input import PASSWORD, dutch


@pytest.fixture
def organiser(client: Client) -> Iterator[tuple[Client, str]]:
    """An organiser signed in on a seated summit, with the CSRF token of the seating page."""

    async def prepare() -> None:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
        await make_seated_summit(client.db, tokens={})

    client.run(prepare())
    assert login(client, "organiser", PASSWORD).status_code == 303
    shown = client.get("/seating?lang=nl")
    assert shown.status_code == 200, shown.text
    yield client, csrf_of(shown.text)


def _refused_page(answer_text: str, status: int) -> None:
    assert status == 400
    assert dutch("That did not work") not in answer_text  # the form's page, not the error page


def _marked(page: str, action: str, name: str, message: str) -> None:
    """The control ``name`` of the form posting to ``action`` is marked invalid, described by
    ``message``, and the summary links to it."""
    parsed = parse(page)
    form = next(f for f in parsed.forms if f.action == action)
    control = form.named(name)[0]
    assert control.attrs.get("aria-invalid") == "true", control.attrs
    described = control.attrs.get("aria-describedby", "").split()
    assert message in [parsed.texts.get(i, "").strip() for i in described]
    assert f"#{control.attrs['id']}" in parsed.links


def test_a_refused_move_keeps_the_round_and_the_person(organiser: tuple[Client, str]) -> None:
    client, csrf = organiser
    form = next(f for f in parse(client.get("/seating").text).forms if f.action == "/seating/move")
    rounds = [v for v, _ in form.named("round")[0].options]
    people = [v for v, _ in form.named("participant")[0].options]
    chosen = {"round": rounds[-1], "participant": people[3]}
    answer = client.post("/seating/move", data={"csrf_token": csrf, **chosen, "table": "99"})
    _refused_page(answer.text, answer.status_code)
    shown = next(f for f in parse(answer.text).forms if f.action == "/seating/move")
    assert shown.named("round")[0].value == chosen["round"]
    assert shown.named("participant")[0].value == chosen["participant"]
    tables = len(shown.named("table")[0].options)
    message = dutch("%(to_table)s is not a table (1..%(n)s)", to_table=99, n=tables)
    _marked(answer.text, "/seating/move", "table", message)


def test_a_refused_rebalance_keeps_who_was_marked_absent(organiser: tuple[Client, str]) -> None:
    client, csrf = organiser
    form = next(
        f for f in parse(client.get("/seating").text).forms if f.action == "/seating/rebalance"
    )
    seated = [v for v, _ in form.named("absent")[0].options]
    absent = [seated[1], seated[4]]
    answer = client.post(
        "/seating/rebalance", data={"csrf_token": csrf, "absent": absent, "arrived": [seated[4]]}
    )
    _refused_page(answer.text, answer.status_code)
    shown = next(f for f in parse(answer.text).forms if f.action == "/seating/rebalance")
    assert shown.named("absent")[0].value == absent
    _marked(
        answer.text,
        "/seating/rebalance",
        "arrived",
        dutch("%(value)s is also absent", value=seated[4]),
    )


def test_topics_from_an_agenda_without_shortlist_are_refused_on_the_page(
    organiser: tuple[Client, str],
) -> None:
    client, csrf = organiser
    answer = client.post("/seating/topics/from-agenda", data={"csrf_token": csrf})
    _refused_page(answer.text, answer.status_code)
    parsed = parse(answer.text)
    assert any(f.action == "/seating/topics/from-agenda" for f in parsed.forms)
    message = dutch("the agenda has no shortlist yet: close the prioritisation first")
    assert message in answer.text
    assert answer.text.count('role="alert"') == 1
