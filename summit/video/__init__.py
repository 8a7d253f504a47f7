"""Online video tables (videotafels): the control side of the media plane."""

from __future__ import annotations

from typing import Any

from summit.media import AccessDenied
from summit.video.hub import settings_for
from summit.video.rooms import serve_room
from summit.video.service import MAX_EXTEND_MINUTES, extend_round

__all__ = [
    "MAX_EXTEND_MINUTES",
    "AccessDenied",
    "extend_round",
    "ice_servers",
    "serve_room",
]


def ice_servers(app: Any, media_id: str) -> list[dict[str, Any]]:
    """``iceServers`` (STUN, and TURN credentials for ``media_id``) for a browser that joins a
    video room of ``app``, as ``/me/video.json`` gives them."""
    return settings_for(app).ice_servers(media_id)
