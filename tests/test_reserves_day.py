"""Robust reserves on the summit's draw and replacements that fill open seats together, on the
real database (SQLite, or PostgreSQL with SUMMIT_TEST_DATABASE_URL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from summit.core import service as repository
from summit.core.errors import InvalidInput
from summit.core.models import AuditEntry
from summit.lottery import selection as sel
from summit.lottery.models import Registration
from summit.lottery.rules.reserves import choose_reserves, parse_dropout_rates
from tests.support.lottery import SEED, registered_pool

pytestmark = pytest.mark.anyio


async def _computed(database: Any) -> Any:
    summit = await registered_pool(database, 40)
    async with database.session() as session:
        data = await sel.selection_input(
            session, summit, role="resident", seats=12, tolerance=0.2, algorithm="maximin",
            panels=200,
        )
    result = sel.compute_selection(data)
    async with database.session() as session:
        await sel.store_selection(session, summit, data, result, actor="S-test")
    return summit, data


def _rates(data: Any) -> str:
    first, second = data.quotas[0], data.quotas[-1]
    return f"{first.feature}={first.value}: 30%\n{second.feature}={second.value}: 0.1"


def test_dropout_rates_are_read_as_shares_or_percentages() -> None:
    from summit.lottery.rules.selection import Quota

    quotas = [Quota("age", "16-24", 1, 3), Quota("age", "65+", 1, 3)]
    model = parse_dropout_rates("age=16-24: 5 %, age=65+: 0.02\n\n", quotas)
    assert model.rates == {("age", "16-24"): pytest.approx(0.05), ("age", "65+"): 0.02}
    assert parse_dropout_rates("", quotas).rates == {}
    for bad in ("age=16-24", "age=25-34: 5%", "age=16-24: lots", "age=16-24: 100%", "x: 1"):
        with pytest.raises(InvalidInput):
            parse_dropout_rates(bad, quotas)


async def test_the_draw_puts_robust_reserves_first_and_logs_both_chances(database: Any) -> None:
    summit, data = await _computed(database)
    rates = _rates(data)
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        draw, links = await sel.finalise_selection(
            session, summit, role="resident", seed=SEED, actor="S-test", dropout_rates=rates
        )
    assert len(links) == 12
    result = draw.result
    people = [sel.Person(pid, f) for pid, f in result["people"].items()]
    expected = choose_reserves(
        people, result["panel"], data.quotas, draw.seed, parse_dropout_rates(rates, data.quotas),
        3,
    )
    assert result["robust_reserves"] == 3 and result["reserves"] == list(expected.order)
    assert result["quota_survival"] == expected.ours.probability
    assert result["quota_survival"] >= result["quota_survival_fixed_order"]
    async with database.session() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "selection.draw"))
        ).scalar_one()
        assert entry.payload["robust_reserves"] == 3
        assert entry.payload["quota_survival"] == result["quota_survival"]
        assert entry.payload["quota_survival_fixed_order"] == result["quota_survival_fixed_order"]
        assert entry.payload["dropout_rates"] == result["dropout_rates"]


async def test_bad_dropout_rates_refuse_the_draw_and_store_nothing(database: Any) -> None:
    summit, _ = await _computed(database)
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        with pytest.raises(InvalidInput):
            await sel.finalise_selection(
                session, summit, role="resident", seed=SEED, actor="S-test",
                dropout_rates="nonsense=1: 5%",
            )
    async with database.session() as session:
        draw = await sel.panel_draw(session, summit.id, "resident")
        assert draw is not None and draw.status == "committed"
        assert "panel" not in draw.result


async def test_open_seats_are_filled_together_within_the_quotas(database: Any) -> None:
    summit, data = await _computed(database)
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        draw, _ = await sel.finalise_selection(
            session, summit, role="resident", seed=SEED, actor="S-test"
        )
    panel = list(draw.result["panel"])
    people = [sel.Person(pid, f) for pid, f in draw.result["people"].items()]
    gone = [int(panel[0][1:]), int(panel[1][1:])]
    async with database.session() as session:
        summit = await repository.get_summit(session, summit.id)
        for rid in gone:
            registration = await session.get(Registration, rid)
            assert registration is not None
            registration.status = "withdrawn"
        new = await sel.replace_withdrawn(session, summit, gone[0], actor="S-test")
    assert len(new) == 2  # both open seats, in one go
    async with database.session() as session:
        after = await sel.panel_draw(session, summit.id, "resident")
        assert after is not None
        new_panel = after.result["panel"]
        assert len(new_panel) == 12 and not {panel[0], panel[1]} & set(new_panel)
        assert not sel.check_panel(new_panel, people, data.quotas, 12)
        logged = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "selection.replace")
            )
        ).scalars().all()
        assert len(logged) == 2 and all(e.payload["seats_filled_together"] == 2 for e in logged)
        # the second withdrawal's seat was filled already: nothing more to do
        summit = await repository.get_summit(session, summit.id)
        assert await sel.replace_withdrawn(session, summit, gone[1], actor="S-test") == {}
