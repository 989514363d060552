"""The model's text for a prompt it has already answered, reused at once.

A generation is a function of its prompt here (temperature 0.1, a fixed seed, one model
per process, and every prompt read in the same batches whatever the cache held:
``local._settle_cache``). So an identical prompt (the same question, the same passages, the same
conversation) gets the text the model wrote before, without waiting for the model: what a
public widget needs when many visitors ask the same thing at once. The key is a content
hash of the messages, which hold the passages' text, so a re-indexed document changes the
key and nothing stale is reused. A text is stored only once its stream completed, and the
engine checks a reused text exactly as it checks a fresh one.

Written here because the value is a stream, stored only when it ends: ``functools``'
caches memoise return values, not generators.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Protocol

from answer.generators.base import ChatMessage, Generator


def prompt_key(messages: list[ChatMessage], max_tokens: int | None) -> str:
    """Content hash of one model call, its messages and token cap: the memo's key, and the
    key of the answer bench's calls file (``evaluation/replay.py``)."""
    return hashlib.sha256(repr((messages, max_tokens)).encode()).hexdigest()


class Replay:
    """A generator that gives back one stored text (a memo hit)."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        yield self.text


class Memo:
    """The last ``size`` texts the model wrote, by prompt (0: nothing kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reused = 0  # prompts answered from the memo
        self._texts: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def replay(self, messages: list[ChatMessage], max_tokens: int | None = None) -> Replay | None:
        """The stored text of this prompt as a generator, or None."""
        key = prompt_key(messages, max_tokens)
        with self._lock:
            hit = self._texts.get(key)
            if hit is None:
                return None
            self._texts.move_to_end(key)
            self.reused += 1
        return Replay(*hit)

    def put(
        self, messages: list[ChatMessage], max_tokens: int | None, name: str, text: str
    ) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._texts[prompt_key(messages, max_tokens)] = (name, text)
            while len(self._texts) > self.size:
                self._texts.popitem(last=False)

    def stats(self) -> dict[str, int]:
        """Texts kept and prompts answered from them (``/api/health``)."""
        with self._lock:
            return {"kept": len(self._texts), "reused": self.reused}

    def recording(self, generator: Generator) -> Recording:
        """``generator`` storing each text it completes in this memo."""
        return Recording(generator, self)


class Store(Protocol):
    """Where a ``Recording`` puts each completed text: a ``Memo``, or the answer bench's
    calls file (``evaluation.replay.CallsFile``)."""

    def put(
        self, messages: list[ChatMessage], max_tokens: int | None, name: str, text: str
    ) -> None: ...


class Recording:
    """A generator whose completed texts go to a ``Memo`` (or another ``Store``); other
    attributes (``load``, ``close``) are the wrapped generator's."""

    def __init__(self, inner: Generator, memo: Store) -> None:
        self.inner = inner
        self.name = inner.name
        self._memo = memo

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        pieces: list[str] = []
        for piece in self.inner.stream(messages, max_tokens=max_tokens):
            pieces.append(piece)
            yield piece
        # reached only when the stream ended by itself (not closed early, not failed)
        self._memo.put(messages, max_tokens, self.name, "".join(pieces))

    def __getattr__(self, attr: str):
        if attr == "inner":  # not set yet (a copy being built): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)
