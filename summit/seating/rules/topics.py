"""Topic rounds: tables formed per chosen topic (themaronde), keeping the role mix where it can."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from summit.core.i18n import gettext as _
from summit.seating.rules.model import (
    MODES,
    Participant,
    Seating,
    SeatingError,
    SeatingSettings,
    mode_words,
)
from summit.seating.rules.pattern import check_seat_types, spread, table_count
from summit.seating.rules.plan import rng_for
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


@dataclass
class _Rows:
    """The rows of a linear program's constraints ``lo <= row @ x <= hi``."""

    width: int
    rows: list[np.ndarray] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)

    def new(self) -> np.ndarray:
        return np.zeros(self.width)

    def add(self, r: np.ndarray, a: float, b: float) -> None:
        self.rows.append(r)
        self.lo.append(a)
        self.hi.append(b)


def _topic_cost(classes: np.ndarray, n_topics: int, width: int, n_mix: int) -> np.ndarray:
    """Per class and topic: 0 for the first choice (or no choice), ``_SECOND`` for the second,
    ``_OTHER`` for any other topic; ``_MIX`` per seat short of the role mix (the last ``n_mix``
    variables)."""
    cost = np.zeros(width)
    for c in range(classes.shape[0]):
        f, s, _rest = classes[c]
        row = np.full(n_topics, _OTHER)
        if f < 0:
            row[:] = 0.0
        else:
            row[f] = 0.0
            if s >= 0 and s != f:
                row[s] = _SECOND
        cost[c * n_topics : (c + 1) * n_topics] = row
    cost[width - n_mix :] = _MIX
    return cost


def _topic_rows(
    classes: np.ndarray,
    sizes: np.ndarray,
    n_topics: int,
    per_table_min: np.ndarray,
    tables: int,
    size_lo: int,
    size_hi: int,
) -> _Rows:
    """Everyone seated once, ``tables`` tables in all, table sizes within ``size_lo..size_hi``,
    and per topic and seat type the seats short of the role mix counted in ``u``."""
    g, n_types = classes.shape[0], per_table_min.size
    ny, nk = g * n_topics, n_topics
    rows = _Rows(ny + nk + n_topics * n_types)
    for c in range(g):
        r = rows.new()
        r[c * n_topics : (c + 1) * n_topics] = 1
        rows.add(r, float(sizes[c]), float(sizes[c]))
    r = rows.new()
    r[ny : ny + nk] = 1
    rows.add(r, float(tables), float(tables))
    for t in range(n_topics):
        r = rows.new()
        r[t:ny:n_topics] = 1
        r[ny + t] = -size_hi
        rows.add(r, -np.inf, 0.0)
        r2 = rows.new()
        r2[t:ny:n_topics] = 1
        r2[ny + t] = -size_lo
        rows.add(r2, 0.0, np.inf)
        for j in range(n_types):
            if per_table_min[j] == 0:
                continue
            r3 = rows.new()
            members = np.flatnonzero(classes[:, 2] == j)
            r3[members * n_topics + t] = 1
            r3[ny + t] = -per_table_min[j]
            r3[ny + nk + t * n_types + j] = 1
            rows.add(r3, 0.0, np.inf)
    return rows


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
    per_table_min = np.bincount(types, minlength=n_types) // tables
    # variables: y (g x topics), k (topics), u (topics x types)
    ny, nk, nu = g * n_topics, n_topics, n_topics * n_types
    cost = _topic_cost(classes, n_topics, ny + nk + nu, nu)
    rows = _topic_rows(classes, sizes, n_topics, per_table_min, tables, size_lo, size_hi)
    res = milp(
        cost,
        constraints=LinearConstraint(np.array(rows.rows), rows.lo, rows.hi),
        integrality=np.ones(ny + nk + nu),
        bounds=Bounds(np.zeros(ny + nk + nu), np.full(ny + nk + nu, float(n))),
    )
    if res.x is None:
        raise SeatingError("topics: " + _("no assignment of people to topic tables exists"))
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


def _check_request(
    people: Sequence[Participant],
    choices: Mapping[str, Sequence[str]],
    topics: Sequence[str],
    settings: SeatingSettings,
) -> dict[str, int]:
    """Topics once each, choices of known people for known topics, seatable people; returns
    role → seat type index."""
    role_type = check_seat_types(settings.seat_types)
    if len(set(topics)) != len(topics) or not topics:
        raise SeatingError("topics: " + _("give at least one topic, each once"))
    ids = {p.id for p in people}
    for pid, ch in choices.items():
        if pid not in ids:
            raise SeatingError("choices: " + (_("unknown participant %(pid)r") % {"pid": pid}))
        if len(ch) > 2:
            raise SeatingError(f"choices[{pid}]: " + _("give a first and at most a second choice"))
        for c in ch:
            if c not in topics:
                raise SeatingError(f"choices[{pid}]: " + (_("unknown topic %(c)r") % {"c": c}))
    for p in people:
        if p.role not in role_type:
            raise SeatingError(
                f"participants[{p.id}].role: "
                + (_("no seat type accepts %(role)r") % {"role": p.role})
            )
        if p.mode not in MODES:
            raise SeatingError(
                f"participants[{p.id}].mode: "
                + (_("%(mode)r is not venue or online") % {"mode": p.mode})
            )
    return role_type


@dataclass
class _Formed:
    """People per topic table: topic and table index per person, and per table its topic index,
    mode and seats per seat type."""

    topic_of: np.ndarray
    table_of: np.ndarray
    table_topic: list[int] = field(default_factory=list)
    table_mode: list[str] = field(default_factory=list)
    caps: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class _Demand:
    """First and second choice (topic index or -1), seat type and mode index per person."""

    first: np.ndarray
    second: np.ndarray
    types: np.ndarray
    mode_of: np.ndarray
    n_topics: int
    n_types: int


def _seat_topic(
    formed: _Formed,
    members_: np.ndarray,
    d: _Demand,
    t: int,
    k: int,
    mode: str,
    rng: np.random.Generator,
) -> None:
    """The ``k`` tables of topic ``t``: each seat type spread evenly, people dealt at random."""
    counts = np.bincount(d.types[members_], minlength=d.n_types)
    pattern = spread(counts.tolist(), k)
    base = len(formed.table_topic)
    for row in pattern:
        formed.table_topic.append(t)
        formed.table_mode.append(mode)
        formed.caps.append(row)
    for j in range(d.n_types):
        slots = np.repeat(base + np.arange(k), pattern[:, j])
        mem_j = members_[d.types[members_] == j]
        formed.table_of[mem_j[rng.permutation(mem_j.size)]] = slots


def _form_tables(d: _Demand, size: int, rng: np.random.Generator) -> _Formed:
    """Per mode: tables per topic and a topic per person (``_assign_topics``), then the tables."""
    n = d.first.size
    formed = _Formed(np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))
    for m, mode in enumerate(MODES):
        who = np.flatnonzero(d.mode_of == m)
        if who.size == 0:
            continue
        if who.size < size:
            raise SeatingError(
                "participants: "
                + (
                    _("%(size)s people %(mode)s is fewer than one table")
                    % {"size": who.size, "mode": mode_words(mode)}
                )
            )
        tables = table_count(int(who.size), size)
        lo, hi = who.size // tables, -(-who.size // tables)
        # shuffle within classes so who gets a second choice is decided by the seed, not the id
        shuffled = who[rng.permutation(who.size)]
        k, onehot = _assign_topics(
            d.first[shuffled],
            d.second[shuffled],
            d.types[shuffled],
            d.n_topics,
            d.n_types,
            tables,
            lo,
            hi,
        )
        formed.topic_of[shuffled] = onehot.argmax(axis=1)
        for t in range(d.n_topics):
            if k[t] > 0:
                members_ = who[formed.topic_of[who] == t]
                _seat_topic(formed, members_, d, t, int(k[t]), mode, rng)
    return formed


def _previous_tabs(previous: Seating | None, index: Mapping[str, int], n: int) -> list[np.ndarray]:
    """Table index per person (-1 = not there) in each earlier round."""
    others: list[np.ndarray] = []
    if previous is not None:
        for rnd in previous.rounds:
            tab = np.full(n, -1, dtype=np.int64)
            for t, ids in enumerate(rnd):
                for pid in ids:
                    if pid in index:
                        tab[index[pid]] = t
            others.append(tab)
    return others


def _polish(
    people: Sequence[Participant],
    settings: SeatingSettings,
    formed: _Formed,
    d: _Demand,
    others: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Same-class swaps (seat type within a topic's tables) for diversity and against earlier
    meetings; returns the table per person."""
    n = len(people)
    cap = np.array(formed.caps, dtype=np.int64)
    cls = formed.topic_of * (2 * d.n_types) + d.types * 2 + d.mode_of
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
        n_tables=len(formed.table_topic),
        cls=cls,
        vals=tuple(vals),
        exp=tuple(exp),
        weights=tuple(float(settings.feature_weights.get(f, 1.0)) for f in settings.features),
        apart=np.full((n, 0), n, dtype=np.int64),
        group=np.full(n, -1, dtype=np.int64),
        fixed=np.full(n, -1, dtype=np.int64),
    )
    nb, nw = neighbours(problem, others)
    search = RoundSearch(problem, formed.table_of, np.ones(n, dtype=bool), nb, nw, rng)
    search.improve(max_iters=100)
    search.repair(max_sweeps=30)
    if search.conflicts().size:
        search.tabu(max_iters=300)
    return search.tab.copy()


def _tables_and_gaps(
    people: Sequence[Participant],
    topics: Sequence[str],
    names: Sequence[str],
    formed: _Formed,
    table_of: np.ndarray,
    types: np.ndarray,
) -> tuple[list[TopicTable], list[tuple[int, tuple[str, ...]]]]:
    """The topic tables, and the tables without a seat type every table could have had."""
    cap = np.array(formed.caps, dtype=np.int64)
    n_tables = len(formed.table_topic)
    out_tables = []
    lacking = []
    total_types = np.bincount(types, minlength=len(names))
    n_all_tables = max(n_tables, 1)
    for t in range(n_tables):
        ids = tuple(sorted(people[int(i)].id for i in np.flatnonzero(table_of == t)))
        out_tables.append(
            TopicTable(
                number=t + 1,
                topic=topics[formed.table_topic[t]],
                mode=formed.table_mode[t],
                members=ids,
                seats=tuple((nm, int(c)) for nm, c in zip(names, cap[t], strict=True)),
            )
        )
        missing = tuple(
            nm for j, nm in enumerate(names) if cap[t, j] == 0 and total_types[j] >= n_all_tables
        )
        if missing:
            lacking.append((t + 1, missing))
    return out_tables, lacking


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
    role_type = _check_request(people, choices, topics, settings)
    topic_idx = {t: i for i, t in enumerate(topics)}
    names = [st.name for st in settings.seat_types]
    rng = rng_for(seed, "topics")
    index = {p.id: i for i, p in enumerate(people)}
    n = len(people)
    first = np.array([topic_idx[choices[p.id][0]] if choices.get(p.id) else -1 for p in people])
    second = np.array(
        [topic_idx[choices[p.id][1]] if len(choices.get(p.id, ())) > 1 else -1 for p in people]
    )
    types = np.array([role_type[p.role] for p in people], dtype=np.int64)
    mode_of = np.array([MODES.index(p.mode) for p in people], dtype=np.int64)
    demand = _Demand(first, second, types, mode_of, len(topics), len(names))
    formed = _form_tables(demand, settings.table_size, rng)
    others = _previous_tabs(previous, index, n)
    table_of = _polish(people, settings, formed, demand, others, rng)
    n_tables = len(formed.table_topic)
    mine = _pair_keys(table_of, n_tables)
    repeats = sum(
        int(np.intersect1d(mine, _pair_keys(tab, int(tab.max()) + 1)).size)
        for tab in others
        if (tab >= 0).any()
    )
    out_tables, lacking = _tables_and_gaps(people, topics, names, formed, table_of, types)
    topic_of = formed.topic_of
    got_second = tuple(
        people[i].id for i in range(n) if second[i] >= 0 and topic_of[i] == second[i] != first[i]
    )
    unchosen = tuple(
        people[i].id
        for i in range(n)
        if first[i] >= 0 and topic_of[i] != first[i] and topic_of[i] != second[i]
    )
    return TopicSeating(
        tables=tuple(out_tables),
        topic_of={people[i].id: topics[int(topic_of[i])] for i in range(n)},
        second_choice=got_second,
        unchosen=unchosen,
        lacking_roles=tuple(lacking),
        repeated_pairs=repeats,
    )
