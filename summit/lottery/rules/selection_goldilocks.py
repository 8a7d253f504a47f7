"""Goldilocks (Baharav & Flanigan, arXiv 2406.15009): no chance too low, none too high.

The objective, for a lottery with chances ``p`` over a pool of ``n`` for ``k`` seats, is

    Goldilocks_gamma(p) = max_i p_i / (k/n) + gamma * (k/n) / min_i p_i

(the highest chance relative to the uniform ``k/n`` plus the uniform relative to the lowest);
``gamma = 1`` is the paper's recommended setting. It is convex in the two extremes, so:

1. **Relaxation**: for a floor ``l`` let ``U(l)`` be the smallest possible highest chance with
   every chance at least ``l`` over the LP relaxation ``Q`` (a compact LP over type counts).
   ``U`` is convex and increasing, ``a U(l) + gamma / (a l)`` (``a = n/k``) is convex in ``l``:
   a golden-section search on ``(0, maximin]`` finds the optimal floor ``l*`` (relative 1e-7).
2. **Decomposition**: the relaxed optimum (type counts at ``l*``) is a target like leximin's:
   :func:`~summit.lottery.rules.selection_entropy.decompose` writes it as a lottery over panels
   of its face (sampling and maximum entropy, no master LP). When it does, the lottery attains
   the relaxation's optimum: it is optimal (``exact``, objective = bound).
3. **Column generation** (when the samples do not reach the target): warm-started with
   integral LP vertices around the relaxed optimum and the samples, LP-first pricing, it
   minimises the highest chance over real panels with floor ``l*``; reaching ``U(l*)`` is exact
   too. Otherwise ``l*`` need not be the best floor over real panels (their hull is smaller than
   ``Q``), so a golden-section search over the floor runs column generation at each floor: the
   lottery is the best over real panels to the search's precision, and ``exact`` is False (its
   objective is above the relaxation's bound).

Pure: no I/O; HiGHS only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np

from summit.lottery.rules.selection_entropy import decompose
from summit.lottery.rules.selection_polytope import (
    LP_TOLERANCE,
    Face,
    PanelPolytope,
    Rows,
)
from summit.lottery.rules.selection_solver import (
    INF,
    CancelFn,
    FloatArray,
    IntArray,
    ProgressFn,
    SelectionCancelled,
    TypeDistribution,
    TypeModel,
    new_highs,
)

GAP = 1e-9
SEARCH_STEPS = 60  # golden-section steps: the floor interval shrinks by 0.618 each
ELASTIC_COST = 1e3  # per unit of floor shortfall in the master (keeps it feasible)
HULL_STEPS = 40  # golden-section steps of the floor over real panels (fallback only)
EXACT = 1e-9  # relative gap to the relaxation's optimum that counts as reaching it
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class GoldilocksResult:
    distribution: TypeDistribution
    min_probability: float
    max_probability: float
    objective: float  # Goldilocks_gamma of the lottery
    bound: float  # the relaxation's optimum: no lottery scores lower
    exact: bool


def goldilocks_value(low: float, high: float, uniform: float, gamma: float) -> float:
    return high / uniform + gamma * uniform / max(low, 1e-300)


def _highs() -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("primal_feasibility_tolerance", LP_TOLERANCE)
    h.setOptionValue("dual_feasibility_tolerance", LP_TOLERANCE)
    return h


class _Relaxation:
    """``U(l)``: minimise ``u`` s.t. ``l <= x_t / c_t <= u`` over ``Q``."""

    def __init__(self, model: TypeModel) -> None:
        n = model.size
        counts = model.counts.astype(np.float64)
        h = _highs()
        empty_i, empty_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        for t in range(n):
            h.addCol(0.0, 0.0, counts[t], 0, empty_i, empty_f)
        h.addCol(1.0, 0.0, 1.0, 0, empty_i, empty_f)  # u
        rows = Rows.of(model)
        for r in range(rows.matrix.shape[0]):
            nz = np.nonzero(rows.matrix[r])[0].astype(np.int32)
            h.addRow(rows.low[r], rows.high[r], len(nz), nz, np.ones(len(nz)))
        self.base = h.getNumRow()
        for t in range(n):  # floor rows: x_t / c_t >= l
            h.addRow(0.0, INF, 1, np.array([t], dtype=np.int32), np.array([1.0 / counts[t]]))
        for t in range(n):  # ceiling rows: x_t / c_t - u <= 0
            idx = np.array([t, n], dtype=np.int32)
            h.addRow(-INF, 0.0, 2, idx, np.array([1.0 / counts[t], -1.0]))
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.model = model
        self._h = h

    def highest(self, low: float) -> tuple[float, FloatArray] | None:
        n = self.model.size
        for t in range(n):
            self._h.changeRowBounds(self.base + t, low, INF)
        self._h.run()
        if self._h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = np.asarray(self._h.getSolution().col_value, dtype=np.float64)
        return float(values[n]), values[:n]


def _best_floor(
    relaxation: _Relaxation, top: float, uniform: float, gamma: float
) -> tuple[float, float, FloatArray]:
    """Golden-section search for the floor minimising the relaxed objective."""

    def score(low: float) -> tuple[float, float, FloatArray]:
        found = relaxation.highest(low)
        if found is None:
            return math.inf, math.inf, np.zeros(relaxation.model.size)
        return goldilocks_value(low, found[0], uniform, gamma), found[0], found[1]

    a, b = top * 1e-3, top
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = score(c)[0], score(d)[0]
    for _ in range(SEARCH_STEPS):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = score(c)[0]
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = score(d)[0]
    candidates = [(score(v), v) for v in (a, b, (a + b) / 2.0, top)]
    (value, high, x), low = min(candidates, key=lambda item: item[0][0])
    del value
    return low, high, x


class _CeilingMaster:
    """``minimise u + E s`` s.t. ``p_t + s >= l``, ``p_t - u <= 0``, ``sum lambda = 1``."""

    def __init__(self, model: TypeModel, low: float) -> None:
        n = model.size
        self.model = model
        self.inv_counts = 1.0 / model.counts.astype(np.float64)
        h = _highs()
        h.setOptionValue("simplex_strategy", 4)
        empty_i, empty_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        h.addCol(1.0, 0.0, 1.0, 0, empty_i, empty_f)  # u
        h.addCol(ELASTIC_COST, 0.0, INF, 0, empty_i, empty_f)  # s
        for _ in range(n):
            h.addRow(low, INF, 1, np.array([1], dtype=np.int32), np.array([1.0]))
        for _ in range(n):
            h.addRow(-INF, 0.0, 1, np.array([0], dtype=np.int32), np.array([-1.0]))
        h.addRow(1.0, 1.0, 0, empty_i, empty_f)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self._h = h
        self.panels: list[IntArray] = []
        self._seen: set[bytes] = set()

    def add(self, x: IntArray) -> bool:
        key = x.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.panels.append(x)
        n = self.model.size
        nz = np.nonzero(x)[0]
        vals = x[nz] * self.inv_counts[nz]
        rows = np.concatenate([nz, nz + n, [2 * n]]).astype(np.int32)
        self._h.addCol(0.0, 0.0, INF, len(rows), rows, np.concatenate([vals, vals, [1.0]]))
        return True

    def set_floor(self, low: float) -> None:
        for t in range(self.model.size):
            self._h.changeRowBounds(t, low, INF)

    def solve(self) -> tuple[float, float, FloatArray, FloatArray, float]:
        """(u, shortfall, weights, pricing weights per person, pricing threshold)."""
        self._h.run()
        if self._h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("Goldilocks master LP did not solve")
        n = self.model.size
        solution = self._h.getSolution()
        values = np.asarray(solution.col_value)
        duals = np.asarray(solution.row_dual)
        # reduced cost of a panel = -sum_rows dual * entry: it improves when that sum is > 0
        weights = (duals[:n] + duals[n : 2 * n]) * self.inv_counts
        return (
            float(values[0]),
            float(values[1]),
            np.clip(values[2:], 0.0, None),
            weights,
            -float(duals[2 * n]),
        )


def solve_goldilocks(
    model: TypeModel,
    *,
    maximin: float,
    gamma: float = 1.0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> GoldilocksResult:
    """The Goldilocks lottery; ``maximin`` is the highest feasible floor (from the maximin)."""
    started = time.perf_counter()
    uniform = model.seats / float(model.counts.sum())
    relaxation = _Relaxation(model)
    low, high_bound, centre = _best_floor(relaxation, maximin, uniform, gamma)
    bound = goldilocks_value(low, high_bound, uniform, gamma)
    sampled = _sampled(model, centre, progress, cancel)
    if sampled is not None:
        panels, weights = sampled
        result = _result(model, panels, weights, uniform, gamma, bound, 1, started)
        if result.exact:
            return result
    search = _FloorSearch(model, relaxation, uniform, gamma, progress, cancel)
    search.add_panels(PanelPolytope(model).box_panels(centre, max(20, model.size), 0))
    if sampled is not None:
        search.add_panels(sampled[0])
    search.cover()
    search.evaluate(low)
    if search.best_value > bound * (1.0 + EXACT) + EXACT:
        # the panels cannot reach the relaxation at its best floor: the relaxation's floor need
        # not be the best floor over real panels, so search the floor over the panels' hull
        search.golden(maximin)
    panels, weights = search.best_lottery
    return _result(model, panels, weights, uniform, gamma, bound, search.iterations, started)


def _result(
    model: TypeModel,
    panels: list[IntArray] | tuple[IntArray, ...],
    weights: FloatArray,
    uniform: float,
    gamma: float,
    bound: float,
    iterations: int,
    started: float,
) -> GoldilocksResult:
    keep = weights > 1e-12
    kept = tuple(p for p, k in zip(panels, keep, strict=True) if k)
    w = weights[keep] / weights[keep].sum()
    chances = (w @ np.vstack(kept).astype(np.float64)) / model.counts
    lowest, highest = float(chances.min()), float(chances.max())
    value = goldilocks_value(lowest, highest, uniform, gamma)
    distribution = TypeDistribution(kept, w, chances, iterations, 1, time.perf_counter() - started)
    return GoldilocksResult(
        distribution, lowest, highest, value, bound, value <= bound * (1.0 + EXACT) + EXACT
    )


def _sampled(
    model: TypeModel,
    centre: FloatArray,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> tuple[list[IntArray], FloatArray] | None:
    """The relaxed optimum decomposed by sampling panels of its face (maximum entropy), or None
    when the samples do not reach it."""
    counts = model.counts.astype(np.float64)
    face = Face.minimal(model, Rows.of(model), centre)
    poly = PanelPolytope(model, face)

    def step(fraction: float) -> None:
        if cancel is not None and cancel():
            raise SelectionCancelled("selection cancelled")
        if progress is not None:
            progress(0.9 * fraction, "goldilocks: sampling panels around the relaxed optimum")

    return decompose(poly, np.clip(centre, 0.0, counts) / counts, step)


class _FloorSearch:
    """Column generation for the lowest ceiling at a floor, and a golden-section search over
    the floor on the panels' hull (the relaxation's best floor need not be the hull's)."""

    def __init__(
        self,
        model: TypeModel,
        relaxation: _Relaxation,
        uniform: float,
        gamma: float,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> None:
        self.model = model
        self.relaxation = relaxation
        self.uniform = uniform
        self.gamma = gamma
        self.progress = progress
        self.cancel = cancel
        self.poly = PanelPolytope(model)
        self.master = _CeilingMaster(model, 0.0)
        self.iterations = 0
        self.best_value = math.inf
        self.best_lottery: tuple[list[IntArray], FloatArray] = ([], np.zeros(0))

    def add_panels(self, panels: list[IntArray]) -> None:
        for panel in panels:
            self.master.add(panel)

    def cover(self) -> None:
        _cover(self.poly, self.master)

    def evaluate(self, low: float) -> float:
        """The best objective at floor ``low`` over real panels (inf when unreachable); the
        best lottery seen so far is kept."""
        self.master.set_floor(low - 1e-10)
        relaxed = self.relaxation.highest(low)
        high_bound = relaxed[0] if relaxed is not None else 0.0
        while True:
            if self.cancel is not None and self.cancel():
                raise SelectionCancelled("selection cancelled")
            self.iterations += 1
            high, shortfall, weights, prices, threshold = self.master.solve()
            if self.progress is not None:
                self.progress(
                    min(0.99, high_bound / max(high, 1e-12)),
                    f"goldilocks: {len(self.master.panels)} panels, highest chance {high:.4%} "
                    f"(at least {high_bound:.4%})",
                )
            if shortfall <= 1e-9 and high <= high_bound + GAP:
                break
            priced = self.poly.price(prices, threshold + GAP)
            if priced is None or not self.master.add(priced):
                break
        panels = list(self.master.panels)
        chances = (weights @ np.vstack(panels).astype(np.float64)) / self.model.counts
        value = goldilocks_value(
            float(chances.min()), float(chances.max()), self.uniform, self.gamma
        )
        if value < self.best_value:
            self.best_value = value
            self.best_lottery = (panels, weights.copy())
        if shortfall > 1e-9:
            return math.inf
        return goldilocks_value(low, high, self.uniform, self.gamma)

    def golden(self, top: float) -> None:
        """Golden-section search of the floor on ``(0, top]`` (the objective is convex in it)."""
        a, b = top * 1e-3, top
        c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
        fc, fd = self.evaluate(c), self.evaluate(d)
        for _ in range(HULL_STEPS):
            if fc <= fd:
                b, d, fd = d, c, fc
                c = b - _GOLDEN * (b - a)
                fc = self.evaluate(c)
            else:
                a, c, fc = c, d, fd
                d = a + _GOLDEN * (b - a)
                fd = self.evaluate(d)
        for v in (a, b, top):
            self.evaluate(v)


def _cover(poly: PanelPolytope, master: _CeilingMaster) -> None:
    n = poly.model.size
    covered = np.zeros(n, dtype=bool)
    for x in master.panels:
        covered |= x > 0
    while not covered.all():
        found = poly.mip_optimum(np.where(covered, 1e-6, 1.0).astype(np.float64))
        if found is None or not (found[0][~covered] > 0).any():
            return
        master.add(found[0])
        covered |= found[0] > 0
