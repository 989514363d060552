"""The loaded services shared by the chat UI and the HTTP API of one process."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from answer.engine import AnswerEngine
from index.collections import Scope
from index.service import IndexService
from server.health import StatusCache
from server.scheduler import Scheduler
from settings import Settings


@dataclass
class Services:
    """Settings, index, answer engine and the model's scheduler, loaded once per process."""

    settings: Settings
    index: IndexService
    engine: AnswerEngine
    scheduler: Scheduler = None  # type: ignore[assignment]  # built from settings if None

    def __post_init__(self) -> None:
        if self.scheduler is None:
            self.scheduler = Scheduler.from_settings(self.settings)
        self._engines: dict[frozenset[str], AnswerEngine] = {}
        self.index_status = StatusCache(lambda: self.index.status())  # what /api/health reports

    def engine_for(self, scope: Scope) -> AnswerEngine:
        """The answer engine of a surface bound to ``scope`` (None: every collection).

        A copy of ``engine`` reading the index through ``index.scoped(scope)``: it
        retrieves, cites and lists (in refusals) only documents of ``scope``, and shares
        the engine's language model and caches. An engine without an index (a test
        double) is returned as it is."""
        if scope is None or not hasattr(self.engine, "index"):
            return self.engine
        engine = self._engines.get(scope)
        if engine is None:
            engine = copy.copy(self.engine)
            engine.index = self.index.scoped(scope)  # type: ignore[assignment]
            self._engines[scope] = engine
        return engine

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Index, engine and language model ready: the model is read now (``/api/health``
        says 503 until then), not at the first question."""
        index = IndexService(settings)
        engine = AnswerEngine(settings, index)
        load = getattr(engine.generator, "load", None)
        if load is not None:
            load()
        return cls(settings=settings, index=index, engine=engine)
