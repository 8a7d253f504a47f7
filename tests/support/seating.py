"""A seated summit to build on: 24 venue participants and 3 hosts, seated for some rounds."""

from __future__ import annotations

import random
from typing import Any

from summit.core import service as repository
from summit.seating import service as uc

ROLES = ["resident"] * 15 + ["employer"] * 3 + ["civil_servant", "politician", "politician"]
ROLES += ["free_thinker"] * 3


async def make_seated_summit(
    database: Any,
    *,
    seed: str = "dice 3 1 4 1 5",
    rounds: int = 2,
    tokens: dict[str, str] | None = None,
) -> int:
    """A summit of 24 venue participants and 3 hosts, seated for ``rounds`` rounds; personal-link
    tokens by pseudonym go into ``tokens`` when given."""
    rng = random.Random(7)
    async with database.session() as session:
        summit = await repository.create_summit(
            session,
            actor="S-test",
            slug="seat",
            name="Seat",
            municipality="Testdorp",
            table_size=8,
            features=[
                {"name": "age_band", "values": ["a", "b", "c"]},
                {"name": "gender", "values": ["f", "m"]},
            ],
            phase="summit",
        )
        for i, role in enumerate(ROLES):
            person, token = await repository.add_participant(
                session,
                summit,
                actor="S-test",
                role=role,
                first_name=f"Name{i}",
                features={"age_band": rng.choice("abc"), "gender": rng.choice("fm")},
            )
            if tokens is not None:
                tokens[person.pseudonym] = token
        for i in range(3):
            await repository.add_participant(
                session,
                summit,
                actor="S-test",
                role="resident",
                first_name=f"Host{i}",
                features={"age_band": "a", "gender": "f"},
                is_host=True,
            )
        await uc.seat_summit(session, summit, actor="S-org", seed=seed, rounds=rounds)
        return summit.id
