"""Seating for several rounds: plan the tables, then fill each round with the swap search."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from summit.seating.rules.construct import (
    Pool,
    Ring,
    assign_seats,
    choose_ring,
    pair_bound,
    pools,
    split_bound,
)
from summit.seating.rules.model import (
    MODES,
    ONLINE,
    ROLES,
    VENUE,
    Host,
    Participant,
    Seating,
    SeatingError,
    SeatingReport,
    SeatingSettings,
    Table,
)
from summit.seating.rules.pattern import check_seat_types, spread, table_count
from summit.seating.rules.search import Problem, RoundSearch, members, neighbours

__all__ = ["evaluate", "seat_rounds"]


@dataclass(frozen=True)
class Plan:
    """Tables and the numeric problem derived from (participants, settings); no randomness."""

    people: tuple[Participant, ...]
    index: Mapping[str, int]
    settings: SeatingSettings
    tables: tuple[Table, ...]
    cap: np.ndarray  # (tables, 2 * seat types) seats per class
    table_mode: np.ndarray  # (tables,) 0 venue (incl. hybrid), 1 online
    problem: Problem
    groups: tuple[np.ndarray, ...]  # keep-together member indices
    type_names: tuple[str, ...]


def rng_for(seed: str, purpose: str) -> np.random.Generator:
    """A generator that depends only on the seed string (SHA-256), not on process state."""
    if not isinstance(seed, str):
        raise SeatingError("seed: must be a string")
    digest = hashlib.sha256(f"g1000-seating:{purpose}:{seed}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest, "big")))


def _largest_remainder(total: int, weights: Sequence[int]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(np.int64)
    left = total - int(out.sum())
    order = np.lexsort((np.arange(len(w)), -(exact - out)))
    out[order[:left]] += 1
    return out


def _check_people(people: Sequence[Participant], settings: SeatingSettings) -> None:
    role_type = check_seat_types(settings.seat_types)
    seen: set[str] = set()
    for p in people:
        if not isinstance(p.id, str) or not p.id:
            raise SeatingError(f"participants: id {p.id!r} must be a non-empty string")
        if p.id in seen:
            raise SeatingError(f"participants: id {p.id!r} appears twice")
        seen.add(p.id)
        if p.role not in ROLES:
            raise SeatingError(f"participants[{p.id}].role: unknown role {p.role!r}")
        if p.role not in role_type:
            raise SeatingError(f"participants[{p.id}].role: no seat type accepts {p.role!r}")
        if p.mode not in MODES:
            raise SeatingError(f"participants[{p.id}].mode: {p.mode!r} is not venue or online")
        for f in settings.features:
            value = p.features.get(f)
            if not isinstance(value, str):
                raise SeatingError(f"participants[{p.id}].features: {f!r} is missing")
    if settings.rounds < 1:
        raise SeatingError("settings.rounds: at least one round is needed")
    if settings.table_size < 2:
        raise SeatingError("settings.table_size: a table needs at least 2 seats")
    if settings.effort <= 0:
        raise SeatingError("settings.effort: must be positive")
    if len(set(settings.features)) != len(settings.features):
        raise SeatingError("settings.features: a feature is listed twice")
    for f, w in settings.feature_weights.items():
        if f not in settings.features:
            raise SeatingError(f"settings.feature_weights: {f!r} is not a feature")
        if w < 0:
            raise SeatingError(f"settings.feature_weights: weight of {f!r} is negative")


def _remote_matrix(pv: np.ndarray, rem: np.ndarray, hybrid: int, per_table: int) -> np.ndarray:
    out = np.zeros((hybrid, pv.shape[1]), dtype=np.int64)
    used = np.zeros(hybrid, dtype=np.int64)
    for k in range(pv.shape[1]):
        for _ in range(int(rem[k])):
            room = (used < per_table) & (out[:, k] < pv[:hybrid, k])
            if not room.any():
                raise SeatingError(
                    "settings.remote_seats_per_hybrid_table: the remote seats cannot follow "
                    "the table pattern; use fewer remote seats or more hybrid tables"
                )
            j = int(np.flatnonzero(room)[np.argmin(used[room])])
            out[j, k] += 1
            used[j] += 1
    return out


def make_plan(
    participants: Iterable[Participant],
    settings: SeatingSettings,
    tables: Sequence[Table] | None = None,
) -> Plan:
    """Check the request and lay out the tables (venue first, then online).

    With ``tables`` (an existing seating's tables) the layout is kept as it is.
    """
    people = tuple(sorted(participants, key=lambda p: p.id))
    _check_people(people, settings)
    role_type = check_seat_types(settings.seat_types)
    n = len(people)
    size = settings.table_size
    if n < size:
        raise SeatingError(f"participants: {n} people is fewer than one table of {size}")
    k_types = len(settings.seat_types)
    index = {p.id: i for i, p in enumerate(people)}
    type_of = np.array([role_type[p.role] for p in people], dtype=np.int64)
    mode_of = np.array([MODES.index(p.mode) for p in people], dtype=np.int64)
    cls = type_of * 2 + mode_of
    counts_v = np.bincount(type_of[mode_of == 0], minlength=k_types)
    counts_o = np.bincount(type_of[mode_of == 1], minlength=k_types)

    hybrid, per_table = settings.hybrid_tables, settings.remote_seats_per_hybrid_table
    if hybrid < 0 or per_table < 0:
        raise SeatingError("settings.hybrid_tables: counts cannot be negative")
    if (hybrid > 0) != (per_table > 0):
        raise SeatingError(
            "settings.hybrid_tables: give both the number of hybrid tables and their remote seats"
        )
    if per_table >= size:
        raise SeatingError("settings.remote_seats_per_hybrid_table: must be below the table size")
    remote_total = hybrid * per_table
    if remote_total > counts_o.sum():
        raise SeatingError(
            f"settings.hybrid_tables: {remote_total} remote seats but only "
            f"{int(counts_o.sum())} online participants"
        )
    rem = _largest_remainder(remote_total, counts_o.tolist())
    venue_counts, online_counts = counts_v + rem, counts_o - rem
    nv, no = int(venue_counts.sum()), int(online_counts.sum())
    for label, count in ((VENUE, nv), (ONLINE, no)):
        if 0 < count < size:
            raise SeatingError(
                f"participants: {count} {label} people is fewer than one table of {size}"
            )
    n_venue, n_online = table_count(nv, size), table_count(no, size)
    if hybrid > n_venue:
        raise SeatingError(
            f"settings.hybrid_tables: {hybrid} hybrid tables but only {n_venue} venue tables"
        )
    pv, po = spread(venue_counts.tolist(), n_venue), spread(online_counts.tolist(), n_online)
    remote = _remote_matrix(pv, rem, hybrid, per_table)

    areas: list[str] = []
    for area in settings.venue_areas:
        if area.tables < 0:
            raise SeatingError(f"settings.venue_areas: {area.label!r} has a negative table count")
        areas.extend([area.label] * area.tables)
    if settings.venue_areas and len(areas) < n_venue:
        raise SeatingError(
            f"settings.venue_areas: the areas hold {len(areas)} tables, {n_venue} are needed"
        )
    n_tables = n_venue + n_online
    cap = np.zeros((n_tables, 2 * k_types), dtype=np.int64)
    names = tuple(st.name for st in settings.seat_types)
    tables_built: list[Table] = []
    for t in range(n_venue):
        r = remote[t] if t < hybrid else np.zeros(k_types, dtype=np.int64)
        cap[t, 0::2] = pv[t] - r
        cap[t, 1::2] = r
        tables_built.append(
            Table(
                number=t + 1,
                mode=VENUE,
                area=areas[t] if areas else VENUE,
                seats=tuple((nm, int(c)) for nm, c in zip(names, pv[t] - r, strict=True)),
                remote_seats=tuple((nm, int(c)) for nm, c in zip(names, r, strict=True))
                if t < hybrid
                else (),
            )
        )
    for t in range(n_online):
        cap[n_venue + t, 1::2] = po[t]
        tables_built.append(
            Table(
                number=n_venue + t + 1,
                mode=ONLINE,
                area=ONLINE,
                seats=tuple((nm, int(c)) for nm, c in zip(names, po[t], strict=True)),
            )
        )
    if tables is not None:
        names_idx = {nm: j for j, nm in enumerate(names)}
        cap = np.zeros((len(tables), 2 * k_types), dtype=np.int64)
        for t, tb in enumerate(tables):
            m = MODES.index(tb.mode)
            for nm, c in tb.seats:
                cap[t, names_idx[nm] * 2 + m] = c
            for nm, c in tb.remote_seats:
                cap[t, names_idx[nm] * 2 + 1] = c
        n_venue = sum(1 for tb in tables if tb.mode == VENUE)
        n_online = len(tables) - n_venue
        n_tables = len(tables)
        table_list = list(tables)
    else:
        table_list = tables_built
    table_mode = np.array([0] * n_venue + [1] * n_online, dtype=np.int64)

    # diversity: expected counts mirror the shares of each mode's people
    vals: list[np.ndarray] = []
    exp: list[np.ndarray] = []
    for f in settings.features:
        raw = [p.features[f] for p in people]
        levels = sorted(set(raw))
        code = {v: i for i, v in enumerate(levels)}
        v = np.array([code[x] for x in raw], dtype=np.int64)
        e = np.zeros((n_tables, len(levels)))
        for m in (0, 1):
            in_mode = mode_of == m
            if in_mode.any():
                share = np.bincount(v[in_mode], minlength=len(levels)) / in_mode.sum()
                seats = cap[:, m::2].sum(axis=1).astype(np.float64)
                e += seats[:, None] * share[None, :]
        vals.append(v)
        exp.append(e)
    weights = tuple(float(settings.feature_weights.get(f, 1.0)) for f in settings.features)

    cons = settings.constraints
    fixed = np.full(n, -1, dtype=np.int64)
    for pid, number in sorted(cons.fixed_tables.items()):
        if pid not in index:
            raise SeatingError(f"constraints.fixed_tables: unknown participant {pid!r}")
        if not isinstance(number, int) or not 1 <= number <= n_tables:
            raise SeatingError(
                f"constraints.fixed_tables[{pid}]: table {number!r} does not exist "
                f"(tables 1..{n_tables})"
            )
        i = index[pid]
        if cap[number - 1, cls[i]] < 1:
            p = people[i]
            raise SeatingError(
                f"constraints.fixed_tables[{pid}]: table {number} "
                f"({table_list[number - 1].mode}) has no seat for a {p.mode} "
                f"{names[type_of[i]]} participant"
            )
        fixed[i] = number - 1
    fixed_load = np.zeros_like(cap)
    np.add.at(fixed_load, (fixed[fixed >= 0], cls[fixed >= 0]), 1)
    over = np.argwhere(fixed_load > cap)
    if over.size:
        t, c = over[0]
        raise SeatingError(
            f"constraints.fixed_tables: table {t + 1} has {cap[t, c]} {names[c // 2]} seat(s) for "
            f"{MODES[c % 2]} people but {fixed_load[t, c]} are fixed there"
        )

    group = np.full(n, -1, dtype=np.int64)
    groups: list[np.ndarray] = []
    for gi, g in enumerate(sorted(tuple(sorted(g)) for g in cons.keep_together)):
        label = ", ".join(g)
        for pid in g:
            if pid not in index:
                raise SeatingError(f"constraints.keep_together: unknown participant {pid!r}")
            if group[index[pid]] >= 0:
                raise SeatingError(f"constraints.keep_together: {pid!r} is in two groups")
        if len(g) > size:
            raise SeatingError(
                f"constraints.keep_together: group ({label}) has {len(g)} people, "
                f"a table seats {size}"
            )
        idx = np.array([index[pid] for pid in g], dtype=np.int64)
        demand = np.bincount(cls[idx], minlength=cap.shape[1])
        fits: np.ndarray = np.asarray((cap >= demand).all(axis=1))
        pinned = sorted({int(fixed[i]) for i in idx if fixed[i] >= 0})
        if len(pinned) > 1:
            raise SeatingError(
                f"constraints.keep_together: group ({label}) has members fixed to different tables"
            )
        if not fits.any() or (pinned and not fits[pinned[0]]):
            raise SeatingError(
                f"constraints.keep_together: no table has the seats for group ({label})"
            )
        group[idx] = gi
        groups.append(idx)

    apart_lists: list[list[int]] = [[] for _ in range(n)]
    for g in sorted(tuple(sorted(g)) for g in cons.keep_apart):
        for pid in g:
            if pid not in index:
                raise SeatingError(f"constraints.keep_apart: unknown participant {pid!r}")
        ids = [index[pid] for pid in g]
        for i in ids:
            for j in ids:
                if i == j:
                    continue
                if group[i] >= 0 and group[i] == group[j]:
                    raise SeatingError(
                        f"constraints: {people[i].id!r} and {people[j].id!r} must be kept both "
                        "together and apart"
                    )
                if fixed[i] >= 0 and fixed[i] == fixed[j]:
                    raise SeatingError(
                        f"constraints: {people[i].id!r} and {people[j].id!r} must be kept apart "
                        f"but are both fixed to table {fixed[i] + 1}"
                    )
                apart_lists[i].append(j)
    width = max((len(a) for a in apart_lists), default=0)
    apart = np.full((n, width), n, dtype=np.int64)
    for i, a in enumerate(apart_lists):
        apart[i, : len(a)] = sorted(a)

    problem = Problem(
        n_tables=n_tables,
        cls=cls,
        vals=tuple(vals),
        exp=tuple(exp),
        weights=weights,
        apart=apart,
        group=group,
        fixed=fixed,
    )
    return Plan(
        people=people,
        index=index,
        settings=settings,
        tables=tuple(table_list),
        cap=cap,
        table_mode=table_mode,
        problem=problem,
        groups=tuple(groups),
        type_names=names,
    )


def pin_round(plan: Plan, rng: np.random.Generator, used: list[set[int]]) -> np.ndarray:
    """Tables of fixed people and keep-together groups for one round (−1 = free to move)."""
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
                    f"constraints.keep_together: table {t + 1} has no room for the group of "
                    f"{plan.people[int(idx[0])].id!r}"
                )
        else:
            fits = np.flatnonzero((free >= demand).all(axis=1))
            if fits.size == 0:
                raise SeatingError(
                    "constraints.keep_together: the groups and fixed seats do not fit together; "
                    f"no room left for the group of {plan.people[int(idx[0])].id!r}"
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
            raise SeatingError("internal: seats and people of a class differ")
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


def assign_hosts(plan: Plan, rounds: int) -> tuple[tuple[str | None, ...], ...]:
    """Hosts per round and table: venue hosts at venue tables, online hosts at online tables."""
    settings = plan.settings
    n_tables = len(plan.tables)
    if not settings.hosts:
        return tuple((None,) * n_tables for _ in range(rounds))
    ids = [h.id for h in settings.hosts]
    if len(set(ids)) != len(ids):
        raise SeatingError("settings.hosts: a host id appears twice")
    clash = set(ids) & set(plan.index)
    if clash:
        raise SeatingError(f"settings.hosts: {sorted(clash)[0]!r} is also a participant")
    out = [[None] * n_tables for _ in range(rounds)]  # type: list[list[str | None]]
    for m, mode in enumerate(MODES):
        tables = np.flatnonzero(plan.table_mode == m)
        hosts: list[Host] = sorted(
            (h for h in settings.hosts if h.mode == mode), key=lambda h: h.id
        )
        if any(h.mode not in MODES for h in settings.hosts):
            raise SeatingError("settings.hosts: a host's mode must be venue or online")
        if tables.size == 0:
            continue
        if len(hosts) < tables.size:
            raise SeatingError(
                f"settings.hosts: {tables.size} {mode} tables but {len(hosts)} {mode} hosts"
            )
        for r in range(rounds):
            shift = 0 if settings.hosts_stay else r
            for i, t in enumerate(tables):
                out[r][int(t)] = hosts[(i + shift) % tables.size].id
    return tuple(tuple(row) for row in out)


def to_seating(plan: Plan, tabs: Sequence[np.ndarray], seed: str) -> Seating:
    rounds = []
    for tab in tabs:
        rows: list[list[str]] = [[] for _ in plan.tables]
        for i in np.flatnonzero(tab >= 0):
            rows[int(tab[i])].append(plan.people[int(i)].id)
        rounds.append(tuple(tuple(sorted(r)) for r in rows))
    return Seating(
        tables=plan.tables,
        rounds=tuple(rounds),
        hosts=assign_hosts(plan, len(tabs)),
        participants=plan.people,
        settings=plan.settings,
        seed=seed,
    )


def tabs_of(plan: Plan, seating: Seating) -> list[np.ndarray]:
    """Table index per person per round (−1 = not seated) from a seating."""
    out = []
    for r, round_tables in enumerate(seating.rounds):
        tab = np.full(plan.problem.n, -1, dtype=np.int64)
        for t, ids in enumerate(round_tables):
            for pid in ids:
                if pid not in plan.index:
                    raise SeatingError(f"seating.rounds[{r + 1}]: unknown participant {pid!r}")
                tab[plan.index[pid]] = t
        out.append(tab)
    return out


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
    # each round against all the others, until the bound is reached or a pass gains nothing
    score = count_repeats(plan, tabs)
    best = [t.copy() for t in tabs]
    patience = max(1, int(settings.effort))
    quiet = 0
    for _ in range(int(6 * settings.effort) + 1):
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
    # diversity last: a swap that adds a meeting costs far more than any diversity gain
    for r in range(len(best)):
        nb, nw = neighbours(plan.problem, best[:r] + best[r + 1 :])
        search = RoundSearch(plan.problem, best[r], movables[r], nb, nw, rng)
        search.improve(max_iters=int(400 * settings.effort), patience=int(20 * settings.effort) + 1)
        best[r] = search.tab.copy()
    return to_seating(plan, best, seed)


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


def repeat_bound(plan: Plan, rounds: int, tabs: Sequence[np.ndarray] | None = None) -> int:
    """Pairs that must meet more than once, summed over the pools.

    The larger of two bounds per pool: counting (all meetings against the distinct pairs) and
    pigeonhole (the people of a table larger than the pool's table count cannot all part in the
    next round). Without ``tabs`` everyone is seated in every round; with ``tabs`` (an existing
    seating, possibly with absent people) sizes and forced meetings are counted from it.
    """
    if rounds < 2:
        return 0
    forced = forced_pairs(plan)
    pr = plan.problem
    always = np.ones(pr.n, dtype=bool)
    for tab in tabs or ():
        always &= tab >= 0
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
            meetings = forced_meetings = split = 0
            seated = np.zeros(pr.n, dtype=bool)
            for tab in tabs:
                here = in_pool & (tab >= 0)
                seated |= here
                sizes = np.bincount(tab[here], minlength=pr.n_tables)
                meetings += int((sizes * (sizes - 1) // 2).sum())
                forced_meetings += sum(
                    1 for a, b in pool_forced if tab[a] >= 0 and tab[a] == tab[b]
                )
                # only people seated in every round are sure to part again
                stay = np.bincount(tab[here & always], minlength=pr.n_tables)
                split = max(split, split_bound(stay[pool.tables], g))
            people = int(seated.sum())
        count = pair_bound(people, meetings, len(pool_forced), forced_meetings, rounds)
        # forced pairs sit together again by rule and are not counted as repeats
        total += max(count, split - len(pool_forced), 0)
    return total


def evaluate(seating: Seating) -> SeatingReport:
    """Repeated meetings, pattern compliance, diversity and constraint checks of a seating."""
    plan = make_plan(seating.participants, seating.settings, seating.tables)
    tabs = tabs_of(plan, seating)
    pairs, meetings = count_repeats(plan, tabs)
    pr = plan.problem
    type_of = pr.cls // 2
    k_types = len(plan.type_names)
    ok_tables = 0
    total_tables = 0
    div: list[float] = []
    apart = together = fixed_bad = 0
    for tab in tabs:
        seated = tab >= 0
        for m in (0, 1):
            tables = np.flatnonzero(plan.table_mode == m)
            if tables.size == 0:
                continue
            here = seated & np.isin(tab, tables)
            counts = np.zeros((plan.cap.shape[0], k_types), dtype=np.int64)
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
            ok_tables += int(okay.sum())
            total_tables += nt
            for v in pr.vals:
                levels = int(v.max()) + 1
                share = np.bincount(v[here], minlength=levels) / max(int(here.sum()), 1)
                cnt = np.zeros((plan.cap.shape[0], levels))
                np.add.at(cnt, (tab[here], v[here]), 1.0)
                cnt = cnt[tables]
                filled = size > 0
                frac = cnt[filled] / size[filled][:, None]
                div.extend((1.0 - 0.5 * np.abs(frac - share[None, :]).sum(axis=1)).tolist())
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
        fixed_bad += int(((f >= 0) & seated & (tab != f)).sum())
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
