"""Leximin at G1000 scale: the relaxation, a decomposition on its face, column generation last.

Plain column generation (Flanigan et al., Nature 2021) spends its time re-solving a master LP
whose columns are dense panels and whose optimum is massively degenerate: 1,500 → 600 took
minutes, 85 % of it in the master. This module uses the structure of the problem instead:

1. **Relaxation** (:func:`~summit.lottery.rules.selection_polytope.relaxed_leximin`): the
   leximin point ``p*`` of the LP relaxation ``Q`` of the panel polytope — a compact LP over
   type counts, fixing per stage every type with a positive dual. It is an upper bound in the
   leximin order for every lottery over panels, found in well under a second.
2. **The face**: every lottery whose mean is ``x* = c p*`` uses only panels of the smallest face
   of ``Q`` that holds ``x*`` (all rows and bounds tight at ``x*`` stay tight).
3. **Decomposition by sampling** (:mod:`~summit.lottery.rules.selection_entropy`): panels of
   the face sampled around ``x*`` and maximum-entropy weights whose mean is ``x*`` to float
   precision; no master LP. This finishes 2,000 → 600 (945 types) in ~20–35 s of CPU, where the
   column generation below had not finished after 470 s. When the samples do not reach the
   target (small pools whose relaxation is not tight), steps 4–6 run. Cancelling during
   sampling raises (no lottery is certified yet); the organiser's *stop* there (a
   :class:`~summit.lottery.rules.selection_solver.Halt`) computes the maximin lottery instead
   (phase "stopping"), the anytime result whose minimum is the leximin's.
4. **Maximin on the face**: column generation warm-started with integral LP vertices of the face
   near ``x*`` and priced on the face (LP bound → integral vertex → rounding → MIP), until the
   master reaches the relaxation's minimum: that certifies maximin without a final MIP.
5. **Decomposition by column generation**: ``maximise z`` s.t. ``p_t >= m + z (p*_t - m)`` for
   every type (``m`` the maximin). At ``z = 1`` every chance is at least ``p*`` and, as chances
   always add up to the seats, equal to it: the lottery *is* the leximin, certified by the
   relaxation. Every intermediate master solution keeps everyone at or above the maximin: that
   is the anytime result when the caller cancels.
6. **Fallback**: when pricing on the face proves that ``p*`` is not a lottery over panels (the
   relaxation is not tight; small pools can do that), the exact staged column generation runs,
   warm-started with every panel found so far, its pricing also LP-first, fixing per stage every
   type with a positive dual; it too returns an anytime result (after the first stage) on cancel.

Tolerance: the result reports ``tolerance``, the largest difference between a type's chance and
the certified leximin chance (about 1e-9 in practice; LP feasibility tolerance 1e-9). The sampled
decomposition is exact to ~1e-14 against ``p*`` moved onto the face; the tolerance against ``p*``
itself shows the relaxation LP's own error (9.7e-8 at 2,000 → 600, on types at chance 1). Stage
levels in the fallback are exact to the pricing gap ``GAP`` (1e-9).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from summit.core.i18n import current_language
from summit.core.i18n import gettext as _
from summit.lottery.rules.selection_entropy import decompose
from summit.lottery.rules.selection_polytope import (
    LEVEL_SLACK,
    LOOSEN,
    LP_TOLERANCE,
    Face,
    PanelPolytope,
    Rows,
    chance_ceiling,
    relaxed_leximin,
)
from summit.lottery.rules.selection_solver import (
    INF,
    CancelFn,
    FloatArray,
    Halt,
    IntArray,
    SelectionCancelled,
    TypeDistribution,
    TypeModel,
    new_highs,
    solve_types,
)

GAP = 1e-9  # a pricing gain below this (in probability) ends a column-generation loop
DONE = 1.0 - 1e-9  # decomposition progress z that counts as the whole leximin vector
# a decomposition whose pricing finds no new panel (none, or one already in the master: the
# master and pricing disagree in floats) at z at least this is the leximin to (1 - z)(p* - m)
NEAR_DONE = 1.0 - 1e-6
FIX_DUAL = 1e-7  # fallback: a stage dual above this fixes its type
POOL_FACTOR = 1.0  # starting panels around x*, per type
EXTRA_PANELS = 8  # heuristic panels added per decomposition iteration
AT_LEVEL = 1e-7  # a type this close to its leximin chance counts as "fixed" in progress


@dataclass(frozen=True)
class LeximinProgress:
    """One progress report: ``phase`` is relaxation, maximin, decomposition or fallback;
    ``fixed`` types (of ``types``) are at their final leximin chance; ``minimum`` is the
    smallest chance in the current lottery (0 before there is one)."""

    phase: str
    iteration: int
    fixed: int
    types: int
    minimum: float
    panels: int
    seconds: float
    fraction: float

    def message(self) -> str:
        if self.phase == "stopping":
            percent = f"{self.minimum * 100:.2f} %"
            if current_language() != "en":
                percent = percent.replace(".", ",")
            return _(
                "Stopped: computing the lottery to keep, which gives everyone at least the "
                "lowest chance (maximin); lowest chance so far %(minimum)s"
            ) % {"minimum": percent}
        return (
            f"{self.phase}: iteration {self.iteration}, {self.fixed}/{self.types} types at "
            f"their level, minimum chance {self.minimum:.4%}, {self.panels} panels"
        )


LeximinProgressFn = Callable[[LeximinProgress], None]


@dataclass(frozen=True)
class LeximinResult:
    distribution: TypeDistribution
    maximin: float  # the certified maximin (the smallest chance of any leximin lottery)
    exact: bool  # False for an anytime result (cancelled)
    method: str  # "relaxation" (decomposed), "column generation" (fallback) or "maximin" (stopped)
    tolerance: float  # largest |chance - certified leximin chance|; nan when not certified
    iterations: int
    stages: int


class _Stopped(Exception):
    """The organiser stopped leximin before it had an anytime lottery: keep the maximin's."""


class _Hooks:
    def __init__(
        self, model: TypeModel, progress: LeximinProgressFn | None, cancel: CancelFn | None
    ) -> None:
        self.model = model
        self.progress = progress
        self.cancel = cancel
        self.started = time.perf_counter()
        self.iterations = 0

    def cancelled(self) -> bool:
        return self.cancel is not None and bool(self.cancel())

    def check(self) -> None:
        """For phases without an anytime result: cancelling raises; a stop (a :class:`Halt`
        that keeps its result) raises :class:`_Stopped`, for the maximin lottery instead."""
        if self.cancelled():
            if isinstance(self.cancel, Halt) and not self.cancel.discards():
                raise _Stopped
            raise SelectionCancelled("selection cancelled")

    def report(self, phase: str, fixed: int, minimum: float, panels: int, fraction: float) -> None:
        if self.progress is None:
            return
        self.progress(
            LeximinProgress(
                phase,
                self.iterations,
                int(fixed),
                self.model.size,
                float(minimum),
                panels,
                time.perf_counter() - self.started,
                min(max(fraction, 0.0), 1.0),
            )
        )


class TargetMaster:
    """The restricted master ``maximise z`` s.t. ``sum_P lambda_P a_{P,t} - g_t z >= h_t`` for
    every type, ``sum lambda = 1``, with ``a_{P,t} = x_{P,t} / c_t``; the targets ``g, h`` and
    the bounds of ``z`` can change while the columns (panels) and the basis stay.

    The first panel is the *reference* ``R``: its weight is ``1 - sum`` of the others and every
    other panel is stored as its difference from it (``a_P - a_R``, rows shifted by ``a_R``,
    convexity row ``sum lambda <= 1``). Panels near the same target differ in far fewer types
    than they hold, so the columns are sparser (~40 % fewer non-zeros at 2,000 → 600) and each
    simplex iteration cheaper; the LP, its optimum and its duals are the same."""

    def __init__(self, model: TypeModel) -> None:
        self.model = model
        self.inv_counts = 1.0 / model.counts.astype(np.float64)
        h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("primal_feasibility_tolerance", LP_TOLERANCE)
        h.setOptionValue("dual_feasibility_tolerance", LP_TOLERANCE)
        h.setOptionValue("simplex_strategy", 4)  # adding columns keeps primal feasibility
        n = model.size
        h.addCol(1.0, 0.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))  # z
        for _row in range(n):
            h.addRow(0.0, INF, 1, np.array([0], dtype=np.int32), np.array([-1.0]))
        h.addRow(-INF, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._h = h
        self.panels: list[IntArray] = []
        self._seen: set[bytes] = set()
        self._reference: IntArray | None = None
        self._a_ref = np.zeros(n)
        self._target: tuple[FloatArray, FloatArray, float, FloatArray | None] = (
            np.ones(n),
            np.zeros(n),
            1.0,
            None,
        )
        self.snapshot: tuple[int, FloatArray] | None = None  # (panels then, their weights)

    def set_target(
        self, g: FloatArray, h: FloatArray, z_high: float, inactive: FloatArray | None = None
    ) -> None:
        """New targets; ``inactive`` types (the same in every panel of a face) get no row."""
        self._target = (g, h, z_high, inactive)
        for t in range(self.model.size):
            off = inactive is not None and bool(inactive[t])
            self._h.changeCoeff(t, 0, 0.0 if off else -float(g[t]))
            self._h.changeRowBounds(t, -INF if off else float(h[t] - self._a_ref[t]), INF)
        self._h.changeColBounds(0, 0.0, z_high)

    def add(self, x: IntArray) -> bool:
        key = x.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.panels.append(x)
        if self._reference is None:
            # the reference: weight 1 - sum of the others, held by an empty column
            self._reference = x
            self._a_ref = x * self.inv_counts
            self._h.addCol(0.0, 0.0, 0.0, 0, np.array([], dtype=np.int32), np.array([]))
            self.set_target(*self._target)
            return True
        diff = x - self._reference
        nz = np.nonzero(diff)[0]
        rows = np.append(nz, self.model.size).astype(np.int32)
        vals = np.append(diff[nz] * self.inv_counts[nz], 1.0)
        self._h.addCol(0.0, 0.0, INF, len(rows), rows, vals)
        return True

    def solve(self) -> tuple[float, FloatArray, float] | None:
        """(z, y, mu) at the optimum, or None when the master is infeasible; ``mu`` is the dual
        of ``sum lambda = 1`` in the full form (a panel prices in when ``y a_P > mu``)."""
        if self._reference is None:
            return None  # no lottery without a panel
        self._h.run()
        status = self._h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP ended with {self._h.modelStatusToString(status)}")
        solution = self._h.getSolution()
        values = np.asarray(solution.col_value)
        weights = np.clip(values[1:], 0.0, None)
        weights[0] = max(0.0, 1.0 - float(weights[1:].sum()))
        self.snapshot = (len(self.panels), weights)
        duals = np.asarray(solution.row_dual)
        y = np.maximum(-duals[: self.model.size], 0.0)
        return float(values[0]), y, float(duals[self.model.size]) + float(y @ self._a_ref)


def _distribution(
    model: TypeModel, panels: Sequence[IntArray], weights: FloatArray, hooks: _Hooks, stages: int
) -> TypeDistribution:
    keep = weights > 1e-12
    chosen = tuple(p for p, k in zip(panels, keep, strict=True) if k)
    w = weights[keep] / weights[keep].sum()
    probability = (w @ np.vstack(chosen).astype(np.float64)) / model.counts
    return TypeDistribution(
        chosen, w, probability, hooks.iterations, stages, time.perf_counter() - hooks.started
    )


def _from_snapshot(model: TypeModel, master: TargetMaster, hooks: _Hooks) -> TypeDistribution:
    assert master.snapshot is not None
    used, weights = master.snapshot
    return _distribution(model, master.panels[:used], weights, hooks, 1)


def _chances(model: TypeModel, master: TargetMaster) -> FloatArray:
    assert master.snapshot is not None
    used, weights = master.snapshot
    stacked = np.vstack(master.panels[:used]).astype(np.float64)
    result: FloatArray = (weights @ stacked) / model.counts
    return result


def _face_maximin(
    model: TypeModel, poly: PanelPolytope, master: TargetMaster, bound: float, hooks: _Hooks
) -> float | None:
    """Maximin over panels of the face; stops at the relaxation's bound (certified) and returns
    the level, or None when pricing proves the face cannot reach it."""
    n = model.size
    master.set_target(np.ones(n), np.zeros(n), 1.0, poly.face.col_low == poly.face.col_high)
    while True:
        hooks.check()
        hooks.iterations += 1
        solved = master.solve()
        assert solved is not None  # z = 0 is always feasible
        z, y, mu = solved
        hooks.report("maximin", 0, z, len(master.panels), 0.05 + 0.2 * z / max(bound, 1e-12))
        if z >= bound - GAP:
            return z
        panel = poly.price(y * master.inv_counts, mu + GAP)
        if panel is None or not master.add(panel):
            return None


def _decompose(
    model: TypeModel,
    poly: PanelPolytope,
    master: TargetMaster,
    target: FloatArray,
    level: float,
    hooks: _Hooks,
) -> str:
    """Move the lottery from maximin towards ``target``: "done", "cancelled" or "stuck"."""
    g = np.maximum(target - level, 0.0)
    master.set_target(
        g,
        np.full(model.size, max(0.0, level - LEVEL_SLACK)),
        1.0,
        poly.face.col_low == poly.face.col_high,
    )
    while True:
        if hooks.cancelled():
            return "cancelled"
        hooks.iterations += 1
        solved = master.solve()
        if solved is None:  # the maximin lottery is feasible at z = 0, up to floats
            return "stuck"
        z, y, mu = solved
        chances = _chances(model, master)
        at_level = int((chances >= target - AT_LEVEL).sum())
        hooks.report(
            "decomposition", at_level, float(chances.min()), len(master.panels), 0.25 + 0.75 * z
        )
        if z >= DONE:
            return "done"
        panel = poly.price(y * master.inv_counts, mu + GAP)
        if panel is None or not master.add(panel):
            return "done" if z >= NEAR_DONE else "stuck"
        # heuristic columns: integral vertices around the point beyond x* seen from here
        counts = model.counts.astype(np.float64)
        beyond = np.clip(target + (target - chances), 0.0, 1.0) * counts
        for extra in poly.box_panels(beyond, EXTRA_PANELS, hooks.iterations):
            master.add(extra)


@dataclass
class _Fallback:
    """The exact staged column generation (the Nature 2021 leximin over types)."""

    model: TypeModel
    hooks: _Hooks
    poly: PanelPolytope
    master: TargetMaster
    fixed: FloatArray  # level per type, nan while unfixed
    maximin: float = math.nan
    stages: int = 0
    loosened: float = 0.0  # how far fixed levels were lowered to keep the master feasible

    def _set_master(self) -> None:
        unfixed = np.isnan(self.fixed)
        g = unfixed.astype(np.float64)
        h = np.where(unfixed, 0.0, np.nan_to_num(self.fixed) - LEVEL_SLACK)
        self.master.set_target(g, np.maximum(h, 0.0), 1.0)

    def _stage(self) -> tuple[float, FloatArray] | None:
        """Column generation to the stage optimum: (z, duals), or None when cancelled."""
        while True:
            if math.isnan(self.maximin):
                self.hooks.check()
            elif self.hooks.cancelled():
                return None
            self.hooks.iterations += 1
            solved = self._solve()
            if solved is None:
                return None
            z, y, mu = solved
            done = int((~np.isnan(self.fixed)).sum())
            self.hooks.report(
                "fallback",
                done,
                z if math.isnan(self.maximin) else self.maximin,
                len(self.master.panels),
                0.25 + 0.75 * done / self.model.size,
            )
            panel = self.poly.price(y * self.master.inv_counts, mu + GAP)
            if panel is None or not self.master.add(panel):
                return z, y

    def _solve(self) -> tuple[float, FloatArray, float] | None:
        """The master's optimum; when floats make it infeasible (levels fixed from optima that
        hold their rows only to the LP tolerance), the fixed levels are lowered step by step;
        None when that does not help either (the caller keeps the lottery so far)."""
        solved = self.master.solve()
        for slack in LOOSEN:
            if solved is not None:
                break
            self.fixed = self.fixed - slack  # nan (unfixed) stays nan
            self.loosened += slack
            self._set_master()
            solved = self.master.solve()
        if solved is None and math.isnan(self.maximin):
            raise RuntimeError("leximin: the column-generation master LP is infeasible")
        return solved

    def run(self) -> bool:
        """True when finished, False when cancelled after the first stage (anytime)."""
        ceiling = chance_ceiling(self.model)
        while np.isnan(self.fixed).any():
            self.stages += 1
            self._set_master()
            stage = self._stage()
            if stage is None:  # stopped, or the master stayed infeasible: the lottery so far
                return False
            z, y = stage
            if math.isnan(self.maximin):
                self.maximin = z
            unfixed = np.isnan(self.fixed)
            stuck = unfixed & ((y > FIX_DUAL) | (ceiling <= z + GAP))
            if not stuck.any():
                stuck[int(np.argmax(np.where(unfixed, y, -1.0)))] = True
            self.fixed[stuck] = z
        self._set_master()
        return self._solve() is not None


def solve_leximin(
    model: TypeModel,
    *,
    progress: LeximinProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> LeximinResult:
    """The leximin lottery over panels (per type), exact to ``tolerance``.

    ``progress`` gets a :class:`LeximinProgress` per iteration. ``cancel()`` returning True
    before the maximin is certified raises :class:`SelectionCancelled`; after that the lottery
    found so far is returned (``exact=False``): its smallest chance is the maximin. When
    ``cancel`` is a :class:`Halt` whose stop (not its cancel) fired before that, the maximin
    lottery is computed and returned instead (``exact=False``, method "maximin", phase
    "stopping" in the progress reports).
    """
    hooks = _Hooks(model, progress, cancel)
    try:
        return _leximin(model, hooks)
    except _Stopped:
        return _maximin_kept(model, hooks)


def _maximin_kept(model: TypeModel, hooks: _Hooks) -> LeximinResult:
    """Stopped before an anytime lottery: the maximin lottery (its minimum is leximin's), which
    only a cancel (a :class:`Halt` that discards) interrupts."""
    halt = hooks.cancel
    discards = halt.discards if isinstance(halt, Halt) else None
    hooks.cancel = discards

    def relay(event: LeximinProgress) -> None:
        hooks.iterations += 1
        fraction = 0.05 + 0.9 * min(event.fraction / 0.25, 1.0)
        hooks.report("stopping", 0, event.minimum, event.panels, fraction)

    hooks.report("stopping", 0, 0.0, 0, 0.05)
    found = solve_maximin_fast(model, progress=relay, cancel=discards)
    if found is None:
        found = solve_types(model, leximin=False, cancel=discards)
    distribution = TypeDistribution(
        found.panels,
        found.weights,
        found.type_probability,
        hooks.iterations,
        1,
        time.perf_counter() - hooks.started,
    )
    minimum = float(distribution.type_probability.min())
    hooks.report("stopping", 0, minimum, len(distribution.panels), 1.0)
    return LeximinResult(distribution, minimum, False, "maximin", math.nan, hooks.iterations, 1)


def _leximin(model: TypeModel, hooks: _Hooks) -> LeximinResult:
    target, relax_stages = relaxed_leximin(model, hooks.check)
    hooks.report("relaxation", 0, 0.0, 0, 0.05)
    face = Face.minimal(model, Rows.of(model), target * model.counts)
    poly = PanelPolytope(model, face)
    sampled = _sampled(model, poly, target, hooks, relax_stages)
    if sampled is not None:
        return sampled
    master = TargetMaster(model)
    pool = poly.box_panels(target * model.counts, max(20, int(POOL_FACTOR * model.size)), 0)
    for panel in pool:
        master.add(panel)
    level = _face_maximin(model, poly, master, float(target.min()), hooks) if pool else None
    if level is not None:
        outcome = _decompose(model, poly, master, target, level, hooks)
        if outcome != "stuck":
            distribution = _from_snapshot(model, master, hooks)
            chances = distribution.type_probability
            return LeximinResult(
                distribution,
                level,
                outcome == "done",
                "relaxation",
                float(np.abs(chances - target).max()) if outcome == "done" else math.nan,
                hooks.iterations,
                relax_stages,
            )
    return _run_fallback(model, master, hooks)


def _sampled(
    model: TypeModel, poly: PanelPolytope, target: FloatArray, hooks: _Hooks, stages: int
) -> LeximinResult | None:
    """The decomposition by sampling and maximum entropy, or None when it does not reach the
    target (then column generation runs). Cancelling raises: no lottery is certified yet."""

    def step(fraction: float) -> None:
        hooks.check()
        hooks.iterations += 1
        hooks.report("sampling", 0, 0.0, 0, 0.05 + 0.9 * fraction)

    found = decompose(poly, target, step)
    if found is None:
        return None
    panels, weights = found
    distribution = _distribution(model, panels, weights, hooks, stages)
    chances = distribution.type_probability
    hooks.report("decomposition", model.size, float(chances.min()), len(panels), 1.0)
    return LeximinResult(
        distribution,
        float(target.min()),
        True,
        "relaxation",
        float(np.abs(chances - target).max()),
        hooks.iterations,
        stages,
    )


def solve_maximin_fast(
    model: TypeModel, *, progress: LeximinProgressFn | None = None, cancel: CancelFn | None = None
) -> TypeDistribution | None:
    """A maximin lottery certified by the relaxation (steps 1–3 above), or None when the face
    of the relaxed leximin cannot reach the relaxed maximin (then use the plain solver)."""
    hooks = _Hooks(model, progress, cancel)
    target, _ = relaxed_leximin(model, hooks.check)
    face = Face.minimal(model, Rows.of(model), target * model.counts)
    poly = PanelPolytope(model, face)
    master = TargetMaster(model)
    for panel in poly.box_panels(target * model.counts, max(20, int(POOL_FACTOR * model.size)), 0):
        master.add(panel)
    if not master.panels or _face_maximin(model, poly, master, float(target.min()), hooks) is None:
        return None
    return _from_snapshot(model, master, hooks)


def _run_fallback(model: TypeModel, master: TargetMaster, hooks: _Hooks) -> LeximinResult:
    full = PanelPolytope(model)
    if not master.panels:
        start = full.mip_optimum(np.zeros(model.size))
        if start is None:
            raise RuntimeError("no feasible panel (check quotas before solving)")
        master.add(start[0])
    _cover_types(full, master)
    fallback = _Fallback(model, hooks, full, master, np.full(model.size, np.nan))
    finished = fallback.run()
    distribution = _from_snapshot(model, master, hooks)
    distribution = TypeDistribution(
        distribution.panels,
        distribution.weights,
        distribution.type_probability,
        hooks.iterations,
        fallback.stages,
        distribution.seconds,
    )
    return LeximinResult(
        distribution,
        fallback.maximin,
        finished,
        "column generation",
        fallback.loosened if finished else math.nan,
        hooks.iterations,
        fallback.stages,
    )


def _cover_types(poly: PanelPolytope, master: TargetMaster) -> None:
    """Panels for types no known panel holds (so every row of the master can move)."""
    n = poly.model.size
    covered = np.zeros(n, dtype=bool)
    for x in master.panels:
        covered |= x > 0
    while not covered.all():
        found = poly.mip_optimum(np.where(covered, 1e-6, 1.0).astype(np.float64))
        if found is None or not (found[0][~covered] > 0).any():
            return  # the rest cannot sit on any panel
        master.add(found[0])
        covered |= found[0] > 0
