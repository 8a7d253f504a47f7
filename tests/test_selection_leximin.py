"""The fast leximin (relaxation + face decomposition + fallback), its anytime result, and
Goldilocks; real solvers, no mocks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from summit.lottery.rules import selection_entropy, selection_leximin
from summit.lottery.rules.selection import (
    Person,
    Quota,
    check_panel,
    find_distribution,
    quotas_from_shares,
    round_lottery,
)
from summit.lottery.rules.selection_goldilocks import goldilocks_value
from summit.lottery.rules.selection_leximin import LeximinProgress
from summit.lottery.rules.selection_solver import Halt, SelectionCancelled

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sortition"
SMALL_20 = DATA / "example_small_20"
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-6


@st.composite
def pools(draw: st.DrawFn, max_people: int = 9) -> tuple[list[Person], list[Quota], int]:
    """Small pools with three features and quotas built around a real panel."""
    n = draw(st.integers(3, max_people))
    seats = draw(st.integers(1, n - 1))
    people = [
        Person(f"p{i}", {"a": draw(st.sampled_from("xy")), "b": draw(st.sampled_from("uvw")),
                         "c": draw(st.sampled_from("rs"))})
        for i in range(n)
    ]
    witness = draw(st.permutations(range(n)))[:seats]
    quotas = []
    for feature, values in (("a", "xy"), ("b", "uvw"), ("c", "rs")):
        for value in values:
            having = sum(1 for i in witness if people[i].features[feature] == value)
            quotas.append(Quota(feature, value, max(0, having - draw(st.integers(0, 1))),
                                having + draw(st.integers(0, 1))))
    return people, quotas, seats


def lex_at_least(a: list[float], b: list[float], tol: float = TOL) -> bool:
    """Sorted vector ``a`` is lexicographically >= ``b`` (within ``tol``)."""
    for x, y in zip(sorted(a), sorted(b), strict=True):
        if x > y + tol:
            return True
        if x < y - tol:
            return False
    return True


def medium_pool(n: int = 240, seats: int = 60, seed: int = 5) -> tuple[list[Person], list[Quota]]:
    rng = np.random.default_rng(seed)
    shares = {"age": {"a": 0.2, "b": 0.3, "c": 0.5}, "edu": {"l": 0.3, "m": 0.4, "h": 0.3},
              "dist": {"d0": 0.25, "d1": 0.25, "d2": 0.25, "d3": 0.25}, "g": {"f": 0.5, "m": 0.5}}
    bias = {"age": [0.6, 1.0, 1.5], "edu": [0.5, 1.0, 2.0], "dist": [1.3, 1.0, 0.9, 0.7],
            "g": [1.0, 1.0]}
    people = []
    for i in range(n):
        features = {}
        for feature, values in shares.items():
            w = np.array(list(values.values())) * np.array(bias[feature])
            features[feature] = list(values)[int(rng.choice(len(values), p=w / w.sum()))]
        people.append(Person(f"m{i:03d}", features))
    return people, quotas_from_shares(shares, seats, tolerance=0.1, slack=1)


@pytest.mark.skipif(not SMALL_20.exists(), reason="shared test data not present")
def test_leximin_on_example_small_20_is_exact() -> None:
    rows = (SMALL_20 / "respondents.csv").read_text().splitlines()
    header = rows[0].split(",")
    people = [Person(str(i), dict(zip(header, r.split(","), strict=True)))
              for i, r in enumerate(rows[1:])]
    quotas = []
    for line in (SMALL_20 / "categories.csv").read_text().splitlines()[1:]:
        feature, value, low, high = line.split(",")
        quotas.append(Quota(feature, value, int(low), int(high)))
    events: list[LeximinProgress] = []
    d = find_distribution(people, quotas, 20, algorithm="leximin", report=events.append)
    assert d.exact and d.tolerance <= 1e-6
    assert all(chance == pytest.approx(0.1, abs=1e-6) for chance in d.probabilities.values())
    assert events and events[-1].minimum == pytest.approx(0.1, abs=1e-6)


@SLOW
@given(pools())
def test_leximin_is_lexicographically_at_least_maximin(
    case: tuple[list[Person], list[Quota], int],
) -> None:
    people, quotas, seats = case
    lex = find_distribution(people, quotas, seats, algorithm="leximin")
    maximin = find_distribution(people, quotas, seats, algorithm="maximin")
    assert lex.exact
    assert lex_at_least(list(lex.probabilities.values()), list(maximin.probabilities.values()))
    assert lex.min_probability == pytest.approx(maximin.min_probability, abs=TOL)
    assert sum(lex.probabilities.values()) == pytest.approx(seats, abs=1e-6)
    for panel in round_lottery(lex, 40).panels:
        assert check_panel(panel, people, quotas, seats) == []


def brute_goldilocks(people: list[Person], quotas: list[Quota], seats: int) -> float:
    """The best Goldilocks_1 value over ALL panels: scan the floor, LP for the ceiling."""
    ids = [p.id for p in people]
    panels = [c for c in itertools.combinations(ids, seats)
              if not check_panel(c, people, quotas, seats)]
    a = np.array([[1.0 if pid in panel else 0.0 for panel in panels] for pid in ids])
    n_p = len(panels)
    uniform = seats / len(ids)
    best = np.inf
    top = linprog(np.append(np.zeros(n_p), -1.0), A_ub=np.hstack([-a, np.ones((len(ids), 1))]),
                  b_ub=np.zeros(len(ids)), A_eq=np.append(np.ones(n_p), 0.0)[None, :],
                  b_eq=[1.0], bounds=[(0, None)] * (n_p + 1), method="highs")
    maximin = -top.fun
    for low in np.linspace(maximin / 50, maximin, 400):
        res = linprog(np.append(np.zeros(n_p), 1.0),
                      A_ub=np.vstack([np.hstack([a, -np.ones((len(ids), 1))]),
                                      np.hstack([-a, np.zeros((len(ids), 1))])]),
                      b_ub=np.concatenate([np.zeros(len(ids)), -np.full(len(ids), low)]),
                      A_eq=np.append(np.ones(n_p), 0.0)[None, :], b_eq=[1.0],
                      bounds=[(0, None)] * (n_p + 1), method="highs")
        if res.status == 0:
            best = min(best, goldilocks_value(low, res.fun, uniform, 1.0))
    return float(best)


def _person(i: int, a: str, b: str, c: str) -> Person:
    return Person(f"p{i}", {"a": a, "b": b, "c": c})


# The relaxation's best floor (0.233) is not the best over real panels (1/(7 sqrt 2) = 0.202):
# types (x,u,s) x 2 and (y,w,r) sit together on the only panel holding the former, so the
# highest chance is at least twice the lowest and the floor must be searched over the panels.
FLOOR_BELOW_THE_RELAXATION = (
    [_person(0, "x", "w", "r"), _person(1, "y", "w", "s"), _person(2, "y", "u", "r"),
     _person(3, "x", "u", "s"), _person(4, "x", "u", "s"), _person(5, "y", "w", "r"),
     _person(6, "x", "w", "s")],
    [Quota("a", "x", 1, 1), Quota("a", "y", 1, 1), Quota("b", "u", 0, 1), Quota("b", "v", 0, 0),
     Quota("b", "w", 1, 2), Quota("c", "r", 1, 1), Quota("c", "s", 1, 1)],
    2,
)


@SLOW
@given(pools(max_people=7))
@example(FLOOR_BELOW_THE_RELAXATION)
def test_goldilocks_respects_its_bounds(case: tuple[list[Person], list[Quota], int]) -> None:
    people, quotas, seats = case
    gold = find_distribution(people, quotas, seats, algorithm="goldilocks")
    maximin = find_distribution(people, quotas, seats, algorithm="maximin")
    uniform = seats / len(people)
    low, high = gold.min_probability, gold.max_probability
    assert high == pytest.approx(max(gold.probabilities.values()))
    assert 0.0 <= low <= maximin.min_probability + TOL
    assert low - TOL <= uniform <= high + TOL
    assert sum(gold.probabilities.values()) == pytest.approx(seats, abs=1e-6)
    if maximin.min_probability <= TOL:
        return  # someone can never sit: every lottery scores infinity
    assert low > 0.0
    value = goldilocks_value(low, high, uniform, 1.0)
    # no lottery over the real panels scores better (the scan's grid gives it a little slack)
    assert value <= brute_goldilocks(people, quotas, seats) + 1e-6
    for panel in round_lottery(gold, 40).panels:
        assert check_panel(panel, people, quotas, seats) == []


def test_goldilocks_caps_the_highest_chance_on_a_skewed_pool() -> None:
    people, quotas = medium_pool()
    gold = find_distribution(people, quotas, 60, algorithm="goldilocks")
    lex = find_distribution(people, quotas, 60, algorithm="leximin")
    uniform = 60 / len(people)
    ours = goldilocks_value(gold.min_probability, gold.max_probability, uniform, 1.0)
    theirs = goldilocks_value(lex.min_probability, lex.max_probability, uniform, 1.0)
    assert ours <= theirs + 1e-7
    assert gold.max_probability <= lex.max_probability + 1e-7


def test_a_cancelled_leximin_returns_a_valid_lottery_at_the_maximin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # sampling finishes such pools before any anytime state: take the column-generation path
    monkeypatch.setattr(selection_entropy, "MAX_BATCHES", 0)
    people, quotas = medium_pool()
    events: list[LeximinProgress] = []
    after_maximin = {"decomposition", "fallback"}

    def cancel() -> bool:
        return any(e.phase in after_maximin and e.iteration > 1 for e in events) and \
            events[-1].phase in after_maximin and events[-1].fixed < events[-1].types

    d = find_distribution(people, quotas, 60, algorithm="leximin", report=events.append,
                          cancel=cancel)
    maximin = find_distribution(people, quotas, 60, algorithm="maximin")
    assert not d.exact
    assert d.min_probability == pytest.approx(maximin.min_probability, abs=1e-7)
    assert sum(d.probabilities.values()) == pytest.approx(60, abs=1e-6)
    assert sum(d.weights) == pytest.approx(1.0)
    for panel in round_lottery(d, 100).panels:
        assert check_panel(panel, people, quotas, 60) == []
    full = find_distribution(people, quotas, 60, algorithm="leximin")
    assert full.exact
    assert lex_at_least(list(full.probabilities.values()), list(d.probabilities.values()))


def test_a_leximin_stopped_while_sampling_keeps_the_maximin_lottery() -> None:
    """The default path (sampling) has no anytime lottery of its own: a stop there (not a
    cancel) computes and returns the maximin lottery, marked not exact."""
    people, quotas = medium_pool()
    events: list[LeximinProgress] = []

    def stop() -> bool:  # pressed right after the first report of the sampling phase
        return any(e.phase == "sampling" for e in events)

    d = find_distribution(people, quotas, 60, algorithm="leximin", report=events.append,
                          cancel=Halt(stop=stop))
    assert any(e.phase == "sampling" for e in events)
    assert events[-1].phase == "stopping" and "maximin" in events[-1].message()
    maximin = find_distribution(people, quotas, 60, algorithm="maximin")
    assert not d.exact
    assert d.min_probability == pytest.approx(maximin.min_probability, abs=1e-7)
    assert sum(d.probabilities.values()) == pytest.approx(60, abs=1e-6)
    for panel in round_lottery(d, 100).panels:
        assert check_panel(panel, people, quotas, 60) == []
    # a cancel at the same moment keeps nothing
    events.clear()
    with pytest.raises(SelectionCancelled):
        find_distribution(people, quotas, 60, algorithm="leximin", report=events.append,
                          cancel=Halt(cancel=stop))


def test_a_decomposition_that_stalls_at_z_1_counts_as_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pricing that finds no new panel at z = 1 (to 1e-6) ends column generation with the
    leximin, not with the staged fallback."""
    monkeypatch.setattr(selection_entropy, "MAX_BATCHES", 0)
    monkeypatch.setattr(selection_leximin, "DONE", 2.0)  # only a stall ends the loop
    people, quotas = medium_pool()
    events: list[LeximinProgress] = []
    d = find_distribution(people, quotas, 60, algorithm="leximin", report=events.append)
    assert d.exact and d.tolerance <= 1e-6
    assert not any(e.phase == "fallback" for e in events)
    monkeypatch.setattr(selection_leximin, "DONE", 1.0 - 1e-9)
    full = find_distribution(people, quotas, 60, algorithm="leximin")
    assert max(abs(d.probabilities[k] - full.probabilities[k]) for k in full.probabilities) < 1e-6


def test_an_infeasible_master_in_the_fallback_keeps_the_lottery_at_the_maximin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The staged fallback whose master LP turns infeasible (floats) ends with the lottery so
    far (at the maximin, not exact), never with an AssertionError."""
    monkeypatch.setattr(selection_entropy, "MAX_BATCHES", 0)
    monkeypatch.setattr(selection_leximin, "_decompose", lambda *_args: "stuck")
    solve = selection_leximin.TargetMaster.solve
    stages: list[int] = []
    set_master = selection_leximin._Fallback._set_master

    def counting(self: selection_leximin._Fallback) -> None:
        stages.append(self.stages)
        set_master(self)

    def failing(self: selection_leximin.TargetMaster) -> object:
        return None if stages and max(stages) >= 2 else solve(self)

    monkeypatch.setattr(selection_leximin._Fallback, "_set_master", counting)
    monkeypatch.setattr(selection_leximin.TargetMaster, "solve", failing)
    people, quotas = medium_pool()
    d = find_distribution(people, quotas, 60, algorithm="leximin")
    monkeypatch.undo()
    maximin = find_distribution(people, quotas, 60, algorithm="maximin")
    assert not d.exact
    assert d.min_probability == pytest.approx(maximin.min_probability, abs=1e-7)
    assert sum(d.probabilities.values()) == pytest.approx(60, abs=1e-6)


def test_progress_reports_iteration_fixed_and_minimum() -> None:
    people, quotas = medium_pool(120, 30, 9)
    events: list[LeximinProgress] = []
    seen: list[float] = []
    d = find_distribution(people, quotas, 30, report=events.append,
                          progress=lambda f, _m: seen.append(f))
    assert events and len(seen) >= len(events)
    assert [e.iteration for e in events] == sorted(e.iteration for e in events)
    assert events[-1].minimum == pytest.approx(d.min_probability, abs=1e-7)
    assert all(0 <= e.fixed <= e.types for e in events)
    assert "minimum chance" in events[-1].message()


def _dense_master(
    panels: list[np.ndarray], counts: np.ndarray, g: np.ndarray, h: np.ndarray
) -> float:
    """The restricted master in its plain form (every panel a full column, sum lambda = 1)."""
    a = np.vstack(panels).astype(np.float64).T / counts[:, None]  # (T, P)
    k = a.shape[1]
    cost = np.zeros(k + 1)
    cost[-1] = -1.0  # maximise z
    # -(a lambda) + g z <= -h
    upper = np.hstack([-a, g[:, None]])
    convex = np.append(np.ones(k), 0.0)[None, :]
    result = linprog(
        cost, A_ub=upper, b_ub=-h, A_eq=convex, b_eq=[1.0],
        bounds=[(0, None)] * k + [(0, 1)], method="highs",
    )
    assert result.status == 0
    return float(-result.fun)


def test_the_master_with_a_reference_panel_solves_the_plain_master() -> None:
    """Columns stored as differences from the first panel: same optimum, duals that price the
    same panels, and weights that add up to one and give chances at least z, for a maximin
    target and a decomposition target set after the panels."""
    from summit.lottery.rules.selection import _build_types
    from summit.lottery.rules.selection_leximin import TargetMaster
    from summit.lottery.rules.selection_polytope import PanelPolytope, relaxed_leximin

    people, quotas = medium_pool()
    model = _build_types(people, quotas, sorted({q.feature for q in quotas}), 60, False).model
    target, _ = relaxed_leximin(model)
    poly = PanelPolytope(model)
    panels = poly.box_panels(target * model.counts, 40, 3)
    assert len(panels) >= 5
    counts = model.counts.astype(np.float64)
    n = model.size
    ones, zeros = np.ones(n), np.zeros(n)
    maximin_level = 0.0
    for g, h in ((ones, zeros), (np.maximum(target - 0.05, 0.0), np.full(n, 0.05))):
        master = TargetMaster(model)
        for panel in panels:
            master.add(panel)
        master.set_target(g, h, 1.0)
        solved = master.solve()
        assert solved is not None
        z, y, mu = solved
        assert z == pytest.approx(_dense_master(panels, counts, g, h), abs=1e-8)
        assert master.snapshot is not None
        used, weights = master.snapshot
        assert used == len(panels) and weights.sum() == pytest.approx(1.0, abs=1e-9)
        chances = (weights @ np.vstack(panels)) / counts
        assert (chances >= h + g * z - 1e-8).all()
        # no stored panel prices in at the optimum (reduced costs <= 0)
        assert max(float(y @ (p / counts)) for p in panels) <= mu + 1e-8
        if h is zeros:
            maximin_level = z
    assert maximin_level > 0.0
