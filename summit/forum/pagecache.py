"""Public forum pages as anonymous visitors see them, kept for a second.

A proposal page read by a thousand residents at once is the same page for each of them apart
from their CSRF token: it is rendered once with a stand-in token and served with each visitor's
own token put in. Entries live ``TTL`` seconds: a change shows to anonymous readers within a
second, on every app process alike (a hidden reaction at once on the moderator's process, which
empties its cache). Whoever wrote it (a resident, a participant, staff) is not anonymous and
always gets a fresh page.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from starlette.requests import Request

from summit.core.rules.roles import Principal
from summit.core.web import identity

TTL = 1.0
SIZE = 512
#: Rendered in place of the visitor's CSRF token (letters only: autoescaping leaves it alone).
STAND_IN = "forumpagecachecsrftokenstandin"
SESSION_KEYS = ("forum_reactor", "forum_guest")


class PageCache:
    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, str]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> str | None:
        found = self._pages.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def clear(self) -> None:
        self._pages.clear()

    def put(self, key: tuple[Any, ...], html: str) -> None:
        self._pages[key] = (time.monotonic() + TTL, html)
        self._pages.move_to_end(key)
        while len(self._pages) > SIZE:
            self._pages.popitem(last=False)


def cache_of(app: Any) -> PageCache:
    found = getattr(app.state, "forum_pages", None)
    if not isinstance(found, PageCache):
        found = app.state.forum_pages = PageCache()
    return found


def cacheable(request: Request) -> bool:
    """A visitor who is nobody in particular, asking for a page without a one-off notice."""
    if identity(request).principals != {Principal.PUBLIC}:
        return False
    if any(key in request.session for key in SESSION_KEYS):
        return False
    return set(request.query_params) <= {"page", "lang"}
