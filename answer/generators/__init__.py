"""Answer generators: ``local`` (llama.cpp), ``openai`` (any compatible server), ``extractive``."""

from __future__ import annotations

import logging

from answer.errors import GeneratorUnavailable
from answer.generators.base import ChatMessage, Generator, Grounding
from answer.generators.extractive import ExtractiveGenerator
from settings import Settings

log = logging.getLogger(__name__)

__all__ = ["ChatMessage", "Generator", "Grounding", "make_generator", "ExtractiveGenerator"]


def make_generator(settings: Settings, name: str | None = None) -> Generator:
    """The generator named by ``name`` (default ``settings.generator``).

    ``local`` falls back to ``extractive`` with a warning when the model file or
    llama-cpp-python is missing, so that the product still answers.
    """
    name = name or settings.generator
    if name == "extractive":
        return ExtractiveGenerator()
    if name == "openai":
        from answer.generators.openai import OpenAIGenerator

        return OpenAIGenerator(settings)
    if name == "local":
        try:
            from answer.generators.local import LocalGenerator

            return LocalGenerator(settings)
        except (GeneratorUnavailable, ImportError) as err:
            log.warning("local generator unavailable (%s); using extractive answers", err)
            return ExtractiveGenerator()
    raise ValueError(f"unknown generator {name!r}; choose local, openai or extractive")
