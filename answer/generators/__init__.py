"""Language-model generators: ``local`` (llama.cpp, in-process or behind a managed
``llama-server``) and ``openai`` (any compatible server).

``extractive`` is no generator: the engine then answers by quoting the passages
(``answer/fallback.py``), which is also what it does when a model fails.
"""

from __future__ import annotations

import logging

from answer.errors import GeneratorUnavailable
from answer.generators.base import ChatMessage, Generator
from settings import Settings

log = logging.getLogger(__name__)

__all__ = ["ChatMessage", "Generator", "make_generator"]


def make_generator(settings: Settings, name: str | None = None) -> Generator | None:
    """The generator named by ``name`` (default ``settings.generator``); None for
    ``extractive``, and for ``local`` when the model file or llama-cpp-python is missing
    (with a warning), so that the product still answers."""
    name = name or settings.generator
    if name == "extractive":
        return None
    if name == "openai":
        from answer.generators.openai import OpenAIGenerator

        return OpenAIGenerator(settings)
    if name == "local" and settings.llm_server:
        try:
            from answer.generators.llama_server import LlamaServerGenerator

            return LlamaServerGenerator(settings)
        except GeneratorUnavailable as err:
            log.warning("llama-server unavailable (%s); using the in-process model", err)
    if name == "local":
        try:
            from answer.generators.local import LocalGenerator

            return LocalGenerator(settings)
        except (GeneratorUnavailable, ImportError) as err:
            log.warning("local generator unavailable (%s); using extractive answers", err)
            return None
    raise ValueError(f"unknown generator {name!r}; choose local, openai or extractive")
