"""Recording ideas at the tables over HTTP: roles, idempotency, limits, history, live events."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from summit.core.errors import InvalidInput
from summit.ideas import service as ideas
from summit.ideas.models import IdeaRevision
from tests.support.app import Client
from tests.support.http import csrf_of, login
from tests.support.ideas import Person, become, count_ideas, post_idea, table_people


@pytest.fixture
def table(demo: tuple[Client, Any]) -> tuple[Client, dict[str, Person]]:
    client, _info = demo
    return client, client.run(table_people(client))


def test_the_host_adds_an_idea_and_a_retry_with_the_same_key_returns_it(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    before = count_ideas(client)
    first = post_idea(client, csrf, "tablet-7f3a", title="Fietsbrug over de haven", body="Kort")
    assert first.status_code == 201
    idea = first.json()
    assert idea["table_id"] == people["host"].table_id and idea["status"] == "active"
    again = post_idea(client, csrf, "tablet-7f3a", title="Fietsbrug over de haven", body="Kort")
    assert again.status_code == 200 and again.json()["id"] == idea["id"]
    assert count_ideas(client) == before + 1
    # The same key for a different idea is a client bug: refused, nothing stored.
    clash = post_idea(client, csrf, "tablet-7f3a", title="Iets heel anders")
    assert clash.status_code == 409 and "idempotency_key" in clash.json()["error"]
    assert count_ideas(client) == before + 1
    # Traceable: table, round and author on the idea; one audit entry naming table and round.
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "idea.add" and entry["subject"] == f"idea:{idea['id']}"
    assert entry["actor"] == people["host"].pseudonym and entry["payload"]["round"] == 1


def test_the_form_page_adds_once_even_when_submitted_twice(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    page = client.get("/me/ideas").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": csrf, "title": "Speeltuin bij de bibliotheek", "idempotency_key": key}
    assert client.post("/me/ideas", data=form).status_code == 303
    assert client.post("/me/ideas", data=form).status_code == 303
    assert count_ideas(client, title="Speeltuin bij de bibliotheek") == 1
    assert "Speeltuin bij de bibliotheek" in client.get("/me/ideas").text


def test_only_the_host_sees_the_add_an_idea_heading(table: Any) -> None:
    client, people = table
    become(client, people["member"])
    member_page = client.get("/me/ideas?lang=en").text
    assert 'id="idea-form"' not in member_page and "Add an idea" not in member_page
    assert "Who writes down the ideas" in member_page
    become(client, people["host"])
    host_page = client.get("/me/ideas?lang=en").text
    assert 'id="idea-form"' in host_page and "Add an idea" in host_page


LIMITS: list[tuple[dict[str, Any], str]] = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"title": "ok", "body": "y" * 2001}, "body"),
    ({"title": "ok", "tags": [f"t{i}" for i in range(11)]}, "tags"),
    ({"title": "ok", "tags": ["t" * 33]}, "tags"),
    ({"title": "ok", "tags": 5}, "tags"),
    ({"title": 12}, "title"),
]


def test_limits_are_enforced_with_the_field_named(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    before = count_ideas(client)
    for body, field in LIMITS:
        response = post_idea(client, csrf, **body)
        assert response.status_code == 400, body
        assert response.json()["error"].startswith(f"{field}:"), body
    assert count_ideas(client) == before
    longest = post_idea(client, csrf, title="x" * 120, body="y" * 2000, tags=["t" * 32] * 1)
    assert longest.status_code == 201


def test_malformed_or_oversized_json_is_refused(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    headers = {"x-csrf-token": csrf, "content-type": "application/json"}
    bad = client.post("/api/ideas", content=b"{not json", headers=headers)
    assert bad.status_code == 400 and bad.json()["error"].startswith("json:")
    listed = client.post("/api/ideas", content=b"[1, 2]", headers=headers)
    assert listed.status_code == 400
    huge = client.post(
        "/api/ideas", content=b'{"title": "' + b"x" * 70_000 + b'"}', headers=headers
    )
    assert huge.status_code == 413
    badkey = post_idea(client, csrf, "has spaces in it", title="ok")
    assert badkey.status_code == 400 and "idempotency_key" in badkey.json()["error"]


def test_roles_only_the_host_records_unless_the_table_may(table: Any) -> None:
    client, people = table
    csrf = become(client, people["member"])
    refused = post_idea(client, csrf, title="Ik ben geen host")
    assert refused.status_code == 403
    # The organiser lets every table member record.
    client.cookies.clear()
    login(client, "organiser", client.demo_info.organiser_password)
    token = csrf_of(client.get("/organiser/ideas").text)
    saved = client.post(
        "/organiser/ideas/settings", data={"csrf_token": token, "who_records": "table"}
    )
    assert saved.status_code == 303
    assert client.get("/audit.json").json()["entries"][0]["action"] == "ideas.settings"
    # A staff member is not a participant: the capture API is not theirs.
    assert post_idea(client, token, title="x").status_code == 403
    csrf = become(client, people["member"])
    assert post_idea(client, csrf, title="Nu mag het wel").status_code == 201


def test_a_participant_of_another_table_cannot_add_to_this_one(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    own = client.get("/api/ideas/table").json()["table"]
    assert own["table_id"] == people["host"].table_id and own["can_record"] is True
    elsewhere = post_idea(
        client, csrf, title="Voor een andere tafel", table_id=people["other"].table_id
    )
    assert elsewhere.status_code == 403
    # The other table's member sees none of this table's ideas and cannot edit them.
    mine = post_idea(client, csrf, title="Bankjes langs het water").json()
    csrf_other = become(client, people["other"])
    listing = client.get("/api/ideas/table").json()
    assert mine["id"] not in [i["id"] for i in listing["ideas"]]
    edit = client.post(
        f"/api/ideas/{mine['id']}",
        json={"title": "Overgenomen"},
        headers={"x-csrf-token": csrf_other},
    )
    assert edit.status_code == 403
    assert edit.json()["error"] == "role: Je kunt alleen ideeën van je eigen tafel wijzigen."
    withdraw = client.post(
        f"/api/ideas/{mine['id']}/withdraw", headers={"x-csrf-token": csrf_other}
    )
    assert withdraw.status_code == 403


def test_an_idea_queued_in_an_ended_round_is_refused_clearly(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    own = client.get("/api/ideas/table").json()["table"]
    stale = post_idea(client, csrf, title="Te laat", round_id=own["round_id"] + 999)
    assert stale.status_code == 400 and stale.json()["error"].startswith("round:")


def test_posts_without_the_csrf_token_are_refused(table: Any) -> None:
    client, people = table
    become(client, people["host"])
    before = count_ideas(client)
    assert client.post("/api/ideas", json={"title": "Zonder token"}).status_code == 403
    forged = client.post("/api/ideas", json={"title": "Vals"}, headers={"x-csrf-token": "forged"})
    assert forged.status_code == 403
    assert client.post("/me/ideas", data={"title": "Formulier"}).status_code == 403
    assert count_ideas(client) == before
    client.cookies.clear()
    assert client.post("/api/ideas", json={"title": "Anoniem"}).status_code == 401


def test_edit_and_withdraw_keep_the_history(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    idea = post_idea(client, csrf, title="Meer bomen", body="In de straat").json()
    edited = client.post(
        f"/api/ideas/{idea['id']}",
        json={"title": "Meer bomen in elke straat", "body": "Schaduw", "tags": "groen, hitte"},
        headers={"x-csrf-token": csrf},
    )
    assert edited.status_code == 200 and edited.json()["tags"] == ["groen", "hitte"]
    gone = client.post(f"/api/ideas/{idea['id']}/withdraw", headers={"x-csrf-token": csrf})
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert idea["id"] not in [i["id"] for i in client.get("/api/ideas/table").json()["ideas"]]

    async def history() -> list[tuple[str, str]]:
        async with client.db.session() as session:
            return [(r.title, r.status) for r in await ideas.revisions(session, idea["id"])]

    assert client.run(history()) == [
        ("Meer bomen", "active"),
        ("Meer bomen in elke straat", "active"),
        ("Meer bomen in elke straat", "withdrawn"),
    ]
    actions = [e["action"] for e in client.get("/audit.json").json()["entries"][:3]]
    assert actions == ["idea.withdraw", "idea.edit", "idea.add"]


def test_a_second_table_member_sees_a_new_idea_live(table: Any) -> None:
    client, people = table
    become(client, people["member"])
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        csrf = become(client, people["host"])
        created = post_idea(client, csrf, title="Wekelijkse repaircafé").json()
        event = ws.receive_json()
    assert event["channel"] == f"participant:{people['member'].id}"
    assert event["type"] == "idea" and event["action"] == "added"
    assert (
        event["idea"]["id"] == created["id"] and event["idea"]["title"] == "Wekelijkse repaircafé"
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    title=st.text(max_size=140),
    body=st.text(max_size=2100),
    tags=st.lists(st.text(max_size=40), max_size=12),
)
def test_clean_idea_accepts_exactly_what_fits_the_limits(
    title: str, body: str, tags: list[str]
) -> None:
    try:
        clean_title, clean_body, clean_tags = ideas.clean_idea(title, body, tags)
    except InvalidInput as exc:
        assert exc.field in {"title", "body", "tags"}
        return
    assert 0 < len(clean_title) <= ideas.TITLE_MAX and clean_title == clean_title.strip()
    assert len(clean_body) <= ideas.BODY_MAX
    assert len(clean_tags) <= ideas.TAGS_MAX and all(
        0 < len(t) <= ideas.TAG_MAX for t in clean_tags
    )
    assert len({t.lower() for t in clean_tags}) == len(clean_tags)


def test_revisions_are_one_per_change(table: Any) -> None:
    client, people = table
    csrf = become(client, people["host"])
    idea = post_idea(client, csrf, title="Eerste versie").json()
    for n in range(3):
        client.post(
            f"/api/ideas/{idea['id']}",
            json={"title": f"Versie {n}"},
            headers={"x-csrf-token": csrf},
        )
    # Saving the same text again is not a new revision.
    client.post(
        f"/api/ideas/{idea['id']}", json={"title": "Versie 2"}, headers={"x-csrf-token": csrf}
    )

    async def revisions() -> int:
        async with client.db.session() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(IdeaRevision)
                    .where(IdeaRevision.idea_id == idea["id"])
                )
                or 0
            )

    assert client.run(revisions()) == 4
