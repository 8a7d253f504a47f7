"""The panel polytope over person types, for the fast fair-selection algorithms (HiGHS, pure).

A panel is an integer count vector ``x`` over types: ``0 <= x_t <= c_t``, ``sum x = seats``,
quota rows ``min <= M x <= max`` and at most one per household group. :class:`PanelPolytope`
keeps two HiGHS models of it, the LP relaxation ``Q`` and the MIP, optionally restricted to a
*face* of ``Q`` (some rows held at one of their bounds, some types at 0 or ``c_t``), and prices
panels in three steps, cheapest first:

1. the LP relaxation: its bound proves "no panel is worth more than this" at once, and when its
   optimal vertex is integral that vertex *is* the best panel (no MIP needed);
2. rounding from the LP: the integral coordinates are kept and a tiny MIP completes the rest;
3. the exact MIP, only when the first two leave the question open.

:func:`relaxed_leximin` computes the leximin point of ``Q`` itself — a compact LP with one
column per type, no column generation — with the Nature 2021 rule of fixing, per stage, every
type whose dual is positive. Every panel lies in ``Q``, so this vector is an upper bound in the
leximin order; when it can be written as a lottery over integer panels it *is* the leximin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from summit.lottery.rules.selection_solver import (
    INF,
    FloatArray,
    IntArray,
    TypeModel,
    new_highs,
)

LP_TOLERANCE = 1e-9  # primal and dual feasibility tolerance of every LP here
FIX_DUAL = 1e-7  # a stage dual above this fixes its type (below it the type waits a stage)
LOOSEN = (1e-9, 1e-8, 1e-7)  # extra lowering of fixed levels when a stage LP is infeasible
LEVEL_SLACK = 1e-10  # fixed levels are lowered by this much so the LP stays feasible in floats
TIGHT = 1e-6  # a row or bound this close (in people) to its limit counts as tight
INTEGRAL = 1e-6  # an LP value this close to an integer counts as integral

CheckFn = Callable[[], None]


def _new_highs(*, lp: bool) -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    if lp:
        h.setOptionValue("primal_feasibility_tolerance", LP_TOLERANCE)
        h.setOptionValue("dual_feasibility_tolerance", LP_TOLERANCE)
    return h


@dataclass(frozen=True)
class Rows:
    """Every row of the panel polytope as a dense matrix: seats, quotas, households."""

    matrix: FloatArray  # (R, T)
    low: FloatArray  # (R,)
    high: FloatArray  # (R,)

    @staticmethod
    def of(model: TypeModel) -> Rows:
        n = model.size
        blocks = [np.ones((1, n)), model.quota_matrix]
        low = [np.array([float(model.seats)]), model.quota_min]
        high = [np.array([float(model.seats)]), model.quota_max]
        for group in model.groups:
            row = np.zeros((1, n))
            row[0, list(group)] = 1.0
            blocks.append(row)
            low.append(np.array([-INF]))
            high.append(np.array([1.0]))
        return Rows(
            np.vstack(blocks).astype(np.float64),
            np.concatenate(low).astype(np.float64),
            np.concatenate(high).astype(np.float64),
        )


@dataclass(frozen=True)
class Face:
    """Bounds that restrict the polytope to a face (or leave it whole)."""

    col_low: FloatArray
    col_high: FloatArray
    row_low: FloatArray
    row_high: FloatArray

    @staticmethod
    def whole(model: TypeModel, rows: Rows) -> Face:
        counts = model.counts.astype(np.float64)
        return Face(np.zeros_like(counts), counts, rows.low.copy(), rows.high.copy())

    @staticmethod
    def minimal(model: TypeModel, rows: Rows, x: FloatArray) -> Face:
        """The smallest face of ``Q`` holding the point ``x``: everything tight at ``x`` is
        held there. Any lottery over panels whose mean is ``x`` uses only panels of this face
        (a valid inequality tight at a mean is tight at every panel with positive weight)."""
        counts = model.counts.astype(np.float64)
        col_low = np.where(x > counts - TIGHT, counts, 0.0)
        col_high = np.where(x < TIGHT, 0.0, counts)
        activity = rows.matrix @ x
        at_low = np.isfinite(rows.low) & (activity < rows.low + TIGHT)
        at_high = activity > rows.high - TIGHT
        row_low = np.where(at_high, rows.high, rows.low)
        row_high = np.where(at_low, rows.low, rows.high)
        return Face(col_low, col_high, row_low, row_high)

    def holds(self, rows: Rows, x: FloatArray) -> bool:
        if (x < self.col_low - 1e-9).any() or (x > self.col_high + 1e-9).any():
            return False
        activity = rows.matrix @ x
        return bool(
            (activity >= self.row_low - 1e-9).all() and (activity <= self.row_high + 1e-9).all()
        )


class PanelPolytope:
    """LP relaxation and MIP of the panel polytope (or one of its faces), for pricing."""

    def __init__(self, model: TypeModel, face: Face | None = None) -> None:
        self.model = model
        self.rows = Rows.of(model)
        self.face = face if face is not None else Face.whole(model, self.rows)
        self._lp = self._build(integer=False)
        self._mip = self._build(integer=True)
        self._mip.setOptionValue("mip_rel_gap", 1e-9)
        self._mip.setOptionValue("mip_abs_gap", 1e-12)
        self._mip.setOptionValue("presolve", "off")  # many small MIPs run faster without
        self.lp_calls = 0
        self.mip_calls = 0

    def _build(self, *, integer: bool) -> highspy.Highs:
        h = _new_highs(lp=not integer)
        n = self.model.size
        empty_i, empty_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        for t in range(n):
            h.addCol(0.0, self.face.col_low[t], self.face.col_high[t], 0, empty_i, empty_f)
        if integer:
            h.changeColsIntegrality(
                n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
            )
        for r in range(self.rows.matrix.shape[0]):
            nz = np.nonzero(self.rows.matrix[r])[0].astype(np.int32)
            h.addRow(self.face.row_low[r], self.face.row_high[r], len(nz), nz, np.ones(len(nz)))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        return h

    def _set_cols(self, h: highspy.Highs, low: FloatArray, high: FloatArray) -> None:
        n = self.model.size
        h.changeColsBounds(n, np.arange(n, dtype=np.int32), low, high)

    def restrict(self, low: FloatArray, high: FloatArray) -> None:
        """Column bounds of the LP (within the face; the face's own bounds lift them)."""
        self._set_cols(self._lp, low, high)

    def lp_optimum(self, weights: FloatArray) -> tuple[FloatArray, float] | None:
        """The LP relaxation's optimal vertex and value (None when the face is empty)."""
        n = self.model.size
        self._lp.changeColsCost(n, np.arange(n, dtype=np.int32), weights.astype(np.float64))
        self._lp.run()
        self.lp_calls += 1
        if self._lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self._lp.getSolution().col_value, dtype=np.float64)
        return x, float(weights @ x)

    def mip_optimum(
        self, weights: FloatArray, low: FloatArray | None = None, high: FloatArray | None = None
    ) -> tuple[IntArray, float] | None:
        """The best panel (within extra column bounds, if given), or None when there is none."""
        n = self.model.size
        h = self._mip
        if low is not None and high is not None:
            self._set_cols(h, low, high)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), weights.astype(np.float64))
        h.run()
        self.mip_calls += 1
        status = h.getModelStatus()
        if low is not None:
            self._set_cols(h, self.face.col_low, self.face.col_high)
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
        return x, float(weights @ x)

    def integral_panel(self, x: FloatArray) -> IntArray | None:
        """``x`` rounded, when it is integral and a panel of this face."""
        rounded = np.rint(x)
        if np.abs(x - rounded).max(initial=0.0) > INTEGRAL:
            return None
        if not self.face.holds(self.rows, rounded):
            return None
        return rounded.astype(np.int64)

    def price(self, weights: FloatArray, threshold: float) -> IntArray | None:
        """A panel worth more than ``threshold`` under ``weights``, or None when provably none
        is (LP bound first, then its integral vertex, rounding, and the exact MIP last)."""
        found = self.lp_optimum(weights)
        if found is None:
            return None
        x, bound = found
        if bound <= threshold:
            return None  # the relaxation bounds every panel
        panel = self.integral_panel(x)
        if panel is not None:
            return panel  # an integral LP optimum is the MIP optimum
        integral = np.abs(x - np.rint(x)) <= INTEGRAL
        low = np.where(integral, np.rint(x), self.face.col_low)
        high = np.where(integral, np.rint(x), self.face.col_high)
        rounded = self.mip_optimum(weights, low, high)
        if rounded is not None and rounded[1] > threshold:
            return rounded[0]
        exact = self.mip_optimum(weights)
        if exact is not None and exact[1] > threshold:
            return exact[0]
        return None

    def near_box(self, centre: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Column bounds within one person of ``centre`` in every type, inside the face."""
        low = np.maximum(np.floor(centre + 1e-9), self.face.col_low)
        high = np.maximum(low, np.minimum(np.ceil(centre - 1e-9), self.face.col_high))
        return low, high

    def panels_near(
        self,
        centre: FloatArray,
        objective: Callable[[], FloatArray],
        attempts: int,
        *,
        wanted: int | None = None,
        seen: set[bytes] | None = None,
    ) -> list[IntArray]:
        """New integral vertices of the face within one person of ``centre``: up to ``attempts``
        LP solves, each with the next ``objective()``, until ``wanted`` are found; a panel in
        ``seen`` (updated) is not returned again. The face's bounds are restored afterwards."""
        seen = set() if seen is None else seen
        panels: list[IntArray] = []
        self.restrict(*self.near_box(centre))
        try:
            for _ in range(attempts):
                if wanted is not None and len(panels) >= wanted:
                    break
                found = self.lp_optimum(objective())
                if found is None:
                    break
                panel = self.integral_panel(found[0])
                if panel is not None and panel.tobytes() not in seen:
                    seen.add(panel.tobytes())
                    panels.append(panel)
        finally:
            self.restrict(self.face.col_low, self.face.col_high)
        return panels

    def box_panels(self, centre: FloatArray, count: int, seed: int) -> list[IntArray]:
        """Integral vertices of the face within one person of ``centre`` in every type, from
        LP solves with random objectives (rounding up where the fraction is large, on
        average): a cheap, diverse set of panels around a target point. Deterministic."""
        rng = np.random.default_rng(seed)
        fraction = centre - np.floor(centre + 1e-9)
        return self.panels_near(centre, lambda: fraction - rng.random(self.model.size), count)


def chance_ceiling(model: TypeModel) -> FloatArray:
    """A cheap upper bound on each type's chance: seats, its quota maxima and its size."""
    most = np.minimum(model.counts, model.seats).astype(np.float64)
    for q in range(model.quota_matrix.shape[0]):
        members = model.quota_matrix[q] > 0
        most[members] = np.minimum(most[members], model.quota_max[q])
    result: FloatArray = np.minimum(1.0, most / model.counts)
    return result


def _run_loosening(h: highspy.Highs, base: int, fixed: NDArray[np.bool_]) -> None:
    """Solve the stage LP; when floats make it infeasible (levels fixed from earlier optima that
    were themselves feasible only to the tolerance), lower the fixed levels step by step."""
    h.run()
    for slack in LOOSEN:
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            return
        if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible or not fixed.any():
            break
        rows = (np.nonzero(fixed)[0] + base).astype(np.int32)
        lower = np.asarray(h.getLp().row_lower_)[rows]
        for row, low in zip(rows.tolist(), lower.tolist(), strict=True):
            h.changeRowBounds(row, max(0.0, low - slack), INF)
        h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        status = h.modelStatusToString(h.getModelStatus())
        raise RuntimeError(f"the relaxed leximin LP did not solve ({status})")


def relaxed_leximin(model: TypeModel, check: CheckFn | None = None) -> tuple[FloatArray, int]:
    """The leximin chance vector over the LP relaxation ``Q`` and the number of stages.

    Each stage maximises the smallest chance ``z`` of the unfixed types (a compact LP: one
    column per type and one for ``z``), then fixes every unfixed type whose row dual is positive
    — complementary slackness says none of them can rise above ``z`` in any optimum — and types
    whose ceiling is ``z``. The LP keeps its basis between stages.
    """
    n = model.size
    counts = model.counts.astype(np.float64)
    h = _new_highs(lp=True)
    empty_i, empty_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
    for t in range(n):
        h.addCol(0.0, 0.0, counts[t], 0, empty_i, empty_f)
    h.addCol(1.0, 0.0, 1.0, 0, empty_i, empty_f)  # z
    rows = Rows.of(model)
    for r in range(rows.matrix.shape[0]):
        nz = np.nonzero(rows.matrix[r])[0].astype(np.int32)
        h.addRow(rows.low[r], rows.high[r], len(nz), nz, np.ones(len(nz)))
    base = h.getNumRow()
    for t in range(n):
        idx = np.array([t, n], dtype=np.int32)
        h.addRow(0.0, INF, 2, idx, np.array([1.0 / counts[t], -1.0]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    fixed = np.zeros(n, dtype=bool)
    ceiling = chance_ceiling(model)
    stages = 0
    while not fixed.all():
        if check is not None:
            check()
        stages += 1
        _run_loosening(h, base, fixed)
        solution = h.getSolution()
        z = float(solution.col_value[n])
        duals = np.maximum(-np.asarray(solution.row_dual)[base:], 0.0)
        unfixed = ~fixed
        stuck = unfixed & ((duals > FIX_DUAL) | (ceiling <= z + LEVEL_SLACK))
        if not stuck.any():
            stuck[int(np.argmax(np.where(unfixed, duals, -1.0)))] = True
        for row in (np.nonzero(stuck)[0] + base).tolist():
            h.changeCoeff(row, n, 0.0)
            h.changeRowBounds(row, max(0.0, z - LEVEL_SLACK), INF)
        fixed |= stuck
    _run_loosening(h, base, fixed)
    x = np.asarray(h.getSolution().col_value[:n], dtype=np.float64)
    result: FloatArray = np.clip(x, 0.0, counts) / counts
    return result, stages
