"""Table seating for the summit day (tafelindeling): patterns from the mix, rounds without repeated
meetings, hybrid venue/online tables, topic rounds, and on-the-day repairs.

Pure functions on plain dataclasses; deterministic in (participants, settings, seed string).
Exceptions: ``SeatingError`` (a ``ValueError``) for every malformed or impossible request.
"""

from __future__ import annotations

from summit.domain.seating_day import apply_move, check_move, rebalance
from summit.domain.seating_model import (
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
from summit.domain.seating_pattern import derive_pattern
from summit.domain.seating_rounds import evaluate, seat_rounds
from summit.domain.seating_topics import TopicSeating, TopicTable, seat_topics

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
