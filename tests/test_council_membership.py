"""Who the Burgerraad members are: everyone (default), some roles, or a named list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from summit.core.models import Participant
from summit.core.rules.roles import Role
from summit.council.models import CouncilMember, CouncilVote
from summit.council.rules.voting import (
    Membership,
    MembershipKind,
    VotingError,
    parse_membership,
    select_members,
)
from tests.support.council import Council, Member

ROLES = [r.value for r in Role]


def _people(council: Council) -> list[tuple[int, str, str, str]]:
    async def go() -> list[tuple[int, str, str, str]]:
        async with council.client.db.session() as session:
            rows = await session.execute(
                select(Participant.id, Participant.pseudonym, Participant.role, Participant.status)
                .where(Participant.summit_id == council.summit_id)
                .order_by(Participant.id)
            )
            return [(r[0], r[1], r[2], r[3]) for r in rows]

    return council.run(go())


def _members(council: Council, vote: int) -> set[int]:
    async def go() -> set[int]:
        async with council.client.db.session() as session:
            return set(
                (
                    await session.execute(
                        select(CouncilMember.participant_id).where(
                            CouncilMember.council_vote_id == vote
                        )
                    )
                ).scalars()
            )

    return council.run(go())


def _withdraw(council: Council, pid: int) -> None:
    async def go() -> None:
        async with council.client.db.session() as session:
            participant = await session.get(Participant, pid)
            assert participant is not None
            participant.status = "withdrawn"

    council.run(go())


def _create(council: Council, proposals: list[int], **membership: Any) -> Any:
    council.as_organiser()
    return council.post(
        "/council/votes",
        {"title": "Burgerraad", "proposals": proposals, **membership},
        "/council",
    )


def _ballot(member: Member, proposal: int) -> Any:
    """The member's browser asks for its key (prepared before the vote opened) and votes."""
    asked = member.ask()
    if asked.status_code != 200 or asked.json()["status"] != "signed":
        return asked
    return member.cast({proposal: "for"})


def test_a_vote_of_residents_only_counts_its_majority_over_the_residents(
    council: Council,
) -> None:
    (p1,) = council.proposals(1)
    created = _create(council, [p1], membership="roles", member_roles=["resident"])
    assert created.status_code == 303, created.text
    vote = int(created.headers["location"].split("/")[3])
    manage = council.client.get(f"/council/votes/{vote}/manage?lang=en")
    assert 'data-membership="roles"' in manage.text and "Residents" in manage.text
    people = _people(council)
    residents = {p for p, _n, r, s in people if r == "resident" and s != "withdrawn"}
    others = [p for p, _n, role, _s in people if role != "resident"]
    assert residents and others
    resident, other = Member(council, min(residents), vote), Member(council, others[0], vote)
    assert resident.ask().json()["status"] == "pending"
    assert other.ask().status_code == 403  # the rule does not select them
    council.as_organiser()
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    assert _members(council, vote) == residents
    council.as_participant(min(residents))
    page = council.client.get(f"/council/votes/{vote}?lang=en")
    threshold = len(residents) // 2 + 1
    assert str(threshold) in page.text and str(len(residents)) in page.text

    assert _ballot(other, p1).status_code == 403
    assert _ballot(resident, p1).status_code == 200
    opened = council.audit("council.open")[-1]
    assert opened["members"] == len(residents)
    assert opened["membership"] == {"kind": "roles", "roles": ["resident"]}
    assert council.audit("council.create")[-1]["membership"]["kind"] == "roles"

    council.as_organiser()
    council.post(f"/council/votes/{vote}/close", {}, "/council")
    result = council.client.get(f"/council/votes/{vote}/result.json").json()
    assert result["members"] == len(residents) and result["threshold"] == threshold
    assert result["membership"] == {"kind": "roles", "roles": ["resident"]}
    council.client.cookies.clear()  # the public result page names the rule
    public = council.client.get(f"/council/votes/{vote}/result?lang=en").text
    assert 'data-membership="roles"' in public and "Residents" in public


def test_a_listed_council_fixes_its_members_when_it_opens(council: Council) -> None:
    (p1,) = council.proposals(1)
    people = _people(council)
    listed = people[3:8]
    codes = "\n".join(name for _p, name, _r, _s in listed) + "\n"
    created = _create(council, [p1], membership="list", member_list=codes)
    assert created.status_code == 303, created.text
    vote = int(created.headers["location"].split("/")[3])
    # Someone on the list asks for a key, then withdraws before the vote opens: they are not a
    # member, and their key is never signed.
    withdrawn, voter = Member(council, listed[0][0], vote), Member(council, listed[1][0], vote)
    assert withdrawn.ask().json()["status"] == "pending"
    assert voter.ask().json()["status"] == "pending"
    _withdraw(council, listed[0][0])
    council.as_organiser()
    assert council.post(f"/council/votes/{vote}/open", {}, "/council").status_code == 303
    assert council.audit("council.open")[-1]["keys_signed"] == 1
    assert _members(council, vote) == {p for p, *_ in listed[1:]}
    assert _ballot(Member(council, people[0][0], vote), p1).status_code == 403
    assert _ballot(voter, p1).status_code == 200
    council.as_organiser()
    manage = council.client.get(f"/council/votes/{vote}/manage?lang=en").text
    assert "a list of 5 participants" in manage and "1 of 4 members have voted" in manage


def test_a_bad_membership_is_refused_and_creates_nothing(council: Council) -> None:
    (p1,) = council.proposals(1)

    def votes() -> int:
        async def go() -> int:
            async with council.client.db.session() as session:
                return len(list((await session.execute(select(CouncilVote.id))).scalars()))

        return council.run(go())

    before = votes()
    unknown = _create(council, [p1], membership="list", member_list="NOBODY-1")
    assert unknown.status_code == 400 and "Ledenlijst" in unknown.text
    assert "NOBODY-1" in unknown.text
    no_roles = _create(council, [p1], membership="roles")
    assert no_roles.status_code == 400 and "Rollen van de leden" in no_roles.text
    bad_role = _create(council, [p1], membership="roles", member_roles=["mayor"])
    assert bad_role.status_code == 400 and "mayor" in bad_role.text
    bad_kind = _create(council, [p1], membership="friends")
    assert bad_kind.status_code == 400 and "Lidmaatschap" in bad_kind.text
    empty = _create(council, [p1], membership="list", member_list=" \n ")
    assert empty.status_code == 400 and "Ledenlijst" in empty.text
    twice = _people(council)[0][1]
    doubled = _create(council, [p1], membership="list", member_list=f"{twice}\n{twice}")
    assert doubled.status_code == 400 and "twee keer" in doubled.text
    assert votes() == before


# --- the pure rule --------------------------------------------------------------------------

people_rows = st.lists(
    st.tuples(
        st.sampled_from(ROLES),
        st.sampled_from(["selected", "confirmed", "withdrawn"]),
    ),
    max_size=30,
)


@given(rows=people_rows, roles=st.sets(st.sampled_from(ROLES), min_size=1), data=st.data())
def test_members_match_the_rule_and_never_include_the_withdrawn(
    rows: list[tuple[str, str]], roles: set[str], data: Any
) -> None:
    people = [(i + 1, f"P{i + 1:03d}", role, status) for i, (role, status) in enumerate(rows)]
    active = {p for p, _n, _r, s in people if s != "withdrawn"}
    assert set(select_members(Membership(), people)) == active

    by_role = parse_membership("roles", sorted(roles), [], ROLES)
    chosen = set(select_members(by_role, people))
    assert chosen == {p for p, _n, r, s in people if r in roles and s != "withdrawn"}

    names = data.draw(st.sets(st.sampled_from([n for _p, n, *_ in people]))) if people else set()
    if names:
        listed = parse_membership("list", [], sorted(names), ROLES)
        members = select_members(listed, people)
        assert members == sorted(members)
        assert set(members) == {p for p, n, _r, s in people if n in names and s != "withdrawn"}
        assert Membership.from_json(listed.to_json()) == listed
    assert Membership.from_json(by_role.to_json()) == by_role
    assert Membership.from_json({}) == Membership()


def test_membership_input_names_its_field() -> None:
    assert parse_membership("", [], [], ROLES).kind is MembershipKind.ALL
    for args, field in (
        (("roles", [], []), "member_roles"),
        (("roles", ["alien"], []), "member_roles"),
        (("list", [], ["", " "]), "member_list"),
        (("list", [], ["A1", "A1"]), "member_list"),
        (("everyone", [], []), "membership"),
    ):
        with pytest.raises(VotingError) as err:
            parse_membership(*args, ROLES)  # type: ignore[call-arg]
        assert err.value.field == field


def test_a_deadline_is_read_on_the_summits_clock(council: Council) -> None:
    """The organiser types the deadline as the hall's clock shows it (Europe/Amsterdam by
    default): 18:00 on a winter day is 17:00 UTC, on a summer day 16:00 UTC."""
    (p1,) = council.proposals(1)
    page = council.client.get("/council?lang=en").text
    assert "Deadline (optional, Europe/Amsterdam)" in page
    for typed, utc in (
        ("2030-01-15T18:00", "2030-01-15 17:00"),
        ("2030-07-15T18:00", "2030-07-15 16:00"),
    ):
        created = _create(council, [p1], closes_at=typed)
        assert created.status_code == 303, created.text
        vote = int(created.headers["location"].split("/")[3])

        async def closes(vote_id: int = vote) -> str:
            async with council.client.db.session() as session:
                row = await session.get(CouncilVote, vote_id)
                assert row is not None and row.closes_at is not None
                stored = row.closes_at
                if stored.tzinfo is not None:
                    stored = stored.astimezone(dt.UTC).replace(tzinfo=None)
                return stored.strftime("%Y-%m-%d %H:%M")

        assert council.run(closes()) == utc
