"""The one interface every language-model generator implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

ChatMessage = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


class Generator(Protocol):
    """Streams the text of an answer; ``name`` is the ``settings.generator`` value."""

    name: str

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        """Pieces of the answer text, in order; raises ``GeneratorUnavailable`` on failure."""
        ...


def split_prefill(messages: list[ChatMessage]) -> tuple[list[ChatMessage], str | None]:
    """Messages without a final assistant message, and that message's text: the start of
    the answer, which the model continues (a prefill)."""
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None
