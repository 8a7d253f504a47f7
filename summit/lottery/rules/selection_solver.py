"""The optimisation core of the stage 2 selection, on person *types* (HiGHS via highspy).

People with the same feature values (and no housemate in the pool) are interchangeable: any
fair distribution can be averaged over permutations within a type without changing anyone's
chance or breaking a quota. So we optimise over types with counts ``c_t``: a panel is an integer
vector ``x`` (``0 <= x_t <= c_t``, ``sum x = seats``, quota rows ``min <= M x <= max``, at most
one per household group), and a person of type ``t`` is selected with probability
``E[x_t] / c_t``. A pool of 1,500 with five features has a few hundred types, so the master LP and
the pricing MIP are far smaller than per-person models, and leximin is exact per type (the
leximin vector is unique, hence symmetric within types).

Master LP (column generation, columns = panels ``P`` with ``a_{P,t} = x_{P,t} / c_t``)::

    maximise z
    s.t.     sum_P a_{P,t} lambda_P - z >= 0        for every type t not yet fixed
             sum_P a_{P,t} lambda_P     >= f_t      for every fixed type t
             sum_P lambda_P = 1,  lambda >= 0

With row duals ``y_t >= 0`` and ``mu`` (convexity row), a panel improves the master when
``sum_t y_t a_{P,t} > mu``: the pricing MIP maximises ``sum_t (y_t / c_t) x_t`` over panels.
Maximin is the first stage. Leximin (Flanigan et al., Nature 2021) repeats: at the stage optimum
every unfixed type with ``y_t > 0`` cannot be raised (complementary slackness holds against every
optimal primal), so it is fixed at ``z``; the rest is re-solved, keeping all columns (warm start).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

INF = highspy.kHighsInf
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

GAP_TOLERANCE = 1e-9  # pricing gain below which the restricted master is optimal
FIX_TOLERANCE = 1e-7  # dual value above which a type is fixed at the stage optimum
FIX_SLACK = 1e-10  # fixed levels are lowered by this much so the LP stays feasible in floats


class SelectionCancelled(Exception):
    """The cancel callable returned True."""


@dataclass(frozen=True)
class Halt:
    """A cancel callable that tells the organiser's *stop* (keep the lottery so far) from a
    *cancel* (keep nothing): calling it says whether to halt; :meth:`discards` whether the
    result is thrown away. Leximin stopped before it has an anytime lottery computes the maximin
    lottery to keep, and only a cancel interrupts that."""

    cancel: CancelFn | None = None
    stop: CancelFn | None = None

    def __call__(self) -> bool:
        return self.discards() or (self.stop is not None and bool(self.stop()))

    def discards(self) -> bool:
        return self.cancel is not None and bool(self.cancel())


@dataclass(frozen=True)
class TypeModel:
    seats: int
    counts: IntArray  # (T,)
    quota_matrix: FloatArray  # (Q, T), 1 where the type has the quota's feature value
    quota_min: FloatArray  # (Q,)
    quota_max: FloatArray  # (Q,)
    groups: tuple[tuple[int, ...], ...] = ()  # households: at most one of these types

    @property
    def size(self) -> int:
        return int(self.counts.shape[0])

    def is_feasible_panel(self, x: IntArray) -> bool:
        if x.shape != self.counts.shape or (x < 0).any() or (x > self.counts).any():
            return False
        if int(x.sum()) != self.seats:
            return False
        totals = self.quota_matrix @ x
        if (totals < self.quota_min - 1e-9).any() or (totals > self.quota_max + 1e-9).any():
            return False
        return all(int(x[list(g)].sum()) <= 1 for g in self.groups)


# highspy ships no type information: its solver class is held as Any, and made here.
_HIGHS_CLASS: Any = highspy.Highs


def new_highs() -> highspy.Highs:
    """A fresh HiGHS instance."""
    solver: highspy.Highs = _HIGHS_CLASS()
    return solver


def _highs() -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    return h


def _add_rows(h: highspy.Highs, model: TypeModel, col_offset: int = 0) -> None:
    """Seats, quota and household rows over the type columns starting at ``col_offset``."""
    n = model.size
    cols = np.arange(col_offset, col_offset + n, dtype=np.int32)
    h.addRow(model.seats, model.seats, n, cols, np.ones(n))
    for q in range(model.quota_matrix.shape[0]):
        nz = np.nonzero(model.quota_matrix[q])[0]
        h.addRow(
            model.quota_min[q],
            model.quota_max[q],
            len(nz),
            (nz + col_offset).astype(np.int32),
            np.ones(len(nz)),
        )
    for group in model.groups:
        idx = np.array(group, dtype=np.int32) + col_offset
        h.addRow(-INF, 1.0, len(idx), idx, np.ones(len(idx)))


class PanelOracle:
    """The pricing MIP: the feasible panel maximising a weight per selected person."""

    def __init__(self, model: TypeModel) -> None:
        self.model = model
        h = _highs()
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.setOptionValue("mip_abs_gap", 1e-12)
        h.setOptionValue("presolve", "off")  # measured: repeated small MIPs run faster without
        n = model.size
        for t in range(n):
            h.addCol(
                0.0, 0.0, float(model.counts[t]), 0, np.array([], dtype=np.int32), np.array([])
            )
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
        )
        _add_rows(h, model)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._h = h
        self.calls = 0

    def best(self, weights: FloatArray) -> tuple[IntArray, float] | None:
        """The best panel and its weight, or None when no panel exists."""
        n = self.model.size
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), weights.astype(np.float64))
        self._h.run()
        self.calls += 1
        status = self._h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"pricing MIP ended with {self._h.modelStatusToString(status)}")
        x = np.rint(np.asarray(self._h.getSolution().col_value)).astype(np.int64)
        return x, float(weights @ x)


class Master:
    """The restricted master LP over known panels (warm-started simplex)."""

    def __init__(self, model: TypeModel) -> None:
        self.model = model
        self.inv_counts = 1.0 / model.counts.astype(np.float64)
        h = _highs()
        # adding a column keeps the basis primal feasible: primal simplex re-optimises fastest
        h.setOptionValue("simplex_strategy", 4)
        n = model.size
        h.addCol(1.0, 0.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))  # z
        minus_one = np.array([-1.0])
        for _ in range(n):
            h.addRow(0.0, INF, 1, np.array([0], dtype=np.int32), minus_one)
        h.addRow(1.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._h = h
        self.panels: list[IntArray] = []
        self._seen: set[bytes] = set()
        self.fixed = np.zeros(n, dtype=bool)

    def add(self, x: IntArray) -> bool:
        key = x.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.panels.append(x)
        nz = np.nonzero(x)[0]
        rows = np.append(nz, self.model.size).astype(np.int32)
        vals = np.append(x[nz] * self.inv_counts[nz], 1.0)
        self._h.addCol(0.0, 0.0, INF, len(rows), rows, vals)
        return True

    def solve(self) -> tuple[float, FloatArray, float]:
        """(z, y, mu) at the master optimum."""
        self._h.run()
        status = self._h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP ended with {self._h.modelStatusToString(status)}")
        sol = self._h.getSolution()
        duals = np.asarray(sol.row_dual)
        z = float(np.asarray(sol.col_value)[0])
        # maximisation: >= rows carry non-positive duals in HiGHS' sign convention
        y = np.maximum(-duals[: self.model.size], 0.0)
        return z, y, float(duals[self.model.size])

    def fix(self, types: Sequence[int], level: float) -> None:
        for t in types:
            self._h.changeCoeff(int(t), 0, 0.0)
            self._h.changeRowBounds(int(t), max(0.0, level - FIX_SLACK), INF)
            self.fixed[t] = True

    def weights(self) -> FloatArray:
        values = np.asarray(self._h.getSolution().col_value, dtype=np.float64)[1:]
        clipped: FloatArray = np.clip(values, 0.0, None)
        return clipped


@dataclass(frozen=True)
class TypeDistribution:
    panels: tuple[IntArray, ...]
    weights: FloatArray  # sums to 1
    type_probability: FloatArray  # (T,) per-person chance in each type
    iterations: int
    stages: int
    seconds: float


class _Hooks:
    def __init__(self, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
        self.progress = progress
        self.cancel = cancel

    def tick(self, fraction: float, message: str) -> None:
        if self.cancel is not None and self.cancel():
            raise SelectionCancelled("selection cancelled")
        if self.progress is not None:
            self.progress(min(max(fraction, 0.0), 1.0), message)


def _initial_panels(
    model: TypeModel, oracle: PanelOracle, master: Master, rounds: int, hooks: _Hooks
) -> None:
    """A diverse start: multiplicative weights (people in a found panel weigh less next time),
    then panels for types not yet covered; deterministic (fixed jitter, no global random)."""
    n = model.size
    jitter = 1.0 + 1e-3 * ((np.arange(n) * 2654435761) % 1000) / 1000.0
    weights: FloatArray = jitter.astype(np.float64)
    counts = model.counts.astype(np.float64)
    for r in range(rounds):
        found = oracle.best(weights)
        if found is None:
            return
        x, _ = found
        if not master.add(x):
            weights = 0.9 * weights + 0.1 * jitter
        weights *= 1.0 - 0.2 * x / counts
        weights *= n / weights.sum()
        hooks.tick(0.05 * (r + 1) / rounds, "searching for diverse starting panels")
    covered = np.zeros(n, dtype=bool)
    for x in master.panels:
        covered |= x > 0
    while not covered.all():
        found = oracle.best(np.where(covered, 1e-6, 1.0).astype(np.float64))
        assert found is not None
        x, _ = found
        if not (x[~covered] > 0).any():
            break  # the rest cannot sit on any panel
        master.add(x)
        covered |= x > 0


def _column_generation(
    master: Master, oracle: PanelOracle, hooks: _Hooks, fraction: tuple[float, float], label: str
) -> tuple[float, FloatArray, int]:
    iterations = 0
    base, span = fraction
    while True:
        iterations += 1
        z, y, mu = master.solve()
        found = oracle.best(y * master.inv_counts)
        assert found is not None
        x, value = found
        gain = value - mu
        if gain <= GAP_TOLERANCE or not master.add(x):
            return z, y, iterations
        upper = z + gain
        hooks.tick(
            base + span * (z / upper if upper > 0 else 0.0),
            f"{label}: {len(master.panels)} panels, minimum chance {z:.4%} (at most {upper:.4%})",
        )


def _chance_ceiling(model: TypeModel) -> FloatArray:
    """A cheap upper bound on each type's chance: seats, its quota maxima and its size."""
    most = np.minimum(model.counts, model.seats).astype(np.float64)
    for q in range(model.quota_matrix.shape[0]):
        members = model.quota_matrix[q] > 0
        most[members] = np.minimum(most[members], model.quota_max[q])
    result: FloatArray = np.minimum(1.0, most / model.counts)
    return result


def solve_types(
    model: TypeModel,
    *,
    leximin: bool,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    initial_rounds: int | None = None,
) -> TypeDistribution:
    """Maximin (one stage) or leximin (stages until every type is fixed) over types."""
    started = time.perf_counter()
    hooks = _Hooks(progress, cancel)
    oracle = PanelOracle(model)
    master = Master(model)
    rounds = initial_rounds if initial_rounds is not None else min(model.size, 60)
    _initial_panels(model, oracle, master, rounds, hooks)
    if not master.panels:
        raise RuntimeError("no feasible panel (check quotas before solving)")
    iterations = 0
    stages = 0
    people = float(model.counts.sum())
    ceiling = _chance_ceiling(model)
    while True:
        stages += 1
        done = float(model.counts[master.fixed].sum()) / people
        span = (0.95 - 0.05) * (1.0 - done) if leximin else 0.9
        z, y, its = _column_generation(
            master, oracle, hooks, (0.05 + 0.9 * done, span * 0.5), f"stage {stages}"
        )
        iterations += its
        if not leximin:
            break
        unfixed = ~master.fixed
        candidates = np.nonzero(unfixed & (y > FIX_TOLERANCE))[0]
        capped = np.nonzero(unfixed & (ceiling <= z + FIX_TOLERANCE))[0]
        if len(capped):  # these cannot go higher whatever the duals say
            candidates = np.union1d(candidates, capped)
        if len(candidates) == 0:
            candidates = np.array([int(np.argmax(np.where(unfixed, y, -1.0)))])
        master.fix(candidates.tolist(), z)
        if master.fixed.all():
            master.solve()
            break
    weights = master.weights()
    keep = weights > 1e-12
    panels = tuple(p for p, k in zip(master.panels, keep, strict=True) if k)
    w = weights[keep]
    w = w / w.sum()
    stacked = np.vstack(panels).astype(np.float64)
    type_probability = (w @ stacked) * master.inv_counts
    hooks.tick(1.0, f"done: {len(panels)} panels")
    return TypeDistribution(
        panels, w, type_probability, iterations, stages, time.perf_counter() - started
    )


def has_feasible_panel(model: TypeModel) -> bool:
    return PanelOracle(model).best(np.zeros(model.size)) is not None


def relax_quotas(model: TypeModel) -> tuple[FloatArray, FloatArray] | None:
    """The smallest quota relaxation (weighted like ``sortition-algorithms``: lowering a small
    minimum weighs more) that admits a panel; None when no relaxation helps (e.g. households)."""
    n = model.size
    q = model.quota_matrix.shape[0]
    h = _highs()
    empty_i, empty_f = np.array([], dtype=np.int32), np.array([])
    for t in range(n):
        h.addCol(0.0, 0.0, float(model.counts[t]), 0, empty_i, empty_f)
    for j in range(q):  # lowering of min_j
        low = model.quota_min[j]
        h.addCol(1.0 + 2.0 / low if low > 0 else 0.0, 0.0, float(low), 0, empty_i, empty_f)
    for _ in range(q):  # raising of max_j
        h.addCol(1.0, 0.0, float(model.seats), 0, empty_i, empty_f)
    total = n + 2 * q
    h.changeColsIntegrality(
        total, np.arange(total, dtype=np.int32), np.full(total, highspy.HighsVarType.kInteger)
    )
    cols = np.arange(n, dtype=np.int32)
    h.addRow(model.seats, model.seats, n, cols, np.ones(n))
    for j in range(q):
        nz = np.nonzero(model.quota_matrix[j])[0].astype(np.int32)
        idx = np.append(nz, n + j).astype(np.int32)
        h.addRow(model.quota_min[j], INF, len(idx), idx, np.append(np.ones(len(nz)), 1.0))
        idx = np.append(nz, n + q + j).astype(np.int32)
        h.addRow(-INF, model.quota_max[j], len(idx), idx, np.append(np.ones(len(nz)), -1.0))
    for group in model.groups:
        idx = np.array(group, dtype=np.int32)
        h.addRow(-INF, 1.0, len(idx), idx, np.ones(len(idx)))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.rint(np.asarray(h.getSolution().col_value))
    return model.quota_min - values[n : n + q], model.quota_max + values[n + q :]
