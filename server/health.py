"""The index counts ``/api/health`` reports, without making the caller wait on the index.

``IndexService.status`` asks Chroma for counts; while an ingest holds the store or another
process rewrites it (the service then reopens and retries), that can take seconds. A
health probe must stay fast (issue 11: ≤ 1 s throughout, also during a re-index), so it
gets the last counts at once while one refresh at a time runs in the background.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

FRESH_SECONDS = 2.0  # counts younger than this are served without a refresh


class StatusCache:
    """The last ``status()`` result, refreshed by one background thread at a time.

    The last refresh's failure is raised (a dead store is reported, one probe late);
    the very first call waits for the index, as there is nothing to serve yet.
    """

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status
        self._cond = threading.Condition()
        self._last: dict[str, Any] | None = None
        self._at = float("-inf")
        self._refreshing = False
        self._error: Exception | None = None

    def get(self) -> dict[str, Any]:
        with self._cond:
            stale = time.monotonic() - self._at > FRESH_SECONDS
            start = stale and not self._refreshing
            if start:
                self._refreshing = True
            first = self._last is None and self._error is None
        if start and first:
            self._refresh()
        elif start:
            threading.Thread(target=self._refresh, name="health-status", daemon=True).start()
        with self._cond:
            if first:
                self._cond.wait_for(lambda: not self._refreshing)
            if self._error is not None:
                raise self._error
            assert self._last is not None
            return self._last

    def _refresh(self) -> None:
        try:
            value, error = self._status(), None
        except Exception as exc:  # reported by get()
            log.warning("index status failed: %s", exc)
            value, error = None, exc
        with self._cond:
            if value is not None:
                self._last = value
            self._error = error
            self._at = time.monotonic()
            self._refreshing = False
            self._cond.notify_all()
