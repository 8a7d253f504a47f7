"""When an online workshop meeting's video room is open (pure).

A meeting has a start; its length and the room's margins are summit settings
(``Summit.settings``): ``forum_meeting_minutes`` (default 120), ``forum_room_opens_before``
(minutes before the start, default 30) and ``forum_room_closes_after`` (minutes after the end,
default 30). The room is open from ``start - opens_before`` up to, not including,
``start + meeting_minutes + closes_after``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from summit.core.errors import InvalidInput
from summit.core.i18n import gettext as _

MEETING_MINUTES = 120
OPENS_BEFORE = 30
CLOSES_AFTER = 30
#: The longest a setting may make any of the three (a day).
MAX_MINUTES = 24 * 60
#: The summit settings' keys, with their defaults.
DEFAULTS = {
    "forum_room_opens_before": OPENS_BEFORE,
    "forum_meeting_minutes": MEETING_MINUTES,
    "forum_room_closes_after": CLOSES_AFTER,
}


class RoomState(StrEnum):
    EARLY = "early"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class RoomWindow:
    opens: dt.datetime
    ends: dt.datetime  # the meeting's planned end
    closes: dt.datetime

    def state(self, now: dt.datetime) -> RoomState:
        if now < self.opens:
            return RoomState.EARLY
        if now >= self.closes:
            return RoomState.CLOSED
        return RoomState.OPEN


def _minutes(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
        return default
    return value


def room_settings(settings: Mapping[str, Any] | None) -> dict[str, int]:
    """The three settings as they apply (a missing or out-of-range one: its default)."""
    given = settings if isinstance(settings, Mapping) else {}
    return {key: _minutes(given, key, default) for key, default in DEFAULTS.items()}


def check_room_settings(values: Mapping[str, int]) -> dict[str, int]:
    """The organiser's three settings, checked: whole minutes up to a day, a meeting at least
    one minute long."""
    checked: dict[str, int] = {}
    for key in DEFAULTS:
        value = values[key]
        low = 1 if key == "forum_meeting_minutes" else 0
        if not low <= value <= MAX_MINUTES:
            raise InvalidInput(
                key,
                _("Choose between %(low)s and %(high)s minutes.")
                % {"low": low, "high": MAX_MINUTES},
            )
        checked[key] = value
    return checked


def room_window(starts_at: dt.datetime, settings: Mapping[str, Any] | None) -> RoomWindow:
    """The room's window for a meeting starting at ``starts_at`` (aware, UTC) under the summit's
    settings; a missing or out-of-range setting takes its default."""
    given = settings if isinstance(settings, Mapping) else {}
    length = max(1, _minutes(given, "forum_meeting_minutes", MEETING_MINUTES))
    before = _minutes(given, "forum_room_opens_before", OPENS_BEFORE)
    after = _minutes(given, "forum_room_closes_after", CLOSES_AFTER)
    ends = starts_at + dt.timedelta(minutes=length)
    return RoomWindow(
        opens=starts_at - dt.timedelta(minutes=before),
        ends=ends,
        closes=ends + dt.timedelta(minutes=after),
    )
