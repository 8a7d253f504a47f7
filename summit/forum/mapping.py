"""The forum's side of the opinion map: feeding ``rules.opinion_map``'s builder with stored votes
(statement and reactor ids as text) and turning its map into what the pages draw.

``LiveMap`` wraps one ``OpinionMapBuilder`` with ``auto_rebuild`` off: a vote is placed at once
(milliseconds), and the caller runs the full rebuild away from the request (``OpinionService``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from summit.forum.rules.opinion_map import OpinionMap, OpinionMapBuilder, Vote

#: Largest number of voters drawn as dots (every n-th voter beyond it, in a fixed order).
MAX_POINTS = 1500
SIZE = 320
MARGIN = 16
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class GroupView:
    number: int
    size: int
    center: tuple[float, float]
    #: statement id -> share of the group's votes that agree / disagree
    agree: dict[int, float]
    disagree: dict[int, float]


@dataclass(frozen=True)
class ConsensusView:
    statement_id: int
    stance: str  # agree | disagree
    score: float


@dataclass(frozen=True)
class MapView:
    seed: str
    voters: int
    votes: int
    groups: list[GroupView]
    points: list[tuple[float, float, int]]  # x, y, group
    consensus: list[ConsensusView]

    @property
    def consensus_ids(self) -> list[int]:
        return [c.statement_id for c in self.consensus]


EMPTY = MapView(seed="", voters=0, votes=0, groups=[], points=[], consensus=[])


def _view(found: OpinionMap, seed: str) -> MapView:
    groups = [
        GroupView(
            number=g.id,
            size=g.size,
            center=g.center,
            agree={int(s.statement): s.agree for s in g.representative},
            disagree={int(s.statement): s.disagree for s in g.representative},
        )
        for g in found.summaries
    ]
    voters = sorted(found.coordinates, key=int)
    points = [(*found.coordinates[v], found.groups[v]) for v in voters]
    consensus = [ConsensusView(int(c.statement), c.stance, c.score) for c in found.consensus]
    return MapView(seed, found.voters, found.votes, groups, points, consensus)


class LiveMap:
    """A summit's builder and the view of its latest state."""

    def __init__(self, seed: str, excluded: Iterable[int] = ()) -> None:
        self.seed = seed
        self.builder = OpinionMapBuilder(
            seed=seed, excluded_statements=[str(i) for i in excluded], auto_rebuild=False
        )
        self._view: MapView | None = None
        #: every vote as the builder holds it ((voter << 32) | statement -> value), so a vote
        #: read again (another process's catch-up overlaps) is not placed twice
        self._known: dict[int, int] = {}

    @classmethod
    def build(
        cls, votes: Iterable[tuple[int, int, int]], excluded: Iterable[int], seed: str
    ) -> LiveMap:
        """A full build from (reactor, statement, value) votes in the order first cast
        (blocking: run it in a thread)."""
        live = cls(seed, excluded)
        live.builder.add_votes(Vote(str(r), str(s), v) for r, s, v in votes)
        live._known = {(r << 32) | s: v for r, s, v in votes}
        live.builder.rebuild()
        live.view()
        return live

    def vote(self, reactor_id: int, statement_id: int, value: int) -> bool:
        """Place a vote; False (and nothing done) when the map already holds it."""
        key = (reactor_id << 32) | statement_id
        if self._known.get(key) == value:
            return False
        self._known[key] = value
        self.builder.add_vote(Vote(str(reactor_id), str(statement_id), value))
        self._view = None
        return True

    def exclude(self, statement_id: int) -> None:
        self.builder.exclude_statement(str(statement_id))
        self._view = None

    @property
    def rebuild_due(self) -> bool:
        return self.builder.rebuild_due

    def view(self) -> MapView:
        if self._view is None:
            self._view = _view(self.builder.snapshot(), self.seed)
        return self._view


@dataclass(frozen=True)
class SvgMap:
    size: int
    radius: float
    points: list[tuple[float, float, int]]
    centres: list[tuple[float, float, str]]
    letters: str
    shown: int


def svg_points(view: MapView) -> SvgMap:
    """The map's voters and group centres in SVG coordinates (0..SIZE, y downwards)."""
    step = max(1, -(-len(view.points) // MAX_POINTS))
    sample = view.points[::step]
    xs = [p[0] for p in view.points] or [0.0]
    ys = [p[1] for p in view.points] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)

    def place(x: float, y: float) -> tuple[float, float]:
        scale = (SIZE - 2 * MARGIN) / span
        return (
            round(MARGIN + (x - min(xs)) * scale, 1),
            round(SIZE - MARGIN - (y - min(ys)) * scale, 1),
        )

    points = [(*place(x, y), g) for x, y, g in sample]
    centres = [(*place(*g.center), LETTERS[g.number % 26]) for g in view.groups]
    radius = 4.0 if len(sample) < 200 else 2.5
    return SvgMap(SIZE, radius, points, centres, LETTERS, len(sample))
