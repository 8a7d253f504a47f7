"""Partition embeddings into themes: a Ward tree picks the number, constrained k-means refines.

1. A Ward tree is built over the vectors (over a seeded sample of ``max_tree_items`` when there are
   more). Cutting it into k groups leaves a within-group sum of squares SSE(k).
2. k minimises ``log SSE(k) + threshold * k``: a further theme is worth it while it lowers the
   within-theme spread by more than ``threshold`` (relative). The rule has no term in n, so it
   behaves alike for 200 and 5,000 ideas. ``granularity`` moves the cut: +1 halves the threshold
   (more themes), -1 doubles it (fewer). ``n_themes`` forces k.
3. The cut's centroids seed a k-means (Lloyd) refinement in which must-link groups move as one and
   every anchored group (a moderator's theme) owns its own cluster, so two anchors never merge.

Everything is deterministic given the vectors, the groups and the seed. The threshold 0.006 was
chosen on five labelled sets (docs/benchmarks.md); silhouette was not used because it is an
unreliable guide to k on sentence embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from clustering.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "ClusterSettings", "choose_k", "partition"]

DEFAULT_THRESHOLD = 0.006


@dataclass(frozen=True)
class ClusterSettings:
    """How themes are cut. ``granularity`` is the moderator's fewer/more-themes control."""

    threshold: float = DEFAULT_THRESHOLD
    granularity: float = 0.0
    n_themes: int | None = None
    max_tree_items: int = 3000
    max_themes: int = 300
    seed: int = 0
    max_iter: int = 100

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise InputError("threshold must be positive")
        if not -5.0 <= self.granularity <= 5.0:
            raise InputError("granularity must lie between -5 and 5")
        if self.n_themes is not None and self.n_themes < 1:
            raise InputError("n_themes must be at least 1")
        if self.max_tree_items < 2 or self.max_themes < 1 or self.max_iter < 1:
            raise InputError("max_tree_items, max_themes and max_iter must be positive")

    @property
    def effective_threshold(self) -> float:
        return float(self.threshold * 2.0 ** (-self.granularity))


def _check(vectors: NDArray[np.floating]) -> NDArray[np.float64]:
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2:
        raise InputError(f"vectors must be a 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise InputError(f"vector {row} contains NaN or infinity")
    return array


def _tree_sample(n: int, settings: ClusterSettings) -> NDArray[np.intp]:
    if n <= settings.max_tree_items:
        return np.arange(n)
    rng = np.random.default_rng(settings.seed)
    return np.sort(rng.choice(n, size=settings.max_tree_items, replace=False))


def choose_k(
    vectors: NDArray[np.floating], settings: ClusterSettings | None = None
) -> tuple[int, NDArray[np.float64]]:
    """The number of themes and the seed centroids from the Ward cut (rows of the result)."""
    settings = settings or ClusterSettings()
    x = _check(vectors)
    n = len(x)
    if n == 0:
        return 0, np.zeros((0, x.shape[1] if x.ndim == 2 else 0))
    if n == 1:
        return 1, x.copy()
    sample = x[_tree_sample(n, settings)]
    m = len(sample)
    tree = linkage(sample, method="ward")
    # Merge i raises the within-group sum of squares by height**2 / 2 (Ward's criterion).
    cumulative = np.concatenate([[0.0], np.cumsum(tree[:, 2] ** 2 / 2.0)])
    total = cumulative[-1]
    if settings.n_themes is not None:
        k = min(settings.n_themes, m)
    elif total <= 1e-12:
        k = 1
    else:
        # In small pools the rule below keeps splitting (Ward finds a gain even in noise), so k
        # is capped at sqrt(n): 3 themes for 10 ideas, 7 for 50, 44 for 2,000 (not binding there).
        k_max = max(1, min(int(np.sqrt(m)), settings.max_themes))
        ks = np.arange(1, k_max + 1)
        # Within-theme variance per degree of freedom: with SSE alone, cutting a pool into pairs
        # always looks like progress.
        variance = (cumulative[m - ks] + 1e-9 * total) / (m - ks)
        score = np.log(variance) + settings.effective_threshold * ks
        k = int(ks[np.argmin(score)])
    labels = fcluster(tree, t=k, criterion="maxclust")
    centroids = np.stack([sample[labels == c].mean(axis=0) for c in np.unique(labels)])
    return len(centroids), centroids


def _units(
    n: int, groups: Sequence[int] | None, anchored: Sequence[int]
) -> tuple[NDArray[np.intp], int, list[int]]:
    """Rows to must-link units: each row's unit, the number of units, the anchored units."""
    group_of_row = np.arange(n) if groups is None else np.asarray(groups)
    if group_of_row.shape != (n,):
        raise InputError(f"groups has {len(group_of_row)} entries for {n} vectors")
    group_ids, unit_of_row = np.unique(group_of_row, return_inverse=True)
    anchored_set = set(anchored)
    unknown = anchored_set - set(group_ids.tolist())
    if unknown:
        raise InputError(f"anchored groups {sorted(unknown)} have no rows")
    anchor_units = [int(np.searchsorted(group_ids, g)) for g in sorted(anchored_set)]
    return unit_of_row, len(group_ids), anchor_units


def partition(
    vectors: NDArray[np.floating],
    *,
    groups: Sequence[int] | None = None,
    anchored: Sequence[int] = (),
    settings: ClusterSettings | None = None,
) -> NDArray[np.intp]:
    """Theme number per row (0, 1, ... in order of first appearance).

    ``groups`` gives each row a must-link group id (rows sharing an id always share a theme);
    ``anchored`` lists group ids that each must own a distinct theme (moderator-curated themes).
    """
    settings = settings or ClusterSettings()
    x = _check(vectors)
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    unit_of_row, n_units, anchor_units = _units(n, groups, anchored)

    counts = np.bincount(unit_of_row, minlength=n_units).astype(np.float64)
    sums = np.zeros((n_units, x.shape[1]))
    np.add.at(sums, unit_of_row, x)
    means = sums / counts[:, None]

    _, centers = choose_k(x, settings)
    # Anchors take over the seed centroids nearest to them; any anchor left over adds a centroid.
    fixed: dict[int, int] = {}
    if anchor_units:
        cost = ((means[anchor_units][:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            fixed[anchor_units[r]] = int(c)
        extra = [u for u in anchor_units if u not in fixed]
        for u in extra:
            fixed[u] = len(centers)
            centers = np.vstack([centers, means[u]])
    free = np.array([u for u in range(n_units) if u not in fixed], dtype=np.intp)

    assignment = np.full(n_units, -1, dtype=np.intp)
    for u, c in fixed.items():
        assignment[u] = c
    for _ in range(settings.max_iter):
        previous = assignment.copy()
        if len(free):
            distances = (
                (means[free] ** 2).sum(axis=1)[:, None]
                - 2.0 * means[free] @ centers.T
                + (centers**2).sum(axis=1)[None, :]
            )
            assignment[free] = np.argmin(distances, axis=1)
        weight = np.bincount(assignment, weights=counts, minlength=len(centers))
        new_sums = np.zeros_like(centers)
        np.add.at(new_sums, assignment, sums)
        alive = weight > 0
        centers = np.where(alive[:, None], new_sums / np.maximum(weight, 1e-12)[:, None], centers)
        # An emptied centroid would linger forever at its old place: drop it.
        if not alive.all():
            remap = np.cumsum(alive) - 1
            centers = centers[alive]
            assignment = remap[assignment]
            for u in fixed:
                fixed[u] = int(remap[fixed[u]])
            previous = np.full_like(assignment, -1)
        if np.array_equal(previous, assignment):
            break

    labels_of_row = assignment[unit_of_row]
    order: dict[int, int] = {}
    for value in labels_of_row.tolist():
        order.setdefault(value, len(order))
    return np.array([order[v] for v in labels_of_row.tolist()], dtype=np.intp)
