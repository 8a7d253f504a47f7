"""Quality of a seating: repeated meetings, the lower bound on them, pattern, diversity and the
constraints (``evaluate``)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from summit.seating.rules.construct import pair_bound, pools, split_bound
from summit.seating.rules.model import Seating, SeatingReport
from summit.seating.rules.plan import Plan, make_plan, tabs_of
from summit.seating.rules.search import members

__all__ = [
    "count_repeats",
    "two_table_bound",
    "degree_bound",
    "diversity",
    "evaluate",
    "forced_pairs",
    "repeat_bound",
    "turan_bound",
]


def count_repeats(plan: Plan, tabs: Sequence[np.ndarray]) -> tuple[int, int]:
    """(pairs meeting more than once, meetings beyond the first), forced pairs excluded."""
    n = plan.problem.n
    keys: list[np.ndarray] = []
    for tab in tabs:
        mem = members(tab, plan.problem.n_tables)[:-1]
        i, j = np.triu_indices(mem.shape[1], k=1)
        a, b = mem[:, i].ravel(), mem[:, j].ravel()
        ok = (a < n) & (b < n)
        a, b = a[ok], b[ok]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        g, f = plan.problem.group, plan.problem.fixed
        forced = ((g[lo] >= 0) & (g[lo] == g[hi])) | ((f[lo] >= 0) & (f[lo] == f[hi]))
        keys.append(lo[~forced] * n + hi[~forced])
    if not keys:
        return 0, 0
    _, counts = np.unique(np.concatenate(keys), return_counts=True)
    return int((counts > 1).sum()), int((counts - 1).sum())


def forced_pairs(plan: Plan) -> set[tuple[int, int]]:
    """Pairs that sit together in every round: one keep-together group, or fixed to one table."""
    out: set[tuple[int, int]] = set()
    for idx in plan.groups:
        members_ = sorted(int(i) for i in idx)
        out.update((a, b) for k, a in enumerate(members_) for b in members_[k + 1 :])
    fixed = plan.problem.fixed
    for t in np.unique(fixed[fixed >= 0]):
        at = np.flatnonzero(fixed == t).tolist()
        out.update((a, b) for k, a in enumerate(at) for b in at[k + 1 :])
    return out


def turan_bound(people: int, tables: int, rounds: int) -> int:
    """Fewest pairs among ``people`` (seated at ``tables`` tables in every one of ``rounds``
    rounds) that meet more than once, by Turan's theorem (proof in docs/seating.md).

    Pairs that meet at most once form a graph. ``m`` people who all met at most once would have
    sat together in at least ``rounds x split(m)`` pairs (each round, ``m`` people at ``tables``
    tables share a table in at least the pairs of an even split), which is more than their
    ``C(m, 2)`` pairs once ``m`` is large enough: the graph has no ``m``-clique, so at most as
    many edges as the Turan graph with ``m - 1`` parts. Every other pair meets twice or more.
    With two tables and four rounds or more, no three people can all part: at least
    ``C(ceil(n/2), 2) + C(floor(n/2), 2)`` pairs meet twice, as many as when nobody moves.
    """
    for m in range(tables + 1, people + 1):
        if rounds * split_bound([m], tables) > m * (m - 1) // 2:
            parts = m - 1
            low, high = divmod(people, parts)
            squares = high * (low + 1) ** 2 + (parts - high) * low**2
            return people * (people - 1) // 2 - (people * people - squares) // 2
    return 0


#: Schedules of one class, and combinations of the classes' splits, that ``two_table_bound``
#: goes through at most (beyond that it is not computed).
_TWO_TABLE_COMBINATIONS = 200_000


def _splits(count: int, rounds: int) -> np.ndarray:
    """Every way to give ``count`` people of one class a schedule at two tables (people per
    schedule, schedules as ``rounds`` bits, 1 = the second table) such that every round the
    first table gets ``floor`` or ``ceil`` of ``count / 2`` of them."""
    strings = 1 << rounds
    low, high = count // 2, -(-count // 2)
    bits = (np.arange(strings)[:, None] >> np.arange(rounds)[None, :]) & 1
    out: list[tuple[int, ...]] = []
    for cut in itertools.combinations(range(count + strings - 1), strings - 1):
        parts = np.diff(np.array((-1, *cut, count + strings - 1))) - 1
        first = parts @ (1 - bits)
        if ((first >= low) & (first <= high)).all():
            out.append(tuple(int(x) for x in parts))
    return np.array(out, dtype=np.int64).reshape(-1, strings)


def two_table_bound(counts: Sequence[int], rounds: int) -> int | None:
    """The fewest repeated pairs of people of classes with ``counts`` at two tables over
    ``rounds`` rounds, every round following the pattern (each class split floor/ceil between
    the tables, sizes within one), found by going through every seating up to the order of the
    people (proof in docs/seating.md); ``None`` when that takes too long."""
    strings = 1 << rounds
    n = int(sum(counts))
    if any(math.comb(int(c) + strings - 1, strings - 1) > _TWO_TABLE_COMBINATIONS for c in counts):
        return None
    options = [_splits(int(c), rounds) for c in counts if c > 0]
    if math.prod(o.shape[0] for o in options) > _TWO_TABLE_COMBINATIONS:
        return None
    people = np.zeros((1, strings), dtype=np.int64)
    for opt in options:
        people = (people[:, None, :] + opt[None, :, :]).reshape(-1, strings)
    bits = (np.arange(strings)[:, None] >> np.arange(rounds)[None, :]) & 1
    first = people @ (1 - bits)
    ok = ((first >= n // 2) & (first <= -(-n // 2))).all(axis=1)
    people = people[ok]
    if people.shape[0] == 0:  # pragma: no cover - the plan's own pattern is one of them
        return None
    # two schedules meet in the rounds where they agree: twice or more when they differ in at
    # most rounds - 2 places (the same schedule included)
    differ = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    close = (differ <= rounds - 2).astype(np.int64)
    pairs = (np.einsum("ks,st,kt->k", people, close, people) - people.sum(axis=1)) // 2
    return int(pairs.min())


def degree_bound(sizes: Sequence[int], rounds: int, free: int) -> int:
    """Fewest pairs that meet more than once, counted per person (proof in docs/seating.md).

    ``sum(sizes)`` people fill tables of ``sizes`` in each of ``rounds`` rounds; ``free`` of
    them have no partner forced on them. With ``s`` the smallest size and ``b >= s + 1`` the
    next one, a person who sits ``j`` rounds at a smallest table has at least
    ``rounds x (b - 1) - j x (b - s)`` meetings with at most ``people - 1`` others, and a
    partner met ``k`` times holds ``k - 1 <= rounds - 1`` of the meetings beyond the first: so
    at least ``ceil(excess / (rounds - 1))`` partners met more than once. Seats at the smallest
    tables are scarce (``rounds x`` their seats in all), and each partner fewer costs a person
    at least ``min(first, (rounds - 1) // (b - s))`` of them; every repeated pair is counted by
    at most its two people.
    """
    people = int(sum(sizes))
    if rounds < 2 or free <= 0 or not sizes:
        return 0
    small = min(sizes)
    larger = [int(x) for x in sizes if x > small]
    big = min(larger) if larger else small
    gap = big - small

    def partners(j: int) -> int:  # repeated partners of a person j rounds at a smallest table
        excess = rounds * (big - 1) - j * gap - (people - 1)
        return max(0, -(-excess // (rounds - 1)))

    most = partners(0)
    if most == 0:
        return 0
    if gap == 0:
        return -(-free * most // 2)
    # the cheapest step down for a person: the first (to the next multiple), or a later one
    first = -(-(rounds * (big - 1) - (people - 1) - (most - 1) * (rounds - 1)) // gap)
    cost = max(1, min(first, (rounds - 1) // gap))
    steps = free * (most - partners(rounds))
    budget = rounds * small * sum(1 for x in sizes if x == small)
    return -(-(free * most - min(steps, budget // cost)) // 2)


def _seated_counts(
    plan: Plan,
    tables: np.ndarray,
    in_pool: np.ndarray,
    pool_forced: list[tuple[int, int]],
    tabs: Sequence[np.ndarray],
) -> tuple[int, int, int, int]:
    """(people, meetings, forced meetings, split bound) of a pool in an existing seating: sizes
    and forced meetings as they are, the split bound over people seated in every round."""
    pr = plan.problem
    always = np.ones(pr.n, dtype=bool)
    for tab in tabs:
        always &= tab >= 0
    meetings = forced_meetings = split = 0
    seated = np.zeros(pr.n, dtype=bool)
    for tab in tabs:
        here = in_pool & (tab >= 0)
        seated |= here
        sizes = np.bincount(tab[here], minlength=pr.n_tables)
        meetings += int((sizes * (sizes - 1) // 2).sum())
        forced_meetings += sum(1 for a, b in pool_forced if tab[a] >= 0 and tab[a] == tab[b])
        # only people seated in every round are sure to part again
        stay = np.bincount(tab[here & always], minlength=pr.n_tables)
        split = max(split, split_bound(stay[tables], tables.size))
    return int(seated.sum()), meetings, forced_meetings, split


def _full_sizes(
    plan: Plan, tables: np.ndarray, in_pool: np.ndarray, tabs: Sequence[np.ndarray] | None
) -> list[int]:
    """The pool's table sizes when everyone of the pool sits at them in every round, with the
    same sizes each round (``[]`` otherwise: the per-person bound does not apply)."""
    people = int(in_pool.sum())
    if tabs is None:
        sizes = sorted(int(x) for x in plan.cap[tables].sum(axis=1))
        return sizes if sum(sizes) == people else []
    seen: list[int] = []
    for tab in tabs:
        if (tab[in_pool] < 0).any():
            return []
        counts = np.bincount(tab[in_pool], minlength=plan.problem.n_tables)
        sizes = sorted(int(x) for x in counts[tables])
        if sum(sizes) != people or (seen and sizes != seen):
            return []
        seen = sizes
    return seen


def _always_forced(
    pr_n: int, in_pool: np.ndarray, pool_forced: list[tuple[int, int]], tabs: Sequence[np.ndarray]
) -> tuple[int, int]:
    """People of the pool seated in every round, and the forced pairs among them."""
    always = in_pool.copy()
    for tab in tabs:
        always &= tab >= 0
    return int(always.sum()), sum(1 for a, b in pool_forced if always[a] and always[b])


def repeat_bound(plan: Plan, rounds: int, tabs: Sequence[np.ndarray] | None = None) -> int:
    """Pairs that must meet more than once, summed over the pools.

    The largest of four bounds per pool: counting (all meetings against the distinct pairs),
    pigeonhole (the people of a table larger than the pool's table count cannot all part in the
    next round), Turan (``turan_bound``: with few tables and many rounds, most pairs meet
    twice) and per person (``degree_bound``: more meetings than others to meet); for a pool of
    two tables over two or three rounds, everyone present and no forced pairs, the exact
    fewest under the pattern (``two_table_bound``). Without
    ``tabs`` everyone is seated in every round; with ``tabs`` (an existing
    seating, possibly with absent people) sizes and forced meetings are counted from it.
    """
    if rounds < 2:
        return 0
    forced = forced_pairs(plan)
    pr = plan.problem
    total = 0
    for pool in pools(plan.cap):
        g = pool.tables.size
        in_pool = np.isin(pr.cls, pool.classes)
        pool_forced = [(a, b) for a, b in forced if in_pool[a]]
        if tabs is None:
            sizes = plan.cap[pool.tables].sum(axis=1)
            meetings = rounds * int((sizes * (sizes - 1) // 2).sum())
            people = int(in_pool.sum())
            forced_meetings = rounds * len(pool_forced)
            split = split_bound(sizes, g)
        else:
            people, meetings, forced_meetings, split = _seated_counts(
                plan, pool.tables, in_pool, pool_forced, tabs
            )
        count = pair_bound(people, meetings, len(pool_forced), forced_meetings, rounds)
        if tabs is None:
            stay, stay_forced = int(in_pool.sum()), len(pool_forced)
        else:
            stay, stay_forced = _always_forced(pr.n, in_pool, pool_forced, tabs)
        turan = turan_bound(stay, g, rounds) - stay_forced
        degree = 0
        table_sizes = _full_sizes(plan, pool.tables, in_pool, tabs)
        if table_sizes:
            bound_to = {a for pair in pool_forced for a in pair}
            free = int(in_pool.sum()) - len(bound_to)
            degree = degree_bound(table_sizes, rounds, free)
        exact = None
        everyone = tabs is None or all((t[in_pool] >= 0).all() for t in tabs)
        if g == 2 and rounds <= 3 and not pool_forced and everyone:
            exact = two_table_bound(np.bincount(pr.cls[in_pool]).tolist(), rounds)
        # forced pairs sit together again by rule and are not counted as repeats
        total += max(count, split - len(pool_forced), turan, degree, exact or 0, 0)
    return total


def _mode_quality(
    plan: Plan, tab: np.ndarray, here: np.ndarray, tables: np.ndarray
) -> tuple[int, list[float]]:
    """Tables of one mode that follow a valid pattern for the people present, and per table
    and feature 1 - total variation distance to the mode's shares."""
    pr = plan.problem
    type_of = pr.cls // 2
    counts = np.zeros((plan.cap.shape[0], len(plan.type_names)), dtype=np.int64)
    np.add.at(counts, (tab[here], type_of[here]), 1)
    counts = counts[tables]
    nt = tables.size
    per_type = counts.sum(axis=0)
    size = counts.sum(axis=1)
    okay = (
        (counts >= (per_type // nt)[None, :]).all(axis=1)
        & (counts <= (-(-per_type // nt))[None, :]).all(axis=1)
        & (size >= int(size.sum()) // nt)
        & (size <= -(-int(size.sum()) // nt))
    )
    div: list[float] = []
    for v in pr.vals:
        levels = int(v.max()) + 1
        share = np.bincount(v[here], minlength=levels) / max(int(here.sum()), 1)
        cnt = np.zeros((plan.cap.shape[0], levels))
        np.add.at(cnt, (tab[here], v[here]), 1.0)
        cnt = cnt[tables]
        filled = size > 0
        frac = cnt[filled] / size[filled][:, None]
        div.extend((1.0 - 0.5 * np.abs(frac - share[None, :]).sum(axis=1)).tolist())
    return int(okay.sum()), div


def _violations(plan: Plan, tab: np.ndarray) -> tuple[int, int, int]:
    """(keep-apart pairs together, keep-together groups split, people off their fixed table)."""
    pr = plan.problem
    apart = together = 0
    for i, row in enumerate(pr.apart):
        for j in row[row < pr.n]:
            if i < j and tab[i] >= 0 and tab[i] == tab[j]:
                apart += 1
    for idx in plan.groups:
        t = tab[idx]
        t = t[t >= 0]
        if t.size and (t != t[0]).any():
            together += 1
    f = pr.fixed
    fixed_bad = int(((f >= 0) & (tab >= 0) & (tab != f)).sum())
    return apart, together, fixed_bad


def diversity(plan: Plan, tabs: Sequence[np.ndarray]) -> float:
    """The diversity score of ``evaluate`` for rounds ``tabs`` of ``plan``."""
    div: list[float] = []
    for tab in tabs:
        for m in (0, 1):
            tables = np.flatnonzero(plan.table_mode == m)
            if tables.size:
                div.extend(_mode_quality(plan, tab, (tab >= 0) & np.isin(tab, tables), tables)[1])
    return float(np.mean(div)) if div else 1.0


def evaluate(seating: Seating) -> SeatingReport:
    """Repeated meetings, pattern compliance, diversity and constraint checks of a seating."""
    plan = make_plan(seating.participants, seating.settings, seating.tables)
    tabs = tabs_of(plan, seating)
    pairs, meetings = count_repeats(plan, tabs)
    ok_tables = total_tables = 0
    div: list[float] = []
    broken = np.zeros(3, dtype=np.int64)
    for tab in tabs:
        for m in (0, 1):
            tables = np.flatnonzero(plan.table_mode == m)
            if tables.size == 0:
                continue
            ok, scores = _mode_quality(plan, tab, (tab >= 0) & np.isin(tab, tables), tables)
            ok_tables += ok
            total_tables += tables.size
            div.extend(scores)
        broken += _violations(plan, tab)
    apart, together, fixed_bad = (int(x) for x in broken)
    return SeatingReport(
        repeated_pairs=pairs,
        repeated_meetings=meetings,
        pattern_compliance=ok_tables / total_tables if total_tables else 1.0,
        diversity_score=float(np.mean(div)) if div else 1.0,
        keep_apart_violations=apart,
        keep_together_violations=together,
        fixed_seat_violations=fixed_bad,
        repeated_pairs_lower_bound=repeat_bound(plan, len(tabs), tabs),
    )
