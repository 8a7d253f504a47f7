"""Table seating (tafelindeling): rounds composed per the mix, topic rounds, the day's changes."""

from __future__ import annotations

from summit.seating.changes import MoveRefused, move_participant
from summit.seating.service import (
    Event,
    close_round,
    get_round,
    open_round,
    publish,
    rounds_of,
)
from summit.seating.settings import MAX_ROUNDS

__all__ = [
    "Event",
    "MAX_ROUNDS",
    "MoveRefused",
    "close_round",
    "get_round",
    "move_participant",
    "open_round",
    "publish",
    "rounds_of",
]
