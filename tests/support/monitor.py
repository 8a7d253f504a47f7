"""The Monitor's world: a summit with a published Burgerbesluit, partners and followed items."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from summit.core import service as repository
from summit.core.db import Database
from summit.monitor import demo as monitor_demo
from summit.monitor import partners, tracking

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    summit_id: int
    items: dict[str, int] = field(default_factory=dict)
    partners: dict[str, int] = field(default_factory=dict)
    people: list[int] = field(default_factory=list)


async def setup_monitor(db: Database, *, sign: bool = True, people: int = 9) -> World:
    """A summit with a published Burgerbesluit (through the council's use cases), the agreement,
    four policy areas, two partners (signed when ``sign``) and the adopted proposals followed."""
    async with db.session() as session:
        summit = await repository.create_summit(
            session, actor="test", slug="t", name="G1000 Test", municipality="Test",
            phase="council", languages=["nl", "en"],
        )  # fmt: skip
        made = []
        for i in range(people):
            person, _token = await repository.add_participant(
                session, summit, actor="test", role="resident", first_name=f"Naam{i}"
            )
            made.append(person)
        for name in ("Gemeente Test", "Woonstichting Test"):
            await repository.add_partner(
                session, summit, actor="test", name=name, kind="organisation",
                commitment="Wij voeren uit of leggen uit.", signed_on="",
            )  # fmt: skip
        await monitor_demo.ensure_decision(session, summit, made, secrets.token_urlsafe(32))
        await partners.set_agreement(session, summit, monitor_demo.AGREEMENT, actor="test")
        await partners.set_areas(session, summit, list(monitor_demo.AREAS), actor="test")
        await tracking.sync_items(session, summit, actor="test")
        world = World(summit.id, people=[p.id for p in made])
        for item in await tracking.items(session, summit.id):
            area = next(a for t, _x, a, _ad in monitor_demo.PROPOSALS if t == item.title)
            await tracking.configure_item(
                session, item, area_keys=[area], due="2027-03-31", actor="test"
            )
            world.items[item.title] = item.id
        for partner, _acc in await partners.accounts(session, summit.id):
            world.partners[partner.name] = partner.id
            if sign:
                keys = (
                    ["mobiliteit", "groen-en-klimaat"] if "Gemeente" in partner.name else ["wonen"]
                )
                await partners.sign(
                    session, partner, signatory="Burgemeester", agreed=True, area_keys=keys,
                    now=T0 - dt.timedelta(days=90),
                )  # fmt: skip
    return world
