"""Stage 2 of the two-stage lottery: the stratified, fair selection (tweede loting).

``find_distribution`` computes a distribution over quota-respecting panels: ``uniform`` (no
binding quotas: everyone gets seats/pool), ``maximin`` (maximise the smallest chance) or
``leximin`` (Flanigan et al., Nature 2021: then the second smallest, and so on), with open-source
HiGHS only (see :mod:`summit.lottery.rules.selection_solver`). ``round_lottery`` turns it into ``m``
equally likely panels (Flanigan, Kehne, Procaccia, NeurIPS 2021) with a canonical hash that is
published before ``draw_panel`` picks the index from a public seed. ``reserve_order`` and
``replace`` handle withdrawals without breaking a quota.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _
from summit.core.rules.draw import HashRandom, canonical_json, draw_index, sha256_hex
from summit.lottery.rules.selection_algorithms import solve_model
from summit.lottery.rules.selection_leximin import LeximinProgressFn
from summit.lottery.rules.selection_solver import (
    CancelFn,
    ProgressFn,
    SelectionCancelled,
    TypeModel,
    has_feasible_panel,
    relax_quotas,
)

__all__ = [
    "ALGORITHMS",
    "Distribution",
    "InfeasibleQuotas",
    "Lottery",
    "NoReplacement",
    "Person",
    "Quota",
    "QuotaChange",
    "Replacement",
    "ReserveList",
    "SelectionCancelled",
    "SelectionError",
    "check_panel",
    "draw_panel",
    "find_distribution",
    "quotas_from_shares",
    "replace",
    "reserve_order",
    "round_lottery",
]

ALGORITHMS = ("leximin", "maximin", "goldilocks", "uniform")


class SelectionError(InvalidInput):
    """Bad selection input (people, quotas, seats); the message names the field."""


@dataclass(frozen=True)
class QuotaChange:
    feature: str
    value: str
    old_min: int
    old_max: int
    new_min: int
    new_max: int

    def __str__(self) -> str:
        parts = []
        if self.new_min != self.old_min:
            parts.append(f"min {self.old_min} -> {self.new_min}")
        if self.new_max != self.old_max:
            parts.append(f"max {self.old_max} -> {self.new_max}")
        return f"{self.feature}={self.value}: " + ", ".join(parts)


class InfeasibleQuotas(SelectionError):
    """No panel meets the quotas; ``suggestion`` is a minimal relaxation that would work
    (empty when none exists, e.g. too few people or households for the seats)."""

    def __init__(self, suggestion: Sequence[QuotaChange], reason: str = "") -> None:
        self.suggestion = list(suggestion)
        if self.suggestion:
            text = "no panel meets the quotas; smallest relaxation: " + "; ".join(
                str(c) for c in self.suggestion
            )
        else:
            text = reason or "no panel meets the quotas and no quota relaxation helps"
        super().__init__("quotas", text)


class NoReplacement(SelectionError):
    """No reserve can replace the withdrawn person without breaking a quota."""


@dataclass(frozen=True)
class Quota:
    """Seats for one feature value: ``min <= selected with feature=value <= max``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class Person:
    """A registrant in the selection pool; ``household`` keys housemates (optional)."""

    id: str
    features: Mapping[str, str] = field(default_factory=dict)
    household: str | None = None


@dataclass(frozen=True)
class Distribution:
    """A fair distribution over panels, stored per type: a type's people are interchangeable
    and share the type's chance. ``panels[j][t]`` people of type ``t`` sit on panel ``j``, which
    has probability ``weights[j]``; ``probabilities`` is every person's chance of selection."""

    algorithm: str
    seats: int
    type_members: tuple[tuple[str, ...], ...]
    type_features: tuple[tuple[str, ...], ...]
    features: tuple[str, ...]
    panels: tuple[tuple[int, ...], ...]
    weights: tuple[float, ...]
    probabilities: dict[str, float]
    min_probability: float
    seconds: float
    iterations: int = 0
    stages: int = 0
    max_probability: float = 0.0
    exact: bool = True  # False: a cancelled leximin's anytime lottery (minimum = maximin's)
    tolerance: float = 0.0  # leximin: largest |chance - certified leximin chance|


@dataclass(frozen=True)
class Lottery:
    """``m`` equally likely panels (with repeats), each a sorted tuple of ids, and the hash of
    their canonical JSON; ``marginals`` is each person's share of the m panels."""

    panels: tuple[tuple[str, ...], ...]
    hash: str
    marginals: dict[str, float]
    max_deviation: float  # largest |marginal - probability| over people

    def canonical(self) -> bytes:
        return canonical_json({"panels": [list(p) for p in self.panels]})


def quotas_from_shares(
    shares: Mapping[str, Mapping[str, float]],
    seats: int,
    *,
    tolerance: float = 0.1,
    slack: int = 1,
) -> list[Quota]:
    """Quotas from population shares: target ``share * seats``, ``min = floor(target * (1 -
    tolerance)) - slack`` and ``max = ceil(target * (1 + tolerance)) + slack``, clipped to
    ``0..seats``."""
    if seats < 1:
        raise SelectionError("seats", _("must be at least 1, got %(seats)s") % {"seats": seats})
    if not 0.0 <= tolerance < 1.0:
        raise SelectionError(
            "tolerance", _("must be in [0, 1), got %(tolerance)s") % {"tolerance": tolerance}
        )
    quotas = []
    for feature, values in sorted(shares.items()):
        total = sum(values.values())
        if total <= 0 or any(v < 0 for v in values.values()):
            raise SelectionError(
                "shares", _("feature %(feature)r needs positive shares") % {"feature": feature}
            )
        for value, share in sorted(values.items()):
            target = share / total * seats
            low = max(0, math.floor(target * (1.0 - tolerance) + 1e-9) - slack)
            high = min(seats, math.ceil(target * (1.0 + tolerance) - 1e-9) + slack)
            quotas.append(Quota(feature, value, low, high))
    return quotas


def _validate(people: Sequence[Person], quotas: Sequence[Quota], seats: int) -> list[str]:
    if seats < 1:
        raise SelectionError("seats", _("must be at least 1, got %(seats)s") % {"seats": seats})
    if seats > len(people):
        raise SelectionError(
            "seats",
            _("%(seats)s seats but only %(n_people)s people in the pool")
            % {"seats": seats, "n_people": len(people)},
        )
    seen: set[str] = set()
    for person in people:
        if not person.id:
            raise SelectionError("id", _("a person has an empty id"))
        if person.id in seen:
            raise SelectionError("id", _("duplicate id %(id)r") % {"id": person.id})
        seen.add(person.id)
    values: dict[str, set[str]] = {}
    pairs: set[tuple[str, str]] = set()
    for q in quotas:
        if (q.feature, q.value) in pairs:
            raise SelectionError(
                "quotas",
                _("%(feature)s=%(value)s is listed twice")
                % {"feature": q.feature, "value": q.value},
            )
        pairs.add((q.feature, q.value))
        if q.min < 0 or q.max < q.min:
            raise SelectionError(
                "quotas",
                _("%(feature)s=%(value)s: need 0 <= min <= max, got %(min)s..%(max)s")
                % {"feature": q.feature, "value": q.value, "min": q.min, "max": q.max},
            )
        values.setdefault(q.feature, set()).add(q.value)
    features = sorted(values)
    for person in people:
        for feature in features:
            value = person.features.get(feature)
            if value is None:
                raise SelectionError(feature, _("person %(id)r has no value") % {"id": person.id})
            if value not in values[feature]:
                raise SelectionError(
                    feature,
                    _("person %(id)r has value %(value)r, which has no quota")
                    % {"id": person.id, "value": value},
                )
    return features


@dataclass(frozen=True)
class _Typed:
    model: TypeModel
    members: tuple[tuple[str, ...], ...]
    keys: tuple[tuple[str, ...], ...]
    quotas: tuple[Quota, ...]


def _build_types(
    people: Sequence[Person],
    quotas: Sequence[Quota],
    features: Sequence[str],
    seats: int,
    one_per_household: bool,
) -> _Typed:
    households: dict[str, list[str]] = {}
    if one_per_household:
        for person in people:
            if person.household is not None:
                households.setdefault(person.household, []).append(person.id)
    shared = {pid for ids in households.values() if len(ids) > 1 for pid in ids}
    groups_by_key: dict[tuple[str, ...], list[str]] = {}
    for person in sorted(people, key=lambda p: p.id):
        key = tuple(person.features[f] for f in features)
        # a person with a housemate in the pool is not interchangeable: own type
        type_key = (*key, "\x00" + person.id) if person.id in shared else key
        groups_by_key.setdefault(type_key, []).append(person.id)
    type_keys = sorted(groups_by_key)
    members = tuple(tuple(groups_by_key[k]) for k in type_keys)
    keys = tuple(k[: len(features)] for k in type_keys)
    counts = np.array([len(m) for m in members], dtype=np.int64)
    ordered = sorted(quotas, key=lambda q: (q.feature, q.value))
    matrix = np.zeros((len(ordered), len(members)))
    position = {f: i for i, f in enumerate(features)}
    for j, q in enumerate(ordered):
        i = position[q.feature]
        for t, key in enumerate(keys):
            if key[i] == q.value:
                matrix[j, t] = 1.0
    type_of = {pid: t for t, ids in enumerate(members) for pid in ids}
    groups = tuple(
        tuple(sorted(type_of[pid] for pid in ids))
        for _, ids in sorted(households.items())
        if len(ids) > 1
    )
    model = TypeModel(
        seats=seats,
        counts=counts,
        quota_matrix=matrix,
        quota_min=np.array([q.min for q in ordered], dtype=np.float64),
        quota_max=np.array([q.max for q in ordered], dtype=np.float64),
        groups=groups,
    )
    return _Typed(model, members, keys, tuple(ordered))


def _infeasible(typed: _Typed) -> InfeasibleQuotas:
    relaxed = relax_quotas(typed.model)
    if relaxed is None:
        return InfeasibleQuotas([], "no panel of this size exists even without quotas")
    new_min, new_max = relaxed
    changes = [
        QuotaChange(q.feature, q.value, q.min, q.max, int(lo), int(hi))
        for q, lo, hi in zip(typed.quotas, new_min, new_max, strict=True)
        if int(lo) != q.min or int(hi) != q.max
    ]
    return InfeasibleQuotas(changes)


def _quotas_bind(typed: _Typed) -> bool:
    """True when some set of ``seats`` people breaks a quota (uniform would be unfair)."""
    model = typed.model
    n = int(model.counts.sum())
    for j in range(model.quota_matrix.shape[0]):
        having = int(model.quota_matrix[j] @ model.counts)
        fewest = max(0, model.seats - (n - having))
        most = min(model.seats, having)
        if fewest < model.quota_min[j] or most > model.quota_max[j]:
            return True
    return False


def find_distribution(
    people: Sequence[Person],
    quotas: Sequence[Quota],
    seats: int,
    *,
    algorithm: str = "leximin",
    one_per_household: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    report: LeximinProgressFn | None = None,
) -> Distribution:
    """The fair distribution over panels of ``seats`` people meeting every quota.

    Raises :class:`InfeasibleQuotas` (with a suggested minimal relaxation) when no panel exists,
    :class:`SelectionError` for bad input and :class:`SelectionCancelled` when ``cancel()``
    returns True before the maximin is known; a leximin cancelled later returns the lottery
    found so far (``exact=False``, its minimum is the maximin). ``progress(fraction, message)``
    is called as the solver goes; ``report`` gets leximin's structured progress.
    """
    if algorithm not in ALGORITHMS:
        raise SelectionError(
            "algorithm",
            _("%(algorithm)r is not one of %(value)s")
            % {"algorithm": algorithm, "value": ", ".join(ALGORITHMS)},
        )
    features = _validate(people, quotas, seats)
    typed = _build_types(people, quotas, features, seats, one_per_household)
    if not has_feasible_panel(typed.model):
        raise _infeasible(typed)
    if algorithm == "uniform":
        if typed.model.groups:
            raise SelectionError(
                "algorithm", _("uniform cannot keep one per household; use maximin or leximin")
            )
        if _quotas_bind(typed):
            raise SelectionError(
                "algorithm",
                _(
                    "uniform would break a quota (the pool is oversubscribed); use maximin or "
                    "leximin"
                ),
            )
        return _uniform(people, seats)
    result = solve_model(typed.model, algorithm, progress=progress, cancel=cancel, report=report)
    solved = result.distribution
    probabilities = {
        pid: float(solved.type_probability[t]) for t, ids in enumerate(typed.members) for pid in ids
    }
    return Distribution(
        algorithm=algorithm,
        seats=seats,
        type_members=typed.members,
        type_features=typed.keys,
        features=tuple(features),
        panels=tuple(tuple(int(v) for v in p) for p in solved.panels),
        weights=tuple(float(w) for w in solved.weights),
        probabilities=probabilities,
        min_probability=float(solved.type_probability.min()),
        max_probability=float(solved.type_probability.max()),
        exact=result.exact,
        tolerance=result.tolerance,
        seconds=solved.seconds,
        iterations=solved.iterations,
        stages=solved.stages,
    )


def _uniform(people: Sequence[Person], seats: int) -> Distribution:
    ids = tuple(sorted(p.id for p in people))
    chance = seats / len(ids)
    return Distribution(
        algorithm="uniform",
        seats=seats,
        type_members=(ids,),
        type_features=((),),
        features=(),
        panels=((seats,),),
        weights=(1.0,),
        probabilities=dict.fromkeys(ids, chance),
        min_probability=chance,
        seconds=0.0,
    )


def _spread_order(ids: Sequence[str]) -> list[str]:
    """Who in a type gets a leftover seat first: by SHA-256 of the id, not alphabetically."""
    return sorted(ids, key=lambda pid: hashlib.sha256(pid.encode("utf-8")).digest())


def round_lottery(distribution: Distribution, m: int = 1000) -> Lottery:
    """Round the distribution into ``m`` equally likely panels.

    Panel ``j`` appears ``floor(m w_j)`` or ``ceil(m w_j)`` times (its probability moves by less
    than 1/m); the round-ups are chosen greedily to keep every type's seat total close to its
    target. Within a type the seats go round-robin, so a person's count differs from the type
    average by less than one. Deterministic: no seed is involved, the public draw comes after.
    """
    if m < 1:
        raise SelectionError("panels", _("must be at least 1, got %(m)s") % {"m": m})
    x = np.array(distribution.panels, dtype=np.float64)  # (J, T)
    w = np.array(distribution.weights, dtype=np.float64)
    counts = np.array([len(ids) for ids in distribution.type_members], dtype=np.float64)
    scaled = w * m
    copies = np.floor(scaled + 1e-9).astype(np.int64)
    residual = scaled - copies
    target = scaled @ x  # seats per type over the m panels
    extra = m - int(copies.sum())
    if extra < 0:  # float rounding made floors exceed m
        smallest = np.argsort(residual, kind="stable")
        for j in smallest[:-extra]:
            copies[j] -= 1
        extra = 0
    error = copies @ x - target
    available = residual > 1e-12
    inv = 1.0 / counts
    for _copy in range(extra):
        # change in sum_t (error_t^2 / c_t) when panel j is added once more
        delta = (x * (2.0 * error + x)) @ inv
        delta = np.where(available, delta, np.inf)
        j = int(np.argmin(delta))
        if not np.isfinite(delta[j]):
            j = int(np.argmax(residual))
        copies[j] += 1
        available[j] = False
        error += x[j]
    cursors = [0] * len(counts)
    orders = [_spread_order(ids) for ids in distribution.type_members]
    panels: list[tuple[str, ...]] = []
    for j, n_copies in enumerate(copies):
        for _copy in range(int(n_copies)):
            members: list[str] = []
            for t, seats in enumerate(distribution.panels[j]):
                order = orders[t]
                for k in range(seats):
                    members.append(order[(cursors[t] + k) % len(order)])
                cursors[t] = (cursors[t] + seats) % len(order)
            panels.append(tuple(sorted(members)))
    panels.sort()
    tally: dict[str, int] = dict.fromkeys(distribution.probabilities, 0)
    for panel in panels:
        for pid in panel:
            tally[pid] += 1
    marginals = {pid: n / m for pid, n in tally.items()}
    deviation = max(abs(marginals[p] - distribution.probabilities[p]) for p in marginals)
    body = canonical_json({"panels": [list(p) for p in panels]})
    return Lottery(tuple(panels), sha256_hex(body), marginals, deviation)


def draw_panel(lottery: Lottery, seed: str) -> tuple[int, tuple[str, ...]]:
    """The public final draw: the index from the (normalised) seed and the panel it selects."""
    index = draw_index(seed, len(lottery.panels))
    return index, lottery.panels[index]


def check_panel(
    panel: Sequence[str],
    people: Sequence[Person],
    quotas: Sequence[Quota],
    seats: int,
    *,
    one_per_household: bool = False,
) -> list[str]:
    """Every broken rule of a panel, as text; empty when the panel is valid."""
    by_id = {p.id: p for p in people}
    problems = []
    if len(set(panel)) != len(panel):
        problems.append("someone is on the panel twice")
    if len(panel) != seats:
        problems.append(f"{len(panel)} members for {seats} seats")
    unknown = [pid for pid in panel if pid not in by_id]
    if unknown:
        problems.append(f"not in the pool: {', '.join(unknown[:3])}")
    members = [by_id[pid] for pid in panel if pid in by_id]
    for q in quotas:
        n = sum(1 for p in members if p.features.get(q.feature) == q.value)
        if not q.min <= n <= q.max:
            problems.append(f"{q.feature}={q.value}: {n} not in {q.min}..{q.max}")
    if one_per_household:
        homes = [p.household for p in members if p.household is not None]
        if len(homes) != len(set(homes)):
            problems.append("two members share a household")
    return problems


@dataclass(frozen=True)
class ReserveList:
    """Non-selected people in a seeded order (reservelijst); ``stratum`` maps each to its
    feature values so replacements look in the same stratum first."""

    order: tuple[str, ...]
    stratum: Mapping[str, tuple[str, ...]]

    def in_stratum(self, key: tuple[str, ...]) -> list[str]:
        return [pid for pid in self.order if self.stratum[pid] == key]


def _key(person: Person, features: Sequence[str]) -> tuple[str, ...]:
    return tuple(person.features.get(f, "") for f in features)


def reserve_order(
    people: Sequence[Person], panel: Sequence[str], quotas: Sequence[Quota], seed: str
) -> ReserveList:
    """Everyone not on the panel, shuffled by the published generator keyed with ``seed``."""
    features = sorted({q.feature for q in quotas})
    chosen = set(panel)
    rest = sorted(p.id for p in people if p.id not in chosen)
    order = HashRandom(seed).shuffled(rest)
    strata = {p.id: _key(p, features) for p in people if p.id not in chosen}
    return ReserveList(tuple(order), strata)


@dataclass(frozen=True)
class Replacement:
    withdrawn: str
    replacement: str
    panel: tuple[str, ...]
    same_stratum: bool


def replace(
    panel: Sequence[str],
    withdrawn: str,
    people: Sequence[Person],
    quotas: Sequence[Quota],
    reserves: ReserveList,
    *,
    one_per_household: bool = False,
    unavailable: Sequence[str] = (),
) -> Replacement:
    """Replace a withdrawn member by the first reserve (in seeded order) that keeps every quota:
    the same stratum first, then anyone. ``unavailable`` lists reserves already used or gone."""
    if withdrawn not in panel:
        raise SelectionError(
            "withdrawn", _("%(withdrawn)r is not on the panel") % {"withdrawn": withdrawn}
        )
    by_id = {p.id: p for p in people}
    features = sorted({q.feature for q in quotas})
    seats = len(panel)
    remaining = [pid for pid in panel if pid != withdrawn]
    skip = set(panel) | set(unavailable)
    key = _key(by_id[withdrawn], features)
    candidates: list[tuple[str, bool]] = [(p, True) for p in reserves.in_stratum(key)]
    candidates += [(p, False) for p in reserves.order if reserves.stratum[p] != key]
    for candidate, same in candidates:
        if candidate in skip or candidate not in by_id:
            continue
        new_panel = tuple(sorted([*remaining, candidate]))
        if not check_panel(new_panel, people, quotas, seats, one_per_household=one_per_household):
            return Replacement(withdrawn, candidate, new_panel, same)
    raise NoReplacement(
        "withdrawn",
        _("no reserve can replace %(withdrawn)r within the quotas") % {"withdrawn": withdrawn},
    )
