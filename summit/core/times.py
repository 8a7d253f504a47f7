"""Times as people read them: in the summit's time zone, with the zone's name.

The zone is a summit setting (``settings["time_zone"]``, an IANA name); the default is the
programme's Europe/Amsterdam. Stored times stay UTC; only what is shown is converted."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Europe/Amsterdam"


def summit_time_zone(summit: Any) -> str:
    """The summit's time zone name, or the default when none (or an unknown one) is set."""
    settings = getattr(summit, "settings", None) or {}
    name = settings.get("time_zone") if isinstance(settings, dict) else None
    if not isinstance(name, str) or not name:
        return DEFAULT_TIME_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TIME_ZONE
    return name


def format_datetime(value: dt.datetime | str | None, zone: str = DEFAULT_TIME_ZONE) -> str:
    """``2026-05-12 14:05 CEST``: the wall-clock time in ``zone`` and the zone's abbreviation
    (a naive value is taken as UTC, as the database stores it; a string is ISO 8601)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def local_date(value: dt.datetime, zone: str = DEFAULT_TIME_ZONE) -> dt.date:
    """The calendar day ``value`` falls on in ``zone`` (a naive value is taken as UTC): due dates
    and "today" are the summit's days, not UTC's (at 00:30 in Amsterdam it is already tomorrow)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(zone)).date()


def from_wall_clock(value: dt.datetime, zone: str = DEFAULT_TIME_ZONE) -> dt.datetime:
    """A time as a person typed it (the wall clock in ``zone``) in UTC; an aware value is only
    converted. A time the clocks skip when summer time starts is read with the offset before the
    change (02:30 becomes 03:30 summer time), an hour that comes twice as its first pass."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(dt.UTC)
