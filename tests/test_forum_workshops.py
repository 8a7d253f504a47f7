"""Workshops (werkplaatsen) through the real app: creating one, volunteering, confirming or
drawing the members by lot (the lottery's verifiable draw), experts and officials with personal
links, meetings, the working page with the reactions grouped into themes, revisions citing
reactions, and the submission that becomes the proposal's version on the Burgerraad's ballot."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from summit.core.models import Summit
from summit.core.rules.draw import Commitment, DrawEntry, verify_draw
from summit.council import receipt_key
from summit.council import vote as council_vote
from summit.council.models import CouncilVoteItem, Proposal, ProposalVersion
from summit.forum.models import Citation, Contribution, Meeting, Revision, Workshop, WorkshopMember
from summit.ideas.themes import ThemeService
from tests.support.forum import World
from tests.support.ideas import TrigramEmbedder


def create(world: World, **change: Any) -> Any:
    world.staff("organiser")
    form = {
        "title": "Werkplaats fietsroutes",
        "description": "Verwerkt de reacties.",
        "capacity": "3",
        "subject": f"proposal:{world.proposals[0]}",
        **change,
    }
    return world.post("/forum/manage/workshops", form, "/forum/manage")


def workshop_id(world: World) -> int:
    response = create(world)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def volunteer(world: World, wid: int, index: int) -> str:
    name = world.participant(index)
    response = world.post(f"/forum/workshops/{wid}/volunteer", {}, f"/forum/workshops/{wid}")
    assert response.status_code == 303, response.text
    return name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required"),
        ({"subject": ""}, "Choose one proposal or one theme"),
        ({"subject": "proposal:999"}, "not on the forum"),
        ({"subject": "theme:999"}, "This theme does not exist"),
        ({"capacity": "0"}, "Choose between 1 and 200 members"),
        ({"capacity": "many"}, "whole number"),
    ],
)
def test_bad_workshops_are_refused_and_nothing_is_stored(
    world: World, change: dict[str, str], message: str
) -> None:
    response = create(world, **change)
    assert response.status_code in {400, 404} and message in response.text
    assert world.count(Workshop) == 0 and not world.audit("forum.workshop")


def test_a_theme_workshop_writes_a_new_proposal_owned_by_it(world: World) -> None:
    response = create(world, subject=f"theme:{world.theme_id}")
    wid = int(response.headers["location"].rsplit("/", 1)[1])
    text = {"title": "Fietsen naar school", "text": "Vrijliggende fietspaden."}
    assert (
        world.post(f"/forum/workshops/{wid}/revisions", text, f"/forum/workshops/{wid}").status_code
        == 303
    )
    assert (
        world.post(f"/forum/workshops/{wid}/submit", {}, f"/forum/workshops/{wid}").status_code
        == 303
    )
    (entry,) = world.audit("proposal.create")[-1:]
    assert entry.payload["owner"] == f"workshop:{wid}" and entry.payload["theme"] == world.theme_id


def test_members_volunteer_and_the_organiser_confirms_while_they_fit(world: World) -> None:
    wid = workshop_id(world)
    assert world.client.get(f"/forum/workshops/{wid}").status_code == 200  # public
    first = volunteer(world, wid, 0)
    again = world.post(f"/forum/workshops/{wid}/volunteer", {}, f"/forum/workshops/{wid}")
    assert again.status_code == 400 and "already volunteered" in again.text
    world.anonymous()
    page = f"/forum/workshops/{wid}"
    assert world.post(f"/forum/workshops/{wid}/volunteer", {}, page).status_code == 401
    world.staff("organiser")
    wrong = world.post(f"/forum/workshops/{wid}/confirm", {"member": "P-NOBODY"}, page)
    assert wrong.status_code == 400 and "P-NOBODY has not volunteered" in wrong.text
    assert world.post(f"/forum/workshops/{wid}/confirm", {"member": first}, page).status_code == 303
    (entry,) = world.audit("forum.member")
    assert entry.payload == {"member": first, "decision": "confirmed"}
    no_draw = world.post(f"/forum/workshops/{wid}/commit", {}, page)
    assert no_draw.status_code == 400 and "confirm them without a draw" in no_draw.text


def test_an_oversubscribed_workshop_draws_its_members_verifiably(world: World) -> None:
    wid = workshop_id(world)
    names = [volunteer(world, wid, i) for i in range(5)]
    world.staff("organiser")
    page = f"/forum/workshops/{wid}"
    refused = world.post(f"/forum/workshops/{wid}/confirm", {"member": names[0]}, page)
    assert refused.status_code == 400 and "draw the members by lot" in refused.text
    early = world.post(f"/forum/workshops/{wid}/draw", {"seed": "1234567890"}, page)
    assert early.status_code == 400 and "Commit the draw first" in early.text
    assert world.post(f"/forum/workshops/{wid}/commit", {}, page).status_code == 303
    world.participant(5)
    late = world.post(f"/forum/workshops/{wid}/volunteer", {}, page)
    assert late.status_code == 400 and "volunteering is closed" in late.text
    world.staff("organiser")
    bad = world.post(f"/forum/workshops/{wid}/draw", {"seed": "12 34"}, page)
    assert bad.status_code == 400 and "Type the 10 dice digits" in bad.text
    assert (
        world.post(f"/forum/workshops/{wid}/draw", {"seed": "3141592653"}, page).status_code == 303
    )
    (committed,) = world.audit("forum.draw.commit")
    (drawn,) = world.audit("forum.draw")
    assert len(drawn.payload["drawn"]) == 3
    commitment = Commitment.from_dict(committed.payload["commitment"])
    check = verify_draw(
        [DrawEntry(n) for n in names], commitment, "3141592653", drawn.payload["drawn"]
    )
    assert check.ok, check.message
    assert world.count(WorkshopMember, WorkshopMember.status == "member") == 3
    assert world.count(WorkshopMember, WorkshopMember.status == "not_drawn") == 2
    public = world.client.get(page).text
    assert "3141592653" in public and committed.payload["commitment_hash"] in public


def _grouping(world: World) -> None:
    state: Any = world.client.app.state  # type: ignore[attr-defined]
    state.theme_service = ThemeService(world.client.db, state.bus, embedder=TrigramEmbedder())


def _reactions(world: World) -> list[int]:
    world.with_code()
    texts = [
        ("support", "Veilige fietspaden langs school zijn nodig"),
        ("support", "Veilige fietspaden voor de kinderen"),
        ("concerns", "Parkeerplaatsen verdwijnen voor de winkels"),
        ("concerns", "Minder parkeerplaatsen is slecht voor de winkels"),
        ("question", "Wie betaalt de fietspaden?"),
    ]
    for stance, text in texts:
        assert world.react(world.proposals[0], stance, text).status_code == 303

    async def ids() -> list[int]:
        from summit.forum.models import Reaction

        async with world.client.db.session() as session:
            return list(
                (await session.execute(select(Reaction.id).order_by(Reaction.id))).scalars()
            )

    return list(world.run(ids()))


def test_a_member_sees_reactions_grouped_and_writes_a_revision_citing_two(world: World) -> None:
    _grouping(world)
    rids = _reactions(world)
    wid = workshop_id(world)
    member = volunteer(world, wid, 0)
    world.staff("organiser")
    world.post(f"/forum/workshops/{wid}/confirm", {"member": member}, f"/forum/workshops/{wid}")
    # Volunteers who are not (yet) members, and the public, do not work here.
    volunteer(world, wid, 1)
    assert world.client.get(f"/forum/workshops/{wid}/work").status_code == 403
    world.participant(0)
    work = world.client.get(f"/forum/workshops/{wid}/work")
    assert work.status_code == 200
    groups = re.findall(r"data-group", work.text)
    assert len(groups) >= 2
    assert "Most typical:" in work.text and 'data-stance-count="concerns">2<' in work.text
    form = {
        "title": "Veilige fietsroutes",
        "text": "Vrijliggende fietspaden; parkeren blijft.",
        "cites": [rids[0], rids[2]],
    }
    page = f"/forum/workshops/{wid}/work"
    assert world.post(f"/forum/workshops/{wid}/revisions", form, page).status_code == 303
    (entry,) = world.audit("forum.revise")
    assert entry.actor == member and entry.payload["cites"] == [rids[0], rids[2]]
    assert entry.payload["role"] == "member"
    assert world.count(Citation) == 2
    # The reaction's author sees it was used; so does everyone on the proposal's page.
    world.anonymous()
    world.with_code()
    mine = world.client.get("/forum/mine").text
    assert mine.count("Werkplaats fietsroutes, revision 1") == 2
    proposal = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert "Used in:" in proposal and "1 revision in workshops" in proposal


@pytest.mark.parametrize(
    ("note", "status", "message"),
    [
        ("   ", 400, "This field is required"),
        ("x" * 5001, 400, "Keep it under 5000 characters"),
        ("Een notitie van buiten", 403, "Only the workshop's members"),
    ],
)
def test_bad_notes_are_refused_and_nothing_is_stored(
    world: World, note: str, status: int, message: str
) -> None:
    wid = workshop_id(world)
    if status == 400:
        member = volunteer(world, wid, 0)
        world.staff("organiser")
        confirm = {"member": member}
        assert world.post(f"/forum/workshops/{wid}/confirm", confirm, "/forum").status_code == 303
        world.participant(0)
    else:
        world.participant(1)  # not a member of this workshop
    page = f"/forum/workshops/{wid}/work"
    response = world.post(
        f"/forum/workshops/{wid}/notes", {"note": note}, f"/forum/workshops/{wid}"
    )
    assert response.status_code == status and message in html.unescape(response.text), page
    assert world.count(Contribution) == 0 and not world.audit("forum.contribute")


def test_revoking_an_unknown_guest_is_a_clear_404(world: World) -> None:
    wid = workshop_id(world)
    page = f"/forum/workshops/{wid}"
    response = world.post(f"/forum/workshops/{wid}/guests/999999/revoke", {}, page)
    assert response.status_code == 404 and "This guest does not exist." in response.text
    assert not world.audit("forum.guest.revoke")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required"),
        ({"text": ""}, "This field is required"),
        ({"cost": "x" * 20_001}, "Keep it under 20000 characters"),
        ({"cites": ["999"]}, "Reaction 999 is not a visible reaction on this proposal"),
        ({"cites": ["zero"]}, "whole number"),
    ],
)
def test_bad_revisions_are_refused_and_nothing_is_stored(
    world: World, change: dict[str, Any], message: str
) -> None:
    wid = workshop_id(world)
    form = {"title": "Titel", "text": "Tekst", **change}
    response = world.post(f"/forum/workshops/{wid}/revisions", form, f"/forum/workshops/{wid}")
    assert response.status_code == 400 and message in response.text
    assert world.count(Revision) == 0 and world.count(Citation) == 0


def test_a_hidden_reaction_or_another_proposals_cannot_be_cited(world: World) -> None:
    world.with_code()
    world.react(world.proposals[1], "support", "Over een ander voorstel")
    wid = workshop_id(world)
    form = {"title": "Titel", "text": "Tekst", "cites": ["1"]}
    response = world.post(f"/forum/workshops/{wid}/revisions", form, f"/forum/workshops/{wid}")
    assert (
        response.status_code == 400 and "not a visible reaction on this proposal" in response.text
    )


def test_experts_and_officials_work_with_a_revocable_personal_link(world: World) -> None:
    wid = workshop_id(world)
    page = f"/forum/workshops/{wid}"
    bad = world.post(f"/forum/workshops/{wid}/guests", {"role": "mayor", "name": "X"}, page)
    assert bad.status_code == 400 and "Choose expert or official" in bad.text
    empty = world.post(f"/forum/workshops/{wid}/guests", {"role": "expert", "name": ""}, page)
    assert empty.status_code == 400
    shown = world.post(
        f"/forum/workshops/{wid}/guests", {"role": "expert", "name": "Verkeerskundige"}, page
    )
    link = re.search(
        r'id="guest-link" class="wide" readonly value="http://testserver(/forum/guest/[^"]+)"',
        shown.text,
    )
    assert link, shown.text
    assert link.group(1) not in world.client.get(page).text  # shown once only
    (invited,) = world.audit("forum.guest.invite")
    assert invited.payload["role"] == "expert" and "Verkeerskundige" not in str(invited.payload)
    world.anonymous()
    assert world.client.get(link.group(1)).status_code == 303
    work = world.client.get(f"/forum/workshops/{wid}/work")
    assert (
        work.status_code == 200
        and "deskundige" in world.client.get(f"/forum/workshops/{wid}/work?lang=nl").text
    )
    note = world.post(f"/forum/workshops/{wid}/notes", {"note": "Advies: 30 km/u werkt."}, page)
    assert note.status_code == 303
    assert world.count(Contribution, Contribution.author_role == "expert") == 1
    assert "Verkeerskundige" in world.client.get(page).text
    # The organiser revokes the link: the guest's session stops working at once.
    guest_cookies = dict(world.client.cookies)
    world.staff("organiser")

    async def guest_id() -> int:
        from summit.forum.models import WorkshopGuest

        async with world.client.db.session() as session:
            return int(await session.scalar(select(WorkshopGuest.id)) or 0)

    gid = world.run(guest_id())
    assert world.post(f"/forum/workshops/{wid}/guests/{gid}/revoke", {}, page).status_code == 303
    world.client.cookies.clear()
    world.client.cookies.update(guest_cookies)
    assert world.client.get(f"/forum/workshops/{wid}/work").status_code == 403
    world.client.cookies.clear()
    gone = world.client.get(link.group(1) + "?lang=en")
    assert gone.status_code == 404 and "revoked" in gone.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required"),
        ({"starts_at": "tomorrow"}, "YYYY-MM-DD HH:MM"),
        ({"starts_at": "2001-01-01T10:00"}, "planned in the future"),
        ({"place": ""}, "Give the place, or choose an online meeting"),
    ],
)
def test_bad_meetings_are_refused(world: World, change: dict[str, str], message: str) -> None:
    wid = workshop_id(world)
    form = {
        "title": "Eerste avond",
        "starts_at": "2999-01-01T19:30",
        "place": "Bibliotheek",
        **change,
    }
    response = world.post(f"/forum/workshops/{wid}/meetings", form, f"/forum/workshops/{wid}")
    assert response.status_code == 400 and message in response.text
    assert world.count(Meeting) == 0


def test_meetings_are_planned_at_a_place_or_online(world: World) -> None:
    wid = workshop_id(world)
    page = f"/forum/workshops/{wid}"
    form = {"title": "Online avond", "starts_at": "2999-01-01T19:30", "place": "", "online": "1"}
    assert world.post(f"/forum/workshops/{wid}/meetings", form, page).status_code == 303
    assert "Online avond" in world.client.get(page).text and world.audit("forum.meeting")


ROOM = {
    "forum_room_opens_before": "10",
    "forum_meeting_minutes": "90",
    "forum_room_closes_after": "5",
}


def _summit_settings(world: World) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with world.client.db.session() as session:
            summit = await session.get(Summit, world.summit_id)
            assert summit is not None
            return dict(summit.settings or {})

    return dict(world.run(read()))


def test_the_organiser_sets_when_meeting_rooms_open_and_close(world: World) -> None:
    world.staff("organiser")
    page = world.client.get("/forum/manage?lang=en").text
    assert "Video rooms of online meetings" in page and 'value="30"' in page  # the defaults
    saved = world.post("/forum/manage/meeting-room", ROOM, "/forum/manage")
    assert saved.status_code == 303
    settings = _summit_settings(world)
    assert {k: settings[k] for k in ROOM} == {k: int(v) for k, v in ROOM.items()}
    (entry,) = world.audit("forum.meeting_room")
    assert entry.payload == {k: int(v) for k, v in ROOM.items()}
    assert 'value="90"' in world.client.get("/forum/manage").text
    world.staff("moderator")
    refused = world.post("/forum/manage/meeting-room", ROOM, "/forum/moderate")
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"forum_room_opens_before": "-1"}, "Choose between 0 and 1440 minutes"),
        ({"forum_meeting_minutes": "0"}, "Choose between 1 and 1440 minutes"),
        ({"forum_room_closes_after": "1441"}, "Choose between 0 and 1440 minutes"),
        ({"forum_meeting_minutes": "twee uur"}, "whole number"),
        ({"forum_room_opens_before": ""}, "required"),
    ],
)
def test_bad_meeting_room_times_are_refused_and_nothing_changes(
    world: World, change: dict[str, str], message: str
) -> None:
    world.staff("organiser")
    form = {**ROOM, **change}
    response = world.post("/forum/manage/meeting-room", form, "/forum/manage")
    assert response.status_code == 400 and message in response.text
    assert next(iter(change.values())) in response.text or not next(iter(change.values()))
    assert not set(ROOM) & set(_summit_settings(world)) and not world.audit("forum.meeting_room")


def test_the_submitted_revision_becomes_the_version_on_the_burgerraad_ballot(world: World) -> None:
    wid = workshop_id(world)
    page = f"/forum/workshops/{wid}"
    nothing = world.post(f"/forum/workshops/{wid}/submit", {}, page)
    assert nothing.status_code == 400 and "Write a revision before submitting" in nothing.text
    for text in ("Eerste tekst", "Tweede, betere tekst"):
        form = {"title": "Veilige fietsroutes", "text": text, "who_acts": "Gemeente"}
        assert world.post(f"/forum/workshops/{wid}/revisions", form, page).status_code == 303
    assert world.post(f"/forum/workshops/{wid}/submit", {}, page).status_code == 303
    (entry,) = world.audit("forum.submit")
    assert entry.payload["revision"] == 2 and entry.payload["version"] == 2

    async def check() -> tuple[ProposalVersion, int, int]:
        async with world.client.db.session() as session:
            summit = await session.get(Summit, world.summit_id)
            assert summit is not None
            row = await session.scalar(
                select(ProposalVersion).where(
                    ProposalVersion.proposal_id == world.proposals[0], ProposalVersion.version == 2
                )
            )
            assert row is not None
            vote = await council_vote.create_council_vote(
                session, summit, actor="test", title="Burgerraad", proposal_ids=[world.proposals[0]]
            )
            item = await session.scalar(
                select(CouncilVoteItem).where(CouncilVoteItem.council_vote_id == vote.id)
            )
            assert item is not None
            return row, item.proposal_version, vote.id

    version, on_ballot, vote_id = world.run(check())
    assert version.text == "Tweede, betere tekst" and on_ballot == 2
    assert world.count(Proposal, Proposal.owner == f"workshop:{wid}") == 1
    assert version.sha256 == entry.payload["sha256"]
    frozen = world.post(f"/forum/workshops/{wid}/revisions", {"title": "T", "text": "x"}, page)
    assert frozen.status_code == 400 and "no longer changes" in frozen.text
    again = world.post(f"/forum/workshops/{wid}/submit", {}, page)
    assert again.status_code == 400
    world.anonymous()
    public = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert "Submitted by Werkplaats fietsroutes as version 2" in public
    assert "on the ballot, version 2" in public

    # The chain ends with the Burgerraad's result: voting, then (here, without ballots) rejected.
    async def vote(close: bool) -> None:
        async with world.client.db.session() as session:
            if close:
                await council_vote.count_and_close(session, world.summit_id, vote_id, actor="test")
            else:
                key = receipt_key(world.client.app.state.settings.secret_key)
                await council_vote.open_council_vote(
                    session, world.summit_id, vote_id, actor="test", key=key
                )

    world.staff("organiser")  # signed in: a fresh page, never the anonymous one-second cache
    world.run(vote(close=False))
    assert (
        "voting now on version 2" in world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    )
    world.run(vote(close=True))
    closed = world.client.get(f"/forum/proposals/{world.proposals[0]}").text
    assert "Burgerraad: not adopted (0 for, 0 against, 0 abstained)" in closed


def test_a_meeting_time_is_read_on_the_summits_clock(world: World) -> None:
    wid = workshop_id(world)
    page = f"/forum/workshops/{wid}"
    assert "Date and time (Europe/Amsterdam)" in world.client.get(page + "?lang=en").text
    form = {"title": "Zomeravond", "starts_at": "2999-07-01T19:30", "place": "Bibliotheek"}
    assert world.post(f"/forum/workshops/{wid}/meetings", form, page).status_code == 303

    async def starts() -> dt.datetime:
        async with world.client.db.session() as session:
            found = await session.scalar(select(Meeting.starts_at))
            assert found is not None
            return found

    stored = world.run(starts())
    if stored.tzinfo is not None:
        stored = stored.astimezone(dt.UTC).replace(tzinfo=None)
    assert stored == dt.datetime(2999, 7, 1, 17, 30)  # 19:30 summer time in Amsterdam
