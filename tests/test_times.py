"""Times are shown in the summit's time zone with the zone's name, through one formatter."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from summit.core.templating import make_environment
from summit.core.times import DEFAULT_TIME_ZONE, format_datetime, local_date, summit_time_zone

WEB = Path(__file__).resolve().parents[1] / "web"
SUMMER = dt.datetime(2026, 6, 1, 12, 5, tzinfo=dt.UTC)
WINTER = dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC)


def test_amsterdam_summer_and_winter_time_with_the_zone_name() -> None:
    assert format_datetime(SUMMER) == "2026-06-01 14:05 CEST"
    assert format_datetime(WINTER) == "2026-01-16 00:30 CET"  # the next day in Amsterdam
    assert format_datetime(SUMMER.replace(tzinfo=None)) == "2026-06-01 14:05 CEST"  # naive = UTC
    assert format_datetime("2026-06-01T12:05:00+00:00") == "2026-06-01 14:05 CEST"
    assert format_datetime(None) == ""


def test_the_summit_setting_picks_the_zone_and_a_bad_one_falls_back() -> None:
    assert summit_time_zone(None) == DEFAULT_TIME_ZONE == "Europe/Amsterdam"
    assert summit_time_zone(SimpleNamespace(settings={})) == DEFAULT_TIME_ZONE
    assert summit_time_zone(SimpleNamespace(settings={"time_zone": "Nowhere/Atlantis"})) == (
        DEFAULT_TIME_ZONE
    )
    curacao = SimpleNamespace(settings={"time_zone": "America/Curacao"})
    assert summit_time_zone(curacao) == "America/Curacao"
    assert format_datetime(SUMMER, summit_time_zone(curacao)) == "2026-06-01 08:05 AST"


def test_the_template_filter_uses_the_summit_or_the_document_zone() -> None:
    env = make_environment(WEB / "templates")
    template = env.from_string("{{ when | datetime }}")
    summit: Any = SimpleNamespace(settings={"time_zone": "Europe/London"})
    assert template.render(when=SUMMER) == "2026-06-01 14:05 CEST"
    assert template.render(when=SUMMER, summit=summit) == "2026-06-01 13:05 BST"
    assert template.render(when=SUMMER, time_zone="America/Curacao") == "2026-06-01 08:05 AST"


def test_no_template_formats_a_time_by_hand() -> None:
    """Every shown time goes through the `datetime` filter (a `datetime=` attribute may carry
    ISO 8601 for machines)."""
    # Still typed in UTC (the form parsers take UTC): the two deadline inputs say so.
    typed_in_utc = {"workshop.html", "index.html"}
    offenders = []
    for template in (WEB / "templates").rglob("*.html"):
        text = re.sub(r'datetime="[^"]*"', "", template.read_text())
        if re.search(r"strftime|isoformat\(\)|created_at\[|_at\.replace", text):
            offenders.append(template.name)
        if re.search(r"\bUTC\b", text) and template.name not in typed_in_utc:
            offenders.append(template.name)
    assert offenders == []


def test_a_typed_time_is_read_on_the_summits_clock() -> None:
    from summit.core.times import from_wall_clock

    winter, summer = dt.datetime(2030, 1, 15, 18, 0), dt.datetime(2030, 7, 15, 18, 0)
    assert from_wall_clock(winter) == dt.datetime(2030, 1, 15, 17, 0, tzinfo=dt.UTC)
    assert from_wall_clock(summer) == dt.datetime(2030, 7, 15, 16, 0, tzinfo=dt.UTC)
    assert from_wall_clock(summer, "UTC") == dt.datetime(2030, 7, 15, 18, 0, tzinfo=dt.UTC)
    # an aware value is only converted; a skipped hour (summer time starts) reads as after it
    aware = dt.datetime(2030, 7, 15, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert from_wall_clock(aware, "UTC") == dt.datetime(2030, 7, 15, 16, 0, tzinfo=dt.UTC)
    skipped = from_wall_clock(dt.datetime(2030, 3, 31, 2, 30))
    assert format_datetime(skipped) == "2030-03-31 03:30 CEST"


def test_a_moment_falls_on_the_summits_day() -> None:
    # 22:30 UTC on 31 March is 00:30 on 1 April in Amsterdam (summer time), 23:30 in London
    moment = dt.datetime(2027, 3, 31, 22, 30, tzinfo=dt.UTC)
    assert local_date(moment) == dt.date(2027, 4, 1)
    assert local_date(moment, "Europe/London") == dt.date(2027, 3, 31)
    # a naive value is UTC, as the database stores it; in winter Amsterdam is UTC+1
    assert local_date(dt.datetime(2027, 1, 5, 23, 0)) == dt.date(2027, 1, 6)
    assert local_date(dt.datetime(2027, 1, 5, 22, 59)) == dt.date(2027, 1, 5)
