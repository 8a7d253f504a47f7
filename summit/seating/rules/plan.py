"""The plan of a seating: the request checked, the tables laid out, the numeric problem derived.

``make_plan`` is a pure function of (participants, settings): no randomness. It runs named steps
in a fixed order (so the first error a request meets is always the same): the people, the hybrid
settings, the number of tables per mode, the areas, the tables, diversity targets, fixed seats,
keep-together groups and keep-apart sets. ``to_seating``/``tabs_of`` convert between the plan's
vectors (table index per person) and the ``Seating`` dataclass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from summit.core.i18n import gettext as _
from summit.seating.rules.model import (
    MODES,
    ONLINE,
    ROLES,
    VENUE,
    Constraints,
    Host,
    Participant,
    Seating,
    SeatingError,
    SeatingSettings,
    Table,
    mode_words,
    seat_words,
)
from summit.seating.rules.pattern import check_seat_types, spread, table_count
from summit.seating.rules.search import Problem

__all__ = ["Plan", "assign_hosts", "make_plan", "rng_for", "tabs_of", "to_seating"]


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
        raise SeatingError("seed: " + _("must be a string"))
    digest = hashlib.sha256(f"g1000-seating:{purpose}:{seed}".encode()).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest, "big")))


# --- checking the request -----------------------------------------------------------------------


def _check_person(p: Participant, role_type: Mapping[str, int], features: Sequence[str]) -> None:
    if p.role not in ROLES:
        raise SeatingError(
            f"participants[{p.id}].role: " + (_("unknown role %(role)r") % {"role": p.role})
        )
    if p.role not in role_type:
        raise SeatingError(
            f"participants[{p.id}].role: " + (_("no seat type accepts %(role)r") % {"role": p.role})
        )
    if p.mode not in MODES:
        raise SeatingError(
            f"participants[{p.id}].mode: "
            + (_("%(mode)r is not venue or online") % {"mode": p.mode})
        )
    for f in features:
        if not isinstance(p.features.get(f), str):
            raise SeatingError(
                f"participants[{p.id}].features: " + (_("%(f)r is missing") % {"f": f})
            )


def _check_settings(settings: SeatingSettings) -> None:
    if settings.rounds < 1:
        raise SeatingError("settings.rounds: " + _("at least one round is needed"))
    if settings.table_size < 2:
        raise SeatingError("settings.table_size: " + _("a table needs at least 2 seats"))
    if settings.effort <= 0:
        raise SeatingError("settings.effort: " + _("must be positive"))
    if len(set(settings.features)) != len(settings.features):
        raise SeatingError("settings.features: " + _("a feature is listed twice"))
    for f, w in settings.feature_weights.items():
        if f not in settings.features:
            raise SeatingError(
                "settings.feature_weights: " + (_("%(f)r is not a feature") % {"f": f})
            )
        if w < 0:
            raise SeatingError(
                "settings.feature_weights: " + (_("weight of %(f)r is negative") % {"f": f})
            )


def check_people(people: Sequence[Participant], settings: SeatingSettings) -> None:
    """Every participant once, with a known role, mode and every balanced feature; then the
    settings' own numbers."""
    role_type = check_seat_types(settings.seat_types)
    seen: set[str] = set()
    for p in people:
        if not isinstance(p.id, str) or not p.id:
            raise SeatingError(
                "participants: " + (_("id %(id)r must be a non-empty string") % {"id": p.id})
            )
        if p.id in seen:
            raise SeatingError("participants: " + (_("id %(id)r appears twice") % {"id": p.id}))
        seen.add(p.id)
        _check_person(p, role_type, settings.features)
    _check_settings(settings)


def _check_hybrid(settings: SeatingSettings, online: int) -> None:
    hybrid, per_table = settings.hybrid_tables, settings.remote_seats_per_hybrid_table
    if hybrid < 0 or per_table < 0:
        raise SeatingError("settings.hybrid_tables: " + _("counts cannot be negative"))
    if (hybrid > 0) != (per_table > 0):
        raise SeatingError(
            "settings.hybrid_tables: "
            + _("give both the number of hybrid tables and their remote seats")
        )
    if per_table >= settings.table_size:
        raise SeatingError(
            "settings.remote_seats_per_hybrid_table: " + _("must be below the table size")
        )
    if hybrid * per_table > online:
        raise SeatingError(
            "settings.hybrid_tables: "
            + (
                _("%(value)s remote seats but only %(online)s online participants")
                % {"value": hybrid * per_table, "online": online}
            )
        )


# --- laying out the tables ----------------------------------------------------------------------


def _largest_remainder(total: int, weights: Sequence[int]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(np.int64)
    left = total - int(out.sum())
    order = np.lexsort((np.arange(len(w)), -(exact - out)))
    out[order[:left]] += 1
    return np.asarray(out)


def _remote_matrix(pv: np.ndarray, rem: np.ndarray, hybrid: int, per_table: int) -> np.ndarray:
    out = np.zeros((hybrid, pv.shape[1]), dtype=np.int64)
    used = np.zeros(hybrid, dtype=np.int64)
    for k in range(pv.shape[1]):
        for _seat in range(int(rem[k])):
            room = (used < per_table) & (out[:, k] < pv[:hybrid, k])
            if not room.any():
                raise SeatingError(
                    "settings.remote_seats_per_hybrid_table: "
                    + _(
                        "the remote seats cannot follow the table pattern; use fewer remote seats "
                        "or more hybrid tables"
                    )
                )
            j = int(np.flatnonzero(room)[np.argmin(used[room])])
            out[j, k] += 1
            used[j] += 1
    return out


@dataclass(frozen=True)
class _Layout:
    """Seats per table and seat type: ``pv`` venue tables (on-site and remote people together),
    ``po`` online tables, ``remote`` the remote seats of the hybrid (first) venue tables."""

    pv: np.ndarray
    po: np.ndarray
    remote: np.ndarray


def _layout(settings: SeatingSettings, counts_v: np.ndarray, counts_o: np.ndarray) -> _Layout:
    """Tables per mode and the seat types of each: remote seats take online people of every
    type in proportion (largest remainder), and every type spreads evenly over a mode's tables."""
    size = settings.table_size
    hybrid, per_table = settings.hybrid_tables, settings.remote_seats_per_hybrid_table
    _check_hybrid(settings, int(counts_o.sum()))
    rem = _largest_remainder(hybrid * per_table, counts_o.tolist())
    venue_counts, online_counts = counts_v + rem, counts_o - rem
    nv, no = int(venue_counts.sum()), int(online_counts.sum())
    for label, count in ((VENUE, nv), (ONLINE, no)):
        if 0 < count < size:
            raise SeatingError(
                "participants: "
                + (
                    _("%(count)s people %(mode)s is fewer than one table of %(size)s")
                    % {"count": count, "mode": mode_words(label), "size": size}
                )
            )
    n_venue = _tables_of_mode(settings, VENUE, nv)
    n_online = _tables_of_mode(settings, ONLINE, no)
    if hybrid > n_venue:
        raise SeatingError(
            "settings.hybrid_tables: "
            + (
                _("%(hybrid)s hybrid tables but only %(n_venue)s venue tables")
                % {"hybrid": hybrid, "n_venue": n_venue}
            )
        )
    pv, po = spread(venue_counts.tolist(), n_venue), spread(online_counts.tolist(), n_online)
    return _Layout(pv, po, _remote_matrix(pv, rem, hybrid, per_table))


def _tables_of_mode(settings: SeatingSettings, mode: str, count: int) -> int:
    """The fewest tables that hold ``count`` people, or one table per host of the mode when the
    organiser named more hosts than that (every host gets a table; the tables are a little
    smaller), as long as each table keeps at least half its seats filled."""
    fewest = table_count(count, settings.table_size)
    hosts = sum(1 for h in settings.hosts if h.mode == mode)
    if hosts <= fewest or count == 0:
        return fewest
    if count < hosts * -(-settings.table_size // 2):
        raise SeatingError(
            "settings.hosts: "
            + (
                _(
                    "%(hosts)s hosts %(mode)s for %(count)s people %(mode)s; at most %(value)s "
                    "tables can be filled"
                )
                % {
                    "hosts": hosts,
                    "mode": mode_words(mode),
                    "count": count,
                    "value": max(fewest, count // -(-settings.table_size // 2)),
                }
            )
        )
    return hosts


def _area_labels(settings: SeatingSettings, n_venue: int) -> list[str]:
    areas: list[str] = []
    for area in settings.venue_areas:
        if area.tables < 0:
            raise SeatingError(
                "settings.venue_areas: "
                + (_("%(label)r has a negative table count") % {"label": area.label})
            )
        areas.extend([area.label] * area.tables)
    if settings.venue_areas and len(areas) < n_venue:
        raise SeatingError(
            "settings.venue_areas: "
            + (
                _("the areas hold %(n_areas)s tables, %(n_venue)s are needed")
                % {"n_areas": len(areas), "n_venue": n_venue}
            )
        )
    return areas


def _seats(names: Sequence[str], counts: np.ndarray) -> tuple[tuple[str, int], ...]:
    return tuple((nm, int(c)) for nm, c in zip(names, counts, strict=True))


def _new_tables(
    settings: SeatingSettings, names: tuple[str, ...], layout: _Layout
) -> tuple[np.ndarray, list[Table]]:
    """Seats per class (``cap``) and the tables: venue tables first, then online ones."""
    k_types = len(names)
    n_venue, n_online = layout.pv.shape[0], layout.po.shape[0]
    hybrid = settings.hybrid_tables
    areas = _area_labels(settings, n_venue)
    cap = np.zeros((n_venue + n_online, 2 * k_types), dtype=np.int64)
    tables: list[Table] = []
    for t in range(n_venue):
        r = layout.remote[t] if t < hybrid else np.zeros(k_types, dtype=np.int64)
        cap[t, 0::2] = layout.pv[t] - r
        cap[t, 1::2] = r
        tables.append(
            Table(
                number=t + 1,
                mode=VENUE,
                area=areas[t] if areas else VENUE,
                seats=_seats(names, layout.pv[t] - r),
                remote_seats=_seats(names, r) if t < hybrid else (),
            )
        )
    for t in range(n_online):
        cap[n_venue + t, 1::2] = layout.po[t]
        tables.append(
            Table(
                number=n_venue + t + 1,
                mode=ONLINE,
                area=ONLINE,
                seats=_seats(names, layout.po[t]),
            )
        )
    return cap, tables


def _existing_tables(tables: Sequence[Table], names: tuple[str, ...]) -> np.ndarray:
    """Seats per class of an existing seating's tables."""
    names_idx = {nm: j for j, nm in enumerate(names)}
    cap = np.zeros((len(tables), 2 * len(names)), dtype=np.int64)
    for t, tb in enumerate(tables):
        m = MODES.index(tb.mode)
        for nm, c in tb.seats:
            cap[t, names_idx[nm] * 2 + m] = c
        for nm, c in tb.remote_seats:
            cap[t, names_idx[nm] * 2 + 1] = c
    return cap


def _diversity(
    settings: SeatingSettings,
    people: Sequence[Participant],
    mode_of: np.ndarray,
    cap: np.ndarray,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Per feature: value codes per person and expected counts per table, mirroring the shares
    of each mode's people."""
    vals: list[np.ndarray] = []
    exp: list[np.ndarray] = []
    for f in settings.features:
        raw = [p.features[f] for p in people]
        levels = sorted(set(raw))
        code = {v: i for i, v in enumerate(levels)}
        v = np.array([code[x] for x in raw], dtype=np.int64)
        e = np.zeros((cap.shape[0], len(levels)))
        for m in (0, 1):
            in_mode = mode_of == m
            if in_mode.any():
                share = np.bincount(v[in_mode], minlength=len(levels)) / in_mode.sum()
                seats = cap[:, m::2].sum(axis=1).astype(np.float64)
                e += seats[:, None] * share[None, :]
        vals.append(v)
        exp.append(e)
    return tuple(vals), tuple(exp)


# --- constraints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seats:
    """What the constraint steps need to know about the tables and the people."""

    people: tuple[Participant, ...]
    index: Mapping[str, int]
    cls: np.ndarray
    cap: np.ndarray
    tables: Sequence[Table]
    names: tuple[str, ...]
    size: int


def _fixed_seats(cons: Constraints, s: _Seats) -> np.ndarray:
    """Table index per person fixed to a table (-1 elsewhere); every fixed seat must exist."""
    n_tables = s.cap.shape[0]
    fixed = np.full(len(s.people), -1, dtype=np.int64)
    for pid, number in sorted(cons.fixed_tables.items()):
        if pid not in s.index:
            raise SeatingError(
                "constraints.fixed_tables: " + (_("unknown participant %(pid)r") % {"pid": pid})
            )
        if not isinstance(number, int) or not 1 <= number <= n_tables:
            raise SeatingError(
                f"constraints.fixed_tables[{pid}]: "
                + (
                    _("table %(number)r does not exist (tables 1..%(n_tables)s)")
                    % {"number": number, "n_tables": n_tables}
                )
            )
        i = s.index[pid]
        if s.cap[number - 1, s.cls[i]] < 1:
            p = s.people[i]
            raise SeatingError(
                f"constraints.fixed_tables[{pid}]: "
                + (
                    _(
                        "table %(number)s (%(mode)s) has no seat of the kind %(names)s for "
                        "a participant %(mode2)s"
                    )
                    % {
                        "number": number,
                        "mode": mode_words(s.tables[number - 1].mode),
                        "mode2": mode_words(p.mode),
                        "names": seat_words(s.names[s.cls[i] // 2]),
                    }
                )
            )
        fixed[i] = number - 1
    fixed_load = np.zeros_like(s.cap)
    np.add.at(fixed_load, (fixed[fixed >= 0], s.cls[fixed >= 0]), 1)
    over = np.argwhere(fixed_load > s.cap)
    if over.size:
        t, c = over[0]
        raise SeatingError(
            "constraints.fixed_tables: "
            + (
                _(
                    "table %(value)s has %(cap)s seat(s) of the kind %(names)s for people "
                    "%(modes)s but %(fixed_load)s are fixed there"
                )
                % {
                    "value": t + 1,
                    "cap": s.cap[t, c],
                    "names": seat_words(s.names[c // 2]),
                    "modes": mode_words(MODES[c % 2]),
                    "fixed_load": fixed_load[t, c],
                }
            )
        )
    return fixed


def _check_group(g: tuple[str, ...], s: _Seats, group: np.ndarray, fixed: np.ndarray) -> None:
    label = ", ".join(g)
    for pid in g:
        if pid not in s.index:
            raise SeatingError(
                "constraints.keep_together: " + (_("unknown participant %(pid)r") % {"pid": pid})
            )
        if group[s.index[pid]] >= 0:
            raise SeatingError(
                "constraints.keep_together: " + (_("%(pid)r is in two groups") % {"pid": pid})
            )
    if len(g) > s.size:
        raise SeatingError(
            "constraints.keep_together: "
            + (
                _("group (%(label)s) has %(n_g)s people, a table seats %(size)s")
                % {"label": label, "n_g": len(g), "size": s.size}
            )
        )
    idx = [s.index[pid] for pid in g]
    demand = np.bincount(s.cls[idx], minlength=s.cap.shape[1])
    fits: np.ndarray = np.asarray((s.cap >= demand).all(axis=1))
    pinned = sorted({int(fixed[i]) for i in idx if fixed[i] >= 0})
    if len(pinned) > 1:
        raise SeatingError(
            "constraints.keep_together: "
            + (_("group (%(label)s) has members fixed to different tables") % {"label": label})
        )
    if not fits.any() or (pinned and not fits[pinned[0]]):
        raise SeatingError(
            "constraints.keep_together: "
            + (_("no table has the seats for group (%(label)s)") % {"label": label})
        )


def _groups(
    cons: Constraints, s: _Seats, fixed: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Keep-together group id per person (-1 = none) and each group's member indices."""
    group = np.full(len(s.people), -1, dtype=np.int64)
    groups: list[np.ndarray] = []
    for gi, g in enumerate(sorted(tuple(sorted(g)) for g in cons.keep_together)):
        _check_group(g, s, group, fixed)
        idx = np.array([s.index[pid] for pid in g], dtype=np.int64)
        group[idx] = gi
        groups.append(idx)
    return group, tuple(groups)


def _check_apart(s: _Seats, i: int, j: int, group: np.ndarray, fixed: np.ndarray) -> None:
    who = _("%(first)r and %(second)r") % {"first": s.people[i].id, "second": s.people[j].id}
    if group[i] >= 0 and group[i] == group[j]:
        raise SeatingError(
            "constraints: " + (_("%(who)s must be kept both together and apart") % {"who": who})
        )
    if fixed[i] >= 0 and fixed[i] == fixed[j]:
        raise SeatingError(
            "constraints: "
            + (
                _("%(who)s must be kept apart but are both fixed to table %(value)s")
                % {"who": who, "value": fixed[i] + 1}
            )
        )


def _apart(cons: Constraints, s: _Seats, group: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """(people, widest list) keep-apart partners per person, padded with the number of people."""
    n = len(s.people)
    apart_lists: list[list[int]] = [[] for _ in range(n)]
    for g in sorted(tuple(sorted(g)) for g in cons.keep_apart):
        for pid in g:
            if pid not in s.index:
                raise SeatingError(
                    "constraints.keep_apart: " + (_("unknown participant %(pid)r") % {"pid": pid})
                )
        ids = [s.index[pid] for pid in g]
        for i in ids:
            for j in ids:
                if i == j:
                    continue
                _check_apart(s, i, j, group, fixed)
                apart_lists[i].append(j)
    width = max((len(a) for a in apart_lists), default=0)
    apart = np.full((n, width), n, dtype=np.int64)
    for i, a in enumerate(apart_lists):
        apart[i, : len(a)] = sorted(a)
    return apart


# --- the plan -----------------------------------------------------------------------------------


def _classes(
    people: Sequence[Participant], settings: SeatingSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Seat type and mode index (0 venue, 1 online) per person."""
    role_type = check_seat_types(settings.seat_types)
    type_of = np.array([role_type[p.role] for p in people], dtype=np.int64)
    mode_of = np.array([MODES.index(p.mode) for p in people], dtype=np.int64)
    return type_of, mode_of


def make_plan(
    participants: Iterable[Participant],
    settings: SeatingSettings,
    tables: Sequence[Table] | None = None,
) -> Plan:
    """Check the request and lay out the tables (venue first, then online).

    With ``tables`` (an existing seating's tables) the layout is kept as it is.
    """
    people = tuple(sorted(participants, key=lambda p: p.id))
    check_people(people, settings)
    n, size = len(people), settings.table_size
    if n < size:
        raise SeatingError(
            "participants: "
            + (_("%(n)s people is fewer than one table of %(size)s") % {"n": n, "size": size})
        )
    k_types = len(settings.seat_types)
    type_of, mode_of = _classes(people, settings)
    cls = type_of * 2 + mode_of
    counts_v = np.bincount(type_of[mode_of == 0], minlength=k_types)
    counts_o = np.bincount(type_of[mode_of == 1], minlength=k_types)
    names = tuple(st.name for st in settings.seat_types)
    cap, table_list = _new_tables(settings, names, _layout(settings, counts_v, counts_o))
    if tables is not None:
        cap, table_list = _existing_tables(tables, names), list(tables)
    n_venue = sum(1 for tb in table_list if tb.mode == VENUE)
    table_mode = np.array([0] * n_venue + [1] * (len(table_list) - n_venue), dtype=np.int64)
    vals, exp = _diversity(settings, people, mode_of, cap)
    index = {p.id: i for i, p in enumerate(people)}
    seats = _Seats(people, index, cls, cap, table_list, names, size)
    cons = settings.constraints
    fixed = _fixed_seats(cons, seats)
    group, groups = _groups(cons, seats, fixed)
    problem = Problem(
        n_tables=len(table_list),
        cls=cls,
        vals=vals,
        exp=exp,
        weights=tuple(float(settings.feature_weights.get(f, 1.0)) for f in settings.features),
        apart=_apart(cons, seats, group, fixed),
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
        groups=groups,
        type_names=names,
    )


# --- hosts, and between the plan's vectors and a Seating ------------------------------------------


def _hosts_of_mode(
    hosts: Sequence[Host], mode: str, tables: np.ndarray, rounds: int, stay: bool
) -> list[list[tuple[int, str]]]:
    """(table, host id) per round for one mode's tables; hosts rotate unless they stay."""
    mine = sorted((h for h in hosts if h.mode == mode), key=lambda h: h.id)
    if len(mine) != tables.size:
        # More hosts than tables would leave the surplus hosts without a seat: refused, never
        # silently dropped (unmark them as hosts and they are seated as participants).
        raise SeatingError(
            "settings.hosts: "
            + (
                _("%(size)s tables %(mode)s but %(n_mine)s hosts %(mode)s")
                % {"size": tables.size, "mode": mode_words(mode), "n_mine": len(mine)}
            )
        )
    out = []
    for r in range(rounds):
        shift = 0 if stay else r
        out.append([(int(t), mine[(i + shift) % tables.size].id) for i, t in enumerate(tables)])
    return out


def assign_hosts(plan: Plan, rounds: int) -> tuple[tuple[str | None, ...], ...]:
    """Hosts per round and table: venue hosts at venue tables, online hosts at online tables."""
    settings = plan.settings
    n_tables = len(plan.tables)
    if not settings.hosts:
        return tuple((None,) * n_tables for _ in range(rounds))
    ids = [h.id for h in settings.hosts]
    if len(set(ids)) != len(ids):
        raise SeatingError("settings.hosts: " + _("a host id appears twice"))
    clash = set(ids) & set(plan.index)
    if clash:
        raise SeatingError(
            "settings.hosts: "
            + (_("%(value)r is also a participant") % {"value": sorted(clash)[0]})
        )
    out: list[list[str | None]] = [[None] * n_tables for _ in range(rounds)]
    for m, mode in enumerate(MODES):
        tables = np.flatnonzero(plan.table_mode == m)
        if any(h.mode not in MODES for h in settings.hosts):
            raise SeatingError("settings.hosts: " + _("a host's mode must be venue or online"))
        if tables.size == 0:
            continue
        per_round = _hosts_of_mode(settings.hosts, mode, tables, rounds, settings.hosts_stay)
        for r, row in enumerate(per_round):
            for t, host in row:
                out[r][t] = host
    return tuple(tuple(row) for row in out)


def to_seating(plan: Plan, tabs: Sequence[np.ndarray], seed: str) -> Seating:
    """The ``Seating`` of table indices per person and round (ids sorted within a table)."""
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
    """Table index per person per round (-1 = not seated) from a seating."""
    out = []
    for r, round_tables in enumerate(seating.rounds):
        tab = np.full(plan.problem.n, -1, dtype=np.int64)
        for t, ids in enumerate(round_tables):
            for pid in ids:
                if pid not in plan.index:
                    raise SeatingError(
                        f"seating.rounds[{r + 1}]: "
                        + (_("unknown participant %(pid)r") % {"pid": pid})
                    )
                tab[plan.index[pid]] = t
        out.append(tab)
    return out
