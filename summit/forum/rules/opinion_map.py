"""The opinion map: opinion groups, their distinctive statements, consensus and a 2-D map, from
agree / disagree / pass votes on short statements (the Burgerforum's common-ground finder).

Pure and deterministic: the same votes (in the same order), excluded statements, settings and
seed give the same map, byte for byte in ``to_json()``. The method follows Pol.is where that
measurably matters and goes beyond it where a gain was measured (``docs/opinion-map.md``):

1. Who is on the map: a voter joins once they have voted on ``min(7, statements so far)``
   statements and then stays; while fewer than 15 are on it, the most active voters are added
   (recomputed at every build, so it never depends on when builds happened).
2. A voters x statements matrix (1 agree, -1 disagree, 0 pass). A statement moderated out counts
   as a pass from every voter, exactly as Pol.is zeroes its column. A missing vote is imputed
   with the statement's mean, so the centred matrix is sparse: 200,000 votes stay 200,000 numbers.
3. Two principal components of all voters; a voter's point is the projection of their own votes
   only, pushed out by ``sqrt(statements / votes)`` (Pol.is's sparsity-aware scaling).
4. At most 100 base clusters (k-means) of the voters on the map; then the groups: weighted
   k-means of the base clusters for k = 2 .. min(5, 2 + voters / 12), 20 seeded starts per k,
   each group at least 5 % of the voters (and at least 3). Per k the partition with the best
   silhouette wins (Pol.is keeps whatever its last warm-started run converged to), and the
   smallest k within 0.01 of the best silhouette is shown (Pol.is smooths k over time).
5. Per group and statement the agree / disagree / pass tallies give each group's representative
   statements (Pol.is's repness: smoothed ratio to the other groups and z-tests) and the
   group-informed consensus (product over groups of the smoothed agree share ``(A+1)/(S+2)``).

``OpinionMapBuilder`` keeps the last full build and places each new vote on it at once: the voter
is re-projected with the built components and joins the nearest base cluster's group, and the
group tallies move with them. A full rebuild runs when the votes have grown by 10 % (at least 50
votes) or a statement's moderation changed. After a rebuild the builder equals ``build_map`` on
the same votes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial.distance import cdist

__all__ = [
    "AGREE",
    "DISAGREE",
    "PASS",
    "ConsensusStatement",
    "GroupSummary",
    "MapSettings",
    "OpinionMap",
    "OpinionMapBuilder",
    "StatementStance",
    "Vote",
    "build_map",
    "group_consensus",
]

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

AGREE, DISAGREE, PASS = 1, -1, 0
_VALUES = (AGREE, DISAGREE, PASS)
#: Column of a vote value in the tallies: agree, disagree, pass.
_SLOT = {AGREE: 0, DISAGREE: 1, PASS: 2}
#: One-sided 90 % significance of a z statistic (Pol.is's threshold).
_Z90 = 1.2816
_DIGITS = 6


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vote:
    """One vote: 1 agree, -1 disagree, 0 pass. A later vote on the same statement replaces it."""

    voter: str
    statement: str
    value: int

    def __post_init__(self) -> None:
        for name in ("voter", "statement"):
            found = getattr(self, name)
            if not isinstance(found, str) or not found:
                raise ValueError(f"Vote.{name} must be a non-empty string, got {found!r}")
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"Vote.value must be 1, -1 or 0 (an integer), got {value!r}")
        if int(value) not in _VALUES:
            raise ValueError(
                f"Vote.value must be 1 (agree), -1 (disagree) or 0 (pass), got {value!r}"
            )
        object.__setattr__(self, "value", int(value))


@dataclass(frozen=True, slots=True)
class MapSettings:
    """The method's knobs; the defaults are the measured ones (``docs/opinion-map.md``)."""

    #: Votes a voter needs to join the map (or all statements, when there are fewer).
    min_votes: int = 7
    #: While fewer voters qualify, the most active ones are added up to this many.
    min_voters: int = 15
    base_clusters: int = 100
    max_groups: int = 5
    #: Smallest group, as a share of the voters on the map, and absolutely.
    min_group_share: float = 0.05
    min_group_size: int = 3
    #: Seeded k-means starts per number of groups.
    restarts: int = 20
    #: A larger number of groups must beat the smaller one's silhouette by more than this.
    k_tolerance: float = 0.01
    #: Consensus: every group's smoothed agree (or disagree) share at least this.
    consensus_share: float = 0.6
    #: Representative statements listed per group.
    representatives: int = 5
    #: The builder rebuilds when votes grew by this share since the last build (at least
    #: ``rebuild_min_votes`` votes).
    rebuild_growth: float = 0.1
    rebuild_min_votes: int = 50

    def __post_init__(self) -> None:
        for name in (
            "min_votes",
            "min_voters",
            "base_clusters",
            "max_groups",
            "min_group_size",
            "restarts",
            "representatives",
            "rebuild_min_votes",
        ):
            _check(name, getattr(self, name), 1, None, integer=True)
        _check("min_group_share", self.min_group_share, 0.0, 0.5)
        _check("k_tolerance", self.k_tolerance, 0.0, 1.0)
        _check("consensus_share", self.consensus_share, 0.5, 1.0)
        _check("rebuild_growth", self.rebuild_growth, 0.0, None)


def _check(
    name: str, value: float, low: float, high: float | None, *, integer: bool = False
) -> None:
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"MapSettings.{name} must be {kind}, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"MapSettings.{name} must be {bound}, got {value!r}")


def _seed(seed: int | str) -> int:
    """An integer seed; a text seed (a summit's public seed) is hashed."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise ValueError(f"seed must be an integer or a text, got {seed!r}")
    if isinstance(seed, str):
        return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    return seed % 2**32


# --- outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementStance:
    """A statement that sets a group apart, with the group's shares of agree/disagree/pass."""

    statement: str
    stance: str
    agree: float
    disagree: float
    passed: float
    votes: int
    #: How much likelier the stance is inside the group than outside it (smoothed).
    ratio: float
    #: Two-proportion z statistic of the stance, group against the other groups.
    z: float


@dataclass(frozen=True, slots=True)
class GroupSummary:
    id: int
    size: int
    center: tuple[float, float]
    representative: tuple[StatementStance, ...]


@dataclass(frozen=True, slots=True)
class ConsensusStatement:
    """A statement every group leans the same way on; ``shares`` per group, smoothed."""

    statement: str
    stance: str
    score: float
    shares: tuple[float, ...]


@dataclass(frozen=True)
class OpinionMap:
    """One state of the map. ``groups`` and ``coordinates`` cover the voters on the map."""

    seed: int
    groups: Mapping[str, int]
    coordinates: Mapping[str, tuple[float, float]]
    summaries: tuple[GroupSummary, ...]
    consensus: tuple[ConsensusStatement, ...]
    silhouette: float
    voters: int
    votes: int
    statements: int
    excluded: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return len(self.summaries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "voters": self.voters,
            "votes": self.votes,
            "statements": self.statements,
            "excluded": list(self.excluded),
            "silhouette": _round(self.silhouette),
            "participants": {
                voter: {
                    "group": group,
                    "x": self.coordinates[voter][0],
                    "y": self.coordinates[voter][1],
                }
                for voter, group in self.groups.items()
            },
            "groups": [
                {
                    "id": g.id,
                    "size": g.size,
                    "center": list(g.center),
                    "representative": [_stance_dict(s) for s in g.representative],
                }
                for g in self.summaries
            ],
            "consensus": [
                {
                    "statement": c.statement,
                    "stance": c.stance,
                    "score": c.score,
                    "shares": list(c.shares),
                }
                for c in self.consensus
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def _stance_dict(s: StatementStance) -> dict[str, Any]:
    return {
        "statement": s.statement,
        "stance": s.stance,
        "agree": s.agree,
        "disagree": s.disagree,
        "pass": s.passed,
        "votes": s.votes,
        "ratio": s.ratio,
        "z": s.z,
    }


def _round(x: float) -> float:
    value = round(float(x), _DIGITS)
    return 0.0 if value == 0 else value


def _rounded(values: Floats) -> Floats:
    """Rounded for export, without negative zeros."""
    return np.asarray(np.round(values, _DIGITS) + 0.0)


# --- the model of one full build ----------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
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


def _components(centred: sparse.csr_matrix, names: list[str], seed: int) -> Floats:
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


def _base_clusters(points: Floats, k: int, seed: int) -> tuple[Floats, Ints, bool]:
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


def _choose_groups(
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


def _canonical(groups: Ints, first_row: Ints, weights: Floats) -> Ints:
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


# --- statistics from tallies --------------------------------------------------------------------


def _prop_z(success: Floats, trials: Floats) -> Floats:
    """Pol.is's one-proportion z (against one half), with a pseudo-count."""
    return np.asarray(2 * np.sqrt(trials + 1) * ((success + 1) / (trials + 1) - 0.5))


def _two_prop_z(
    success_in: Floats, success_out: Floats, trials_in: Floats, trials_out: Floats
) -> Floats:
    s1, s2, n1, n2 = success_in + 1, success_out + 1, trials_in + 1, trials_out + 1
    pooled = (s1 + s2) / (n1 + n2)
    spread = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / n1 + 1 / n2), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s1 / n1 - s2 / n2) / spread
    return np.asarray(np.where(spread > 0, z, 0.0))


def group_consensus(tally: Floats, share: float) -> tuple[Floats, Floats, Floats, Floats]:
    """Group-informed consensus from a statements x groups x (agree, disagree, pass) tally.

    Returns the agree and disagree scores (product over groups of ``(n+1)/(S+2)``, Pol.is's
    group-aware consensus) and whether every group's smoothed share reaches ``share``.
    """
    seen = tally.sum(axis=2)
    agree = (tally[:, :, 0] + 1) / (seen + 2)
    disagree = (tally[:, :, 1] + 1) / (seen + 2)
    return (
        agree.prod(axis=1),
        disagree.prod(axis=1),
        (agree >= share).all(axis=1).astype(np.float64),
        (disagree >= share).all(axis=1).astype(np.float64),
    )


def _consensus(
    statements: list[str], tally: Floats, settings: MapSettings
) -> tuple[ConsensusStatement, ...]:
    if tally.shape[1] == 0:
        return ()
    agree, disagree, agreed, rejected = group_consensus(tally, settings.consensus_share)
    seen = tally.sum(axis=2) + 2
    found: list[tuple[float, int, ConsensusStatement]] = []
    for stance, score, passed, slot in (
        ("agree", agree, agreed, 0),
        ("disagree", disagree, rejected, 1),
    ):
        rows = np.flatnonzero(passed)
        shares = _rounded((tally[rows, :, slot] + 1) / seen[rows]).tolist()
        scores = _rounded(score[rows]).tolist()
        found.extend(
            (-float(score[i]), int(i), ConsensusStatement(statements[i], stance, sc, tuple(sh)))
            for i, sc, sh in zip(rows, scores, shares, strict=True)
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(item[2] for item in found)


def _representatives(
    statements: list[str], tally: Floats, group: int, settings: MapSettings
) -> tuple[StatementStance, ...]:
    """Pol.is's repness for one group: significant and distinctive statements, best first."""
    inside = tally[:, group, :]
    outside = tally.sum(axis=1) - inside
    n_in, n_out = inside.sum(axis=1), outside.sum(axis=1)
    stats = {}
    for name, slot in (("agree", 0), ("disagree", 1)):
        p = (inside[:, slot] + 1) / (n_in + 2)
        ratio = p / ((outside[:, slot] + 1) / (n_out + 2))
        z_share = _prop_z(inside[:, slot], n_in)
        z_rest = _two_prop_z(inside[:, slot], outside[:, slot], n_in, n_out)
        significant = (z_rest > _Z90) & (z_share > _Z90)
        stats[name] = (ratio, z_rest, ratio * z_rest * p * z_share, significant)
    agree_first = stats["agree"][1] > stats["disagree"][1]
    voted = n_in > 0
    passing = voted & np.where(agree_first, stats["agree"][3], stats["disagree"][3])
    metric = np.where(agree_first, stats["agree"][2], stats["disagree"][2])
    rows = np.flatnonzero(passing)
    chosen = [int(i) for i in rows[np.lexsort((rows, -metric[rows]))]]
    if not chosen and voted.any():
        strongest = np.where(voted, np.maximum(stats["agree"][1], stats["disagree"][1]), -np.inf)
        chosen = [int(np.argmax(strongest))]
    found = []
    for i in chosen[: settings.representatives]:
        name = "agree" if agree_first[i] else "disagree"
        votes = max(int(n_in[i]), 1)
        found.append(
            StatementStance(
                statement=statements[i],
                stance=name,
                agree=_round(inside[i, 0] / votes),
                disagree=_round(inside[i, 1] / votes),
                passed=_round(inside[i, 2] / votes),
                votes=int(n_in[i]),
                ratio=_round(stats[name][0][i]),
                z=_round(stats[name][1][i]),
            )
        )
    return tuple(found)


# --- the builder --------------------------------------------------------------------------------


class OpinionMapBuilder:
    """The live map: add votes as they arrive, read ``snapshot()`` at any time.

    Not thread-safe: feed one builder from one task (or behind a lock). ``auto_rebuild`` runs a
    full rebuild inside ``add_vote`` when one is due; turn it off to run ``rebuild()`` yourself
    (e.g. in a worker) when ``rebuild_due``.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        excluded_statements: Iterable[str] = (),
        settings: MapSettings | None = None,
        auto_rebuild: bool = True,
    ) -> None:
        self.seed = _seed(seed)
        self.settings = settings or MapSettings()
        self.auto_rebuild = auto_rebuild
        if isinstance(excluded_statements, str):
            raise ValueError("excluded_statements must be a collection of statements, not a text")
        self._excluded: set[str] = set(excluded_statements)
        self._ballots: dict[str, dict[str, int]] = {}
        self._statements: dict[str, int] = {}
        self._qualified: dict[str, None] = {}
        self._n_votes = 0
        self._model: _Model | None = None
        self._stale = False
        self._since = 0
        self._votes_at_build = 0
        self._members: dict[str, None] = {}
        self._position: dict[str, tuple[float, float]] = {}
        self._group: dict[str, int] = {}
        self._tally: Floats = np.zeros((0, 0, 3))

    # -- feeding --

    def add_votes(self, votes: Iterable[Vote]) -> None:
        for vote in votes:
            self.add_vote(vote)

    def add_vote(self, vote: Vote) -> None:
        if not isinstance(vote, Vote):
            raise ValueError(f"vote must be a Vote, got {type(vote).__name__}")
        ballot = self._ballots.setdefault(vote.voter, {})
        if vote.statement not in self._statements:
            self._statements[vote.statement] = len(self._statements)
        old = ballot.get(vote.statement)
        if old is None:
            self._n_votes += 1
        else:
            self._uncount(vote.voter, vote.statement, old)
        ballot[vote.statement] = vote.value
        self._since += 1
        needed = min(self.settings.min_votes, len(self._statements))
        if vote.voter not in self._qualified and len(ballot) >= needed:
            self._qualified[vote.voter] = None
        if self._model is not None:
            self._place(vote.voter, vote.statement, vote.value)
        if self.auto_rebuild and self.rebuild_due:
            self.rebuild()

    def exclude_statement(self, statement: str) -> None:
        """Moderated out: counts as a pass from everyone from the next rebuild on."""
        if statement not in self._excluded:
            self._excluded.add(statement)
            self._stale = True

    def include_statement(self, statement: str) -> None:
        if statement in self._excluded:
            self._excluded.discard(statement)
            self._stale = True

    @property
    def rebuild_due(self) -> bool:
        if not self._ballots:
            return False
        if self._model is None or self._stale:
            return True
        needed = max(
            float(self.settings.rebuild_min_votes),
            self.settings.rebuild_growth * self._votes_at_build,
        )
        return self._since >= needed

    def group_of(self, voter: str) -> int | None:
        return self._group.get(voter)

    def position_of(self, voter: str) -> tuple[float, float] | None:
        return self._position.get(voter)

    # -- incremental placement --

    def _ensure_capacity(self, index: int) -> None:
        if index < self._tally.shape[0]:
            return
        grown = np.zeros((max(2 * self._tally.shape[0], index + 64), *self._tally.shape[1:]))
        grown[: self._tally.shape[0]] = self._tally
        self._tally = grown

    def _uncount(self, voter: str, statement: str, value: int) -> None:
        group = self._group.get(voter)
        if group is not None:
            self._tally[self._statements[statement], group, _SLOT[value]] -= 1

    def _count(self, voter: str, group: int, sign: int) -> None:
        for statement, value in self._ballots[voter].items():
            index = self._statements[statement]
            self._ensure_capacity(index)
            self._tally[index, group, _SLOT[value]] += sign

    def _place(self, voter: str, statement: str, value: int) -> None:
        """Re-project a voter on the built model after a vote (already out of the tallies)."""
        model = self._model
        assert model is not None
        if voter not in self._members:
            if voter not in self._qualified:
                return
            self._members[voter] = None
        point = model.project(self._ballots[voter])
        group = model.group_of(point)
        self._position[voter] = (_round(point[0]), _round(point[1]))
        before = self._group.get(voter)
        self._group[voter] = group
        if before is None:
            self._count(voter, group, +1)
            return
        index = self._statements[statement]
        self._ensure_capacity(index)
        # The new vote joins the group the voter was in, then the whole ballot moves if needed.
        self._tally[index, before, _SLOT[value]] += 1
        if before != group:
            self._count(voter, before, -1)
            self._count(voter, group, +1)

    # -- full rebuild --

    def _on_map(self) -> dict[str, None]:
        members = dict(self._qualified)
        order = {voter: i for i, voter in enumerate(self._ballots)}
        if len(members) < self.settings.min_voters:
            rest = sorted(
                (v for v in self._ballots if v not in members),
                key=lambda v: (-len(self._ballots[v]), order[v]),
            )
            for voter in rest[: self.settings.min_voters - len(members)]:
                members[voter] = None
        return dict.fromkeys(sorted(members, key=order.__getitem__))

    def _matrix(self) -> tuple[sparse.csr_matrix, Floats, Ints, Ints, Ints]:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        for row, ballot in enumerate(self._ballots.values()):
            for statement, value in ballot.items():
                if statement in self._excluded:
                    continue
                rows.append(row)
                cols.append(self._statements[statement])
                vals.append(value)
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        v = np.asarray(vals, dtype=np.int64)
        m = len(self._statements)
        counts = np.bincount(c, minlength=m)
        sums = np.bincount(c, weights=v.astype(np.float64), minlength=m)
        center = np.divide(sums, counts, out=np.zeros(m), where=counts > 0)
        centred = sparse.csr_matrix(
            (v - center[c], (r, c)), shape=(len(self._ballots), m), dtype=np.float64
        )
        centred.sort_indices()
        return centred, center, r, c, v

    def rebuild(self) -> None:
        """Full rebuild from all votes: components, base clusters, groups, tallies."""
        self._stale = False
        self._since = 0
        self._votes_at_build = self._n_votes
        if not self._ballots:
            self._model = None
            return
        centred, center, rows, cols, vals = self._matrix()
        components = _components(centred, list(self._statements), self.seed)
        excluded = frozenset(s for s in self._excluded if s in self._statements)
        votes_per_row = np.bincount(rows, minlength=centred.shape[0]) + len(excluded)
        scale = np.sqrt(centred.shape[1] / np.maximum(votes_per_row, 1))
        points = np.asarray(centred @ components.T) * scale[:, None]
        self._members = self._on_map()
        index = {voter: i for i, voter in enumerate(self._ballots)}
        member_rows = np.asarray([index[v] for v in self._members], dtype=np.int64)
        on_map = points[member_rows]
        base_centers, base_labels, exact = _base_clusters(
            on_map, self.settings.base_clusters, self.seed
        )
        weights = np.bincount(base_labels, minlength=len(base_centers)).astype(np.float64)
        base_groups, silhouette = _choose_groups(
            base_centers, weights, exact, self.settings, self.seed
        )
        first_row = np.full(len(base_centers), np.iinfo(np.int64).max)
        np.minimum.at(first_row, base_labels, np.arange(len(base_labels)))
        base_groups = _canonical(base_groups, first_row, weights)[base_groups]
        n_groups = int(base_groups.max()) + 1
        self._model = _Model(
            columns=dict(self._statements),
            excluded=excluded,
            center=center,
            components=components,
            n_columns=centred.shape[1],
            n_excluded=len(excluded),
            base_centers=base_centers,
            base_groups=base_groups,
            n_groups=n_groups,
            silhouette=silhouette,
        )
        groups = base_groups[base_labels]
        self._position = {
            v: (p[0], p[1]) for v, p in zip(self._members, _rounded(on_map).tolist(), strict=True)
        }
        self._group = {v: int(g) for v, g in zip(self._members, groups, strict=True)}
        self._recount(rows, cols, vals, member_rows, groups, n_groups)

    def _recount(
        self, rows: Ints, cols: Ints, vals: Ints, member_rows: Ints, groups: Ints, n_groups: int
    ) -> None:
        """Tallies from scratch (votes on excluded statements are left out: never reported)."""
        group_of_row = np.full(len(self._ballots), -1, dtype=np.int64)
        group_of_row[member_rows] = groups
        keep = group_of_row[rows] >= 0
        self._tally = np.zeros((len(self._statements) + 64, n_groups, 3))
        slots = np.select([vals == AGREE, vals == DISAGREE], [0, 1], 2)
        np.add.at(self._tally, (cols[keep], group_of_row[rows[keep]], slots[keep]), 1)

    # -- reading --

    def snapshot(self) -> OpinionMap:
        """The map now. Builds once if nothing was built yet (or moderation changed)."""
        if self._model is None or self._stale:
            self.rebuild()
        model = self._model
        if model is None:
            return _empty(self.seed)
        statements = list(self._statements)
        self._ensure_capacity(len(statements) - 1)
        reported = [i for i, s in enumerate(statements) if s not in self._excluded]
        tally = self._tally[: len(statements)][reported]
        names = [statements[i] for i in reported]
        groups = np.fromiter(self._group.values(), dtype=np.int64, count=len(self._group))
        points = np.asarray([self._position[v] for v in self._group], dtype=np.float64)
        points = points.reshape(-1, 2)
        summaries = tuple(
            self._summary(names, tally, g, points[groups == g]) for g in range(model.n_groups)
        )
        return OpinionMap(
            seed=self.seed,
            groups=dict(self._group),
            coordinates=dict(self._position),
            summaries=summaries,
            consensus=_consensus(names, tally, self.settings),
            silhouette=model.silhouette,
            voters=len(self._ballots),
            votes=self._n_votes,
            statements=len(self._statements),
            excluded=tuple(sorted(self._excluded)),
        )

    def _summary(self, names: list[str], tally: Floats, group: int, points: Floats) -> GroupSummary:
        center = (
            (_round(points[:, 0].mean()), _round(points[:, 1].mean()))
            if len(points)
            else (
                0.0,
                0.0,
            )
        )
        return GroupSummary(
            id=group,
            size=len(points),
            center=center,
            representative=_representatives(names, tally, group, self.settings),
        )


def _empty(seed: int) -> OpinionMap:
    return OpinionMap(
        seed=seed,
        groups={},
        coordinates={},
        summaries=(),
        consensus=(),
        silhouette=0.0,
        voters=0,
        votes=0,
        statements=0,
        excluded=(),
    )


def build_map(
    votes: Iterable[Vote],
    *,
    seed: int | str = 0,
    excluded_statements: Iterable[str] = (),
    settings: MapSettings | None = None,
) -> OpinionMap:
    """The map of these votes, in the order they were cast (a later vote replaces an earlier)."""
    builder = OpinionMapBuilder(
        seed=seed, excluded_statements=excluded_statements, settings=settings, auto_rebuild=False
    )
    builder.add_votes(votes)
    builder.rebuild()
    return builder.snapshot()
