"""Topic rounds: tables formed per chosen topic (themaronde), keeping the role mix where it can."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from summit.seating.rules.model import MODES, Participant, Seating, SeatingError, SeatingSettings
from summit.seating.rules.pattern import check_seat_types, spread, table_count
from summit.seating.rules.rounds import rng_for
from summit.seating.rules.search import Problem, RoundSearch, members, neighbours

__all__ = ["TopicSeating", "TopicTable", "seat_topics"]

_SECOND = 1.0  # cost of a second choice
_OTHER = 20.0  # cost of a topic the person did not choose
_MIX = 0.05  # cost per seat a topic's tables lack for the role mix (choices come first)


@dataclass(frozen=True)
class TopicTable:
    number: int
    topic: str
    mode: str
    members: tuple[str, ...]
    seats: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class TopicSeating:
    """The topic round: tables, who got their second choice or neither, and role gaps."""

    tables: tuple[TopicTable, ...]
    topic_of: Mapping[str, str]
    second_choice: tuple[str, ...]
    unchosen: tuple[str, ...]
    lacking_roles: tuple[tuple[int, tuple[str, ...]], ...]
    repeated_pairs: int


def _assign_topics(
    first: np.ndarray,
    second: np.ndarray,
    types: np.ndarray,
    n_topics: int,
    n_types: int,
    tables: int,
    size_lo: int,
    size_hi: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Tables per topic and topic per person class; one integer program over (first, second,
    type) classes, so its size does not grow with the number of people."""
    keys = np.stack([first, second, types], axis=1)
    classes, inverse, sizes = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    g = classes.shape[0]
    n = first.size
    type_total = np.bincount(types, minlength=n_types)
    per_table_min = type_total // tables
    # variables: y (g × topics), k (topics), u (topics × types)
    ny, nk, nu = g * n_topics, n_topics, n_topics * n_types
    cost = np.zeros(ny + nk + nu)
    for c in range(g):
        f, s, _ = classes[c]
        row = np.full(n_topics, _OTHER)
        if f < 0:
            row[:] = 0.0
        else:
            row[f] = 0.0
            if s >= 0 and s != f:
                row[s] = _SECOND
        cost[c * n_topics : (c + 1) * n_topics] = row
    cost[ny + nk :] = _MIX
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(r: np.ndarray, a: float, b: float) -> None:
        rows.append(r)
        lo.append(a)
        hi.append(b)

    for c in range(g):
        r = np.zeros(ny + nk + nu)
        r[c * n_topics : (c + 1) * n_topics] = 1
        add(r, float(sizes[c]), float(sizes[c]))
    r = np.zeros(ny + nk + nu)
    r[ny : ny + nk] = 1
    add(r, float(tables), float(tables))
    for t in range(n_topics):
        r = np.zeros(ny + nk + nu)
        r[t:ny:n_topics] = 1
        r[ny + t] = -size_hi
        add(r, -np.inf, 0.0)
        r2 = np.zeros(ny + nk + nu)
        r2[t:ny:n_topics] = 1
        r2[ny + t] = -size_lo
        add(r2, 0.0, np.inf)
        for j in range(n_types):
            if per_table_min[j] == 0:
                continue
            r3 = np.zeros(ny + nk + nu)
            members = np.flatnonzero(classes[:, 2] == j)
            r3[members * n_topics + t] = 1
            r3[ny + t] = -per_table_min[j]
            r3[ny + nk + t * n_types + j] = 1
            add(r3, 0.0, np.inf)
    res = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(ny + nk + nu),
        bounds=Bounds(np.zeros(ny + nk + nu), np.full(ny + nk + nu, float(n))),
    )
    if res.x is None:
        raise SeatingError("topics: no assignment of people to topic tables exists")
    x = np.rint(res.x).astype(np.int64)
    y = x[:ny].reshape(g, n_topics)
    k = x[ny : ny + nk]
    return k, _split(y, inverse, sizes)


def _split(y: np.ndarray, inverse: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Topic per person: the people of a class take its topics in order (filled by the caller's
    shuffle)."""
    out = np.zeros((inverse.size, y.shape[1]), dtype=np.int64)
    topic = np.empty(inverse.size, dtype=np.int64)
    for c in range(y.shape[0]):
        who = np.flatnonzero(inverse == c)
        topic[who] = np.repeat(np.arange(y.shape[1]), y[c])[: who.size]
    out[np.arange(inverse.size), topic] = 1
    return out


def _pair_keys(tab: np.ndarray, n_tables: int) -> np.ndarray:
    n = tab.shape[0]
    mem = members(tab, n_tables)[:-1]
    i, j = np.triu_indices(mem.shape[1], k=1)
    a, b = mem[:, i].ravel(), mem[:, j].ravel()
    ok = (a < n) & (b < n)
    return np.unique(np.minimum(a[ok], b[ok]) * n + np.maximum(a[ok], b[ok]))


def seat_topics(
    participants: Iterable[Participant],
    choices: Mapping[str, Sequence[str]],
    topics: Sequence[str],
    settings: SeatingSettings,
    seed: str,
    previous: Seating | None = None,
) -> TopicSeating:
    """Form topic tables from first and second choices (eerste en tweede keus).

    Tables per topic follow demand; people get their first choice where capacity allows, else
    their second; each topic's tables follow the seat-type pattern of its people, and the report
    names who got their second choice (or neither) and which tables lack a seat type. Venue and
    online people get their own topic tables (venue numbered first). With ``previous``, people
    avoid meeting anyone they met in its rounds again.
    """
    people = tuple(sorted(participants, key=lambda p: p.id))
    role_type = check_seat_types(settings.seat_types)
    if len(set(topics)) != len(topics) or not topics:
        raise SeatingError("topics: give at least one topic, each once")
    topic_idx = {t: i for i, t in enumerate(topics)}
    size = settings.table_size
    names = [st.name for st in settings.seat_types]
    for pid, ch in choices.items():
        if pid not in {p.id for p in people}:
            raise SeatingError(f"choices: unknown participant {pid!r}")
        if len(ch) > 2:
            raise SeatingError(f"choices[{pid}]: give a first and at most a second choice")
        for c in ch:
            if c not in topic_idx:
                raise SeatingError(f"choices[{pid}]: unknown topic {c!r}")
    for p in people:
        if p.role not in role_type:
            raise SeatingError(f"participants[{p.id}].role: no seat type accepts {p.role!r}")
        if p.mode not in MODES:
            raise SeatingError(f"participants[{p.id}].mode: {p.mode!r} is not venue or online")
    rng = rng_for(seed, "topics")
    index = {p.id: i for i, p in enumerate(people)}
    n = len(people)
    first = np.array([topic_idx[choices[p.id][0]] if choices.get(p.id) else -1 for p in people])
    second = np.array(
        [topic_idx[choices[p.id][1]] if len(choices.get(p.id, ())) > 1 else -1 for p in people]
    )
    types = np.array([role_type[p.role] for p in people], dtype=np.int64)
    mode_of = np.array([MODES.index(p.mode) for p in people], dtype=np.int64)
    topic_of = np.full(n, -1, dtype=np.int64)
    table_of = np.full(n, -1, dtype=np.int64)
    table_topic: list[int] = []
    table_mode: list[str] = []
    caps: list[np.ndarray] = []
    for m, mode in enumerate(MODES):
        who = np.flatnonzero(mode_of == m)
        if who.size == 0:
            continue
        if who.size < size:
            raise SeatingError(f"participants: {who.size} {mode} people is fewer than one table")
        tables = table_count(int(who.size), size)
        lo, hi = who.size // tables, -(-who.size // tables)
        # shuffle within classes so who gets a second choice is decided by the seed, not the id
        shuffled = who[rng.permutation(who.size)]
        k, onehot = _assign_topics(
            first[shuffled],
            second[shuffled],
            types[shuffled],
            len(topics),
            len(names),
            tables,
            lo,
            hi,
        )
        topic_of[shuffled] = onehot.argmax(axis=1)
        for t in range(len(topics)):
            if k[t] == 0:
                continue
            members = who[topic_of[who] == t]
            counts = np.bincount(types[members], minlength=len(names))
            pattern = spread(counts.tolist(), int(k[t]))
            base = len(table_topic)
            for row in pattern:
                table_topic.append(t)
                table_mode.append(mode)
                caps.append(row)
            for j in range(len(names)):
                slots = np.repeat(base + np.arange(int(k[t])), pattern[:, j])
                mem_j = members[types[members] == j]
                table_of[mem_j[rng.permutation(mem_j.size)]] = slots
    n_tables = len(table_topic)
    cap = np.array(caps, dtype=np.int64)
    # polish: same-class swaps (type within topic table group) against earlier meetings
    cls = topic_of * (2 * len(names)) + types * 2 + mode_of
    vals: list[np.ndarray] = []
    exp: list[np.ndarray] = []
    for f in settings.features:
        raw = [p.features.get(f, "") for p in people]
        levels = sorted(set(raw))
        v = np.array([levels.index(x) for x in raw], dtype=np.int64)
        share = np.bincount(v, minlength=len(levels)) / n
        vals.append(v)
        exp.append(cap.sum(axis=1)[:, None] * share[None, :])
    problem = Problem(
        n_tables=n_tables,
        cls=cls,
        vals=tuple(vals),
        exp=tuple(exp),
        weights=tuple(float(settings.feature_weights.get(f, 1.0)) for f in settings.features),
        apart=np.full((n, 0), n, dtype=np.int64),
        group=np.full(n, -1, dtype=np.int64),
        fixed=np.full(n, -1, dtype=np.int64),
    )
    others: list[np.ndarray] = []
    if previous is not None:
        for rnd in previous.rounds:
            tab = np.full(n, -1, dtype=np.int64)
            for t, ids in enumerate(rnd):
                for pid in ids:
                    if pid in index:
                        tab[index[pid]] = t
            others.append(tab)
    nb, nw = neighbours(problem, others)
    search = RoundSearch(problem, table_of, np.ones(n, dtype=bool), nb, nw, rng)
    search.improve(max_iters=100)
    search.repair(max_sweeps=30)
    if search.conflicts().size:
        search.tabu(max_iters=300)
    table_of = search.tab.copy()
    mine = _pair_keys(table_of, n_tables)
    repeats = sum(
        int(np.intersect1d(mine, _pair_keys(tab, int(tab.max()) + 1)).size)
        for tab in others
        if (tab >= 0).any()
    )
    out_tables = []
    lacking = []
    total_types = np.bincount(types, minlength=len(names))
    n_all_tables = max(n_tables, 1)
    for t in range(n_tables):
        ids = tuple(sorted(people[i].id for i in np.flatnonzero(table_of == t)))
        out_tables.append(
            TopicTable(
                number=t + 1,
                topic=topics[table_topic[t]],
                mode=table_mode[t],
                members=ids,
                seats=tuple((nm, int(c)) for nm, c in zip(names, cap[t], strict=True)),
            )
        )
        missing = tuple(
            nm for j, nm in enumerate(names) if cap[t, j] == 0 and total_types[j] >= n_all_tables
        )
        if missing:
            lacking.append((t + 1, missing))
    got_second = tuple(
        people[i].id for i in range(n) if second[i] >= 0 and topic_of[i] == second[i] != first[i]
    )
    unchosen = tuple(
        people[i].id
        for i in range(n)
        if first[i] >= 0 and topic_of[i] != first[i] and topic_of[i] != second[i]
    )
    result = TopicSeating(
        tables=tuple(out_tables),
        topic_of={people[i].id: topics[int(topic_of[i])] for i in range(n)},
        second_choice=got_second,
        unchosen=unchosen,
        lacking_roles=tuple(lacking),
        repeated_pairs=repeats,
    )
    return result
