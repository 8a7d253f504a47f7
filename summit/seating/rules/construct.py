"""A repeat-free start for the rounds (resolvable design) and a lower bound on unavoidable repeats.

The tables of a *pool* (tables that share people: all venue tables, all online tables, or both
when hybrid tables take online people) are labelled with the elements of a ring of ``m >= tables``
elements; labels ``>= tables`` are empty *virtual* tables. Round 1 is dealt as usual. Then each
table's ``k``-th person of a class forms the *layer* (class, k) — one person per table while every
table has at least ``k + 1`` seats of that class — and layer ``j`` gets its own ring element
``a_j``: the person at label ``x`` in round 1 sits at ``x + r·a_j`` in round ``r + 1``. Two
people of layers with different elements meet when ``r·(a_j - a_i) = x_i - x_j``, which has at
most one solution ``r`` among the rounds when

* ``m`` is a prime power ``q`` and the ring is the field GF(q) (the affine plane): any distinct
  elements, up to ``q`` rounds; or
* the ring is ``Z_m`` and every difference ``a_j - a_i`` has additive order ``>= rounds``.

Same-layer people never meet again. People in the layer's extra seats (tables with one seat of
the class more than the others), people who land on a virtual table and layers left without an
element are seated by an assignment that avoids the people they met before; the swap search takes
it from there.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "Pool",
    "Ring",
    "choose_ring",
    "pair_bound",
    "pools",
    "prime_power",
    "split_bound",
]

# above this many people of one class the assignment is greedy instead of exact (cubic time)
_EXACT_ASSIGNMENT = 300


def prime_power(m: int) -> tuple[int, int] | None:
    """``(p, k)`` with ``m = p**k`` for a prime ``p``, or ``None``."""
    if m < 2:
        return None
    p = next((d for d in range(2, math.isqrt(m) + 1) if m % d == 0), m)
    k = 0
    while m % p == 0:
        m //= p
        k += 1
    return (p, k) if m == 1 else None


def _poly_mod(a: list[int], f: Sequence[int], p: int) -> list[int]:
    """Remainder of polynomial ``a`` (coefficients low → high) by the monic ``f`` over GF(p)."""
    a = a[:]
    d = len(f) - 1
    for i in range(len(a) - 1, d - 1, -1):
        c = a[i] % p
        if c:
            for j in range(d + 1):
                a[i - d + j] = (a[i - d + j] - c * f[j]) % p
    return [x % p for x in a[:d]] + [0] * max(0, d - len(a))


@functools.cache
def _irreducible(p: int, k: int) -> tuple[int, ...]:
    """The first monic irreducible polynomial of degree ``k`` over GF(p) (coefficients low → high).

    A polynomial is irreducible when no monic polynomial of degree 1..k/2 divides it.
    """
    for low in range(p**k):
        f = [(low // p**i) % p for i in range(k)] + [1]
        if f[0] == 0:
            continue
        if all(
            any(_poly_mod(f, g, p))
            for deg in range(1, k // 2 + 1)
            for rest in range(p**deg)
            for g in [[(rest // p**i) % p for i in range(deg)] + [1]]
        ):
            return tuple(f)
    raise AssertionError(
        f"no irreducible polynomial of degree {k} over GF({p})"
    )  # pragma: no cover


@dataclass(frozen=True)
class Ring:
    """GF(p**k) (``field``) or Z_m; elements are the integers ``0..size-1`` (base-p digits)."""

    size: int
    p: int
    k: int
    field: bool

    @staticmethod
    def make(size: int, field: bool) -> Ring:
        if field:
            pk = prime_power(size)
            if pk is None:
                raise ValueError(f"GF({size}) does not exist")
            return Ring(size, pk[0], pk[1], True)
        return Ring(size, size, 1, False)

    def mul(self, a: int, b: int) -> int:
        if self.k == 1:
            return a * b % self.size
        p, k = self.p, self.k
        da = [(a // p**i) % p for i in range(k)]
        db = [(b // p**i) % p for i in range(k)]
        prod = [0] * (2 * k - 1)
        for i, x in enumerate(da):
            for j, y in enumerate(db):
                prod[i + j] += x * y
        rem = _poly_mod(prod, _irreducible(p, k), p)
        return sum(c * p**i for i, c in enumerate(rem))

    def shift(self, x: np.ndarray, y: int) -> np.ndarray:
        """``x + y`` for every element of ``x`` (digit-wise mod p in a field of p**k)."""
        if self.k == 1:
            return np.asarray((x + y) % self.size)
        out = np.zeros_like(x)
        for i in range(self.k):
            unit = self.p**i
            out += ((x // unit + y // unit) % self.p) * unit
        return out

    def meets_once(self, a: int, b: int, rounds: int) -> bool:
        """Whether layers with elements ``a`` and ``b`` meet at most once in ``rounds`` rounds."""
        if self.field:
            return a != b and rounds <= self.size
        d = (a - b) % self.size
        return d != 0 and self.size // math.gcd(d, self.size) >= rounds


def _next_prime_power(m: int) -> int:
    while prime_power(m) is None:
        m += 1
    return m


def _clean_elements(ring: Ring, rounds: int, wanted: int) -> list[int]:
    """Elements whose layers meet at most once in ``rounds`` rounds (greedy, at most ``wanted``)."""
    if ring.field:
        return list(range(min(wanted, ring.size)))
    out: list[int] = []
    for a in range(ring.size):
        if all(ring.meets_once(a, b, rounds) for b in out):
            out.append(a)
            if len(out) == wanted:
                break
    return out


def choose_ring(tables: int, rounds: int, layers: int) -> tuple[Ring, list[int]]:
    """The ring (and its usable layer elements) that leaves the fewest people to the assignment.

    GF(tables) when ``tables`` is a prime power and ``rounds <= tables``; otherwise the better of
    Z_tables with elements whose differences have order ``>= rounds`` and GF(q) for the next prime
    power ``q`` with ``q - tables`` virtual tables.
    """
    if prime_power(tables) is not None and rounds <= tables:
        ring = Ring.make(tables, True)
        return ring, _clean_elements(ring, rounds, layers)
    cyclic = Ring.make(tables, False)
    cyc_el = _clean_elements(cyclic, rounds, layers)
    cyc_left = (layers - len(cyc_el)) * tables
    q = _next_prime_power(max(tables + 1, rounds))
    field = Ring.make(q, True)
    field_el = _clean_elements(field, rounds, layers)
    field_left = min(layers, q) * (q - tables) + (layers - len(field_el)) * tables
    if field_left < cyc_left:
        return field, field_el
    return cyclic, cyc_el


@dataclass(frozen=True)
class Pool:
    """Tables that share people (a connected component of tables and classes)."""

    tables: np.ndarray  # table indices, ascending
    classes: np.ndarray  # class ids seated only at these tables


def pools(cap: np.ndarray) -> list[Pool]:
    """Connected components of the table-class graph (an edge where a table seats the class)."""
    n_tables, n_cls = cap.shape
    parent = list(range(n_tables + n_cls))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t, c in np.argwhere(cap > 0):
        a, b = find(int(t)), find(n_tables + int(c))
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots: dict[int, tuple[list[int], list[int]]] = {}
    for t in range(n_tables):
        roots.setdefault(find(t), ([], []))[0].append(t)
    for c in range(n_cls):
        root = find(n_tables + c)
        if root in roots:
            roots[root][1].append(c)
    return [
        Pool(np.array(ts, dtype=np.int64), np.array(cs, dtype=np.int64))
        for ts, cs in (roots[k] for k in sorted(roots))
    ]


def pair_bound(
    people: int, meetings: int, forced_pairs: int, forced_meetings: int, rounds: int
) -> int:
    """Fewest pairs that must meet more than once (a counting argument).

    ``meetings`` pair-meetings over ``rounds`` rounds among ``people`` people; ``forced_pairs``
    pairs that always sit together (not counted as repeats) account for ``forced_meetings`` of
    them. The others fall on at most C(people, 2) - forced_pairs distinct pairs, and a pair that
    meets ``k`` times holds at most ``rounds - 1`` meetings beyond its first.
    """
    if rounds < 2:
        return 0
    free = meetings - forced_meetings
    distinct = people * (people - 1) // 2 - forced_pairs
    return max(0, -(-(free - distinct) // (rounds - 1)))


def split_bound(table_sizes: Sequence[int], tables: int) -> int:
    """Fewest pairs that meet in two given rounds (pigeonhole): the people of a table of size
    ``s`` spread over ``tables`` tables in the next round, so at least the pairs of an even
    split meet again. Zero when every table is no larger than the number of tables."""
    total = 0
    for s in table_sizes:
        low, high = divmod(int(s), tables)
        total += high * (low + 1) * low // 2 + (tables - high) * low * (low - 1) // 2
    return total


def assign_seats(
    who: np.ndarray,
    seats: np.ndarray,
    cur: np.ndarray,
    nb: np.ndarray,
    nw: np.ndarray,
    n_tables: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Tables (one per person, from the multiset ``seats``) for ``who``, avoiding earlier partners.

    ``cur`` (people + 1,) is the round so far (-1 = not seated yet, the last entry a pad);
    ``nb``/``nw`` the partner lists and weights. Exact assignment for small classes, greedy (in
    random order, each person to the cheapest free seat) for large ones.
    """
    if who.size == 0:
        return np.zeros(0, dtype=np.int64)
    tp = cur[nb[who]]
    rows = np.repeat(np.arange(who.size), nb.shape[1])
    ok = tp.ravel() >= 0
    cost = np.zeros((who.size, n_tables))
    np.add.at(cost, (rows[ok], tp.ravel()[ok]), nw[who].ravel()[ok])
    if who.size <= _EXACT_ASSIGNMENT:
        noise = rng.random((who.size, seats.size)) * 1e-3
        r, c = linear_sum_assignment(cost[:, seats] + noise)
        out = np.empty(who.size, dtype=np.int64)
        out[r] = seats[c]
        return out
    left = np.bincount(seats, minlength=n_tables).astype(np.float64)
    out = np.empty(who.size, dtype=np.int64)
    for i in rng.permutation(who.size):
        score = np.where(left > 0, cost[i] + rng.random(n_tables) * 1e-3, np.inf)
        t = int(np.argmin(score))
        out[i] = t
        left[t] -= 1
    return out
