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
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from summit.forum.rules.opinion_groups import (
    Model,
    base_clusters,
    canonical,
    choose_groups,
    principal_components,
)
from summit.forum.rules.opinion_summary import (
    AGREE,
    DISAGREE,
    PASS,
    ConsensusStatement,
    Floats,
    GroupSummary,
    Ints,
    MapSettings,
    OpinionMap,
    StatementStance,
    consensus,
    group_consensus,
    representatives,
    round_float,
    rounded,
)

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

_VALUES = (AGREE, DISAGREE, PASS)
#: Column of a vote value in the tallies: agree, disagree, pass.
_SLOT = {AGREE: 0, DISAGREE: 1, PASS: 2}


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


def _seed(seed: int | str) -> int:
    """An integer seed; a text seed (a summit's public seed) is hashed."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise ValueError(f"seed must be an integer or a text, got {seed!r}")
    if isinstance(seed, str):
        return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    return seed % 2**32


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
        self._model: Model | None = None
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
        self._position[voter] = (round_float(point[0]), round_float(point[1]))
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
        components = principal_components(centred, list(self._statements), self.seed)
        excluded = frozenset(s for s in self._excluded if s in self._statements)
        votes_per_row = np.bincount(rows, minlength=centred.shape[0]) + len(excluded)
        scale = np.sqrt(centred.shape[1] / np.maximum(votes_per_row, 1))
        points = np.asarray(centred @ components.T) * scale[:, None]
        self._members = self._on_map()
        index = {voter: i for i, voter in enumerate(self._ballots)}
        member_rows = np.asarray([index[v] for v in self._members], dtype=np.int64)
        on_map = points[member_rows]
        base_centers, base_labels, exact = base_clusters(
            on_map, self.settings.base_clusters, self.seed
        )
        weights = np.bincount(base_labels, minlength=len(base_centers)).astype(np.float64)
        base_groups, silhouette = choose_groups(
            base_centers, weights, exact, self.settings, self.seed
        )
        first_row = np.full(len(base_centers), np.iinfo(np.int64).max)
        np.minimum.at(first_row, base_labels, np.arange(len(base_labels)))
        base_groups = canonical(base_groups, first_row, weights)[base_groups]
        n_groups = int(base_groups.max()) + 1
        self._model = Model(
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
            v: (p[0], p[1]) for v, p in zip(self._members, rounded(on_map).tolist(), strict=True)
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
            consensus=consensus(names, tally, self.settings),
            silhouette=model.silhouette,
            voters=len(self._ballots),
            votes=self._n_votes,
            statements=len(self._statements),
            excluded=tuple(sorted(self._excluded)),
        )

    def _summary(self, names: list[str], tally: Floats, group: int, points: Floats) -> GroupSummary:
        center = (
            (round_float(points[:, 0].mean()), round_float(points[:, 1].mean()))
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
            representative=representatives(names, tally, group, self.settings),
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
