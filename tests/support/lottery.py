"""The two-stage lottery's use cases: a register to import, a drawn register, registrations."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select

from summit.core import service as repository
from summit.lottery import service as lottery
from summit.lottery.models import RegisterEntry

SECRET = "test-secret-key-0123456789abcdef"
KEY = lottery.register_key(SECRET)
MAPPING = lottery.parse_mapping(
    "id=BSN,gender=Geslacht,birth_date=Geboortedatum,postcode=Postcode,address=Adres"
)
SEED = "3141 5926 5358 9793 2384"
DAY = dt.date(2026, 6, 1)


def register_csv(n: int, *, young: int = 0, rng_seed: int = 1) -> str:
    rng = random.Random(rng_seed)
    lines = ["BSN;Geslacht;Geboortedatum;Postcode;Adres"]
    for i in range(n):
        year = rng.randint(1940, 2005)
        gender = rng.choice(["M", "V"])
        pc = rng.choice(["1011 AB", "1012 CD", "1013"])
        lines.append(f"{100000 + i};{gender};{year}-0{rng.randint(1, 9)}-15;{pc};Straat {i // 2}")
    for j in range(young):
        lines.append(f"{900000 + j};M;2015-01-01;1011 AB;Laan {j}")
    return "\r\n".join(lines) + "\r\n"


async def make_summit(session: Any, **extra: Any) -> Any:
    return await repository.create_summit(
        session,
        actor="S-test",
        slug=extra.pop("slug", "lot"),
        name="Lot",
        municipality="Testdorp",
        date=DAY,
        features=[{"name": "gender", "values": []}, {"name": "age_band", "values": []}],
        **extra,
    )


async def drawn_register(database: Any, n: int = 60, sample: int = 20) -> tuple[Any, Any]:
    """A summit whose register of ``n`` people is imported and drawn (``sample`` invited)."""
    async with database.session() as session:
        summit = await make_summit(session)
        await lottery.import_register(
            session, summit, register_csv(n), MAPPING, actor="S-test", key=KEY
        )
        await lottery.commit_draw(session, summit, actor="S-test", sample_size=sample)
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        draw = await lottery.run_draw(session, summit, actor="S-test", seed=SEED, secret_key=SECRET)
    return summit, draw


def form(**extra: str) -> dict[str, str]:
    values = {
        "consent": "yes",
        "first_name": "Anna",
        "email": "anna@example.org",
        "attendance": "venue",
        "feature_gender": "female",
        "feature_age_band": "35-49",
    }
    values.update(extra)
    return values


async def registered_pool(database: Any, registrants: int) -> Any:
    """A drawn register and ``registrants`` resident registrations with register features."""
    summit, draw = await drawn_register(database, n=120, sample=registrants)
    async with database.session() as session:
        entries = {
            e.pseudonym: e.features
            for e in (await session.execute(select(RegisterEntry))).scalars()
        }
        for pseudonym in draw.result["pseudonyms"]:
            code = lottery.invitation_code(SECRET, summit.id, pseudonym)
            features = entries[pseudonym]
            parsed = lottery.parse_registration_form(
                form(
                    feature_gender=features["gender"],
                    feature_age_band=features["age_band"],
                ),
                summit,
                languages=["nl"],
            )
            await lottery.register_with_code(
                session, summit, code, parsed, actor="public", secret_key=SECRET
            )
    return summit
