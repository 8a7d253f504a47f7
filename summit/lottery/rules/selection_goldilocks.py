"""Goldilocks (Baharav & Flanigan, arXiv 2406.15009): no chance too low, none too high.

The objective, for a lottery with chances ``p`` over a pool of ``n`` for ``k`` seats, is

    Goldilocks_gamma(p) = max_i p_i / (k/n) + gamma * (k/n) / min_i p_i

(the highest chance relative to the uniform ``k/n`` plus the uniform relative to the lowest);
``gamma = 1`` is the paper's recommended setting. It is convex in the two extremes, so:

1. **Relaxation**: for a floor ``l`` let ``U(l)`` be the smallest possible highest chance with
   every chance at least ``l`` over the LP relaxation ``Q`` (a compact LP over type counts).
   ``U`` is convex and increasing, ``a U(l) + gamma / (a l)`` (``a = n/k``) is convex in ``l``:
   a golden-section search on ``(0, maximin]`` finds the optimal floor ``l*`` (relative 1e-7).
2. **Panels**: column generation (warm-started with integral LP vertices around the relaxed
   optimum, LP-first pricing) minimises the highest chance over real panels with floor ``l*``.
   When it reaches ``U(l*)`` the relaxation's optimum is attained, so the lottery is optimal
   (``exact``); otherwise it is the best lottery at that floor and ``exact`` is False.

Pure: no I/O; HiGHS only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np

from summit.lottery.rules.selection_polytope import (
    LP_TOLERANCE,
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
    poly = PanelPolytope(model)
    master = _CeilingMaster(model, low - 1e-10)
    for panel in poly.box_panels(centre, max(20, model.size), 0):
        master.add(panel)
    _cover(poly, master)
    iterations = 0
    while True:
        if cancel is not None and cancel():
            raise SelectionCancelled("selection cancelled")
        iterations += 1
        high, shortfall, weights, prices, threshold = master.solve()
        if progress is not None:
            progress(
                min(0.99, high_bound / max(high, 1e-12)),
                f"goldilocks: {len(master.panels)} panels, highest chance {high:.4%} "
                f"(at least {high_bound:.4%})",
            )
        if shortfall <= 1e-9 and high <= high_bound + GAP:
            break
        priced = poly.price(prices, threshold + GAP)
        if priced is None or not master.add(priced):
            break
    keep = weights > 1e-12
    panels = tuple(p for p, k in zip(master.panels, keep, strict=True) if k)
    w = weights[keep] / weights[keep].sum()
    chances = (w @ np.vstack(panels).astype(np.float64)) / model.counts
    lowest, highest = float(chances.min()), float(chances.max())
    distribution = TypeDistribution(
        panels, w, chances, iterations, 1, time.perf_counter() - started
    )
    return GoldilocksResult(
        distribution,
        lowest,
        highest,
        goldilocks_value(lowest, highest, uniform, gamma),
        bound,
        shortfall <= 1e-9 and high <= high_bound + 1e-7,
    )


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
