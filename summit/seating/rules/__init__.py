"""Table seating for the summit day (tafelindeling): patterns from the mix, rounds without repeated
meetings, hybrid venue/online tables, topic rounds, and on-the-day repairs.

Pure functions on plain dataclasses; deterministic in (participants, settings, seed string).
Exceptions: ``SeatingError`` (a ``ValueError``) for every malformed or impossible request.
"""

from __future__ import annotations

from summit.seating.rules.day import apply_move, check_move, rebalance
from summit.seating.rules.model import (
    DEFAULT_SEAT_TYPES,
    MODES,
    ONLINE,
    ROLES,
    VENUE,
    Constraints,
    Host,
    Move,
    Participant,
    Seating,
    SeatingError,
    SeatingReport,
    SeatingSettings,
    SeatType,
    Table,
    VenueArea,
    Violation,
)
from summit.seating.rules.pattern import derive_pattern
from summit.seating.rules.report import evaluate
from summit.seating.rules.rounds import seat_rounds
from summit.seating.rules.topics import TopicSeating, TopicTable, seat_topics

__all__ = [
    "DEFAULT_SEAT_TYPES",
    "MODES",
    "ONLINE",
    "ROLES",
    "VENUE",
    "Constraints",
    "Host",
    "Move",
    "Participant",
    "SeatType",
    "Seating",
    "SeatingError",
    "SeatingReport",
    "SeatingSettings",
    "Table",
    "TopicSeating",
    "TopicTable",
    "VenueArea",
    "Violation",
    "apply_move",
    "check_move",
    "derive_pattern",
    "evaluate",
    "rebalance",
    "seat_rounds",
    "seat_topics",
]
