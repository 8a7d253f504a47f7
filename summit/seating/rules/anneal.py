"""Simulated annealing over all rounds at once, on the number of repeated pairs (small summits).

The round-by-round swap search (``search``) weighs every earlier meeting of a table's people, so
it spreads unavoidable repeats over many pairs. The report counts *pairs* that meet more than
once, and in a tight pool (tables larger than the number of tables, few tables, many rounds) the
fewest such pairs come from concentrating the repeats: a pair that already met twice may meet
again for free. This search minimises that count directly:

* a state is every round's table per person; a move swaps two movable people of the same class
  (seat type x venue/online) at different tables in one round, so every table keeps its pattern;
* the change of a move is exact and cheap: with ``met[p][x]`` the meetings of ``p`` and ``x`` over
  all rounds, ``p`` leaving ``x``'s table ends a repeat when ``met`` was 2, ``p`` joining ``y``'s
  table starts one when ``met`` was 1 (and the same for ``q``): O(table size) per move;
* keep-apart pairs cost ``BIG`` (never accepted), diversity (the squared deviation of each
  feature's counts from the table's expected counts, as in ``search``) is a tie-breaker weighing
  ``1 / 1000`` of a repeated pair;
* the temperature falls geometrically; the best seating seen is kept, so the result never has
  more repeated pairs than the start. A greedy pass on (repeats, diversity) ends the search.

Pure Python on lists (faster than numpy for moves this small); randomness only from the caller's
generator, so the result is a pure function of the inputs and the seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from summit.seating.rules.search import Problem

__all__ = ["Anneal", "anneal_rounds"]

BIG = 1_000_000
_CHUNK = 4096  # random numbers drawn at a time


@dataclass(frozen=True)
class Heat:
    """One annealing: ``moves`` tries as the temperature falls from ``hot`` to ``cold`` (in
    repeated pairs, or in diversity cost); it stops once no more than ``floor`` pairs repeat, or
    after ``patience`` tries without a better state."""

    moves: int
    hot: float
    cold: float
    floor: int = 0
    patience: int = 0  # stop after this many tries without a better state (0: never)


@dataclass(frozen=True)
class Schedule:
    """The search for one seating: repeated pairs first, then diversity without more repeats,
    then a greedy pass of ``polish`` tries."""

    repeats: Heat
    diversity: Heat
    polish: int
    focus: int = 2  # tries to pick someone with a repeat before taking anyone
    weight: float = 1e-3  # one unit of diversity cost against one repeated pair
    trades: bool = False  # every other polish try: two people of a class trade every round


def _meetings(mem: list[list[list[int]]], n: int) -> list[list[int]]:
    met = [[0] * n for _ in range(n)]
    for tables in mem:
        for at in tables:
            for x in at:
                row = met[x]
                for y in at:
                    if y != x:
                        row[y] += 1
    return met


def _forced(problem: Problem) -> list[set[int]]:
    """Per person the partners they must sit with in every round (not counted as repeats)."""
    n = problem.n
    out: list[set[int]] = [set() for _ in range(n)]
    for ids in (problem.group, problem.fixed):
        for value in np.unique(ids[ids >= 0]):
            same = np.flatnonzero(ids == value).tolist()
            for x in same:
                out[x].update(y for y in same if y != x)
    return out


class Anneal:
    """The state of the search: rounds as lists, meeting counts, diversity deviations."""

    def __init__(
        self,
        problem: Problem,
        tabs: Sequence[np.ndarray],
        movables: Sequence[np.ndarray],
        focus: int = 2,
        weight: float = 1e-3,
    ) -> None:
        self.problem = problem
        self.n = problem.n
        self.cls = problem.cls.tolist()
        self.forced = _forced(problem)
        self.movers = [np.flatnonzero(m).tolist() for m in movables]
        self.mates: list[dict[int, list[int]]] = []
        for movers in self.movers:
            by_class: dict[int, list[int]] = {}
            for i in movers:
                by_class.setdefault(self.cls[i], []).append(i)
            self.mates.append(by_class)
        self.apart = [frozenset(int(j) for j in row if j < self.n) for row in problem.apart]
        everywhere = np.logical_and.reduce([np.asarray(m, dtype=bool) for m in movables])
        self.always = np.flatnonzero(everywhere).tolist()
        self.always_mates: dict[int, list[int]] = {}
        for i in self.always:
            self.always_mates.setdefault(self.cls[i], []).append(i)
        self.cap = 0
        self.vals = [v.tolist() for v in problem.vals]
        self.weights = list(problem.weights)
        # the largest diversity term of one swap: a count moves by 1 at two tables per feature
        widest = max((int(np.bincount(tab[tab >= 0]).max()) for tab in tabs), default=1)
        self.focus, self.weight = focus, weight
        self.slack = weight * sum(w * (4.0 + 8.0 * widest) for w in self.weights)
        self._load([[int(x) for x in tab] for tab in tabs])

    def _load(self, tab: list[list[int]]) -> None:
        """Rounds, meeting counts, repeats and deviations of the seating ``tab``."""
        self.tab = [row[:] for row in tab]
        self.mem: list[list[list[int]]] = [[[] for _ in range(self.problem.n_tables)] for _ in tab]
        for r, row in enumerate(self.tab):
            for i, table in enumerate(row):
                self.mem[r][table].append(i)
        self.met = _meetings(self.mem, self.n)
        self.bad = [
            sum(1 for y, c in enumerate(row) if c > 1 and y not in self.forced[x])
            for x, row in enumerate(self.met)
        ]
        self.repeats = sum(self.bad) // 2
        self.dev = [self._deviation(self.problem, np.array(row)) for row in self.tab]
        self.violations = self._apart_count()
        self.spread = 0.0  # diversity cost relative to the loaded state

    @staticmethod
    def _deviation(problem: Problem, tab: np.ndarray) -> list[list[list[float]]]:
        out = []
        for v, e in zip(problem.vals, problem.exp, strict=True):
            cnt = np.zeros_like(e)
            np.add.at(cnt, (tab, v), 1.0)
            out.append((cnt - e).tolist())
        return out

    def _apart_count(self) -> int:
        return sum(
            1
            for tab in self.tab
            for x, others in enumerate(self.apart)
            for y in others
            if x < y and tab[x] == tab[y]
        )

    # -- one move --------------------------------------------------------------------------------
    def _apart_delta(self, p: int, q: int, a: int, b: int, r: int) -> int:
        d = 0
        for who, src, dst, other in ((p, a, b, q), (q, b, a, p)):
            avoid = self.apart[who]
            if avoid:
                mem = self.mem[r]
                d += sum(1 for y in mem[dst] if y in avoid and y != other)
                d -= sum(1 for x in mem[src] if x in avoid)
        return d

    def _diversity_delta(self, p: int, q: int, a: int, b: int, r: int) -> float:
        d = 0.0
        for dev, v, w in zip(self.dev[r], self.vals, self.weights, strict=True):
            x, y = v[p], v[q]
            if x != y:
                da, db = dev[a], dev[b]
                d += w * (4.0 + 2.0 * (da[y] - da[x] + db[x] - db[y]))
        return d

    def repeat_gain(self, r: int, p: int, q: int) -> int:
        """Repeated pairs gained by swapping p and q (at different tables) in round ``r``."""
        tab, mem = self.tab[r], self.mem[r]
        mp, mq = self.met[p], self.met[q]
        # p leaves a's people and meets b's, q the other way round; the loops also count p at a
        # and q at b (met[p][p] = 0), which the last term takes back
        d = 0
        for x in mem[tab[p]]:
            d += (mq[x] == 1) - (mp[x] == 2)
        for y in mem[tab[q]]:
            d += (mp[y] == 1) - (mq[y] == 2)
        return d - 2 * (mp[q] == 1)

    def delta(self, r: int, p: int, q: int, repeats: int) -> tuple[int, int, float]:
        """(repeated pairs, keep-apart violations, diversity cost) gained by swapping p and q;
        ``repeats`` is ``repeat_gain``."""
        a, b = self.tab[r][p], self.tab[r][q]
        apart = self._apart_delta(p, q, a, b, r) if self.apart[p] or self.apart[q] else 0
        return repeats, apart, self._diversity_delta(p, q, a, b, r)

    def _move_meetings(self, p: int, q: int, at: list[int]) -> None:
        """``p`` leaves the table ``at`` and ``q`` joins it: meeting counts and repeats."""
        met, bad = self.met, self.bad
        mp, mq = met[p], met[q]
        for x in at:
            if x == p:
                continue
            if mp[x] == 2:
                bad[p] -= 1
                bad[x] -= 1
            if mq[x] == 1:
                bad[q] += 1
                bad[x] += 1
            mp[x] -= 1
            met[x][p] -= 1
            mq[x] += 1
            met[x][q] += 1

    def apply(self, r: int, p: int, q: int, gain: tuple[int, int, float]) -> None:
        a, b = self.tab[r][p], self.tab[r][q]
        ma, mb = self.mem[r][a], self.mem[r][b]
        self._move_meetings(p, q, ma)
        self._move_meetings(q, p, mb)
        ma[ma.index(p)] = q
        mb[mb.index(q)] = p
        self.tab[r][p], self.tab[r][q] = b, a
        for dev, v in zip(self.dev[r], self.vals, strict=True):
            x, y = v[p], v[q]
            if x != y:
                dev[a][x] -= 1.0
                dev[a][y] += 1.0
                dev[b][y] -= 1.0
                dev[b][x] += 1.0
        self.repeats += gain[0]
        self.violations += gain[1]
        self.spread += gain[2]

    # -- the search ------------------------------------------------------------------------------
    def pick(self, r: int, u: float, v: float) -> tuple[int, int]:
        """A movable person of round ``r`` and a class-mate (-1 when they share a table)."""
        movers, bad, size = self.movers[r], self.bad, len(self.movers[r])
        p = movers[int(u * size)]
        for _ in range(self.focus):
            if bad[p]:
                break
            # the fraction left over is uniform again: another try for someone with a repeat
            u = u * size - int(u * size)
            p = movers[int(u * size)]
        mates = self.mates[r][self.cls[p]]
        q = mates[int(v * len(mates))]
        return (p, q) if self.tab[r][p] != self.tab[r][q] else (p, -1)

    def pick_always(self, u: float, v: float) -> tuple[int, int]:
        """Two people of a class who move in every round (-1 when there is no such pair)."""
        if len(self.always) < 2:
            return -1, -1
        p = self.always[int(u * len(self.always))]
        mates = self.always_mates[self.cls[p]]
        q = mates[int(v * len(mates))]
        return (p, q) if q != p else (p, -1)

    def score(self) -> tuple[int, int, float]:
        return self.violations, self.repeats, self.spread

    def _repeat_step(self, r: int, u: float, v: float, chance: float, temp: float) -> bool:
        """One try of the repeats annealing: a swap in round ``r``, taken if its cost (repeated
        pairs, the diversity tie-break) passes at ``temp``."""
        p, q = self.pick(r, u, v)
        if q < 0:
            return False
        d = self.repeat_gain(r, p, q)
        # the diversity term never outweighs the slack: most worse moves stop here
        if d > 0 and chance >= math.exp((self.slack - d) / temp):
            return False
        gain = self.delta(r, p, q, d)
        cost = BIG * gain[1] + d + self.weight * gain[2]
        if cost > 0 and chance >= math.exp(-cost / temp):
            return False
        self.apply(r, p, q, gain)
        return True

    def _schedule_gain(self, p: int, q: int) -> tuple[int, int, float]:
        """(0, keep-apart, diversity) gained when p and q trade places in every round: the
        pairs' meeting counts only change hands, so the repeated pairs stay as they are."""
        apart, div = 0, 0.0
        for r, tab in enumerate(self.tab):
            a, b = tab[p], tab[q]
            if a != b:
                if self.apart[p] or self.apart[q]:
                    apart += self._apart_delta(p, q, a, b, r)
                div += self._diversity_delta(p, q, a, b, r)
        return 0, apart, div

    def _trade_schedules(self, p: int, q: int) -> None:
        for r, tab in enumerate(self.tab):
            if tab[p] != tab[q]:
                self.apply(r, p, q, self.delta(r, p, q, self.repeat_gain(r, p, q)))

    def _diversity_step(self, r: int, u: float, v: float, chance: float, temp: float) -> bool:
        """One try of the diversity annealing: every other try two people of a class trade
        places in every round (free of repeats), else a swap in round ``r`` that keeps the
        repeated pairs at most ``self.cap``."""
        whole = v < 0.5
        p, q = self.pick_always(u, 2 * v) if whole else self.pick(r, u, 2 * v - 1)
        if q < 0:
            return False
        if whole:
            gain = self._schedule_gain(p, q)
        else:
            d = self.repeat_gain(r, p, q)
            if self.repeats + d > self.cap:
                return False
            gain = self.delta(r, p, q, d)
        cost = BIG * gain[1] + gain[2]
        if cost > 0 and chance >= math.exp(-cost / temp):
            return False
        if whole:
            self._trade_schedules(p, q)
        else:
            self.apply(r, p, q, gain)
        return True

    def run(self, rng: np.random.Generator, heat: Heat, diversity: bool = False) -> None:
        """Anneal the repeated pairs (stopping early at ``heat.floor``) or, with ``diversity``,
        the diversity cost without more repeated pairs than now; ends in the best state seen."""
        rounds = [r for r, m in enumerate(self.movers) if len(m) > 1]
        if not rounds or heat.moves <= 0:
            return
        self.cap = self.repeats
        step = self._diversity_step if diversity else self._repeat_step
        best, best_tab, found = self.score(), [row[:] for row in self.tab], 0
        temp, decay = heat.hot, (heat.cold / heat.hot) ** (1.0 / heat.moves)
        for start in range(0, heat.moves, _CHUNK):
            if (not diversity and best[:2] <= (0, heat.floor)) or (
                heat.patience and start - found > heat.patience
            ):
                break
            size = min(_CHUNK, heat.moves - start)
            pick_r = rng.integers(0, len(rounds), size).tolist()
            u, v, w = (rng.random(size).tolist() for _ in range(3))
            for k in range(size):
                temp *= decay
                if step(rounds[pick_r[k]], u[k], v[k], w[k], temp) and self.score() < best:
                    best, best_tab, found = self.score(), [row[:] for row in self.tab], start + k
        if self.score() > best:
            self._load(best_tab)
            self.spread = best[2]

    def polish(self, rng: np.random.Generator, moves: int, trades: bool = False) -> None:
        """Greedy: swaps that gain on (keep-apart, repeats, diversity) in that order; with
        ``trades`` every other try lets two people of a class trade places in every round
        (repeats unchanged) when that gains on (keep-apart, diversity). A seating with no
        repeat to spare (from the affine design) admits almost no single swap, so trades are
        what is left to improve."""
        rounds = [r for r, m in enumerate(self.movers) if len(m) > 1]
        if not rounds or moves <= 0:
            return
        pick_r = rng.integers(0, len(rounds), moves).tolist()
        u, v = rng.random(moves).tolist(), rng.random(moves).tolist()
        for k in range(moves):
            if trades and k % 2:
                p, q = self.pick_always(u[k], v[k])
                if q >= 0:
                    gain = self._schedule_gain(p, q)
                    if (gain[1], gain[2]) < (0, -1e-9):
                        self._trade_schedules(p, q)
                continue
            r = rounds[pick_r[k]]
            p, q = self.pick(r, u[k], v[k])
            if q < 0:
                continue
            d = self.repeat_gain(r, p, q)
            if d > 0:
                continue
            gain = self.delta(r, p, q, d)
            if (gain[1], gain[0], gain[2]) < (0, 0, -1e-9):
                self.apply(r, p, q, gain)

    def tabs(self) -> list[np.ndarray]:
        return [np.array(row, dtype=np.int64) for row in self.tab]


def anneal_rounds(
    problem: Problem,
    tabs: Sequence[np.ndarray],
    movables: Sequence[np.ndarray],
    rng: np.random.Generator,
    schedule: Schedule,
) -> list[np.ndarray]:
    """Fewer repeated pairs (never more) for a seating of every person in every round; the same
    seat types at every table, pinned people where they are, keep-apart kept."""
    state = Anneal(problem, tabs, movables, schedule.focus, schedule.weight)
    state.run(rng, schedule.repeats)
    state.run(rng, schedule.diversity, diversity=True)
    state.polish(rng, schedule.polish, schedule.trades)
    return state.tabs()
