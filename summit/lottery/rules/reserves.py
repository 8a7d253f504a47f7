"""Robust reserves: a reserve list that keeps the quotas when members drop out (pure).

The organiser sets a dropout rate per feature value (``DropoutModel``); a person's chance of
dropping out combines their values' rates as independent causes, ``1 - prod(1 - rate)``.
Members of the drawn panel drop out with that chance, and so do reserves when they are called.

Why quotas break so easily: a lottery panel sits on the edge of the quota polytope (maximin and
leximin panels are its vertices), so in a self-selected pool most feature values are exactly at
their minimum or maximum. A dropout at a minimum can only be repaired by a reserve with the same
value, on every such feature at once, and the values that drop out most are the scarcest in the
pool. Replacing one withdrawal at a time with every swap keeping every quota (``rule=
"sequential"``, :func:`summit.lottery.rules.selection.replace` per withdrawal) therefore almost
never repairs a day with a dozen dropouts. ``rule="joint"`` (:func:`replace_jointly`) fills the
open seats together: only the final panel must meet the quotas, an integer programme on HiGHS
(same strata first, then calling order). With one open seat both rules pick the same reserve.

:func:`quota_survival` estimates the chance that the panel meets every quota after replacements,
by seeded simulation, for any reserve list and rule. :func:`robust_reserves` chooses ``count``
reserves for it: a greedy over strata on sampled dropout scenarios (sample average
approximation), scoring per scenario and feature how many replacements a feature value lacks (its
minimum would break, or too few reserves fit under the maxima) — adding a reserve of the stratum
that removes most shortfall first. The per-feature shortfall is exactly the joint rule's
condition feature by feature. Within a stratum the seeded order decides who. If the seeded list's
first ``count`` (today's fixed order) survive at least as often in the same scenarios, that list
is kept: the result is never worse there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from summit.core.i18n import gettext as _
from summit.core.rules.draw import HashRandom
from summit.lottery.rules.selection import Person, Quota, SelectionError, reserve_order

FloatArray = NDArray[np.float64]
RULES = ("joint", "sequential")


@dataclass(frozen=True)
class DropoutModel:
    """Dropout rate per ``(feature, value)``; values not listed use ``default``."""

    rates: Mapping[tuple[str, str], float] = field(default_factory=dict)
    default: float = 0.0

    def chance(self, person: Person, features: Sequence[str]) -> float:
        stay = 1.0
        for feature in features:
            rate = self.rates.get((feature, person.features.get(feature, "")), self.default)
            stay *= 1.0 - min(max(rate, 0.0), 1.0)
        return 1.0 - stay


@dataclass(frozen=True)
class Survival:
    probability: float  # share of trials in which the panel kept every quota
    successes: int
    trials: int

    @property
    def stderr(self) -> float:
        p = self.probability
        return float(np.sqrt(max(p * (1.0 - p), 0.0) / max(self.trials, 1)))


@dataclass(frozen=True)
class _Setup:
    features: tuple[str, ...]
    matrix: dict[str, FloatArray]  # person -> quota-row incidence
    stratum: dict[str, tuple[str, ...]]
    low: FloatArray
    high: FloatArray
    chance: dict[str, float]


def _setup(people: Sequence[Person], quotas: Sequence[Quota], dropout: DropoutModel) -> _Setup:
    features = tuple(sorted({q.feature for q in quotas}))
    matrix = {
        p.id: np.array([1.0 if p.features.get(q.feature) == q.value else 0.0 for q in quotas])
        for p in people
    }
    return _Setup(
        features,
        matrix,
        {p.id: tuple(p.features.get(f, "") for f in features) for p in people},
        np.array([q.min for q in quotas], dtype=np.float64),
        np.array([q.max for q in quotas], dtype=np.float64),
        {p.id: dropout.chance(p, features) for p in people},
    )


def _sequential(
    setup: _Setup, panel: Sequence[str], dropped: Sequence[str], available: Sequence[str]
) -> bool:
    """Replace every dropped member in turn (same stratum first, then the first that fits)."""
    totals = sum((setup.matrix[pid] for pid in panel), np.zeros_like(setup.low))
    pool = list(available)
    for gone in dropped:
        base = totals - setup.matrix[gone]
        same = [r for r in pool if setup.stratum[r] == setup.stratum[gone]]
        chosen = same[0] if same else None
        if chosen is None:
            for r in pool:
                after = base + setup.matrix[r]
                if (after >= setup.low - 1e-9).all() and (after <= setup.high + 1e-9).all():
                    chosen = r
                    break
        if chosen is None:
            return False
        pool.remove(chosen)
        totals = base + setup.matrix[chosen]
    return True


def _joint(
    setup: _Setup, panel: Sequence[str], dropped: Sequence[str], available: Sequence[str]
) -> list[str] | None:
    """Fill every open seat at once: ``len(dropped)`` of ``available`` such that the panel meets
    every quota, same strata as the dropped first, then earliest in the list (an integer
    programme on HiGHS); ``None`` when no such choice exists."""
    if not dropped:
        return []
    if len(available) < len(dropped):
        return None
    totals = sum((setup.matrix[pid] for pid in panel), np.zeros_like(setup.low))
    base = totals - sum((setup.matrix[pid] for pid in dropped), np.zeros_like(setup.low))
    need, room = setup.low - base, setup.high - base
    incidence = np.array([setup.matrix[r] for r in available]).T  # (Q, R)
    # a quick necessary test per quota before the integer programme
    if (incidence.sum(axis=1) < need - 1e-9).any() or (room < -1e-9).any():
        return None
    lost = {setup.stratum[g] for g in dropped}
    n = len(available)
    cost = np.array(
        [i + (0 if setup.stratum[r] in lost else n) for i, r in enumerate(available)],
        dtype=np.float64,
    )
    res = milp(
        cost,
        constraints=[
            LinearConstraint(incidence, need, room),
            LinearConstraint(np.ones((1, n)), len(dropped), len(dropped)),
        ],
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    if res.x is None:
        return None
    return [r for r, x in zip(available, res.x, strict=True) if x > 0.5]


def replace_jointly(
    people: Sequence[Person],
    panel: Sequence[str],
    quotas: Sequence[Quota],
    dropped: Sequence[str],
    reserves: Sequence[str],
) -> list[str] | None:
    """The reserves (from ``reserves``, in calling order) that fill the seats of ``dropped`` at
    once so that the panel meets every quota; ``None`` when none do. With one open seat this is
    :func:`summit.lottery.rules.selection.replace`'s rule: same stratum first, then the first
    reserve that fits."""
    setup = _setup(people, quotas, DropoutModel())
    return _joint(setup, panel, dropped, [r for r in reserves if r not in set(panel)])


def quota_survival(
    people: Sequence[Person],
    panel: Sequence[str],
    quotas: Sequence[Quota],
    reserves: Sequence[str],
    dropout: DropoutModel,
    *,
    trials: int = 1000,
    seed: int = 0,
    rule: str = "joint",
) -> Survival:
    """The share of ``trials`` seeded dropout scenarios in which replacements from
    ``reserves`` (in order) keep every quota. ``rule``: ``"joint"`` fills the day's open seats
    together (:func:`replace_jointly`), ``"sequential"`` one at a time, each swap keeping every
    quota (:func:`summit.lottery.rules.selection.replace` called per withdrawal)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    setup = _setup(people, quotas, dropout)
    members = list(panel)
    reserve_list = list(reserves)
    member_chance = np.array([setup.chance[m] for m in members])
    reserve_chance = np.array([setup.chance[r] for r in reserve_list])
    rng = np.random.default_rng(seed)
    successes = 0
    for _trial in range(trials):
        gone = member_chance > rng.random(len(members))
        there = reserve_chance <= rng.random(len(reserve_list))
        order = rng.permutation(len(members))
        dropped = [members[i] for i in order if gone[i]]
        available = [r for r, ok in zip(reserve_list, there, strict=True) if ok]
        # a sequential success is a joint one too (and far cheaper to find)
        ok = _sequential(setup, members, dropped, available)
        if not ok and rule == "joint":
            ok = _joint(setup, members, dropped, available) is not None
        successes += ok
    return Survival(successes / trials if trials else 1.0, successes, trials)


def fixed_order_reserves(
    people: Sequence[Person], panel: Sequence[str], quotas: Sequence[Quota], seed: str, count: int
) -> list[str]:
    """Today's list: the first ``count`` of the seeded order of everyone not on the panel."""
    return list(reserve_order(people, panel, quotas, seed).order[:count])


@dataclass
class _Greedy:
    """Shortfall of replacements per scenario and feature value, as reserves are added."""

    need: FloatArray  # (S, Q) replacements a value must get (its minimum)
    room: FloatArray  # (S, Q) replacements a value may get (its maximum)
    drops: FloatArray  # (S,) members dropped
    blocks: list[NDArray[np.int64]]  # quota rows per feature
    have: FloatArray  # (S, Q) available reserves per value so far

    def shortfall(self, have: FloatArray) -> FloatArray:
        """(..., S) shortfall for reserve counts ``have`` of shape (..., S, Q)."""
        usable = np.minimum(have, self.room)
        total = np.zeros(have.shape[:-1])
        for rows in self.blocks:
            lack = np.maximum(self.need[..., rows] - usable[..., rows], 0.0).sum(axis=-1)
            total += lack + np.maximum(self.drops - usable[..., rows].sum(axis=-1), 0.0)
        return total


def _scenarios(
    setup: _Setup, panel: Sequence[str], quotas: Sequence[Quota], scenarios: int, seed: int
) -> _Greedy:
    rng = np.random.default_rng(seed)
    incidence = np.array([setup.matrix[m] for m in panel])  # (k, Q)
    chance = np.array([setup.chance[m] for m in panel])
    gone = (chance[None, :] > rng.random((scenarios, len(panel)))).astype(np.float64)
    totals = incidence.sum(axis=0)[None, :] - gone @ incidence
    blocks = [
        np.array([j for j, q in enumerate(quotas) if q.feature == f], dtype=np.int64)
        for f in setup.features
    ]
    return _Greedy(
        np.maximum(setup.low[None, :] - totals, 0.0),
        np.maximum(setup.high[None, :] - totals, 0.0),
        gone.sum(axis=1),
        blocks,
        np.zeros_like(totals),
    )


def robust_reserves(
    people: Sequence[Person],
    panel: Sequence[str],
    quotas: Sequence[Quota],
    dropout: DropoutModel,
    count: int,
    *,
    seed: str,
    scenarios: int = 300,
    check_trials: int = 400,
    rule: str = "joint",
) -> list[str]:
    """``count`` reserves, in calling order, chosen to keep the quotas under ``dropout`` when
    replacements follow ``rule`` (see :func:`quota_survival`)."""
    setup = _setup(people, quotas, dropout)
    chosen_set = set(panel)
    order = HashRandom(seed).shuffled(sorted(p.id for p in people if p.id not in chosen_set))
    by_stratum: dict[tuple[str, ...], list[str]] = {}
    for pid in order:
        by_stratum.setdefault(setup.stratum[pid], []).append(pid)
    strata = sorted(by_stratum)
    incidence = np.array([setup.matrix[by_stratum[s][0]] for s in strata])  # (C, Q)
    chance = np.array([setup.chance[by_stratum[s][0]] for s in strata])
    greedy = _scenarios(setup, panel, quotas, scenarios, int.from_bytes(seed.encode()[:8], "big"))
    rng = np.random.default_rng(len(order))
    taken = [0] * len(strata)
    picks: list[str] = []
    for _pick in range(min(count, len(order))):
        open_ = np.array([taken[c] < len(by_stratum[strata[c]]) for c in range(len(strata))])
        there = (rng.random((len(strata), scenarios)) >= chance[:, None]).astype(np.float64)
        trial = greedy.have[None, :, :] + there[:, :, None] * incidence[:, None, :]
        score = greedy.shortfall(trial).sum(axis=1)
        score = np.where(open_, score, np.inf)
        c = int(np.argmin(score))
        greedy.have = trial[c]
        picks.append(by_stratum[strata[c]][taken[c]])
        taken[c] += 1
    fixed = order[: len(picks)]
    ours, theirs = (
        quota_survival(
            people, panel, quotas, chosen, dropout, trials=check_trials, seed=1, rule=rule
        )
        for chosen in (picks, fixed)
    )
    return picks if ours.probability >= theirs.probability else list(fixed)


def parse_dropout_rates(text: str, quotas: Sequence[Quota]) -> DropoutModel:
    """The organiser's dropout rates, one group a line or comma-separated as
    ``feature=value: rate`` with the rate as a share (``0.05``) or a percentage (``5%``);
    every group must be a quota's feature value. Empty text gives no dropouts."""
    known = {(q.feature, q.value) for q in quotas}
    rates: dict[tuple[str, str], float] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        group, sep, rate_text = line.rpartition(":")
        feature, eq, value = group.partition("=")
        key = (feature.strip(), value.strip())
        if not sep or not eq or key not in known:
            message = _("%(line)s is not feature=value: rate for a group of the quotas")
            raise SelectionError("dropout", message % {"line": repr(line)})
        rate_text = rate_text.strip()
        percent = rate_text.endswith("%")
        try:
            rate = float(rate_text.rstrip("%").strip().replace(" ", ""))
        except ValueError:
            message = _("%(line)s: the rate is not a number")
            raise SelectionError("dropout", message % {"line": repr(line)}) from None
        rate = rate / 100.0 if percent else rate
        if not 0.0 <= rate < 1.0:
            message = _("%(line)s: the rate must be at least 0 and below 1 (100 percent)")
            raise SelectionError("dropout", message % {"line": repr(line)})
        rates[key] = rate
    return DropoutModel(rates)


@dataclass(frozen=True)
class ReserveChoice:
    """The calling order of a drawn panel's reserves and the simulated survival of its quotas."""

    order: tuple[str, ...]  # robust reserves first, then the rest of the seeded order
    robust: int  # how many at the front were chosen for the dropout model
    ours: Survival  # robust reserves, joint replacements
    fixed_order: Survival  # today's seeded order, one replacement at a time


def choose_reserves(
    people: Sequence[Person],
    panel: Sequence[str],
    quotas: Sequence[Quota],
    seed: str,
    dropout: DropoutModel,
    count: int,
    *,
    trials: int = 500,
) -> ReserveChoice:
    """``count`` robust reserves ahead of the seeded order of everyone else not drawn, with the
    chance that the quotas survive for them and for today's order (same seeded scenarios)."""
    seeded = reserve_order(people, panel, quotas, seed).order
    ours = robust_reserves(people, panel, quotas, dropout, count, seed=seed)
    picked = set(ours)
    rest = [pid for pid in seeded if pid not in picked]
    fixed = list(seeded[: len(ours)])
    return ReserveChoice(
        (*ours, *rest),
        len(ours),
        quota_survival(people, panel, quotas, ours, dropout, trials=trials, seed=7),
        quota_survival(
            people, panel, quotas, fixed, dropout, trials=trials, seed=7, rule="sequential"
        ),
    )
