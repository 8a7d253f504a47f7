"""The opinion map's geometry, one full build: two principal components of the votes by seeded
block power iteration, each voter's sparsity-scaled point, base clusters, and the groups as the
best-silhouette weighted k-means of the base clusters (``summit.forum.rules.opinion_map``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial.distance import cdist

from summit.forum.rules.opinion_summary import Floats, Ints, MapSettings

# --- the model of one full build ----------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    columns: Mapping[str, int]
    excluded: frozenset[str]
    center: Floats
    components: Floats
    n_columns: int
    n_excluded: int
    base_centers: Floats
    base_groups: Ints
    n_groups: int
    silhouette: float

    def project(self, ballot: Mapping[str, int]) -> tuple[float, float]:
        """Sparsity-aware projection of one voter's votes (Pol.is): centred votes only, scaled."""
        x = y = 0.0
        seen = self.n_excluded
        for statement, value in ballot.items():
            column = self.columns.get(statement)
            if column is None or statement in self.excluded:
                continue
            delta = value - self.center[column]
            x += delta * self.components[0, column]
            y += delta * self.components[1, column]
            seen += 1
        scale = math.sqrt(self.n_columns / max(seen, 1))
        return x * scale, y * scale

    def group_of(self, point: tuple[float, float]) -> int:
        offsets = self.base_centers - np.asarray(point)
        return int(self.base_groups[int(np.argmin((offsets**2).sum(axis=1)))])


def principal_components(centred: sparse.csr_matrix, names: list[str], seed: int) -> Floats:
    """The first two principal axes (rows), zero rows where there is none. Each axis points so
    that its largest loading is positive (ties: the first statement by name), whatever order the
    statements came in."""
    n, m = centred.shape
    found = np.zeros((2, m))
    k = min(2, n, m)
    if k == 0 or not np.any(np.abs(centred.data) > 1e-12):
        return found
    values, axes = _top_axes(centred, k, seed)
    rank = np.argsort(np.argsort(np.asarray(names, dtype=object)))
    for i in range(k):
        if values[i] <= 1e-9 * max(values[0], 1.0):
            continue
        axis = axes[i]
        largest = int(np.lexsort((rank, -np.round(np.abs(axis), 9)))[0])
        found[i] = -axis if axis[largest] < 0 else axis
    return found


def _orthonormal(block: Floats) -> Floats:
    """Gram-Schmidt on the columns (a dropped column becomes zero)."""
    out = np.zeros_like(block)
    for j in range(block.shape[1]):
        column = block[:, j] - out[:, :j] @ (out[:, :j].T @ block[:, j])
        norm = float(np.sqrt(column @ column))
        if norm > 1e-12:
            out[:, j] = column / norm
    return out


def _top_axes(
    centred: sparse.csr_matrix, k: int, seed: int, rounds: int = 300, tolerance: float = 1e-10
) -> tuple[Floats, Floats]:
    """Top-k right singular vectors by block power iteration (Pol.is uses power iteration too):
    sparse products only, a seeded start, no library randomness, so the same matrix always
    gives the same axes. Returns the singular values and the axes as rows, largest first."""
    m = centred.shape[1]
    transposed = centred.T.tocsr()
    block = _orthonormal(np.random.default_rng(seed).standard_normal((m, k)))
    for _ in range(rounds):
        moved = _orthonormal(np.asarray(transposed @ (centred @ block)))
        change = moved - block @ (block.T @ moved)
        block = moved
        if float(np.abs(change).max()) < tolerance:
            break
    # Rayleigh-Ritz: rotate the converged plane onto the singular directions.
    image = np.asarray(centred @ block)
    energy, rotation = np.linalg.eigh(image.T @ image)
    order = np.argsort(-energy, kind="stable")
    values = np.sqrt(np.maximum(energy[order], 0.0))
    return values, (block @ rotation[:, order]).T


def base_clusters(points: Floats, k: int, seed: int) -> tuple[Floats, Ints, bool]:
    """Pol.is's base clusters: each distinct point, or k-means with ``k`` centres."""
    distinct, inverse = np.unique(points, axis=0, return_inverse=True)
    inverse = np.asarray(inverse, dtype=np.int64).ravel()
    if len(distinct) <= k:
        return distinct.astype(np.float64), inverse, True
    from sklearn.cluster import KMeans  # loaded when a map is computed, not with every import

    fitted = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(points)
    used, labels = np.unique(fitted.labels_, return_inverse=True)
    labels = np.asarray(labels, dtype=np.int64).ravel()
    centers = np.asarray(fitted.cluster_centers_, dtype=np.float64)[used]
    return centers, labels, False


def _plus_plus(points: Floats, weights: Floats, k: int, rng: np.random.Generator) -> Floats:
    """Weighted k-means++ starting centres."""
    chosen = [int(rng.choice(len(points), p=weights / weights.sum()))]
    nearest = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        odds = weights * nearest
        if odds.sum() <= 0:
            break
        pick = int(rng.choice(len(points), p=odds / odds.sum()))
        chosen.append(pick)
        nearest = np.minimum(nearest, ((points - points[pick]) ** 2).sum(axis=1))
    return points[chosen].copy()


def _lloyd(points: Floats, weights: Floats, centers: Floats, rounds: int = 100) -> Ints:
    """Weighted k-means from the given centres; an emptied centre stays where it was."""
    k = len(centers)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(rounds):
        labels = np.argmin(cdist(points, centers, "sqeuclidean"), axis=1).astype(np.int64)
        mass = np.bincount(labels, weights=weights, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, points * weights[:, None])
        moved = np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-300)[:, None], centers)
        if np.array_equal(moved, centers):
            break
        centers = moved
    return labels


def _silhouette(distances: Floats, labels: Ints, k: int, copies: Floats) -> float:
    """Mean silhouette of points that stand for ``copies`` identical voters each.

    With one copy each this is Pol.is's silhouette over base clusters (0 for a singleton); a
    point that stands for identical voters counts them, at distance 0, as its own neighbours.
    """
    member = (labels[:, None] == np.arange(k)[None, :]) * copies[:, None]
    sizes = member.sum(axis=0)
    sums = distances @ member
    rows = np.arange(len(labels))
    own = sizes[labels]
    a = sums[rows, labels] / np.maximum(own - 1, 1)
    others = sums / np.maximum(sizes, 1)
    others[rows, labels] = np.inf
    others[:, sizes == 0] = np.inf
    b = others.min(axis=1)
    top = np.maximum(a, b)
    score = np.where((own > 1) & (top > 0), (b - a) / np.where(top > 0, top, 1.0), 0.0)
    return float((score * copies).sum() / copies.sum())


def _best_partition(
    centers: Floats,
    weights: Floats,
    copies: Floats,
    distances: Floats,
    k: int,
    smallest: float,
    settings: MapSettings,
    rng: np.random.Generator,
) -> tuple[float, Ints] | None:
    best: tuple[float, Ints] | None = None
    for _ in range(settings.restarts):
        labels = _lloyd(centers, weights, _plus_plus(centers, weights, k, rng))
        sizes = np.bincount(labels, weights=weights, minlength=k)
        if np.count_nonzero(sizes) < k or sizes.min() < smallest:
            continue
        score = _silhouette(distances, labels, k, copies)
        if best is None or score > best[0] + 1e-12:
            best = (score, labels)
    return best


def choose_groups(
    centers: Floats, weights: Floats, exact: bool, settings: MapSettings, seed: int
) -> tuple[Ints, float]:
    """Base cluster -> group, and the silhouette; one group when no split qualifies."""
    single = np.zeros(len(centers), dtype=np.int64)
    # Pol.is: at most 2 + bases / 12 groups; counted in voters here, so that voters who vote
    # identically (one base cluster) still get their groups.
    largest = min(settings.max_groups, 2 + int(weights.sum()) // 12, len(centers))
    if largest < 2:
        return single, 0.0
    rng = np.random.default_rng(seed)
    distances = cdist(centers, centers)
    # Exact base clusters (distinct points) stand for identical voters; k-means cells do not.
    copies = weights if exact else np.ones(len(centers))
    smallest = max(float(settings.min_group_size), settings.min_group_share * weights.sum())
    best: dict[int, tuple[float, Ints]] = {}
    for k in range(2, largest + 1):
        found = _best_partition(centers, weights, copies, distances, k, smallest, settings, rng)
        if found is not None:
            best[k] = found
    if not best:
        return single, 0.0
    top = max(score for score, _ in best.values())
    k = min(k for k, (score, _) in best.items() if score >= top - settings.k_tolerance)
    return best[k][1], best[k][0]


def canonical(groups: Ints, first_row: Ints, weights: Floats) -> Ints:
    """Renumber groups: largest first, ties by the earliest voter; returns old -> new."""
    k = int(groups.max()) + 1 if len(groups) else 0
    mass = np.bincount(groups, weights=weights, minlength=k)
    earliest = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(earliest, groups, first_row)
    order = sorted(range(k), key=lambda g: (-mass[g], earliest[g]))
    renumber = np.zeros(k, dtype=np.int64)
    for new, old in enumerate(order):
        renumber[old] = new
    return renumber
