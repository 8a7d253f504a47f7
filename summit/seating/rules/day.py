"""On the summit day: no-shows, late arrivals, people leaving, and the organiser's manual moves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from summit.core.i18n import gettext as _
from summit.seating.rules.model import (
    MODES,
    Move,
    Participant,
    Seating,
    SeatingError,
    Violation,
    mode_words,
    seat_words,
)
from summit.seating.rules.plan import Plan, make_plan, rng_for, tabs_of, to_seating
from summit.seating.rules.search import RoundSearch, neighbours

__all__ = ["apply_move", "check_move", "rebalance"]


def _check_round(seating: Seating, round_no: int) -> int:
    if not isinstance(round_no, int) or not 1 <= round_no <= len(seating.rounds):
        raise SeatingError(
            "round: "
            + (
                _("%(round_no)r is not a round (1..%(n_rounds)s)")
                % {"round_no": round_no, "n_rounds": len(seating.rounds)}
            )
        )
    return round_no - 1


def _target(
    counts: np.ndarray, pinned: np.ndarray, present_per_type: np.ndarray
) -> np.ndarray | None:
    """Pattern (tables x types) for the people present that needs the fewest moves from
    ``counts``; every type floor/ceil per table, table sizes within one; ``None`` if impossible."""
    t, k = counts.shape
    n = int(present_per_type.sum())
    lo_k, hi_k = present_per_type // t, -(-present_per_type // t)
    lo_n, hi_n = n // t, -(-n // t)
    nv = t * k
    # variables: x (tables x types) then surplus s (tables x types); minimise sum(s)
    c = np.concatenate([np.zeros(nv), np.ones(nv)])
    lb = np.concatenate([np.maximum(np.tile(lo_k, t), pinned.ravel()), np.zeros(nv)])
    ub = np.concatenate([np.tile(hi_k, t), np.full(nv, np.inf)])
    if (lb[:nv] > ub[:nv]).any():
        return None
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []
    for j in range(k):  # every present person has a seat of their type
        r = np.zeros(2 * nv)
        r[j:nv:k] = 1
        rows.append(r)
        lo.append(float(present_per_type[j]))
        hi.append(float(present_per_type[j]))
    for i in range(t):  # table sizes differ by at most one
        r = np.zeros(2 * nv)
        r[i * k : (i + 1) * k] = 1
        rows.append(r)
        lo.append(float(lo_n))
        hi.append(float(hi_n))
    for v in range(nv):  # s >= counts - x
        r = np.zeros(2 * nv)
        r[v] = 1
        r[nv + v] = 1
        rows.append(r)
        lo.append(float(counts.ravel()[v]))
        hi.append(np.inf)
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(2 * nv),
        bounds=Bounds(lb, ub),
    )
    if res.x is None:
        return None
    return np.asarray(np.rint(res.x[:nv]).reshape(t, k), dtype=np.int64)


@dataclass(frozen=True)
class _Repair:
    """One mode's tables while a round is repaired: who is seated there, the round (``tab``,
    with ``ext`` its copy padded for partner lookups) and the partners to avoid."""

    tables: np.ndarray
    m: int
    seated: np.ndarray
    tab: np.ndarray
    ext: np.ndarray
    nb: np.ndarray
    nw: np.ndarray
    type_of: np.ndarray
    mode_of: np.ndarray
    fixed: np.ndarray
    group: np.ndarray

    def movable(self, who: np.ndarray, k: int) -> np.ndarray:
        """Of ``who``: the people of seat type ``k`` and this mode, not fixed, not in a group."""
        return np.asarray(
            (self.type_of[who] == k)
            & (self.mode_of[who] == self.m)
            & (self.fixed[who] < 0)
            & (self.group[who] < 0)
        )


def _fix_round(
    plan: Plan,
    tab: np.ndarray,
    arrivals: np.ndarray,
    others: Sequence[np.ndarray],
    rng: np.random.Generator,
) -> list[tuple[int, int, int]]:
    """Seat ``arrivals`` and move as few people as possible so each pool follows a valid pattern.
    Returns (person, from table, to table) moves; ``tab`` is updated in place."""
    mode_of = plan.problem.cls % 2
    nb, nw = neighbours(plan.problem, others)
    moves: list[tuple[int, int, int]] = []
    for m in (0, 1):
        tables = np.flatnonzero(plan.table_mode == m)
        if tables.size == 0:
            continue
        incoming = arrivals[np.isin(mode_of[arrivals], [m])] if arrivals.size else arrivals
        for mv, dest in _fix_mode(plan, tab, tables, m, incoming, (nb, nw), rng):
            old = int(tab[mv])
            tab[mv] = dest
            moves.append((mv, old, dest))
    return moves


def _fix_mode(
    plan: Plan,
    tab: np.ndarray,
    tables: np.ndarray,
    m: int,
    incoming: np.ndarray,
    partners: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """The moves (person, table) that give one mode's tables a valid pattern; arrivals with a
    fixed table or a group already seated are placed there in ``tab`` first."""
    pr = plan.problem
    type_of, mode_of = pr.cls // 2, pr.cls % 2
    local = {int(t): i for i, t in enumerate(tables)}
    seated = np.flatnonzero((tab >= 0) & np.isin(tab, tables))
    counts = np.zeros((tables.size, len(plan.type_names)), dtype=np.int64)
    pinned = np.zeros_like(counts)
    for i in seated:
        counts[local[int(tab[i])], type_of[i]] += 1
        # people in remote seats, fixed people and group members stay where they are
        if mode_of[i] != m or pr.fixed[i] >= 0 or pr.group[i] >= 0:
            pinned[local[int(tab[i])], type_of[i]] += 1
    anchored: dict[int, int] = {}
    for i in incoming:
        t = _anchor(plan, tab, int(i))
        if t is not None and int(t) in local:
            anchored[int(i)] = int(t)
            pinned[local[int(t)], type_of[i]] += 1
    per_type = counts.sum(axis=0) + np.bincount(type_of[incoming], minlength=counts.shape[1])
    current = counts + _place(anchored, local, type_of, counts.shape)
    for who, at in anchored.items():
        tab[who] = at
    loose = [int(i) for i in incoming if int(i) not in anchored]
    nb, nw = partners
    rp = _Repair(
        tables, m, seated, tab, np.append(tab, -2), nb, nw, type_of, mode_of, pr.fixed, pr.group
    )
    best = _fewest_moves(rp, current, pinned, per_type, loose, rng)
    if best is None:  # no valid pattern: seat arrivals where there is most room, move nobody
        sizes = current.sum(axis=1)
        best = []
        for inc in loose:
            j = int(np.argmin(sizes))
            sizes[j] += 1
            best.append((inc, int(tables[j])))
    return best


def _fewest_moves(
    rp: _Repair,
    current: np.ndarray,
    pinned: np.ndarray,
    per_type: np.ndarray,
    loose: list[int],
    rng: np.random.Generator,
) -> list[tuple[int, int]] | None:
    """The cheapest moves to a pattern with the fewest moves, ``None`` if no pattern exists.

    Several tries: a source table whose leaver would meet someone again is ruled out."""
    fixed_here = pinned.copy()
    best: tuple[float, list[tuple[int, int]]] | None = None
    for _round in range(6):
        target = _target(current, fixed_here, per_type)
        if target is None:
            break
        plan_moves, cost, bad = _choose_movers(rp, target, current, loose, rng)
        if best is None or cost < best[0]:
            best = (cost, plan_moves)
        if cost <= 0.5 or not bad:
            break
        for j, k in bad:
            fixed_here[j, k] = current[j, k]
    return None if best is None else best[1]


def _slot_cost(rp: _Repair, who: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """(people, slots) weight of the partners each person would meet at each slot's table."""
    to_slot = rp.nw[who][:, None, :] * (rp.ext[rp.nb[who]][:, None, :] == slots[None, :, None])
    return np.asarray(to_slot.sum(axis=2))


def _leavers(
    rp: _Repair, k: int, surplus: np.ndarray, slots: np.ndarray, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """Who leaves each table with too many of seat type ``k`` (those who would meet the fewest
    partners at a free slot first), and the local index of the table they leave."""
    movers: list[int] = []
    source: list[int] = []
    for j in np.flatnonzero(surplus > 0):
        here = rp.seated[(rp.tab[rp.seated] == rp.tables[j]) & rp.movable(rp.seated, k)]
        best_cost = _slot_cost(rp, here, slots).min(axis=1)
        order = np.lexsort((rng.random(here.size), best_cost))
        chosen = here[order[: surplus[j]]]
        movers.extend(int(x) for x in chosen)
        source.extend([int(j)] * chosen.size)
    return movers, source


def _choose_movers(
    rp: _Repair,
    target: np.ndarray,
    current: np.ndarray,
    loose: list[int],
    rng: np.random.Generator,
) -> tuple[list[tuple[int, int]], float, list[tuple[int, int]]]:
    """Who leaves which table and where they go; total conflict; the (table, type) sources whose
    leavers could not avoid a conflict."""
    out: list[tuple[int, int]] = []
    total = 0.0
    bad: list[tuple[int, int]] = []
    for k in range(target.shape[1]):
        slots = np.repeat(rp.tables, np.maximum(target[:, k] - current[:, k], 0))
        if slots.size == 0:
            continue
        # every source table of this type without anyone who could join a deficit table cleanly
        pool = rp.seated[np.isin(rp.tab[rp.seated], rp.tables) & rp.movable(rp.seated, k)]
        clean = (_slot_cost(rp, pool, np.unique(slots)) < 0.5).any(axis=1)
        ok_tables = set(rp.tab[pool[clean]].tolist())
        for jj, t in enumerate(rp.tables):
            if int(t) not in ok_tables and current[jj, k] > 0:
                bad.append((jj, k))
        movers, source = _leavers(rp, k, current[:, k] - target[:, k], slots, rng)
        movers += [i for i in loose if rp.type_of[i] == k]
        source += [-1] * (len(movers) - len(source))
        if not movers:
            continue
        cost = np.zeros((len(movers), slots.size))
        for a, mv in enumerate(movers):
            cost[a] = (rp.nw[mv][None, :] * (rp.ext[rp.nb[mv]][None, :] == slots[:, None])).sum(
                axis=1
            )
        ra, ca = linear_sum_assignment(cost)
        for a, b in zip(ra, ca, strict=True):
            out.append((movers[a], int(slots[b])))
            total += cost[a, b]
            if cost[a, b] > 0.5 and source[a] >= 0:
                bad.append((source[a], k))
    return out, total, bad


def _place(
    anchored: dict[int, int], local: dict[int, int], type_of: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    out = np.zeros(shape, dtype=np.int64)
    for i, t in anchored.items():
        out[local[t], type_of[i]] += 1
    return out


def _anchor(plan: Plan, tab: np.ndarray, i: int) -> int | None:
    """Where an arriving person must sit: their fixed table, or with their group."""
    pr = plan.problem
    if pr.fixed[i] >= 0:
        return int(pr.fixed[i])
    if pr.group[i] >= 0:
        mates = np.flatnonzero((pr.group == pr.group[i]) & (tab >= 0))
        if mates.size:
            return int(tab[mates[0]])
    return None


def _check_day_ids(
    seating: Seating,
    round_no: int,
    absent: Sequence[str],
    arrived: Sequence[str],
    newcomers: Sequence[Participant],
) -> None:
    known = {p.id for p in seating.participants}
    for pid in absent:
        if pid not in known:
            raise SeatingError("absent_ids: " + (_("unknown participant %(pid)r") % {"pid": pid}))
        if seating.table_of(round_no, pid) is None:
            raise SeatingError(
                "absent_ids: "
                + (
                    _("%(pid)r is not seated in round %(round_no)s")
                    % {"pid": pid, "round_no": round_no}
                )
            )
    for pid in arrived:
        if pid not in known:
            raise SeatingError(
                "arrived_ids: "
                + (
                    _("unknown participant %(pid)r; pass new people as new_participants")
                    % {"pid": pid}
                )
            )
        if seating.table_of(round_no, pid) is not None:
            raise SeatingError(
                "arrived_ids: "
                + (
                    _("%(pid)r is already seated in round %(round_no)s")
                    % {"pid": pid, "round_no": round_no}
                )
            )
        if pid in absent:
            raise SeatingError(
                "arrived_ids: " + (_("%(pid)r is also listed as absent") % {"pid": pid})
            )
    for p in newcomers:
        if p.id in known:
            raise SeatingError(
                "new_participants: " + (_("%(id)r is already a participant") % {"id": p.id})
            )


def _clear_repeats(
    plan: Plan,
    tab: np.ndarray,
    others: Sequence[np.ndarray],
    rng: np.random.Generator,
    r: int,
    moves: list[Move],
) -> np.ndarray:
    """Swap a later, unstarted round clear of repeated meetings; every changed seat is a move
    (folded into the person's earlier move of that round). Returns the new round."""
    pid_of = [p.id for p in plan.people]
    nb, nw = neighbours(plan.problem, others)
    movable = (plan.problem.fixed < 0) & (plan.problem.group < 0)
    search = RoundSearch(plan.problem, tab, movable, nb, nw, rng)
    search.repair(max_sweeps=20)
    if search.conflicts().size:
        search.tabu(max_iters=100)
    earlier = {m.participant_id: k for k, m in enumerate(moves) if m.round == r + 1}
    for i in np.flatnonzero((search.tab != tab) & (search.tab >= 0)):
        final = int(search.tab[i]) + 1
        k = earlier.get(pid_of[i])
        if k is None:
            moves.append(Move(r + 1, pid_of[i], int(tab[i]) + 1, final, "no repeat"))
        else:
            # one move per person and round: fold the repair into the earlier move
            moves[k] = replace(moves[k], to_table=final)
    return search.tab.copy()


def rebalance(
    seating: Seating,
    round_no: int,
    absent_ids: Iterable[str] = (),
    arrived_ids: Iterable[str] = (),
    new_participants: Iterable[Participant] = (),
) -> tuple[Seating, list[Move]]:
    """Repair a seating on the day, from ``round_no`` on.

    ``absent_ids`` (no-shows, people who left) leave this and later rounds; ``arrived_ids``
    (known people who were not seated) and ``new_participants`` join them. The current round
    changes by the fewest moves that give a valid pattern again (often none); later rounds are
    repaired the same way and then cleared of repeated meetings. Returns the new seating and
    every change for the audit log.
    """
    r0 = _check_round(seating, round_no)
    absent = sorted(set(absent_ids))
    arrived = sorted(set(arrived_ids))
    newcomers = sorted(new_participants, key=lambda p: p.id)
    _check_day_ids(seating, round_no, absent, arrived, newcomers)
    plan = make_plan(
        tuple(seating.participants) + tuple(newcomers), seating.settings, seating.tables
    )
    tabs = tabs_of(plan, seating)
    rng = rng_for(
        seating.seed, f"rebalance:{round_no}:{absent}:{arrived}:{[p.id for p in newcomers]}"
    )
    joining = np.array(
        sorted(plan.index[pid] for pid in arrived + [p.id for p in newcomers]), dtype=np.int64
    )
    gone = np.array(sorted(plan.index[pid] for pid in absent), dtype=np.int64)
    moves: list[Move] = []
    pid_of = [p.id for p in plan.people]
    for r in range(r0, len(tabs)):
        tab = tabs[r]
        for i in gone:
            if tab[i] >= 0:
                moves.append(Move(r + 1, pid_of[i], int(tab[i]) + 1, None, "absent"))
            tab[i] = -1
        arrivals = joining[tab[joining] < 0] if joining.size else joining
        others = tabs[:r] + tabs[r + 1 :]
        for i, old, new in _fix_round(plan, tab, arrivals, others, rng):
            reason = "arrived" if old < 0 else "rebalance"
            moves.append(Move(r + 1, pid_of[i], old + 1 if old >= 0 else None, new + 1, reason))
        if r > r0:
            # later rounds have not started: repeats created by the changes can still be undone
            tabs[r] = _clear_repeats(plan, tab, others, rng, r, moves)
            moves = [m for m in moves if m.from_table != m.to_table]
    return replace(to_seating(plan, tabs, seating.seed), hosts=seating.hosts), moves


def _pattern_violations(
    plan: Plan, after: np.ndarray, tables: np.ndarray, m: int, touched: tuple[int, int]
) -> list[Violation]:
    """Seat types and sizes of the ``touched`` tables of mode ``m`` against the even spread of
    the people present."""
    names = plan.type_names
    type_of = plan.problem.cls // 2
    here = (after >= 0) & np.isin(after, tables)
    counts = np.zeros((len(plan.tables), len(names)), dtype=np.int64)
    np.add.at(counts, (after[here], type_of[here]), 1)
    per_type = counts[tables].sum(axis=0)
    nt = tables.size
    sizes = counts.sum(axis=1)
    lo_n, hi_n = int(sizes[tables].sum()) // nt, -(-int(sizes[tables].sum()) // nt)
    out: list[Violation] = []
    for t in touched:
        if plan.table_mode[t] != m:
            continue
        for j, nm in enumerate(names):
            lo, hi = int(per_type[j]) // nt, -(-int(per_type[j]) // nt)
            if counts[t, j] > hi:
                out.append(
                    Violation(
                        "pattern",
                        _(
                            "table %(value)s would have %(counts)s seats of the kind %(nm)s "
                            "taken; the pattern allows at most %(hi)s"
                        )
                        % {"value": t + 1, "counts": counts[t, j], "nm": seat_words(nm), "hi": hi},
                    )
                )
            elif counts[t, j] < lo:
                out.append(
                    Violation(
                        "pattern",
                        _(
                            "table %(value)s would have %(counts)s of the kind %(nm)s; every "
                            "table should have at least %(lo)s"
                        )
                        % {"value": t + 1, "counts": counts[t, j], "nm": seat_words(nm), "lo": lo},
                    )
                )
        if not lo_n <= sizes[t] <= hi_n:
            out.append(
                Violation(
                    "size",
                    _(
                        "table %(value)s would seat %(sizes)s people; table sizes should stay "
                        "within %(lo_n)s–%(hi_n)s"
                    )
                    % {"value": t + 1, "sizes": sizes[t], "lo_n": lo_n, "hi_n": hi_n},
                )
            )
    return out


def _seat_violations(plan: Plan, i: int, dst: int) -> list[Violation]:
    """The destination's mode (remote seats of a hybrid table take online people) and a fixed
    seat."""
    pr = plan.problem
    person = plan.people[i]
    k = int(pr.cls[i] // 2)
    table = plan.tables[dst]
    remote = dict(table.remote_seats)
    out: list[Violation] = []
    if person.mode != table.mode and not (
        person.mode == MODES[1] and remote.get(plan.type_names[k], 0)
    ):
        out.append(
            Violation(
                "mode",
                _("%(id)s takes part %(mode)s; table %(value)s is %(mode2)s")
                % {
                    "id": person.id,
                    "mode": mode_words(person.mode),
                    "value": dst + 1,
                    "mode2": mode_words(table.mode),
                },
            )
        )
    if pr.fixed[i] >= 0:
        out.append(
            Violation(
                "fixed",
                _("%(id)s has a fixed seat at table %(value)s")
                % {"id": person.id, "value": pr.fixed[i] + 1},
            )
        )
    return out


def _company_violations(
    plan: Plan, tabs: Sequence[np.ndarray], r: int, i: int, src: int, dst: int
) -> list[Violation]:
    """Keep together (mates left behind), keep apart and repeated meetings at the destination."""
    pr = plan.problem
    tab = tabs[r]
    pid = plan.people[i].id
    out: list[Violation] = []
    if pr.group[i] >= 0:
        for mate in np.flatnonzero((pr.group == pr.group[i]) & (tab == src)):
            if mate != i:
                out.append(
                    Violation(
                        "keep_together",
                        _("%(pid)s would be separated from %(id)s (keep together)")
                        % {"pid": pid, "id": plan.people[mate].id},
                    )
                )
    at_dst = np.flatnonzero(tab == dst)
    apart = set(pr.apart[i][pr.apart[i] < pr.n].tolist())
    for mate in at_dst:
        if int(mate) in apart:
            out.append(
                Violation(
                    "keep_apart",
                    _("%(pid)s and %(id)s must be seated apart")
                    % {"pid": pid, "id": plan.people[mate].id},
                )
            )
    for other_r, other in enumerate(tabs):
        if other_r == r or other[i] < 0:
            continue
        for mate in at_dst:
            if other[mate] == other[i] and not (pr.group[i] >= 0 and pr.group[i] == pr.group[mate]):
                out.append(
                    Violation(
                        "repeat",
                        _("%(pid)s already meets %(id)s in round %(value)s")
                        % {"pid": pid, "id": plan.people[mate].id, "value": other_r + 1},
                    )
                )
    return out


def check_move(
    seating: Seating, round_no: int, participant_id: str, to_table: int
) -> list[Violation]:
    """The rules a manual move would break, in plain words (empty when the move is fine)."""
    r = _check_round(seating, round_no)
    plan = make_plan(seating.participants, seating.settings, seating.tables)
    if participant_id not in plan.index:
        raise SeatingError(
            "participant_id: "
            + (_("unknown participant %(participant_id)r") % {"participant_id": participant_id})
        )
    if not isinstance(to_table, int) or not 1 <= to_table <= len(plan.tables):
        raise SeatingError(
            "to_table: "
            + (
                _("%(to_table)r is not a table (1..%(n_tables)s)")
                % {"to_table": to_table, "n_tables": len(plan.tables)}
            )
        )
    tabs = tabs_of(plan, seating)
    i = plan.index[participant_id]
    tab = tabs[r]
    if tab[i] < 0:
        raise SeatingError(
            "participant_id: "
            + (
                _("%(participant_id)r is not seated in round %(round_no)s")
                % {"participant_id": participant_id, "round_no": round_no}
            )
        )
    src, dst = int(tab[i]), to_table - 1
    if src == dst:
        return []
    out = _seat_violations(plan, i, dst)
    after = tab.copy()
    after[i] = dst
    for m in (0, 1):
        tables = np.flatnonzero(plan.table_mode == m)
        if tables.size and {src, dst} & set(tables.tolist()):
            out += _pattern_violations(plan, after, tables, m, (src, dst))
    return out + _company_violations(plan, tabs, r, i, src, dst)


def apply_move(
    seating: Seating, round_no: int, participant_id: str, to_table: int
) -> tuple[Seating, Move]:
    """Carry out an organiser's manual move (check it first with ``check_move``)."""
    r = _check_round(seating, round_no)
    check_move(seating, round_no, participant_id, to_table)  # validates the arguments
    src = seating.table_of(round_no, participant_id)
    assert src is not None
    rounds = [list(map(list, rnd)) for rnd in seating.rounds]
    rounds[r][src - 1].remove(participant_id)
    rounds[r][to_table - 1].append(participant_id)
    new = replace(
        seating,
        rounds=tuple(tuple(tuple(sorted(t)) for t in rnd) for rnd in rounds),
    )
    return new, Move(round_no, participant_id, src, to_table, "manual")
