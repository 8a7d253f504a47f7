"""A small in-process sliding-window rate limiter for login and personal-link endpoints.

Logins and personal links count *failures*: an attempt is counted when it starts (so a burst of
parallel guesses cannot all slip through before the first one fails) and forgiven when it
succeeds, so a whole hall behind one address can open its links.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (e.g. client address + route)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str) -> float:
        """Record a hit; return 0 if allowed, else the seconds until the next one is."""
        now = self.clock()
        hits = self._hits[key]
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return self.window - (now - hits[0])
        hits.append(now)
        if len(self._hits) > 100_000:
            self._forget_idle(now)
        return 0.0

    def forgive(self, key: str) -> None:
        """Take back the latest hit of ``key`` (the attempt succeeded)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window]:
            del self._hits[key]
