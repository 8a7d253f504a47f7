"""The application's routes and the field names its views read: the shared enumeration behind
the hostile-input sweep (tests/test_security_inputs.py) and the Dutch walk
(tests/test_dutch_pages.py)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from starlette.routing import Route

from summit.core.routing import access_of
from summit.core.rules.roles import Principal
from tests.support.app import Client

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def field_names() -> list[str]:
    """Every form, query and JSON field name any view reads (scanned from the source)."""
    pattern = re.compile(
        r"""(?:\.get|getlist|form_int|form_text|form_ids|_int|json_int|parse_int|_text)\(\s*"""
        r"""(?:\w+\s*,\s*)?["']([a-z][a-z0-9_-]{0,40})["']"""
    )
    names = {
        name
        for path in (ROOT / "summit").rglob("*.py")
        for name in pattern.findall(path.read_text())
    }
    return sorted(names - {"csrf_token"})


def routes_of(client: Client, who: set[Principal]) -> Iterator[tuple[str, set[str]]]:
    """Every HTTP route that one of ``who`` may call, with its methods."""
    for route in client.app.routes:  # type: ignore[attr-defined]
        access = access_of(route)
        if isinstance(route, Route) and access is not None and access.principals & who:
            yield route.path, set(route.methods or ()) - {"HEAD"}


def route_pattern(template: str) -> re.Pattern[str]:
    """A route's path template as a regular expression that matches its concrete paths."""
    parts = re.split(r"(\{\w+(?::\w+)?\})", template)
    regex = "".join(
        ("[^/]+" if not part.endswith(":path}") else ".+")
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")
