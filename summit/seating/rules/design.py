"""A repeat-free seating of one pool from the affine plane AG(2, q), seat-type pattern included.

For a pool of ``q`` tables (``q`` a prime power) whose tables hold at most ``q`` people, the
``q²`` points ``(x, y)`` of the plane over GF(q) are the seats; a round with slope ``s`` seats
the ``q`` points of each line ``y = s·x + b`` at one table. Two lines of different slopes share
one point, so over rounds with different slopes nobody meets anybody twice. Points that are no
one (``q² - people``) are *dummies*: a table of ``q - d`` people is a line with ``d`` dummies.

What is left is the pattern: every round, the lines must carry the tables' seat-type counts.
With the dummies as one more class, every table's counts (seat types, dummies) add up to ``q``.

* A *base* vector ``k`` (each class at its smallest or largest count per table) gives class
  ``c`` the ``k_c`` vertical lines ``x = const``; every non-vertical line meets each vertical
  line once, so it carries exactly ``k``.
* A table whose vector is ``k`` with one seat of class ``c`` changed to ``c'`` needs one *move*:
  a point of a ``c`` line given to ``c'``. A line through one moved point carries that table's
  vector; a line through none carries ``k``.
* So it is enough that, for every round's slope, the moved points lie on different lines: no two
  of them may span a line of a used slope. A small search places the moves so that the slopes
  they span leave at least ``rounds`` slopes free (the moves of the hosted shape fit the subplane
  over GF(3) inside GF(9), which spans 3 of the 9 slopes, so 6 rounds stay repeat-free).

Tables over ``q`` people (``pool_design``): a point is a *unit*, one person or two who sit
together in every round, and a table of ``s > q`` people seats ``s - q`` units of two; only
those pairs meet more than once.

Nothing here is random: the same pool shape always gives the same points; the caller decides
which person of a class sits on which of the class's points.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from summit.seating.rules.construct import Ring, prime_power

__all__ = ["AffineDesign", "PoolDesign", "affine_design", "pool_design"]

#: Points tried by the search for the moves; a pool shape without a placement within this many
#: gets no design (the seating falls back to the other constructions).
SEARCH_NODES = 20_000
#: Ways of cutting the tables into units of two tried for a pool with tables over ``q`` people.
UNIT_CHOICES = 100


@dataclass(frozen=True)
class AffineDesign:
    """``point_class[i]``: the class column (of the pool's seat matrix) of point ``i``, or -1
    for a dummy; ``table[r, i]``: the table row of point ``i`` in round ``r`` (-1 for a dummy)."""

    point_class: np.ndarray  # (q²,)
    table: np.ndarray  # (rounds, q²)


def _field_tables(q: int) -> tuple[np.ndarray, np.ndarray]:
    ring = Ring.make(q, True)
    add = np.array([ring.shift(np.arange(q), b) for b in range(q)], dtype=np.int64)
    mul = np.array([[ring.mul(a, b) for b in range(q)] for a in range(q)], dtype=np.int64)
    return add, mul


def _bases(vectors: np.ndarray) -> list[tuple[np.ndarray, list[tuple[int, int, int]]]]:
    """Base vectors (each class at its smallest or largest count per table, ``q`` in all) from
    which every table is at most one move away, with their moves: the fewest moves first."""
    low, high = vectors.min(axis=0), vectors.max(axis=0)
    loose = np.flatnonzero(high > low)
    out: list[tuple[np.ndarray, list[tuple[int, int, int]]]] = []
    for picks in itertools.product((0, 1), repeat=int(loose.size)):
        base = low.copy()
        base[loose] += np.array(picks, dtype=np.int64)
        if base.sum() != vectors[0].sum():
            continue
        moves = _moves(vectors, base)
        if moves is not None:
            out.append((base, moves))
    out.sort(key=lambda bm: len(bm[1]))
    return out


def _moves(vectors: np.ndarray, base: np.ndarray) -> list[tuple[int, int, int]] | None:
    """``(table, from class, to class)`` per table that differs from ``base``; ``None`` when a
    table differs in more than one seat."""
    out: list[tuple[int, int, int]] = []
    for t, v in enumerate(vectors):
        d = v - base
        if not d.any():
            continue
        down, up = np.flatnonzero(d < 0), np.flatnonzero(d > 0)
        if down.size != 1 or up.size != 1 or d[down[0]] != -1 or d[up[0]] != 1:
            return None
        out.append((t, int(down[0]), int(up[0])))
    return out


class _Placement:
    """Depth-first search for the moved points: point ``i`` of ``moves`` on a vertical line of
    its class, the slopes spanned by any two kept to at most ``free`` (vertical ones are free)."""

    def __init__(
        self, q: int, add: np.ndarray, mul: np.ndarray, lines: np.ndarray, free: int
    ) -> None:
        self.q, self.lines, self.free = q, lines, free
        neg = np.array([int(np.flatnonzero(add[a] == 0)[0]) for a in range(q)])
        inv = np.zeros(q, dtype=np.int64)
        for a in range(1, q):
            inv[a] = int(np.flatnonzero(mul[a] == 1)[0])
        self.sub = add[:, neg].tolist()  # sub[a][b] = a - b
        self.inv, self.mul = inv.tolist(), mul.tolist()
        self.nodes = 0

    def run(self, sources: Sequence[int]) -> list[tuple[int, int]] | None:
        self.sources = sources
        self.owner: dict[int, int] = {}  # vertical line x -> class
        self.opened = np.zeros(self.lines.size, dtype=np.int64)
        self.points: list[tuple[int, int]] = []
        self.used: dict[int, int] = {}  # slope -> pairs spanning it
        return self.points[:] if self._next(0) else None

    def _spanned(self, x: int, y: int) -> list[int]:
        """Slopes of the lines from ``(x, y)`` to the points placed so far (vertical ones left
        out: no round uses them)."""
        sub, inv, mul = self.sub, self.inv, self.mul
        return [mul[sub[y2][y]][inv[sub[x2][x]]] for x2, y2 in self.points if x2 != x]

    def _next(self, i: int) -> bool:
        if i == len(self.sources):
            return True
        c = self.sources[i]
        own = [x for x, k in self.owner.items() if k == c]
        xs = sorted(own)
        if self.opened[c] < self.lines[c]:
            fresh = next((x for x in range(self.q) if x not in self.owner), None)
            if fresh is not None:
                xs.append(fresh)
        taken = set(self.points)
        for x in xs:
            for y in range(self.q):
                if (x, y) in taken:
                    continue
                self.nodes += 1
                if self.nodes > SEARCH_NODES:
                    return False
                spans = self._spanned(x, y)
                new = {s for s in spans if s not in self.used}
                if len(self.used) + len(new) > self.free:
                    continue
                opened = x not in self.owner
                if opened:
                    self.owner[x] = c
                    self.opened[c] += 1
                for s in spans:
                    self.used[s] = self.used.get(s, 0) + 1
                self.points.append((x, y))
                if self._next(i + 1):
                    return True
                self.points.pop()
                for s in spans:
                    self.used[s] -= 1
                    if not self.used[s]:
                        del self.used[s]
                if opened:
                    del self.owner[x]
                    self.opened[c] -= 1
        return False


def affine_design(cap: np.ndarray, rounds: int) -> AffineDesign | None:
    """Points and their tables per round for a pool with seats ``cap`` (tables × classes), or
    ``None`` when the pool's shape has no such design (tables not a prime power, a table larger
    than the table count, tables that differ from a common base in more than one seat, or no
    placement of the moves leaving ``rounds`` slopes free)."""
    q, n_cls = cap.shape
    if prime_power(q) is None or rounds < 2 or rounds >= q:
        return None
    sizes = cap.sum(axis=1)
    if sizes.max() > q:
        return None
    vectors = np.concatenate([cap, (q - sizes)[:, None]], axis=1).astype(np.int64)
    dummy = n_cls
    add, mul = _field_tables(q)
    for base, moves in _bases(vectors):
        moves.sort(key=lambda m: (m[1], m[2], m[0]))
        placement = _Placement(q, add, mul, base, q - rounds)
        points = placement.run([m[1] for m in moves])
        if points is None:
            continue
        # classes of the vertical lines: those the moves opened, then the rest in order
        owner = dict(placement.owner)
        left = base.copy()
        for c in owner.values():
            left[c] -= 1
        free_x = [x for x in range(q) if x not in owner]
        for c in range(n_cls + 1):
            for _ in range(int(left[c])):
                owner[free_x.pop(0)] = c
        xs, ys = np.divmod(np.arange(q * q), q)
        klass = np.array([owner[int(x)] for x in xs], dtype=np.int64)
        move_of = np.full(q * q, -1, dtype=np.int64)
        for k, ((x, y), (_t, _src, dst)) in enumerate(zip(points, moves, strict=True)):
            klass[x * q + y] = dst
            move_of[x * q + y] = k
        slopes = [s for s in range(q) if s not in placement.used][:rounds]
        table = np.full((rounds, q * q), -1, dtype=np.int64)
        for r, s in enumerate(slopes):
            line = _intercepts(add, mul, s, xs, ys)
            where = np.full(q, -1, dtype=np.int64)
            plain = [t for t in range(q) if not (vectors[t] - base).any()]
            for b in range(q):
                on = np.flatnonzero(line == b)
                moved = move_of[on][move_of[on] >= 0]
                if moved.size > 1:  # pragma: no cover - the placement forbids it
                    return None
                where[b] = moves[int(moved[0])][0] if moved.size else plain.pop()
            table[r] = where[line]
        point_class = np.where(klass == dummy, -1, klass)
        table[:, point_class < 0] = -1
        if not _fits(point_class, table, cap):  # pragma: no cover - holds by construction
            return None
        return AffineDesign(point_class, table)
    return None


def _intercepts(
    add: np.ndarray, mul: np.ndarray, s: int, xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """``b = y - s·x`` of every point on the lines of slope ``s``."""
    q = add.shape[0]
    neg = np.array([int(np.flatnonzero(add[a] == 0)[0]) for a in range(q)])
    out: np.ndarray = add[ys, neg[mul[s, xs]]]
    return out


def _fits(point_class: np.ndarray, table: np.ndarray, cap: np.ndarray) -> bool:
    """Every round seats every table's pattern exactly and no two points meet twice."""
    real = point_class >= 0
    for row in table:
        got = np.zeros_like(cap)
        np.add.at(got, (row[real], point_class[real]), 1)
        if not np.array_equal(got, cap):
            return False
    pairs = set()
    for row in table:
        for t in range(cap.shape[0]):
            at = np.flatnonzero(row == t).tolist()
            for i, a in enumerate(at):
                for b in at[i + 1 :]:
                    if (a, b) in pairs:
                        return False
                    pairs.add((a, b))
    return True


@dataclass(frozen=True)
class PoolDesign:
    """A design over *units*: ``units[u]`` the classes (of the pool's seat matrix) of the people
    of one point of unit class ``u`` (one person, or two who sit together in every round), and
    ``design`` the affine design over the unit classes."""

    units: tuple[tuple[int, ...], ...]
    design: AffineDesign


def _pairings(pattern: np.ndarray, doubles: int) -> list[tuple[tuple[int, int], ...]]:
    """Every multiset of ``doubles`` pairs of classes that a table of ``pattern`` can seat."""
    n_cls = pattern.size
    pairs = [(a, b) for a in range(n_cls) for b in range(a, n_cls) if pattern[a] and pattern[b]]
    out: list[tuple[tuple[int, int], ...]] = []
    for combo in itertools.combinations_with_replacement(pairs, doubles):
        used = np.zeros(n_cls, dtype=np.int64)
        for a, b in combo:
            used[a] += 1
            used[b] += 1
        if (used <= pattern).all():
            out.append(combo)
    return out


def pool_design(cap: np.ndarray, rounds: int) -> PoolDesign | None:
    """The affine design of a pool, with units of two where tables hold more than ``q``
    people: a table of ``s > q`` people seats ``s - q`` pairs (the fewest that leave it ``q``
    units) who meet in every round, and nobody else meets twice. The pairs' classes are chosen
    per distinct table pattern, trying at most ``UNIT_CHOICES`` ways in a fixed order."""
    q, n_cls = cap.shape
    singles = tuple((c,) for c in range(n_cls))
    sizes = cap.sum(axis=1)
    if sizes.max() <= q:
        design = affine_design(cap, rounds)
        return None if design is None else PoolDesign(singles, design)
    doubles = np.maximum(sizes - q, 0)
    if prime_power(q) is None or rounds >= q or (2 * doubles > sizes).any():
        return None
    shapes = sorted({(tuple(int(x) for x in cap[t]), int(doubles[t])) for t in range(q)})
    options = [_pairings(np.array(p, dtype=np.int64), d) for p, d in shapes]
    for choice in itertools.islice(itertools.product(*options), UNIT_CHOICES):
        units = sorted(set(singles) | {pair for pairs in choice for pair in pairs})
        col = {u: i for i, u in enumerate(units)}
        ucap = np.zeros((q, len(units)), dtype=np.int64)
        for t in range(q):
            pairs = choice[shapes.index((tuple(int(x) for x in cap[t]), int(doubles[t])))]
            rest = cap[t].copy()
            for a, b in pairs:
                ucap[t, col[(a, b)]] += 1
                rest[a] -= 1
                rest[b] -= 1
            for c in range(n_cls):
                ucap[t, col[(c,)]] += rest[c]
        used = np.flatnonzero(ucap.sum(axis=0) > 0)
        design = affine_design(ucap[:, used], rounds)
        if design is not None:
            return PoolDesign(tuple(units[i] for i in used), design)
    return None
