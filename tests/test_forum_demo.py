"""The demo summit's forum phase: proposals with reactions (online, paper, meeting, one hidden),
two workshops (one drawn by lot, one submitted), an opinion map with groups and common ground,
and an expert's link with an online meeting whose video room is open — what `scripts/start`
shows."""

from __future__ import annotations

import re
from typing import Any


def test_the_demo_summit_has_a_living_forum(demo_client: tuple[Any, Any]) -> None:
    client, info = demo_client
    client.get("/forum?lang=en")
    index = client.get("/forum").text
    for title in ("Fietsstraat door de binnenstad", "Ontmoetingsplek voor ouderen in elke wijk"):
        assert title in index
    first = re.search(r'href="/forum/proposals/(\d+)">Fietsstraat', index)
    assert first
    page = client.get(f"/forum/proposals/{first.group(1)}").text
    assert "from the meeting “Bijeenkomst ondernemers centrum”" in page
    assert "Submitted by Werkplaats fietsstraat as version 2" in page and "Used in:" in page
    assert "everyone agrees" in page
    workshops = client.get("/forum/workshops").text
    assert "Werkplaats fietsstraat" in workshops and "Werkplaats ontmoeting" in workshops
    drawn = re.search(r'href="/forum/workshops/(\d+)">Werkplaats ontmoeting', workshops)
    assert drawn and "data-drawn" in client.get(f"/forum/workshops/{drawn.group(1)}").text
    data = client.get("/forum/map.json").json()
    assert len(data["groups"]) >= 2 and data["consensus"] and data["voters"] == 60
    hidden = client.get("/forum/reactions.json").json()["hidden"]
    assert hidden and hidden[0]["reason"] == "spam"
    expert = dict(info.links)["expert (workshop)"]
    client.cookies.clear()
    assert client.get(expert).status_code == 303
    work = client.get(client.get(expert).headers["location"] + "?lang=en").text
    assert "Most typical:" in work and "data-group" in work
    # The expert finds the workshop's online meeting and its video room, open now.
    room = re.search(r'href="(/forum/meetings/\d+/video)"', work)
    assert room and "Online overleg met de ondernemers" in work
    page = client.get(room.group(1) + "?lang=en")
    assert page.status_code == 200 and 'id="video-join">' in page.text
    assert client.get(room.group(1) + ".json").json()["room"]["state"] == "open"
