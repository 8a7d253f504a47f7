"""Seating for several rounds: pin the constraints, build a start from the ring construction,
then improve each round with the swap search.

The request is checked and the tables are laid out in ``plan``; repeats, bounds and the report
are in ``report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from summit.core.i18n import gettext as _
from summit.seating.rules.anneal import Heat, Schedule, anneal_rounds
from summit.seating.rules.construct import Pool, Ring, assign_seats, choose_ring, pools
from summit.seating.rules.design import pool_design
from summit.seating.rules.model import Participant, Seating, SeatingError, SeatingSettings
from summit.seating.rules.plan import Plan, make_plan, rng_for, to_seating
from summit.seating.rules.report import count_repeats, diversity, repeat_bound
from summit.seating.rules.search import RoundSearch, neighbours

#: Up to this many people, a seating above the lower bound is annealed on repeated pairs (see
#: ``anneal``); larger summits reach the bound, or nearly, with the round-by-round search.
SMALL_SUMMIT = 400
#: Moves tried by that annealing at effort 1 (at most about 2 s on one core; most summits stop
#: earlier, at the bound or after a quarter of them without a better seating).
SMALL_MOVES = 400_000
#: Up to this many people, a seating still above the bound after one annealing gets a second
#: (from the same start, other random numbers); the one with fewer repeated pairs is kept.
SMALL_RESTART_SIZE = 120

__all__ = [
    "best_start",
    "construct_rounds",
    "count_repeats",
    "make_plan",
    "rng_for",
    "seat_rounds",
    "to_seating",
]


def pin_round(plan: Plan, rng: np.random.Generator, used: list[set[int]]) -> np.ndarray:
    """Tables of fixed people and keep-together groups for one round (-1 = free to move)."""
    pr = plan.problem
    pinned = pr.fixed.copy()
    free = plan.cap.copy()
    np.add.at(free, (pinned[pinned >= 0], pr.cls[pinned >= 0]), -1)
    load = np.bincount(pinned[pinned >= 0], minlength=pr.n_tables)
    for gi, idx in enumerate(plan.groups):
        loose = idx[pinned[idx] < 0]
        demand = np.bincount(pr.cls[loose], minlength=free.shape[1])
        anchor = pinned[idx][pinned[idx] >= 0]
        if anchor.size:
            t = int(anchor[0])
            if (free[t] < demand).any():
                raise SeatingError(
                    "constraints.keep_together: "
                    + (
                        _("table %(value)s has no room for the group of %(id)r")
                        % {"value": t + 1, "id": plan.people[int(idx[0])].id}
                    )
                )
        else:
            fits = np.flatnonzero((free >= demand).all(axis=1))
            if fits.size == 0:
                raise SeatingError(
                    "constraints.keep_together: "
                    + (
                        _(
                            "the groups and fixed seats do not fit together; no room left for the "
                            "group of %(id)r"
                        )
                        % {"id": plan.people[int(idx[0])].id}
                    )
                )
            fresh = np.array([t not in used[gi] for t in fits])
            score = load[fits] * 2 + (~fresh)
            best = fits[score == score.min()]
            t = int(best[rng.integers(0, best.size)])
        used[gi].add(t)
        pinned[loose] = t
        free[t] -= demand
        load[t] += loose.size
    return pinned


def initial_round(plan: Plan, pinned: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fill the free seats of every class, dealing people sorted by their features over the tables
    so that similar people start at different tables."""
    pr = plan.problem
    tab = pinned.copy()
    free = plan.cap.copy()
    np.add.at(free, (pinned[pinned >= 0], pr.cls[pinned >= 0]), -1)
    keys: list[np.ndarray] = [rng.random(pr.n)]
    for v in pr.vals[::-1]:
        relabel = rng.permutation(int(v.max()) + 1)
        keys.append(relabel[v])
    order = np.lexsort(keys)
    for c in range(free.shape[1]):
        who = order[(pr.cls[order] == c) & (pinned[order] < 0)]
        if who.size == 0:
            continue
        perm = rng.permutation(pr.n_tables)
        depth = int(free[:, c].max())
        slots = np.concatenate([perm[free[perm, c] > j] for j in range(depth)])
        if slots.size != who.size:  # pragma: no cover - the plan guarantees equality
            raise SeatingError("internal: " + _("seats and people of a class differ"))
        tab[who] = slots
    return tab


def _round_search(
    plan: Plan,
    tab: np.ndarray,
    movable: np.ndarray,
    others: Sequence[np.ndarray],
    rng: np.random.Generator,
    improve: bool,
    tabu_iters: int = 150,
) -> np.ndarray:
    nb, nw = neighbours(plan.problem, others)
    search = RoundSearch(plan.problem, tab, movable, nb, nw, rng)
    effort = plan.settings.effort
    if improve:
        search.improve(max_iters=int(200 * effort))
    search.repair(max_sweeps=int(50 * effort) + 1)
    if search.conflicts().size:
        search.tabu(max_iters=int(tabu_iters * effort), patience=int(30 * effort) + 10)
    if improve:
        search.improve(max_iters=int(100 * effort))
    return search.tab.copy()


def apply_pins(plan: Plan, tab: np.ndarray, pinned: np.ndarray) -> None:
    """Seat every pinned person at their table by swapping with a free person of their class
    there (one always exists: the pins of a table never exceed its seats of a class)."""
    cls = plan.problem.cls
    for p in np.flatnonzero(pinned >= 0):
        t = pinned[p]
        if tab[p] == t:
            continue
        cand = np.flatnonzero((tab == t) & (cls == cls[p]) & (pinned != t))
        q = int(cand[0])
        tab[q] = tab[p]
        tab[p] = t


@dataclass
class _Layers:
    """One pool's layers: ``who`` (people in layers), their round-1 ``label`` and ring
    ``element``; ``mixed`` marks people of the layers that hold the extra seats."""

    ring: Ring
    tables: np.ndarray
    who: np.ndarray
    label: np.ndarray
    element: np.ndarray
    mixed: np.ndarray


def _pool_layers(
    plan: Plan,
    pool: Pool,
    tab0: np.ndarray,
    rounds: int,
    rng: np.random.Generator,
    mixed_layers: bool,
) -> _Layers | None:
    """Cut a pool's round 1 into layers of one person per table.

    The ``k``-th person of a class at every table forms a *base* layer while every table has
    more than ``k`` seats of the class. The rest (the extra seats, classes in the order ``spread``
    lays them around the tables) form *mixed* layers with holes. Base layers keep every table's
    pattern whatever their element; the arrivals of mixed layers are matched to the tables with
    the fitting pattern each round, and the few people that still do not fit are reseated.
    """
    pr = plan.problem
    ts = pool.tables
    g = ts.size
    layers: list[np.ndarray] = []
    extras: list[list[int]] = [[] for _ in range(g)]
    for c in pool.classes:
        depth = int(plan.cap[ts, c].min())
        at = [rng.permutation(np.flatnonzero((tab0 == t) & (pr.cls == c))) for t in ts]
        layers.extend(np.array([row[k] for row in at], dtype=np.int64) for k in range(depth))
        for ti, row in enumerate(at):
            extras[ti].extend(int(i) for i in row[depth:])
    base = len(layers)
    if mixed_layers:
        extra_layers = [
            np.array([e[k] if k < len(e) else -1 for e in extras], dtype=np.int64)
            for k in range(max((len(e) for e in extras), default=0))
        ]
        extra_layers.sort(key=lambda m: -int((m >= 0).sum()))
        layers.extend(extra_layers)
    if not layers:
        return None
    ring, usable = choose_ring(g, rounds, len(layers))
    if ring.field:
        elements = rng.choice(ring.size, size=min(len(layers), ring.size), replace=False)
    else:
        elements = rng.permutation(np.array(usable, dtype=np.int64))
    who: list[np.ndarray] = []
    label: list[np.ndarray] = []
    element: list[np.ndarray] = []
    mixed: list[np.ndarray] = []
    for k, (layer, a) in enumerate(zip(layers, elements, strict=False)):
        here = np.flatnonzero(layer >= 0)
        who.append(layer[here])
        label.append(here)
        element.append(np.full(here.size, int(a), dtype=np.int64))
        mixed.append(np.full(here.size, k >= base))
    return _Layers(
        ring,
        ts,
        np.concatenate(who),
        np.concatenate(label),
        np.concatenate(element),
        np.concatenate(mixed),
    )


def _match_labels(arrived: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Physical table (row of ``cap``) per label: identical class counts first, then the
    fewest people over their table's seats (an assignment)."""
    g = cap.shape[0]
    out = np.full(g, -1, dtype=np.int64)
    free: dict[tuple[int, ...], list[int]] = {}
    for t in range(g - 1, -1, -1):
        free.setdefault(tuple(cap[t].tolist()), []).append(t)
    for y in range(g):
        bucket = free.get(tuple(arrived[y].tolist()))
        if bucket:
            out[y] = bucket.pop()
    rest_y = np.flatnonzero(out < 0)
    if rest_y.size:
        rest_t = np.array(sorted(t for b in free.values() for t in b), dtype=np.int64)
        over = np.maximum(arrived[rest_y][:, None, :] - cap[rest_t][None, :, :], 0).sum(axis=2)
        r, c = linear_sum_assignment(over)
        out[rest_y[r]] = rest_t[c]
    return out


def construct_rounds(
    plan: Plan, pins: Sequence[np.ndarray], rng: np.random.Generator, mixed_layers: bool = True
) -> list[np.ndarray]:
    """All rounds from the ring construction (see ``seating_construct``): round 1 dealt by
    features, layers moved by their ring element, tables matched to the arrivals' pattern,
    everybody else seated by an assignment that avoids earlier partners, then the pins of each
    round applied."""
    pr = plan.problem
    n, n_tables, rounds = pr.n, pr.n_tables, len(pins)
    tab0 = initial_round(plan, pins[0], rng)
    states = [
        st
        for pool in pools(plan.cap)
        if (st := _pool_layers(plan, pool, tab0, rounds, rng, mixed_layers))
    ]
    n_cls = plan.cap.shape[1]
    tabs = [tab0]
    for r in range(1, rounds):
        cur = np.full(n + 1, -1, dtype=np.int64)
        prefer_out = np.zeros(n, dtype=bool)
        for st in states:
            g = st.tables.size
            shift = {int(a): st.ring.mul(r, int(a)) for a in np.unique(st.element)}
            y = np.empty_like(st.label)
            for a, step in shift.items():
                sel = st.element == a
                y[sel] = st.ring.shift(st.label[sel], step)
            real = y < g
            arrived = np.zeros((g, n_cls), dtype=np.int64)
            np.add.at(arrived, (y[real], pr.cls[st.who[real]]), 1)
            phys = _match_labels(arrived, plan.cap[st.tables])
            cur[st.who[real]] = st.tables[phys[y[real]]]
            prefer_out[st.who] = st.mixed
        # people over a table's seats of their class leave it (mixed layers first)
        load = np.zeros_like(plan.cap)
        placed = np.flatnonzero(cur[:n] >= 0)
        np.add.at(load, (cur[placed], pr.cls[placed]), 1)
        for t, c in np.argwhere(load > plan.cap):
            there = np.flatnonzero((cur[:n] == t) & (pr.cls == c))
            there = rng.permutation(there)
            there = there[np.argsort(~prefer_out[there], kind="stable")]
            cur[there[: load[t, c] - plan.cap[t, c]]] = -1
        nb, nw = neighbours(pr, tabs)
        for c in rng.permutation(n_cls):
            of_c = pr.cls == c
            who = np.flatnonzero(of_c & (cur[:n] < 0))
            if who.size == 0:
                continue
            placed_c = np.bincount(cur[:n][of_c & (cur[:n] >= 0)], minlength=n_tables)
            seats = np.repeat(np.arange(n_tables), plan.cap[:, c] - placed_c)
            cur[who] = assign_seats(who, seats, cur, nb, nw, n_tables, rng)
        tab = cur[:n].copy()
        apply_pins(plan, tab, pins[r])
        tabs.append(tab)
    return tabs


def best_start(
    plan: Plan, pins: Sequence[np.ndarray], rng: np.random.Generator
) -> list[np.ndarray]:
    """The best of a few constructions per pool (fewest repeated pairs, then meetings).

    Mixed layers suit tight pools (few tables, most people in layers), class layers with the
    extra seats assigned freely suit roomy ones; tries alternate between them. Small summits get
    more tries: a construction costs milliseconds there and the search gains most from a good
    start.
    """
    n = plan.problem.n
    tries = max(2, min(12, int(plan.settings.effort * 4000 / n)))
    masks = [np.isin(plan.problem.cls, pool.classes) for pool in pools(plan.cap)]
    best: list[np.ndarray] = []
    scores: list[tuple[int, int]] = []
    for k in range(tries):
        cand = construct_rounds(plan, pins, rng, mixed_layers=k % 2 == 0)
        if not best:
            best = [t.copy() for t in cand]
            scores = [count_repeats(plan, [np.where(m, t, -1) for t in cand]) for m in masks]
            continue
        for i, m in enumerate(masks):
            score = count_repeats(plan, [np.where(m, t, -1) for t in cand])
            if score < scores[i]:
                scores[i] = score
                for b, t in zip(best, cand, strict=True):
                    b[m] = t[m]
    return best


def design_start(
    plan: Plan, pins: Sequence[np.ndarray], tabs: list[np.ndarray], rng: np.random.Generator
) -> bool:
    """Reseat every pool that the search left with repeated pairs from the affine design
    (``design``) where its shape has one: nobody meets twice and every table keeps its
    pattern. Pools with pinned people, keep-together groups or keep-apart sets are left as they
    are. The people of a class take the class's points in a random order (the diversity
    annealing trades them later). Returns whether a pool was reseated."""
    pr = plan.problem
    done = False
    for pool in pools(plan.cap):
        mask = np.isin(pr.cls, pool.classes)
        who = np.flatnonzero(mask)
        if (
            any((p[who] >= 0).any() for p in pins)
            or (pr.group[who] >= 0).any()
            or (pr.apart[who] < pr.n).any()
            or count_repeats(plan, [np.where(mask, t, -1) for t in tabs])[0] == 0
        ):
            continue
        found = pool_design(plan.cap[np.ix_(pool.tables, pool.classes)], len(tabs))
        if found is None:
            continue
        design = found.design
        cand = [t.copy() for t in tabs]
        for k, c in enumerate(pool.classes):
            people = rng.permutation(np.flatnonzero(pr.cls == c))
            points = np.concatenate(
                [
                    np.flatnonzero(design.point_class == u)
                    for u, unit in enumerate(found.units)
                    for member in unit
                    if member == k
                ]
            )
            for r, tab in enumerate(cand):
                tab[people] = pool.tables[design.table[r, points]]
        # units of two meet in every round: kept only with fewer repeated pairs than before
        if count_repeats(plan, [np.where(mask, t, -1) for t in cand]) < count_repeats(
            plan, [np.where(mask, t, -1) for t in tabs]
        ):
            for tab, new in zip(tabs, cand, strict=True):
                tab[mask] = new[mask]
            done = True
    return done


def _search_rounds(
    plan: Plan,
    tabs: list[np.ndarray],
    movables: Sequence[np.ndarray],
    rng: np.random.Generator,
    bound: int,
) -> tuple[list[np.ndarray], tuple[int, int]]:
    """Each round against all the others, until the bound is reached or a pass gains nothing;
    the best rounds seen and their (repeated pairs, repeated meetings)."""
    effort = plan.settings.effort
    score = count_repeats(plan, tabs)
    best = [t.copy() for t in tabs]
    patience = max(1, int(effort))
    quiet = 0
    for _try in range(int(6 * effort) + 1):
        if score[0] <= bound or quiet >= patience:
            break
        for r in range(len(tabs)):
            others = tabs[:r] + tabs[r + 1 :]
            tabs[r] = _round_search(plan, tabs[r], movables[r], others, rng, improve=False)
        new = count_repeats(plan, tabs)
        if new < score:
            score, best, quiet = new, [t.copy() for t in tabs], 0
        else:
            quiet += 1
    return best, score


def small_restarts(n: int) -> int:
    """Annealings from the same start (each with the generator's next numbers) while the
    lower bound is not reached; the best is kept. Up to ``SMALL_RESTART_SIZE`` people one costs
    at most ~1.5 s of CPU, so the seating stays within about 3.5 s; at 200 people a second one
    gained nothing in the benchmark but cost diversity, so larger summits get one."""
    return 2 if n <= SMALL_RESTART_SIZE else 1


def small_schedule(settings: SeatingSettings, bound: int, designed: bool = False) -> Schedule:
    """The annealing of a small summit. Its length grows with ``effort``, never with the clock
    (the seating stays a pure function of its inputs). Tight pools (a lower bound above zero)
    start hotter: their repeats must be moved around, not only removed. With a pool reseated from
    the affine design (``designed``), that pool is at its bound but its people sit on random
    points of their class: the diversity annealing gets half as many tries as the repeats one
    instead of an eighth, and the greedy polish also tries trades of whole schedules (with an
    eighth, or a quarter, or without the trades, 200 x 4-6 and 100 x 6 in the benchmark or on
    other seeds ended less diverse than the annealing alone had left them)."""
    moves = int(SMALL_MOVES * settings.effort)
    hot, cold = (0.5, 0.2) if bound > 0 else (0.25, 0.05)
    return Schedule(
        repeats=Heat(moves, hot, cold, floor=bound, patience=moves // 4),
        diversity=Heat(moves // 2 if designed else moves // 8, 10.0, 0.5),
        polish=moves // 8,
        trades=designed,
    )


def seat_rounds(
    participants: Iterable[Participant], settings: SeatingSettings, seed: str
) -> Seating:
    """Seat everyone for ``settings.rounds`` rounds (wisselende tafelsamenstelling).

    Every table follows its seat-type pattern in every round; nobody meets the same person twice
    while that is feasible; tables are diverse on ``settings.features``; keep-together,
    keep-apart and fixed seats hold. A pure function of (participants, settings, seed): the input
    order of participants does not matter.
    """
    plan = make_plan(participants, settings)
    rng = rng_for(seed, "rounds")
    used: list[set[int]] = [set() for _ in plan.groups]
    pins = [pin_round(plan, rng, used) for _ in range(settings.rounds)]
    movables = [p < 0 for p in pins]
    tabs = best_start(plan, pins, rng)
    bound = repeat_bound(plan, settings.rounds)
    best, score = _search_rounds(plan, tabs, movables, rng, bound)
    small = plan.problem.n <= SMALL_SUMMIT
    # pools the search leaves with repeated pairs are reseated from the design where they fit
    # it (with a generator of its own: seatings the design does not touch stay as they were)
    designed = (
        small and score[0] > bound and design_start(plan, pins, best, rng_for(seed, "design"))
    )
    if designed:
        score = count_repeats(plan, best)
    # a designed pool is at its bound; the annealing works on the other pools and on diversity
    if small and (score[0] > bound or designed):
        start, schedule = best, small_schedule(settings, bound, designed)
        found: tuple[int, float] | None = None
        for _restart in range(small_restarts(plan.problem.n)):
            tabs = anneal_rounds(plan.problem, [t.copy() for t in start], movables, rng, schedule)
            reached = (count_repeats(plan, tabs)[0], diversity(plan, tabs))
            # a later annealing is kept only with fewer repeated pairs and no less diversity;
            # after a design, also with as many repeated pairs and more diversity
            if (
                found is None
                or (reached[0] < found[0] and reached[1] >= found[1])
                or (designed and reached[0] == found[0] and reached[1] > found[1])
            ):
                best, found = tabs, reached
            if found[0] <= bound:
                break
    else:
        # diversity last: a swap that adds a meeting costs far more than any diversity gain
        for r in range(len(best)):
            nb, nw = neighbours(plan.problem, best[:r] + best[r + 1 :])
            search = RoundSearch(plan.problem, best[r], movables[r], nb, nw, rng)
            search.improve(
                max_iters=int(400 * settings.effort), patience=int(20 * settings.effort) + 1
            )
            best[r] = search.tab.copy()
    return to_seating(plan, best, seed)
