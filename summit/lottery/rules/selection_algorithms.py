"""Which solver runs for which selection algorithm (maximin, leximin, goldilocks), over types."""

from __future__ import annotations

from dataclasses import dataclass

from summit.lottery.rules.selection_goldilocks import solve_goldilocks
from summit.lottery.rules.selection_leximin import (
    LeximinProgress,
    LeximinProgressFn,
    solve_leximin,
    solve_maximin_fast,
)
from summit.lottery.rules.selection_solver import (
    CancelFn,
    ProgressFn,
    TypeDistribution,
    TypeModel,
    solve_types,
)


@dataclass(frozen=True)
class Solved:
    distribution: TypeDistribution
    exact: bool  # False for an anytime (cancelled) leximin or a Goldilocks above its bound
    tolerance: float  # leximin: largest |chance - certified leximin chance|


def solve_model(
    model: TypeModel,
    algorithm: str,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    report: LeximinProgressFn | None = None,
) -> Solved:
    if algorithm == "leximin":

        def relay(event: LeximinProgress) -> None:
            if report is not None:
                report(event)
            if progress is not None:
                progress(event.fraction, event.message())

        result = solve_leximin(model, progress=relay, cancel=cancel)
        return Solved(result.distribution, result.exact, result.tolerance)

    def relay_maximin(event: LeximinProgress) -> None:
        if progress is not None:
            progress(min(event.fraction / 0.25, 1.0), event.message())

    fast = solve_maximin_fast(model, progress=relay_maximin, cancel=cancel)
    maximin = fast or solve_types(model, leximin=False, progress=progress, cancel=cancel)
    if algorithm == "maximin":
        return Solved(maximin, True, 0.0)
    golden = solve_goldilocks(
        model,
        maximin=float(maximin.type_probability.min()),
        progress=progress,
        cancel=cancel,
    )
    return Solved(golden.distribution, golden.exact, 0.0)
