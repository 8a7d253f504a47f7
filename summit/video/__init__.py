"""Online video tables (videotafels): the control side of the media plane."""

from __future__ import annotations

from summit.media import AccessDenied
from summit.video.rooms import serve_room
from summit.video.service import MAX_EXTEND_MINUTES, extend_round

__all__ = [
    "MAX_EXTEND_MINUTES",
    "AccessDenied",
    "extend_round",
    "serve_room",
]
