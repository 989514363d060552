"""The loaded services shared by the chat UI and the HTTP API of one process."""

from __future__ import annotations

from dataclasses import dataclass

from answer.engine import AnswerEngine
from index.service import IndexService
from settings import Settings


@dataclass
class Services:
    """Settings, index and answer engine, loaded once per process."""

    settings: Settings
    index: IndexService
    engine: AnswerEngine

    @classmethod
    def load(cls, settings: Settings) -> Services:
        index = IndexService(settings)
        return cls(settings=settings, index=index, engine=AnswerEngine(settings, index))
