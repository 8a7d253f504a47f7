"""Walking a running summit's pages in a browser: every page reachable by links from a start,
one page per route shape, for the browser tests that check every page (layout, axe)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

#: Links a walk must not follow: they end the session, change the language or are not pages.
NEVER = re.compile(r"^/logout|[?&]lang=|^/static/|\.(?:csv|json|pdf|zip|txt|ics|png|svg|ico)\b")
LINKS = "() => [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))"


def shape(path: str) -> str:
    """One page per route shape: numbers and tokens in the path are the same page."""
    bare = path.split("?", 1)[0]
    return re.sub(r"/(?:\d+|[A-Za-z0-9_-]{16,})(?=/|$)", "/{}", bare)


def walk(page: Any, base: str, start: list[str], limit: int = 60) -> Iterator[str]:
    """Open each page reachable by links from ``start`` (breadth first, at most ``limit``) and
    yield its path while the page is open; redirects, errors and non-HTML answers are skipped."""
    seen: set[str] = set()
    queue = list(start)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if NEVER.search(path) or shape(path) in seen:
            continue
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if urlsplit(page.url).path != path.split("?", 1)[0]:
            continue  # a redirect: the target is walked on its own
        seen.add(shape(path))
        yield path
        for href in page.evaluate(LINKS):
            if href and href.startswith("/") and not href.startswith("//"):
                queue.append(href.split("#", 1)[0])
