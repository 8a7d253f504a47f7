"""Online video tables (videotafels): the control side of the media plane."""

from __future__ import annotations

from summit.video.service import MAX_EXTEND_MINUTES, extend_round

__all__ = [
    "MAX_EXTEND_MINUTES",
    "extend_round",
]
