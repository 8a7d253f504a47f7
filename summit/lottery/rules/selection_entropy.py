"""Leximin's decomposition by sampling and maximum entropy: no master LP.

Given the relaxed leximin target ``x*`` (type counts) and the smallest face ``F`` of the panel
polytope that holds it, any lottery with mean ``x*`` uses panels of ``F`` only. Column
generation finds such a lottery by re-solving a master LP whose ~850 dense panel columns make
every simplex step slow at 2,000 → 600 (945 types). This module finds it in two cheap steps:

1. **Sampling** (perturb and MAP): integral vertices of ``F`` within one person of ``x*`` in every
   type, from LP solves whose objective is the log-odds of ``x*``'s fractional parts plus
   logistic noise; without constraints such a vertex holds each type with exactly its fractional
   part, so the samples surround ``x*`` and their hull soon holds it.
2. **Maximum entropy**: the weights ``w_i ∝ exp(theta · d_i)`` over the samples (``d_i`` a
   sample's difference from the target, in chances) whose mean is the target; ``theta``
   minimises the convex ``log sum_i exp(theta · d_i)``, found by damped Newton steps on a dense
   system of one row per type that is free in the face (~1 s at 4,000 samples). Its gradient is
   the lottery's error per type, so the result is exact to float precision (~1e-14) once the
   target lies inside the samples' hull; while it does not, more samples are drawn.
3. **Fewer panels**: the heavier half of the samples when it still holds the target, then HiGHS'
   crossover from those weights to a basic solution (about one panel per free dimension of the
   face: 848 at 2,000 → 600 instead of ~1,300, which rounds into 1,000 panels more closely), its
   weights corrected exactly on their support by least squares.

The target is first projected onto the face's affine hull (types the face fixes at their bound,
its tight rows held exactly): the relaxation's LP leaves errors of ~1e-7 people there that no
lottery over integer panels can match. The tolerance the caller reports is measured against the
unprojected target.
"""

from __future__ import annotations

from collections.abc import Callable

import highspy
import numpy as np
from scipy.special import logsumexp

from summit.lottery.rules.selection_polytope import LP_TOLERANCE, Face, PanelPolytope, Rows
from summit.lottery.rules.selection_solver import INF, FloatArray, IntArray, new_highs

BATCH_PER_TYPE = 1.0  # panels sampled per batch, per type free in the face
MAX_BATCHES = 8  # batches before giving up (the caller then runs column generation)
FIRST_TRY = 3  # batches sampled before the first Newton solve
RESIDUAL = 1e-12  # largest chance error against the projected target that counts as exact
NEWTON_STEPS = 60
STALL = 0.9  # a Newton step that does not cut the error below this factor counts as stalled

StepFn = Callable[[float], None]  # called with the progress (0..1) between batches


def projected_target(rows: Rows, face: Face, x: FloatArray, counts: FloatArray) -> FloatArray:
    """``x`` moved (least squares in chances) onto the face's affine hull."""
    free = face.col_low != face.col_high
    result = x.copy()
    result[~free] = face.col_low[~free]
    eq = face.row_low == face.row_high
    if not free.any() or not eq.any():
        return result
    matrix = rows.matrix[eq][:, free]
    rhs = face.row_low[eq] - rows.matrix[eq][:, ~free] @ face.col_low[~free]
    scale = matrix * counts[free]
    delta = np.linalg.lstsq(scale, rhs - matrix @ x[free], rcond=None)[0]
    result[free] += delta * counts[free]
    return result


def max_entropy(diffs: FloatArray) -> tuple[FloatArray, float]:
    """Weights over the rows of ``diffs`` (samples minus target) whose mean is closest to 0
    (exactly 0 when 0 is inside their hull), and the largest remaining error."""
    n = diffs.shape[1]
    theta = np.zeros(n)
    best: tuple[FloatArray, float] | None = None
    stalls = 0
    for _ in range(NEWTON_STEPS):
        s = diffs @ theta
        w = np.exp(s - s.max())
        w /= w.sum()
        g = diffs.T @ w
        error = float(np.abs(g).max())
        if best is not None and error > STALL * best[1]:
            stalls += 1
        else:
            stalls = 0
        if best is None or error < best[1]:
            best = (w, error)
        if error <= RESIDUAL or stalls >= 3:
            break
        root = diffs * np.sqrt(w)[:, None]
        hessian = root.T @ root - np.outer(g, g)
        hessian[np.diag_indices(n)] += 1e-12 * max(float(np.trace(hessian)) / n, 1e-12)
        step = -np.linalg.solve(hessian, g)
        value, slope, a = float(logsumexp(s)), float(g @ step), 1.0
        while a > 1e-8 and float(logsumexp(diffs @ (theta + a * step))) > value + 1e-4 * a * slope:
            a *= 0.5
        theta = theta + a * step
    assert best is not None
    return best


def sample_panels(
    poly: PanelPolytope, centre: FloatArray, count: int, seed: int, seen: set[bytes]
) -> list[IntArray]:
    """Up to ``count`` new integral vertices of the face within one person of ``centre``."""
    low, _high = poly.near_box(centre)
    fraction = np.clip(centre - low, 1e-6, 1.0 - 1e-6)
    logit = np.log(fraction / (1.0 - fraction))
    rng = np.random.default_rng(seed)

    def objective() -> FloatArray:
        u = rng.random(poly.model.size)
        return logit + np.log(u / (1.0 - u))

    return poly.panels_near(centre, objective, 4 * count, wanted=count, seen=seen)


def decompose(
    poly: PanelPolytope, target: FloatArray, step: StepFn
) -> tuple[list[IntArray], FloatArray] | None:
    """Panels and weights whose mean is ``target`` (chances) up to float precision, or None when
    the samples do not reach it. ``step`` may raise to cancel."""
    model = poly.model
    counts = model.counts.astype(np.float64)
    x = projected_target(poly.rows, poly.face, target * counts, counts)
    free = poly.face.col_low != poly.face.col_high
    if not free.any():
        panel = poly.integral_panel(x)
        return ([panel], np.ones(1)) if panel is not None else None
    batch = max(20, int(BATCH_PER_TYPE * int(free.sum())))
    panels: list[IntArray] = []
    seen: set[bytes] = set()
    for k in range(MAX_BATCHES):
        step(k / MAX_BATCHES)
        new = sample_panels(poly, x, batch, k, seen)
        panels.extend(new)
        if k + 1 < FIRST_TRY and new:
            continue
        if not panels:
            return None
        diffs = ((np.vstack(panels).astype(np.float64) - x) / counts)[:, free]
        weights, error = max_entropy(diffs)
        if error <= RESIDUAL:
            panels, weights, diffs = _pruned(panels, weights, diffs)
            return _vertex(panels, weights, diffs)
        if not new:
            return None  # the box around the target holds no more panels
    return None


def _pruned(
    panels: list[IntArray], weights: FloatArray, diffs: FloatArray
) -> tuple[list[IntArray], FloatArray, FloatArray]:
    """The heavier half of the panels, when it still holds the target."""
    order = np.argsort(-weights, kind="stable")[: max(1, len(panels) // 2)]
    lighter, error = max_entropy(diffs[order])
    if error <= RESIDUAL:
        return [panels[i] for i in order], lighter, diffs[order]
    return panels, weights, diffs


def _vertex(
    panels: list[IntArray], weights: FloatArray, diffs: FloatArray
) -> tuple[list[IntArray], FloatArray]:
    """As few panels as the face's dimension needs (a lottery of ~850 panels rounds into 1,000
    more closely than one of ~1,300): HiGHS' crossover from the maximum-entropy weights to a
    basic solution of ``sum_i w_i d_i = 0, sum w = 1``, its weights then re-solved exactly on
    their support. The maximum-entropy weights stay when that fails."""
    rows, n = diffs.shape[1], len(panels)
    if n <= rows + 1:
        return panels, weights
    base = diffs[0]
    h = new_highs()
    for option, value in (("output_flag", False), ("threads", 1), ("random_seed", 0)):
        h.setOptionValue(option, value)
    h.setOptionValue("primal_feasibility_tolerance", LP_TOLERANCE)
    h.setOptionValue("dual_feasibility_tolerance", LP_TOLERANCE)
    none_i, none_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
    for r in range(rows):  # panel 0 holds weight 1 - sum of the others
        h.addRow(-base[r], -base[r], 0, none_i, none_f)
    h.addRow(-INF, 1.0, 0, none_i, none_f)
    for i in range(1, n):
        diff = diffs[i] - base
        nz = np.nonzero(np.abs(diff) > 1e-15)[0]
        h.addCol(
            0.0,
            0.0,
            INF,
            len(nz) + 1,
            np.append(nz, rows).astype(np.int32),
            np.append(diff[nz], 1.0),
        )
    start = h.getSolution()
    start.col_value = [float(v) for v in weights[1:]]
    start.value_valid = True
    if h.crossover(start) != highspy.HighsStatus.kOk:
        return panels, weights
    values = np.clip(np.asarray(h.getSolution().col_value, dtype=np.float64), 0.0, None)
    found = np.concatenate([[1.0 - values.sum()], values])
    support = np.nonzero(found > 1e-12)[0]
    # the basic solution meets the rows to the LP tolerance: correct it (least change) exactly
    system = np.vstack([diffs[support].T, np.ones(len(support))])
    rhs = np.append(np.zeros(rows), 1.0)
    exact = found[support]
    exact = exact + np.linalg.lstsq(system, rhs - system @ exact, rcond=None)[0]
    error = float(np.abs(system @ exact - rhs).max())
    if exact.min() < -RESIDUAL or error > RESIDUAL:
        return panels, weights
    exact = np.clip(exact, 0.0, None)
    return [panels[i] for i in support], exact / exact.sum()
