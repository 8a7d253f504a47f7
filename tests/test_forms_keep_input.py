"""Forms never lose input: a form refused for a bad value comes back as the same page (400),
with everything typed still in its fields and the Dutch message next to the field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from summit.core import i18n
from summit.core import service as repository
from summit.core.i18n import gettext as _
from tests.support.app import Client
from tests.support.forms import assert_kept, parse
from tests.support.http import csrf_of, login
from tests.support.seating import make_seated_summit

PASSWORD = "a long test password"


def dutch(message: str, **values: Any) -> str:
    with i18n.language("nl"):
        text = _(message)
    return text % values if values else text


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
    answer = client.post(
        case.action, data={"csrf_token": csrf, **(case.hidden or {}), **case.typed}
    )
    assert answer.status_code == 400
    assert "That did not work" not in answer.text and "Dat werkte niet" not in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert_kept(answer.text, case.action, case.typed, case.field, case.message())
    # the secret fields are never sent back: the page has its own fresh CSRF token only
    assert csrf_of(answer.text) == csrf


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
