"""Plain data for table seating (tafelindeling): participants, settings, the seating itself.

Exceptions: ``SeatingError`` (a ``ValueError``) for every impossible or malformed request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from summit.core.i18n import gettext as _
from summit.core.rules.roles import Role, role_words

ROLES: tuple[str, ...] = tuple(r.value for r in Role)
VENUE = "venue"
ONLINE = "online"
MODES: tuple[str, ...] = (VENUE, ONLINE)


def mode_words(mode: str) -> str:
    """Where people of a mode sit, as a sentence says it ("at the venue", "online")."""
    return {VENUE: _("at the venue"), ONLINE: _("online")}.get(mode, mode)


def seat_words(name: str) -> str:
    """A seat type (or role) as a sentence names it; an organiser's own seat type as it is."""
    if name == "public":  # the default seat type civil servants and politicians share
        return _("Civil servant or politician")
    return role_words(name)


class SeatingError(ValueError):
    """A seating request that is malformed or cannot be met; the message names the field."""


@dataclass(frozen=True)
class SeatType:
    """A kind of seat and the roles that may take it (e.g. civil servant *or* politician)."""

    name: str
    roles: frozenset[str]


#: The Dutch G1000 grouping: 5 residents, 1 employer, 1 civil servant or politician, 1 free thinker
#: at a table of 8 when the mix is 625/125/125/125 of 1,000.
DEFAULT_SEAT_TYPES: tuple[SeatType, ...] = (
    SeatType("resident", frozenset({"resident"})),
    SeatType("employer", frozenset({"employer"})),
    SeatType("public", frozenset({"civil_servant", "politician"})),
    SeatType("free_thinker", frozenset({"free_thinker"})),
)


@dataclass(frozen=True)
class Participant:
    """A summit participant (deelnemer). ``features`` holds the demographic values to balance."""

    id: str
    role: str
    features: Mapping[str, str] = field(default_factory=dict)
    mode: str = VENUE


@dataclass(frozen=True)
class Host:
    """A table host or secretary (tafelsecretaris); not counted in the table pattern."""

    id: str
    mode: str = VENUE


@dataclass(frozen=True)
class Constraints:
    """Seating wishes that must hold in every round.

    ``keep_together``: groups seated at one table (a person and their interpreter).
    ``keep_apart``: groups of which no two share a table (one household).
    ``fixed_tables``: participant id → table number (an accessible table), for every round.
    """

    keep_together: tuple[frozenset[str], ...] = ()
    keep_apart: tuple[frozenset[str], ...] = ()
    fixed_tables: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class VenueArea:
    """A room or area of the venue that holds ``tables`` consecutive table numbers."""

    label: str
    tables: int


@dataclass(frozen=True)
class SeatingSettings:
    """How to seat a summit. ``hosts_stay`` keeps hosts at their table (World Café)."""

    rounds: int = 4
    table_size: int = 8
    seat_types: tuple[SeatType, ...] = DEFAULT_SEAT_TYPES
    features: tuple[str, ...] = ()
    feature_weights: Mapping[str, float] = field(default_factory=dict)
    constraints: Constraints = field(default_factory=Constraints)
    hosts: tuple[Host, ...] = ()
    hosts_stay: bool = True
    hybrid_tables: int = 0
    remote_seats_per_hybrid_table: int = 0
    venue_areas: tuple[VenueArea, ...] = ()
    effort: float = 1.0


@dataclass(frozen=True)
class Table:
    """One table. ``seats``: seat type → seats for people on site (or online, at online tables);
    ``remote_seats``: seat type → seats for online people joining a hybrid venue table."""

    number: int
    mode: str
    area: str
    seats: tuple[tuple[str, int], ...]
    remote_seats: tuple[tuple[str, int], ...] = ()

    @property
    def hybrid(self) -> bool:
        return any(n for _, n in self.remote_seats)

    @property
    def size(self) -> int:
        return sum(n for _, n in self.seats) + sum(n for _, n in self.remote_seats)


@dataclass(frozen=True)
class Seating:
    """Who sits where in each round. Rounds and tables are numbered from 1 in every method.

    ``rounds[r - 1][t - 1]`` holds the sorted ids at table ``t`` in round ``r``;
    ``hosts[r - 1][t - 1]`` the host id (or ``None``).
    """

    tables: tuple[Table, ...]
    rounds: tuple[tuple[tuple[str, ...], ...], ...]
    hosts: tuple[tuple[str | None, ...], ...]
    participants: tuple[Participant, ...]
    settings: SeatingSettings
    seed: str

    def table_of(self, round_no: int, participant_id: str) -> int | None:
        """Table number of a participant in a round, ``None`` when not seated (absent)."""
        for number, members in enumerate(self.rounds[round_no - 1], start=1):
            if participant_id in members:
                return number
        return None

    def participant(self, participant_id: str) -> Participant:
        for p in self.participants:
            if p.id == participant_id:
                return p
        raise SeatingError(
            "participant: "
            + (_("unknown id %(participant_id)r") % {"participant_id": participant_id})
        )


@dataclass(frozen=True)
class Move:
    """One change for the audit log: ``from_table``/``to_table`` ``None`` = leaves/arrives."""

    round: int
    participant_id: str
    from_table: int | None
    to_table: int | None
    reason: str


@dataclass(frozen=True)
class Violation:
    """A broken seating rule in plain words; ``rule`` is a stable key for the UI."""

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SeatingReport:
    """Quality of a seating. ``pattern_compliance``: share of (round, table) pairs whose seat-type
    counts follow a valid pattern for the people present; ``diversity_score``: mean over tables
    and features of 1 - total variation distance to the room's shares (1 = a perfect mirror);
    ``repeated_pairs_lower_bound``: pairs that meet more than once in *every* seating with these
    tables and rounds (a counting and a pigeonhole bound per pool), so repeats down to it are
    unavoidable."""

    repeated_pairs: int
    repeated_meetings: int
    pattern_compliance: float
    diversity_score: float
    keep_apart_violations: int
    keep_together_violations: int
    fixed_seat_violations: int
    repeated_pairs_lower_bound: int = 0
