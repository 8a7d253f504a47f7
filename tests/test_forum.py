"""The Burgerforum through the real app: public proposal pages, taking part (letter code,
postcode, confirmed e-mail), reactions with their refusals, paper and meeting reactions,
reporting and hiding with a public reason, and the audit trail of all of it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from summit.forum.mail import OutboxMailer
from summit.forum.models import Reaction, Reactor
from tests.support.forum import CODE, WITHDRAWN, World
from tests.support.http import csrf_of

# --- the public pages ---------------------------------------------------------------------------


def test_proposal_pages_are_public_with_origin_versions_and_both_languages(world: World) -> None:
    page = world.client.get("/forum")
    assert page.status_code == 200
    for title in ("Veilige fietsroutes", "Buurthuizen", "Moestuinen"):
        assert title in page.text
    first = world.client.get(f"/forum/proposals/{world.proposals[0]}")
    assert first.status_code == 200
    text = first.text
    assert "Theme:" in text and "Fietsen" in text
    assert "Fietspad langs de school" in text and "tables 7" in text
    assert "1 version" in text and "From the summit to the Burgerraad" in text
    dutch = world.client.get(f"/forum/proposals/{world.proposals[0]}?lang=nl").text
    assert "Van de burgertop naar de Burgerraad" in dutch and "Reacties" in dutch
    assert world.client.get("/forum/proposals/999").status_code == 404


# --- taking part and reacting -------------------------------------------------------------------


def test_a_resident_with_a_letter_code_reacts_and_the_log_holds_only_a_hash(world: World) -> None:
    page = f"/forum/proposals/{world.proposals[1]}"
    assert "Take part" in world.client.get(page).text
    assert world.with_code(CODE.lower()).status_code == 303  # case does not matter
    done = world.react(world.proposals[1], "support", "Goed plan, doe het snel.")
    assert done.status_code == 303
    shown = world.client.get(page).text
    assert "Goed plan, doe het snel." in shown and "Support" in shown
    (entry,) = world.audit("forum.react")
    assert "Goed plan" not in str(entry.payload)
    assert entry.payload["stance"] == "support" and len(entry.payload["sha256"]) == 64
    # The same code later is the same resident: a second device continues as them.
    world.anonymous()
    world.with_code(CODE)
    again = world.react(world.proposals[1], "support", "Goed plan,  DOE het snel.")
    assert again.status_code == 400 and "already placed this reaction" in again.text
    assert world.count(Reactor, Reactor.kind == "letter_code") == 1


@pytest.mark.parametrize(
    ("method", "value", "message"),
    [
        ("letter_code", "ZZZZZZZZZZ", "This code is not known"),
        ("letter_code", WITHDRAWN, "This invitation was withdrawn"),
        ("letter_code", "", "Type the code from your invitation letter"),
        ("postcode", "9999 ZZ", "Postcode 9999ZZ is not in Teststad"),
        ("postcode", "12", "Write a postcode like 1234 AB"),
        ("email", "someone@example.org", "E-mail confirmation is switched off"),
        ("carrier-pigeon", "", "Choose how you show that you may react"),
    ],
)
def test_each_refusal_to_take_part_says_why(
    world: World, method: str, value: str, message: str
) -> None:
    field = {"letter_code": "code", "postcode": "postcode", "email": "email"}.get(method, "x")
    response = world.post("/forum/take-part", {"method": method, field: value})
    assert response.status_code == 400 and message in response.text
    if value and method != "email":
        assert f'value="{value}"' in response.text  # what was typed stays
    assert world.count(Reactor) == 0


def test_a_method_the_summit_does_not_accept_is_refused(world: World) -> None:
    world.settings(methods=["letter_code"])
    response = world.post("/forum/take-part", {"method": "postcode", "postcode": "1234 AA"})
    assert response.status_code == 400
    assert "does not take part by a postcode" in response.text
    assert "It accepts: the code on your invitation letter" in response.text


def test_a_postcode_in_the_list_lets_a_resident_react(world: World) -> None:
    assert (
        world.post("/forum/take-part", {"method": "postcode", "postcode": "1234 xy"}).status_code
        == 303
    )
    assert world.react(world.proposals[2], "question", "Wie onderhoudt de tuin?").status_code == 303
    world.anonymous()
    assert (
        world.post("/forum/take-part", {"method": "postcode", "postcode": "5678 AB"}).status_code
        == 303
    )
    world.anonymous()
    refused = world.post("/forum/take-part", {"method": "postcode", "postcode": "5678 AC"})
    assert refused.status_code == 400
    assert world.count(Reactor, Reactor.kind == "postcode") == 2


def test_email_confirmation_is_off_without_a_mailer_and_works_with_one(world: World) -> None:
    page = world.client.get("/forum/take-part").text
    assert "data-mail-disabled" in page and "cannot send e-mail yet" in page
    outbox = OutboxMailer()
    world.client.app.state.mailer = outbox  # type: ignore[attr-defined]
    page = world.client.get("/forum/take-part").text
    assert "data-mail-disabled" not in page
    bad = world.post("/forum/take-part", {"method": "email", "email": "not-an-address"})
    assert bad.status_code == 400 and "does not look like an e-mail address" in bad.text
    sent = world.post("/forum/take-part", {"method": "email", "email": "Ann@Example.org"})
    assert sent.status_code == 200 and "We sent you an e-mail" in sent.text
    (to, _subject, body) = outbox.outbox[-1]
    assert to == "Ann@Example.org"
    link = re.search(r"http://testserver(/forum/confirm/\S+)", body)
    assert link
    # Not confirmed yet: reacting is refused with a pointer to taking part.
    refused = world.react(world.proposals[0], "support", "Mooi voorstel")
    assert refused.status_code == 403 and "First show that you may react" in refused.text
    assert world.client.get(link.group(1)).status_code == 303
    assert world.react(world.proposals[0], "support", "Mooi voorstel").status_code == 303
    assert world.client.get(link.group(1)).status_code == 404  # used once
    stored = str(world.run(_reactor_rows(world)))
    assert "Ann@Example.org".lower() not in stored.lower()
    assert world.audit("forum.confirm")


async def _reactor_rows(world: World) -> list[tuple[Any, ...]]:
    async with world.client.db.session() as session:
        rows = await session.execute(select(Reactor.__table__))
        return [tuple(r) for r in rows]


def test_an_expired_confirmation_link_is_refused(world: World) -> None:
    outbox = OutboxMailer()
    world.client.app.state.mailer = outbox  # type: ignore[attr-defined]
    world.post("/forum/take-part", {"method": "email", "email": "late@example.org"})
    path = re.search(r"http://testserver(/forum/confirm/\S+)", outbox.outbox[-1][2])
    assert path

    async def expire() -> None:
        async with world.client.db.session() as session:
            row = await session.scalar(select(Reactor))
            assert row is not None
            row.confirm_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    world.run(expire())
    response = world.client.get(path.group(1))
    assert response.status_code == 404 and "has expired" in response.text


@pytest.mark.parametrize(
    ("stance", "text", "message"),
    [
        ("support", "   ", "the reaction is empty"),
        ("support", "ok", "Write at least 3 characters"),
        ("support", "x" * 201, "Keep it under 200 characters (you wrote 201)"),
        ("", "Een goede reactie", "Choose support, concerns or a question"),
        ("angry", "Een goede reactie", "Choose support, concerns or a question"),
    ],
)
def test_bad_reactions_are_refused_and_what_was_typed_stays(
    world: World, stance: str, text: str, message: str
) -> None:
    world.with_code()
    response = world.react(world.proposals[0], stance, text)
    assert response.status_code == 400 and message in response.text
    if text.strip():
        assert text.strip() in response.text
    assert world.count(Reaction) == 0 and not world.audit("forum.react")


def test_reactions_are_refused_when_closed_unproven_or_too_many(world: World) -> None:
    refused = world.react(world.proposals[0], "support", "Zonder bewijs")
    assert refused.status_code == 403 and "First show that you may react" in refused.text
    world.with_code()
    for n in range(5):
        assert world.react(world.proposals[0], "support", f"Reactie nummer {n}").status_code == 303
    too_many = world.react(world.proposals[0], "support", "Nog eentje")
    assert too_many.status_code == 403 and "the most allowed" in too_many.text
    world.settings(open=False, per_hour=100)
    closed = world.react(world.proposals[0], "support", "Na sluiting")
    assert closed.status_code == 403 and "does not take reactions at the moment" in closed.text
    assert world.count(Reaction) == 5


def test_a_participant_reacts_as_themselves(world: World) -> None:
    pseudonym = world.participant(0)
    world.client.get(f"/forum/proposals/{world.proposals[0]}")
    world.client.get("/forum/map")
    assert world.count(Reactor) == 0  # reading writes nothing
    assert world.react(world.proposals[0], "concerns", "Te duur voor nu.").status_code == 303
    page = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert pseudonym in page and "summit participant" in page
    assert world.audit("forum.react")[0].actor == pseudonym


def test_the_rate_limit_per_address_answers_429(world: World) -> None:
    from summit.forum import access

    world.with_code()
    token = csrf_of(world.client.get("/forum/take-part").text)
    statuses = [
        world.client.post(
            f"/forum/proposals/{world.proposals[0]}/react",
            data={"csrf_token": token, "stance": "", "text": ""},
        ).status_code
        for _ in range(access.POSTS_PER_MINUTE + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}


# --- staff: paper and meeting reactions, settings ------------------------------------------------


def test_staff_enter_paper_and_meeting_reactions_marked_as_such(world: World) -> None:
    world.staff("organiser")
    base = {"proposal": world.proposals[0], "stance": "support", "text": "Op papier ingeleverd"}
    assert (
        world.post(
            "/forum/manage/reactions", {**base, "source": "paper"}, "/forum/manage"
        ).status_code
        == 303
    )
    meeting = {
        **base,
        "text": "Gezegd op de bijeenkomst",
        "source": "meeting",
        "meeting_name": "Wijkavond Noord",
        "meeting_date": "2026-11-30",
    }
    assert world.post("/forum/manage/reactions", meeting, "/forum/manage").status_code == 303
    page = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert "from a paper form" in page
    assert "from the meeting “Wijkavond Noord” on 2026-11-30" in page
    entries = world.audit("forum.react")
    assert entries[-1].payload["meeting"] == "Wijkavond Noord"
    assert entries[-1].actor == entries[0].actor != "public"


def test_a_meeting_held_today_in_the_summits_zone_is_not_in_the_future(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 23:30 UTC it is already the next day in Amsterdam: a meeting held that (local) day is
    entered; the day after it is refused."""
    import datetime as dt

    from summit.forum import reactions

    late = dt.datetime(2026, 12, 5, 23, 30)
    monkeypatch.setattr(reactions, "utcnow", lambda: late)
    world.staff("organiser")
    form = {
        "proposal": str(world.proposals[0]),
        "stance": "support",
        "text": "Gezegd op de avond",
        "source": "meeting",
        "meeting_name": "Wijkavond Zuid",
        "meeting_date": "2026-12-06",
    }
    assert world.post("/forum/manage/reactions", form, "/forum/manage").status_code == 303
    later = {**form, "meeting_date": "2026-12-07"}
    refused = world.post("/forum/manage/reactions", later, "/forum/manage")
    assert refused.status_code == 400 and "cannot be in the future" in refused.text
    assert world.count(Reaction) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"source": "meeting", "meeting_name": ""}, "meeting_name", "Name the meeting"),
        ({"source": "meeting", "meeting_date": "30-11-2026"}, "meeting_date", "YYYY-MM-DD"),
        (
            {"source": "meeting", "meeting_date": "2999-01-01"},
            "meeting_date",
            "cannot be in the future",
        ),
        ({"source": "online"}, "source", "Choose a paper form or a meeting"),
        ({"proposal": "999"}, "proposal", "not on the forum"),
        ({"proposal": "abc"}, "proposal", "whole number"),
        ({"text": ""}, "text", "the reaction is empty"),
    ],
)
def test_bad_paper_reactions_are_refused_and_nothing_is_stored(
    world: World, change: dict[str, str], field: str, message: str
) -> None:
    world.staff("organiser")
    form = {
        "proposal": str(world.proposals[0]),
        "stance": "question",
        "text": "Een vraag van papier",
        "source": "paper",
        "meeting_name": "Wijkavond",
        "meeting_date": "2026-11-30",
        **change,
    }
    response = world.post("/forum/manage/reactions", form, "/forum/manage")
    assert response.status_code in {400, 404} and message in response.text
    assert world.count(Reaction) == 0


def test_only_the_organiser_enters_reactions_and_changes_settings(world: World) -> None:
    world.with_code()
    form = {"proposal": world.proposals[0], "stance": "support", "text": "xxx", "source": "paper"}
    assert world.post("/forum/manage/reactions", form).status_code == 401
    world.staff("moderator")
    assert world.post("/forum/manage/settings", {"open": "1"}).status_code == 403
    assert world.client.get("/forum/manage").status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"postcodes": "12AB"}, "“12AB” is not a postcode"),
        ({"methods": ["postcode"], "postcodes": ""}, "postcodes to use this check"),
        ({"max_length": "5"}, "Choose between 20 and 5000 characters"),
        ({"per_hour": "0"}, "Choose between 1 and 1000 reactions an hour"),
        ({"methods": ["telepathy"]}, "Choose from the listed ways"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    world: World, change: dict[str, Any], message: str
) -> None:
    world.staff("organiser")
    form = {
        "open": "1",
        "methods": ["letter_code"],
        "postcodes": "1234",
        "max_length": "300",
        "per_hour": "3",
        **change,
    }
    response = world.post("/forum/manage/settings", form, "/forum/manage")
    assert response.status_code == 400 and message in response.text
    assert not world.audit("forum.settings")


def test_settings_are_saved_and_logged(world: World) -> None:
    world.staff("organiser")
    form = {
        "methods": ["postcode"],
        "postcodes": "1111, 2222 AB",
        "max_length": "300",
        "per_hour": "3",
    }
    assert world.post("/forum/manage/settings", form, "/forum/manage").status_code == 303
    (entry,) = world.audit("forum.settings")
    assert entry.payload["open"] is False and entry.payload["methods"] == ["postcode"]
    assert entry.payload["postcodes"] == 2
    world.anonymous()
    assert "does not take reactions at the moment" in world.client.get("/forum").text


# --- moderation ---------------------------------------------------------------------------------


def _placed(world: World, text: str) -> int:
    world.with_code()
    assert world.react(world.proposals[0], "support", text).status_code == 303

    async def go() -> int:
        async with world.client.db.session() as session:
            found = await session.scalar(select(Reaction.id).where(Reaction.text == text))
            assert found is not None
            return int(found)

    return int(world.run(go()))


def test_anyone_reports_once_and_a_moderator_hides_with_a_public_reason(world: World) -> None:
    rid = _placed(world, "Koop goedkope zonnebrillen!")
    world.anonymous()
    page = f"/forum/proposals/{world.proposals[0]}"
    assert world.post(f"/forum/reactions/{rid}/report", {}, page).status_code == 303
    assert world.post(f"/forum/reactions/{rid}/report", {}, page).status_code == 303
    assert world.count(Reaction, Reaction.report_count == 1) == 1  # once per reporter
    # Nobody but staff hides; a moderator must give a reason from the list.
    assert world.post(f"/forum/reactions/{rid}/hide", {"reason": "spam"}, page).status_code == 401
    world.participant(1)
    assert world.post(f"/forum/reactions/{rid}/hide", {"reason": "spam"}, page).status_code == 403
    world.staff("moderator")
    queue = world.client.get("/forum/moderate").text
    assert "reported once" in queue and "Koop goedkope zonnebrillen!" in queue
    bad = world.post(
        f"/forum/reactions/{rid}/hide", {"reason": "i-dont-like-it"}, "/forum/moderate"
    )
    assert bad.status_code == 400 and "Choose one of the listed reasons" in bad.text
    assert (
        world.post(
            f"/forum/reactions/{rid}/hide", {"reason": "spam"}, "/forum/moderate"
        ).status_code
        == 303
    )
    again = world.post(f"/forum/reactions/{rid}/hide", {"reason": "spam"}, "/forum/moderate")
    assert again.status_code == 400 and "already hidden" in again.text
    world.anonymous()
    public = world.client.get(page).text
    assert "zonnebrillen" not in public
    assert 'data-hidden-count="1"' in public and "Spam or advertising (1)" in public
    (placed,) = world.audit("forum.react")
    (hidden,) = world.audit("forum.hide")
    assert (
        hidden.payload["sha256"] == placed.payload["sha256"] and hidden.payload["reason"] == "spam"
    )
    assert world.count(Reaction, Reaction.text == "") == 1  # the text itself is gone
    assert world.audit("forum.report")


def test_reporting_or_hiding_an_unknown_reaction_is_a_clear_404(world: World) -> None:
    page = f"/forum/proposals/{world.proposals[0]}"
    for path in ("/forum/reactions/999999/report", "/forum/reactions/zero/report"):
        response = world.post(path, {}, page)
        assert response.status_code == 404, path
    assert (
        "This reaction does not exist."
        in world.post("/forum/reactions/999999/report", {}, page).text
    )
    world.staff("moderator")
    hidden = world.post("/forum/reactions/999999/hide", {"reason": "spam"}, "/forum/moderate")
    assert hidden.status_code == 404 and "This reaction does not exist." in hidden.text
    assert not world.audit("forum.report") and not world.audit("forum.hide")


def test_my_reactions_page_lists_what_i_placed(world: World) -> None:
    assert "You have not shown yet" in world.client.get("/forum/mine").text
    _placed(world, "Mijn eigen reactie")
    mine = world.client.get("/forum/mine").text
    assert "Mijn eigen reactie" in mine and "Not used in a revision yet" in mine


def test_anonymous_readers_share_a_cached_page_with_their_own_token(world: World) -> None:
    from summit.forum import pagecache

    page = f"/forum/proposals/{world.proposals[0]}"
    first = world.client.get(page).text
    cache = world.client.app.state.forum_pages  # type: ignore[attr-defined]
    assert len(cache._pages) == 1
    world.client.cookies.clear()
    second = world.client.get(page + "?lang=en").text
    tokens = {re.findall(r'data-csrf="([^"]+)"', html)[0] for html in (first, second)}
    assert len(tokens) == 2 and pagecache.STAND_IN not in first + second
    # A resident who placed something always gets a fresh page.
    world.with_code()
    world.react(world.proposals[0], "support", "Meteen zichtbaar voor mij")
    assert "Meteen zichtbaar voor mij" in world.client.get(page).text


def test_me_calls_participants_to_the_forum_while_it_takes_reactions(world: World) -> None:
    buttons = r'href="([^"]+)" class="button-link"'
    world.settings(open=False)
    world.participant(0)
    assert "/forum" not in re.findall(buttons, world.client.get("/me").text)
    world.settings(open=True)
    world.participant(0)
    page = world.client.get("/me?lang=nl").text
    assert re.findall(buttons, page) == ["/forum"]
    assert "Het Burgerforum is open: lees de voorstellen en reageer." in page


# --- the settings row, created on first use -------------------------------------------------------


@pytest.mark.anyio
async def test_pages_opened_together_share_the_forum_settings_created_by_the_first(
    database: Any, backend: str
) -> None:
    """Many members opening their ballot page at once all ask for the forum's settings: the
    first creates them, a second waiting on that insert reads the row instead of failing."""
    import asyncio

    from summit.core import service as repository
    from summit.forum.settings import forum_settings

    if backend != "postgresql":
        pytest.skip("SQLite serialises writers: a second request never races the first insert")
    async with database.session() as session:
        summit = await repository.create_summit(
            session, actor="test", slug="together", name="Samen", municipality="Utrecht"
        )
        summit_id = summit.id
    async with database.sessions() as first:
        created = await forum_settings(first, summit_id)

        async def second() -> int:
            async with database.session() as session:
                return (await forum_settings(session, summit_id)).id

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)  # the second has read nothing and waits on the first's insert
        assert not waiting.done()
        await first.commit()
        assert await waiting == created.id
