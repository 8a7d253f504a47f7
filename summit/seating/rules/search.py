"""Vectorised swap search for one round of seating (numpy, no Python loops over people).

A round is a vector ``tab`` (person index → table index, -1 = absent). Every move swaps two people
of the same class (seat type x venue/online) at different tables, so the pattern of every table
holds by construction. The cost is the sum over tables of

* ``W_REPEAT`` for every earlier (or later) meeting of two people at the table,
* ``W_APART`` for every keep-apart pair at the table,
* the squared deviation of each feature's counts from the table's expected counts,

with repeats weighted far above the diversity terms, so a swap never buys diversity with a repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

W_REPEAT = 1000.0
W_APART = 1.0e6
_EPS = 1e-9


@dataclass(frozen=True)
class Problem:
    """The fixed part of a seating problem, in person indices (sorted by participant id)."""

    n_tables: int
    cls: np.ndarray  # (n,) class id = seat type index * 2 + mode index
    vals: tuple[np.ndarray, ...]  # per feature: (n,) value codes
    exp: tuple[np.ndarray, ...]  # per feature: (tables, values) expected counts
    weights: tuple[float, ...]  # per feature
    apart: np.ndarray  # (n, A) keep-apart partners, padded with n
    group: np.ndarray  # (n,) keep-together group id or -1
    fixed: np.ndarray  # (n,) fixed table index or -1

    @property
    def n(self) -> int:
        return int(self.cls.shape[0])


def members(tab: np.ndarray, n_tables: int) -> np.ndarray:
    """(tables + 1, widest table) person indices per table, padded with n; the last row is empty."""
    n = tab.shape[0]
    seated = np.flatnonzero(tab >= 0)
    order = seated[np.argsort(tab[seated], kind="stable")]
    counts = np.bincount(tab[seated], minlength=n_tables)
    width = max(int(counts.max()) if counts.size else 0, 1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full((n_tables + 1, width), n, dtype=np.int64)
    rows = tab[order]
    out[rows, np.arange(order.size) - starts[rows]] = order
    return out


def neighbours(
    problem: Problem, other_rounds: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Padded partner lists and weights: whom each person met in ``other_rounds``, plus keep-apart.

    Pairs that cannot avoid each other (one keep-together group, or fixed to the same table) weigh
    nothing.
    """
    n, t = problem.n, problem.n_tables
    me = np.arange(n)[:, None]
    blocks: list[np.ndarray] = []
    for tab in other_rounds:
        mem = members(tab, t)
        nb = mem[np.where(tab >= 0, tab, t)]
        nb[nb == me] = n
        blocks.append(nb)
    met = np.concatenate(blocks, axis=1) if blocks else np.full((n, 0), n, dtype=np.int64)
    w_met = np.where(met < n, W_REPEAT, 0.0)
    grp = np.append(problem.group, -1)
    fix = np.append(problem.fixed, -1)
    forced = ((grp[met] == problem.group[:, None]) & (problem.group[:, None] >= 0)) | (
        (fix[met] == problem.fixed[:, None]) & (problem.fixed[:, None] >= 0)
    )
    w_met[forced] = 0.0
    w_apart = np.where(problem.apart < n, W_APART, 0.0)
    nb_all = np.concatenate([met, problem.apart], axis=1)
    w_all = np.concatenate([w_met, w_apart], axis=1)
    if nb_all.shape[1] == 0:
        nb_all = np.full((n, 1), n, dtype=np.int64)
        w_all = np.zeros((n, 1))
    return nb_all, w_all


class RoundSearch:
    """Local search on one round; ``tab`` is updated in place through ``self.tab``."""

    def __init__(
        self,
        problem: Problem,
        tab: np.ndarray,
        movable: np.ndarray,
        nb: np.ndarray,
        nw: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        n = problem.n
        self.p = problem
        self.t = problem.n_tables
        self.rng = rng
        self.tab_ext = np.empty(n + 1, dtype=np.int64)
        self.tab_ext[:n] = tab
        self.tab_ext[n] = -2
        self.tab = self.tab_ext[:n]
        self.present = np.flatnonzero(tab >= 0)
        self.movable = movable & (tab >= 0)
        self.nb = nb
        self.nw = nw
        self.has_edges = bool(nw.any())
        mov = np.flatnonzero(self.movable)
        self.order = mov[np.argsort(problem.cls[mov], kind="stable")]
        ucls, starts, sizes = np.unique(
            problem.cls[self.order], return_index=True, return_counts=True
        )
        self.cls_idx = np.searchsorted(ucls, problem.cls[self.order])
        self.starts = starts
        self.sizes = sizes
        self.by_class = {
            int(c): self.order[s : s + z] for c, s, z in zip(ucls, starts, sizes, strict=True)
        }
        self.dev: list[np.ndarray] = []
        for v, e in zip(problem.vals, problem.exp, strict=True):
            cnt = np.zeros_like(e)
            np.add.at(cnt, (tab[self.present], v[self.present]), 1.0)
            self.dev.append(cnt - e)

    # -- cost pieces -------------------------------------------------------------------------
    def cost(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Weighted count of each x's partners sitting at table y."""
        return np.asarray((self.nw[xs] * (self.tab_ext[self.nb[xs]] == ys[:, None])).sum(axis=1))

    def conflicts(self) -> np.ndarray:
        """Present people who sit with someone they met before or must avoid."""
        if not self.has_edges:
            return np.zeros(0, dtype=np.int64)
        pr = self.present
        c = self.cost(pr, self.tab[pr])
        return pr[c > 0.5]

    def _div_delta(self, p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = np.zeros(q.shape[0])
        for v, dv, w in zip(self.p.vals, self.dev, self.p.weights, strict=True):
            x, y = v[p], v[q]
            d += w * np.where(x != y, 4.0 + 2.0 * (dv[a, y] - dv[a, x] + dv[b, x] - dv[b, y]), 0.0)
        return d

    def delta(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Cost change of swapping p[i] and q[i] (at different tables), each independently."""
        a, b = self.tab[p], self.tab[q]
        d = self._div_delta(p, q, a, b)
        if self.has_edges:
            w_pq = (self.nw[p] * (self.nb[p] == q[:, None])).sum(axis=1)
            d += self.cost(p, b) + self.cost(q, a) - self.cost(p, a) - self.cost(q, b) - 2 * w_pq
        return d

    def apply(self, p: np.ndarray, q: np.ndarray) -> None:
        """Swap p[i] and q[i]; the pairs must touch pairwise different tables."""
        a, b = self.tab[p].copy(), self.tab[q].copy()
        for v, dv in zip(self.p.vals, self.dev, strict=True):
            x, y = v[p], v[q]
            np.add.at(dv, (a, x), -1.0)
            np.add.at(dv, (a, y), 1.0)
            np.add.at(dv, (b, y), -1.0)
            np.add.at(dv, (b, x), 1.0)
        self.tab[p] = b
        self.tab[q] = a

    # -- moves -------------------------------------------------------------------------------
    def best_swap(
        self, p: int, banned: np.ndarray | None = None, limit: float = np.inf
    ) -> tuple[int, float]:
        """The best partner for p among its class at other tables, and the cost change.

        Partners marked in ``banned`` (tabu) count only when the change is below ``limit``.
        """
        a = int(self.tab[p])
        cand = self.by_class.get(int(self.p.cls[p]))
        if cand is None:
            return -1, 0.0
        cand = cand[self.tab[cand] != a]
        if cand.size == 0:
            return -1, 0.0
        b = self.tab[cand]
        k = cand.size
        d = self._div_delta(np.full(k, p), cand, np.full(k, a), b)
        if self.has_edges:
            nbp, wp = self.nb[p], self.nw[p]
            tp = self.tab_ext[nbp]
            ok = tp >= 0
            per_table = np.bincount(tp[ok], weights=wp[ok], minlength=self.t)
            w_pq = np.bincount(nbp, weights=wp, minlength=self.p.n + 1)[cand]
            tq = self.tab_ext[self.nb[cand]]
            wq = self.nw[cand]
            c_qa = (wq * (tq == a)).sum(axis=1)
            c_qb = (wq * (tq == b[:, None])).sum(axis=1)
            d += per_table[b] - per_table[a] + c_qa - c_qb - 2 * w_pq
        if banned is not None:
            d = np.where(banned[cand] & (d >= limit), np.inf, d)
        i = int(np.argmin(d))
        if not np.isfinite(d[i]):
            return -1, 0.0
        return int(cand[i]), float(d[i])

    def _still_bad(self, p: int) -> bool:
        return bool(self.cost(np.array([p]), self.tab[[p]])[0] > 0.5)

    def repair(self, max_sweeps: int = 50) -> None:
        """Move people out of conflicts (repeats, keep-apart) one best swap at a time."""
        if not self.has_edges:
            return
        for _ in range(max_sweeps):
            bad = self.conflicts()
            bad = bad[self.movable[bad]]
            if bad.size == 0:
                return
            moved = 0
            for p in self.rng.permutation(bad):
                p = int(p)
                if not self._still_bad(p):
                    continue
                q, d = self.best_swap(p)
                if q >= 0 and d < -_EPS:
                    self.apply(np.array([p]), np.array([q]))
                    moved += 1
            if moved == 0:
                return

    def tabu(self, max_iters: int, sample: int = 6, patience: int | None = None) -> None:
        """Tabu search on the conflicts: always take the best swap of a conflicted person, even
        a worsening one, and forbid moving the swapped people again for a few steps; keep the
        best seating seen. Stops after ``patience`` steps without a new best."""
        if not self.has_edges:
            return
        n = self.p.n
        until = np.full(n, -1, dtype=np.int64)
        current = 0.0
        best = 0.0
        best_tab = self.tab.copy()
        best_dev = [d.copy() for d in self.dev]
        last_best = 0
        wait = max_iters if patience is None else patience
        for it in range(max_iters):
            if it - last_best > wait:
                break
            bad = self.conflicts()
            bad = bad[self.movable[bad]]
            if bad.size == 0:
                break
            free = bad[until[bad] < it]
            pool = free if free.size else bad
            if pool.size > sample:
                pool = self.rng.choice(pool, sample, replace=False)
            banned = until >= it
            choice, choice_d = (-1, -1), np.inf
            for p in pool:
                q, d = self.best_swap(int(p), banned, limit=best - current - _EPS)
                if q >= 0 and d < choice_d:
                    choice, choice_d = (int(p), q), d
            if choice[0] < 0:
                break
            p, q = choice
            self.apply(np.array([p]), np.array([q]))
            current += choice_d
            tenure = 3 + int(self.rng.integers(0, 8))
            until[p] = until[q] = it + tenure
            if current < best - _EPS:
                best = current
                last_best = it
                best_tab[:] = self.tab
                best_dev = [d.copy() for d in self.dev]
        if current > best + _EPS:
            self.tab[:] = best_tab
            self.dev = best_dev

    def improve(self, max_iters: int = 200, batch: int | None = None, patience: int = 3) -> None:
        """Batches of random same-class swaps; the improving ones on disjoint tables are applied.
        Stops after ``patience`` batches in a row that gain (almost) nothing."""
        if not self.p.vals or self.order.size < 2:
            return
        m = batch or max(64, min(4 * self.t, 4096))
        quiet = 0
        for _ in range(max_iters):
            pi = self.rng.integers(0, self.order.size, m)
            p = self.order[pi]
            ci = self.cls_idx[pi]
            q = self.order[self.starts[ci] + (self.rng.random(m) * self.sizes[ci]).astype(np.int64)]
            keep = self.tab[p] != self.tab[q]
            p, q = p[keep], q[keep]
            if p.size == 0:
                break
            d = self.delta(p, q)
            good = np.flatnonzero(d < -_EPS)
            if good.size:
                good = good[np.argsort(d[good], kind="stable")]
                p, q = p[good], q[good]
                a, b = self.tab[p], self.tab[q]
                idx = np.arange(p.size)
                first = np.full(self.t, p.size)
                np.minimum.at(first, a, idx)
                np.minimum.at(first, b, idx)
                ok = (first[a] == idx) & (first[b] == idx)
                self.apply(p[ok], q[ok])
                accepted = int(ok.sum())
            else:
                accepted = 0
            quiet = quiet + 1 if accepted < max(1, m // 200) else 0
            if quiet >= patience:
                break
