"""Stopping a running leximin keeps its anytime lottery; cancelling keeps nothing."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from summit.core.models import AuditEntry
from summit.lottery import selection as sel
from summit.lottery.rules import selection_entropy
from summit.lottery.rules.selection import Person, check_panel, quotas_from_shares
from summit.lottery.rules.selection_leximin import LeximinProgress
from summit.lottery.rules.selection_solver import SelectionCancelled
from tests.support.lottery import registered_pool

pytestmark = pytest.mark.anyio

AFTER_MAXIMIN = {"decomposition", "fallback"}


async def _skewed_input(database: Any) -> tuple[Any, sel.SelectionInput]:
    summit = await registered_pool(database, 10)
    async with database.session() as session:
        platform = await sel.selection_input(
            session, summit, role="resident", seats=5, tolerance=0.1, algorithm="leximin"
        )
    # A pool whose chances differ (a skewed population over four features), so that leximin
    # has work to do above the maximin.
    rng = random.Random(5)
    shares = {
        "age": {"a": 0.2, "b": 0.3, "c": 0.5},
        "edu": {"l": 0.3, "m": 0.4, "h": 0.3},
        "dist": {"d0": 0.25, "d1": 0.25, "d2": 0.25, "d3": 0.25},
        "g": {"f": 0.5, "m": 0.5},
    }
    bias = {"age": [0.6, 1.0, 1.5], "edu": [0.5, 1.0, 2.0], "dist": [1.3, 1.0, 0.9, 0.7]}
    people = tuple(
        Person(
            f"R{i}",
            {
                feature: rng.choices(
                    list(values),
                    [
                        w * b
                        for w, b in zip(values.values(), bias.get(feature, [1, 1]), strict=True)
                    ],
                )[0]
                for feature, values in shares.items()
            },
        )
        for i in range(240)
    )
    data = dataclasses.replace(
        platform,
        seats=60,
        people=people,
        quotas=tuple(quotas_from_shares(shares, 60, tolerance=0.1, slack=1)),
        shares=shares,
        panels=100,
    )
    return summit, data


def _assert_the_maximin_lottery(stopped: Any, data: sel.SelectionInput) -> None:
    """The lottery kept at a stop gives everyone the maximin's minimum, and every panel meets
    the quotas."""
    maximin = sel.compute_selection(dataclasses.replace(data, algorithm="maximin"))
    assert abs(stopped.min_probability - maximin.min_probability) < 1e-7
    for panel in stopped.lottery.panels:
        assert check_panel(panel, data.people, data.quotas, data.seats) == []


async def test_stopping_leximin_keeps_the_lottery_found_so_far(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sampling finishes this pool before any anytime state: take the column-generation path
    monkeypatch.setattr(selection_entropy, "MAX_BATCHES", 0)
    summit, data = await _skewed_input(database)
    steps: list[LeximinProgress] = []

    def stop() -> bool:  # the organiser presses "stop" once leximin works above the maximin
        return any(s.phase in AFTER_MAXIMIN and s.fixed < s.types for s in steps)

    stopped = sel.compute_selection(data, stop=stop, report=steps.append)
    full = sel.compute_selection(data)
    assert not stopped.exact and full.exact
    _assert_the_maximin_lottery(stopped, data)
    async with database.session() as session:
        draw = await sel.store_selection(session, summit, data, stopped, actor="S-test")
        assert draw.commitment["stopped_early"] is True
        logged = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "selection.commit")
            )
        ).scalars().all()
        assert logged[-1].payload["exact"] is False
    # an exact result carries no such mark
    async with database.session() as session:
        draw = await sel.store_selection(session, summit, data, full, actor="S-test")
        assert "stopped_early" not in draw.commitment


def test_the_page_says_leximins_progress_in_dutch() -> None:
    from summit.core import i18n
    from summit.lottery.views.selection import Job, progress_text

    job = Job("resident", algorithm="leximin")
    assert progress_text(job) == ""  # nothing reported yet
    job.leximin = LeximinProgress("decomposition", 3, 5, 12, 0.2423398, 40, 1.5, 0.4)
    i18n.load_catalogues(Path(__file__).resolve().parents[1] / "web" / "locale")
    with i18n.language("nl"):
        assert progress_text(job) == (
            "Iteratie 3: 5 van 12 groepen op hun definitieve kans; laagste kans tot nu toe 24,23 %"
        )
    with i18n.language("en"):
        assert "lowest chance so far 24.23 %" in progress_text(job)
    job.leximin = LeximinProgress("stopping", 4, 0, 12, 0.2423398, 40, 1.5, 0.4)
    with i18n.language("nl"):
        assert progress_text(job).startswith("Gestopt: de loting die bewaard wordt")
        assert progress_text(job).endswith("laagste kans tot nu toe 24,23 %")
    job.state = "done"
    assert progress_text(job) == ""


async def test_stopping_leximin_while_it_samples_keeps_the_maximin_lottery(database: Any) -> None:
    """The default path has no lottery until sampling ends: a stop there keeps the maximin's."""
    summit, data = await _skewed_input(database)
    steps: list[LeximinProgress] = []

    def stop() -> bool:  # pressed right after the first report of the sampling phase
        return any(s.phase == "sampling" for s in steps)

    stopped = sel.compute_selection(data, stop=stop, report=steps.append)
    assert steps[-1].phase == "stopping"
    assert not stopped.exact
    _assert_the_maximin_lottery(stopped, data)
    async with database.session() as session:
        draw = await sel.store_selection(session, summit, data, stopped, actor="S-test")
        assert draw.commitment["stopped_early"] is True
    # cancelling at the same moment stores nothing
    steps.clear()
    with pytest.raises(SelectionCancelled):
        sel.compute_selection(data, cancel=stop, stop=stop, report=steps.append)
