"""The lottery through the web app: a municipal register to upload, everyone registering, the
selection run from the organiser's page."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import select

from summit.core import service as repository
from summit.lottery import service as lottery
from summit.lottery.models import RegisterEntry
from tests.support.http import csrf_of

SEED = "1234567890 0987654321"
HEADER = "BSN;Geslacht;Geboortedatum;Wijk;Adres"
WIJKEN = ("Centrum", "Noord", "Oost", "Zuid", "West", "Haven")


def register_csv(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    rows = [HEADER]
    for i in range(n):
        rows.append(
            f"{500000 + i};{rng.choice('MV')};{rng.randint(1945, 2004)}-05-0{rng.randint(1, 9)};"
            f"{rng.choice(WIJKEN)};Weg {i}"
        )
    rows.append("999999;M;2016-01-01;Noord;Weg 0")  # under 16
    return "\n".join(rows) + "\n"


MAP = {
    "map_id": "BSN",
    "map_gender": "Geslacht",
    "map_birth_date": "Geboortedatum",
    "map_district": "Wijk",
    "map_address": "Adres",
}


def upload(client: Any, text: str) -> Any:
    token = csrf_of(client.get("/organiser/lottery").text)
    return client.post(
        "/organiser/lottery/register",
        data={"csrf_token": token, **MAP},
        files={"file": ("register.csv", text.encode("utf-8"), "text/csv")},
    )


def register_everyone(client: Any, summit_id: int) -> None:
    """Every invited person of the drawn register registers with their letter code."""

    async def go() -> None:
        async with client.db.session() as session:
            summit = await repository.get_summit(session, summit_id)
            draw = await lottery.invitation_draw(session, summit_id)
            assert draw is not None
            secret = client.app.state.settings.secret_key
            entries = {e.pseudonym: e for e in await register_entries(session, summit_id)}
            for pseudonym in draw.result["pseudonyms"]:
                features = entries[pseudonym].features
                parsed = lottery.parse_registration_form(
                    {
                        "consent": "yes",
                        "first_name": "R",
                        "phone": "0600000000",
                        **{f"feature_{k}": v for k, v in features.items()},
                    },
                    summit,
                    languages=["nl", "en"],
                    questions=[(k, []) for k in ("age_band", "gender", "district")],
                )
                code = lottery.invitation_code(secret, summit_id, pseudonym)
                await lottery.register_with_code(
                    session, summit, code, parsed, actor="public", secret_key=secret
                )

    client.run(go())


async def register_entries(session: Any, summit_id: int) -> list[Any]:
    return list(
        (await session.execute(select(RegisterEntry).where(RegisterEntry.summit_id == summit_id)))
        .scalars()
        .all()
    )


def current_summit_id(client: Any) -> int:
    async def go() -> int:
        async with client.db.session() as session:
            summit = await repository.current_summit(session)
            assert summit is not None
            return int(summit.id)

    return int(client.run(go()))


PANEL_SEED = "55555 66666 77777 88888"


def run_selection(client: Any, token: str) -> None:
    """Run the resident selection (8 seats, maximin) from the organiser's page; wait for it."""
    started = client.post(
        "/organiser/selection/run",
        data={
            "csrf_token": token,
            "role": "resident",
            "seats": "8",
            "tolerance": "0.3",
            "algorithm": "maximin",
            "panels": "100",
        },
        headers={"accept": "application/json"},
    )
    assert started.status_code == 202
    deadline = time.monotonic() + 60
    state = "running"
    while state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        state = client.get("/organiser/selection/status.json").json()["resident"]["state"]
    assert state == "done", client.get("/organiser/selection/status.json").json()


def invited_and_registered(client: Any) -> tuple[str, int]:
    """A signed-in organiser uploads a register of 150, commits, draws 50 invitations and all 50
    register; returns the form token and the summit's id."""
    assert upload(client, register_csv(150)).status_code == 303
    token = csrf_of(client.get("/organiser/lottery").text)
    client.post("/organiser/lottery/commit", data={"csrf_token": token, "sample_size": "50"})
    client.post("/organiser/lottery/draw", data={"csrf_token": token, "seed": SEED})
    summit_id = current_summit_id(client)
    register_everyone(client, summit_id)
    return token, summit_id
