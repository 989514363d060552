"""``/api/health`` reads the index counts through ``server.health.StatusCache``: a probe
never waits on an index that is busy (a re-index, a store reopening), and a failing
store is still reported."""

from __future__ import annotations

import threading

import pytest

from server import health
from server.health import StatusCache


class SlowIndex:
    """An index whose status blocks while ``gate`` is closed, and may fail."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0
        self.fail: Exception | None = None

    def status(self) -> dict:
        self.calls += 1
        self.gate.wait(timeout=30)
        if self.fail is not None:
            raise self.fail
        return {"documents": 2, "chunks": 10 + self.calls}


def test_a_probe_gets_the_last_counts_while_the_index_is_busy(monkeypatch) -> None:
    index = SlowIndex()
    cache = StatusCache(index.status)
    assert cache.get() == {"documents": 2, "chunks": 11}  # the first call waits: nothing known
    monkeypatch.setattr(health, "FRESH_SECONDS", -1.0)  # every probe wants a refresh
    index.gate.clear()  # the index is now busy: a refresh blocks
    got = []
    probe = threading.Thread(target=lambda: got.append(cache.get()))
    probe.start()
    probe.join(timeout=5)
    assert not probe.is_alive(), "the probe waited for the busy index"
    assert got == [{"documents": 2, "chunks": 11}]
    cache.get()  # a refresh is already running: no second one is started
    assert index.calls == 2
    index.gate.set()
    for _ in range(500):
        if cache.get()["chunks"] == 12:
            break
        threading.Event().wait(0.01)
    assert cache.get()["chunks"] >= 12  # the refresh landed
    assert index.calls >= 2


def test_a_failing_store_is_reported_not_hidden_by_the_last_counts(monkeypatch) -> None:
    index = SlowIndex()
    cache = StatusCache(index.status)
    cache.get()
    monkeypatch.setattr(health, "FRESH_SECONDS", -1.0)
    index.fail = ConnectionError("chroma is gone")
    with pytest.raises(ConnectionError):
        for _ in range(500):  # the failing refresh runs in the background
            cache.get()
            threading.Event().wait(0.01)
    index.fail = None
    for _ in range(500):  # back: counts again
        try:
            assert cache.get()["documents"] == 2
            break
        except ConnectionError:
            threading.Event().wait(0.01)
    assert cache.get()["documents"] == 2


def test_the_first_probe_of_a_dead_store_fails() -> None:
    index = SlowIndex()
    index.fail = ConnectionError("chroma is gone")
    with pytest.raises(ConnectionError):
        StatusCache(index.status).get()
