"""Forms never lose input, more forms: the seating page's move, rebalance and from-agenda
forms, the lottery's commitment, draw and named invitation, and the selection's run and draw
come back refused (400) as their own page, with what was typed or chosen still there and the
Dutch message by the field (``summit.core.forms``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from summit.core import service as repository
from tests.support.app import Client
from tests.support.forms import PASSWORD, assert_kept, dutch, parse
from tests.support.http import csrf_of, login
from tests.support.lottery_http import (
    SEED,
    current_summit_id,
    register_csv,
    register_everyone,
    run_selection,
    upload,
)
from tests.support.seating import make_seated_summit


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


# --- The lottery and the selection (the demo summit, before its draw) ------------------------


def _lottery(demo_client: tuple[Client, Any], path: str = "/organiser/lottery") -> str:
    """Sign the organiser in, read ``path`` in Dutch; return its CSRF token."""
    client, info = demo_client
    assert login(client, "organiser", info.organiser_password).status_code == 303
    shown = client.get(path + "?lang=nl")
    assert shown.status_code == 200, shown.text
    return csrf_of(shown.text)


def test_a_refused_commitment_keeps_the_number_of_invitations(
    demo_client: tuple[Client, Any],
) -> None:
    client, _info = demo_client
    csrf = _lottery(demo_client)
    assert upload(client, register_csv(150)).status_code == 303
    typed = {"sample_size": "60", "dice_digits": "3"}
    answer = client.post("/organiser/lottery/commit", data={"csrf_token": csrf, **typed})
    _refused_page(answer.text, answer.status_code)
    message = dutch("use between 6 and 64 dice digits")
    assert_kept(answer.text, "/organiser/lottery/commit", typed, "dice_digits", message)
    # the household box was left unticked, and stays so (its default is ticked)
    form = next(f for f in parse(answer.text).forms if f.action == "/organiser/lottery/commit")
    assert "checked" not in form.named("one_per_household")[0].attrs
    assert client.get("/lottery/commitment.json").status_code == 404  # nothing was stored


def test_a_refused_draw_keeps_the_seed_typed(demo_client: tuple[Client, Any]) -> None:
    client, _info = demo_client
    csrf = _lottery(demo_client)
    assert upload(client, register_csv(150)).status_code == 303
    committed = client.post(
        "/organiser/lottery/commit", data={"csrf_token": csrf, "sample_size": "60"}
    )
    assert committed.status_code == 303
    typed = {"seed": "12345"}
    answer = client.post("/organiser/lottery/draw", data={"csrf_token": csrf, **typed})
    _refused_page(answer.text, answer.status_code)
    message = dutch("expected %(digits)s dice digits, got %(n)s", digits=20, n=5)
    assert_kept(answer.text, "/organiser/lottery/draw", typed, "seed", message)


def test_a_refused_named_invitation_is_marked_on_the_role(
    demo_client: tuple[Client, Any],
) -> None:
    client, _info = demo_client
    csrf = _lottery(demo_client)
    answer = client.post(
        "/organiser/lottery/named", data={"csrf_token": csrf, "role": "burgemeester"}
    )
    _refused_page(answer.text, answer.status_code)
    _marked(
        answer.text, "/organiser/lottery/named", "role", dutch("choose one of the listed roles")
    )


def test_a_refused_selection_run_keeps_the_seats_and_panels(
    demo_client: tuple[Client, Any],
) -> None:
    client, _info = demo_client
    csrf = _lottery(demo_client, "/organiser/selection")
    typed = {"seats": "9", "tolerance": "veel", "algorithm": "maximin", "panels": "250"}
    answer = client.post(
        "/organiser/selection/run",
        data={"csrf_token": csrf, "role": "resident", "form_id": "resident", **typed},
    )
    _refused_page(answer.text, answer.status_code)
    message = dutch("must be a number such as 0.1")
    assert_kept(answer.text, "/organiser/selection/run", typed, "tolerance", message)


def test_a_refused_panel_draw_keeps_the_seed_and_the_dropout_rates(
    demo_client: tuple[Client, Any],
) -> None:
    client, _info = demo_client
    csrf = _lottery(demo_client)
    assert upload(client, register_csv(150)).status_code == 303
    client.post("/organiser/lottery/commit", data={"csrf_token": csrf, "sample_size": "50"})
    assert (
        client.post("/organiser/lottery/draw", data={"csrf_token": csrf, "seed": SEED}).status_code
        == 303
    )
    register_everyone(client, current_summit_id(client))
    run_selection(client, csrf)
    client.get("/organiser/selection?lang=nl")
    typed = {"seed": "1234567890 0987654321", "dropout_rates": "leeftijd is jong"}
    answer = client.post(
        "/organiser/selection/draw",
        data={"csrf_token": csrf, "role": "resident", "form_id": "resident", **typed},
    )
    _refused_page(answer.text, answer.status_code)
    message = dutch(
        "The dropout rates could not be read: write one group of the quotas per line as "
        "feature=value: rate, the rate a share below 1 (0.05) or a percentage (5%)."
    )
    assert_kept(answer.text, "/organiser/selection/draw", typed, "dropout_rates", message)


def test_the_overtime_button_is_refused_on_the_moderator_page(client: Client) -> None:
    """A round over time on a summit with no programme: "next item" is refused on the
    moderator's own page, the message by the button, the overtime notice still there."""
    from sqlalchemy import update

    from summit.core.models import Round, utcnow

    async def prepare() -> None:
        async with client.db.session() as session:
            await repository.add_staff_user(session, "organiser", PASSWORD, "organiser")
            await repository.add_staff_user(session, "moderator", PASSWORD, "moderator")
        await make_seated_summit(client.db, tokens={})

    client.run(prepare())
    assert login(client, "organiser", PASSWORD).status_code == 303
    csrf = csrf_of(client.get("/seating?lang=nl").text)
    opened = client.post("/seating/rounds/1/open", data={"csrf_token": csrf, "minutes": "10"})
    assert opened.status_code == 303

    async def overrun() -> None:
        async with client.db.session() as session:
            ends = utcnow() - dt.timedelta(minutes=7)
            await session.execute(update(Round).where(Round.number == 1).values(ends_at=ends))

    client.run(overrun())
    client.cookies.clear()
    assert login(client, "moderator", PASSWORD).status_code == 303
    shown = client.get("/moderator?lang=nl")
    assert any(f.action == "/programme/advance" for f in parse(shown.text).forms)
    answer = client.post(
        "/programme/advance", data={"csrf_token": csrf_of(shown.text), "form_page": "/moderator"}
    )
    _refused_page(answer.text, answer.status_code)
    message = dutch("the programme has no items yet")
    assert_kept(answer.text, "/programme/advance", {}, "programme", message)
    assert dutch("Over time by %(n)s min.", n=7) in answer.text


# --- The programme's move and delete buttons -----------------------------------------------


def test_refused_programme_moves_and_delete_come_back_by_their_button(
    organiser: tuple[Client, str],
) -> None:
    """Moving the first item up, and deleting the item that is running now, are refused on the
    manage page itself, the message by the very button pressed (each row has its own forms)."""
    client, csrf = organiser
    for title, start in (("Welkom", "09:00"), ("Gesprek", "09:30")):
        added = client.post(
            "/programme/items",
            data={
                "csrf_token": csrf,
                "kind": "agenda",
                "title": title,
                "start": start,
                "duration": "30",
            },
        )
        assert added.status_code == 303, added.text
    manage = client.get("/programme/manage?lang=nl").text
    first = re.findall(r'data-item="(\d+)"', manage)[0]
    move = f"/programme/items/{first}/move"
    answer = client.post(move, data={"csrf_token": csrf, "form_id": "up", "direction": "up"})
    _refused_page(answer.text, answer.status_code)
    parsed = parse(answer.text)
    up, down = [f for f in parsed.forms if f.action == move]
    button = next(c for c in up.controls if c.tag == "button")
    assert button.attrs.get("aria-invalid") == "true"
    error_id = button.attrs["aria-describedby"]
    assert parsed.texts[error_id].strip() == dutch("the item is already the first")
    assert f"#{button.attrs['id']}" in parsed.links
    assert not any("aria-invalid" in c.attrs for c in down.controls)  # only the button pressed
    assert answer.text.count('role="alert"') == 1

    assert client.post("/programme/advance", data={"csrf_token": csrf}).status_code == 303
    delete = f"/programme/items/{first}/delete"
    answer = client.post(delete, data={"csrf_token": csrf})
    _refused_page(answer.text, answer.status_code)
    parsed = parse(answer.text)
    form = next(f for f in parsed.forms if f.action == delete)
    button = next(c for c in form.controls if c.tag == "button")
    assert button.attrs.get("aria-invalid") == "true"
    message = dutch("the current item cannot be deleted; advance first")
    assert parsed.texts[button.attrs["aria-describedby"]].strip() == message
    assert f"#{button.attrs['id']}" in parsed.links
    assert re.findall(r'data-item="(\d+)"', answer.text)[0] == first  # nothing was deleted


# --- The moderator's visit to an online table ------------------------------------------------


def test_a_refused_visit_comes_back_by_the_table_button(demo: Any) -> None:
    """A visit to a table that is no longer online (a stale page) is refused on the online
    tables page, the message by the button of the table card pressed."""
    client, info = demo
    assert login(client, "moderator", info.moderator_password).status_code == 303
    page = client.get("/moderator/video?lang=nl").text
    cards = re.findall(r'data-table="(\d+)"', page)
    assert cards, "the demo round has online tables"
    vf = f"table-{cards[0]}"
    answer = client.post(
        "/moderator/video/visit",
        data={"csrf_token": csrf_of(page), "form_id": vf, "table": "999"},
    )
    _refused_page(answer.text, answer.status_code)
    parsed = parse(answer.text)
    form = next(
        f
        for f in parsed.forms
        if f.action == "/moderator/video/visit"
        and any(c.attrs.get("value") == vf for c in f.controls)
    )
    button = next(c for c in form.controls if c.tag == "button")
    assert button.attrs.get("aria-invalid") == "true"
    message = dutch("%(number)s is not an online or hybrid table", number=999)
    assert parsed.texts[button.attrs["aria-describedby"]].strip() == message
    assert f"#{button.attrs['id']}" in parsed.links
    assert answer.text.count('role="alert"') == 1
