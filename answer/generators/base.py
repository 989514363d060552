"""The one interface every generator implements, and what it may receive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from answer.types import Citation, Language

ChatMessage = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@dataclass
class Grounding:
    """The question and numbered passages behind a prompt (what ``extractive`` works from)."""

    question: str
    citations: list[Citation] = field(default_factory=list)
    language: Language = "fr"


class Generator(Protocol):
    """Streams the text of an answer; ``name`` is the ``settings.generator`` value."""

    name: str
    uses_llm: bool  # False for ``extractive``: it cannot rewrite follow-up questions

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int | None = None,
        grounding: Grounding | None = None,
    ) -> Iterator[str]:
        """Pieces of the answer text, in order; raises ``GeneratorUnavailable`` on failure."""
        ...


def split_prefill(messages: list[ChatMessage]) -> tuple[list[ChatMessage], str | None]:
    """Messages without a final assistant message, and that message's text: the start of
    the answer, which the model continues (a prefill)."""
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None
