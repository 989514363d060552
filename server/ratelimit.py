"""Per-key sliding-window rate limiter, kept in memory.

Hand-written on purpose: one process serves everything, the limits are per minute and
per client IP / widget session, and the libraries that do this (slowapi, limits) would
add dependencies and a decorator-based API that cannot check two keys (IP and session)
atomically. Forty lines of deque bookkeeping do exactly what we need.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``window`` seconds for keys of one kind."""

    kind: str  # "ip" or "session": names the key in messages
    count: int
    window: float = 60.0


class RateLimiter:
    """Sliding-window log: remembers the time of each accepted hit per key."""

    def __init__(self, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys  # bounds memory: least recently used keys are forgotten
        self._clock = clock

    def hit(self, checks: list[tuple[Limit, str]]) -> tuple[Limit, int] | None:
        """Record one hit on every key, or none if any key is over its limit.

        Returns ``None`` when allowed, else the exceeded limit and the seconds to wait.
        """
        now = self._clock()
        with self._lock:
            for limit, key in checks:
                if limit.count <= 0:
                    continue  # a limit of 0 disables that kind of limit
                hits = self._window(f"{limit.kind}:{key}", now, limit.window)
                if len(hits) >= limit.count:
                    retry = hits[0] + limit.window - now
                    return limit, max(1, math.ceil(retry))
            for limit, key in checks:
                if limit.count > 0:
                    self._window(f"{limit.kind}:{key}", now, limit.window).append(now)
            return None

    def over(self, checks: list[tuple[Limit, str]]) -> tuple[Limit, int] | None:
        """Like ``hit`` but records nothing: the exceeded limit and the wait, or None."""
        now = self._clock()
        with self._lock:
            for limit, key in checks:
                if limit.count <= 0:
                    continue
                hits = self._window(f"{limit.kind}:{key}", now, limit.window)
                if len(hits) >= limit.count:
                    return limit, max(1, math.ceil(hits[0] + limit.window - now))
            return None

    def _window(self, key: str, now: float, window: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits
