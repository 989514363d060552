"""AnswerEngine: condense → retrieve → prompt → generate → check citations → result."""

from __future__ import annotations

from collections.abc import Iterator

from answer.types import AnswerResult, Message, StreamEvent
from index.service import IndexService
from settings import Settings


class AnswerEngine:
    """Answers questions from the index with checked citations (contract; being implemented)."""

    def __init__(self, settings: Settings, index: IndexService) -> None:
        self.settings = settings
        self.index = index

    def ask(self, question: str, history: list[Message] | None = None) -> AnswerResult:
        """The full checked answer."""
        raise NotImplementedError

    def stream(self, question: str, history: list[Message] | None = None) -> Iterator[StreamEvent]:
        """SourcesEvent, then TokenEvent*, then one AnswerEvent with the checked result."""
        raise NotImplementedError
