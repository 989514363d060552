"""Helpers shared by several test modules: Debian's Chromium, and cited-fact assertions."""

from __future__ import annotations

import re

from answer.types import AnswerResult
from ingest.text import fold

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root, on a machine whose network is closed (see docs/setup.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def assert_cited_fact(result: AnswerResult, fact: str) -> None:
    """``fact`` is in the answer, and a passage cited by number in the answer holds it."""
    assert result.answerable, result.answer
    assert fold(fact) in fold(result.answer), result.answer
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    by_n = {c.n: c for c in result.citations}
    assert numbers and numbers <= set(by_n), (numbers, sorted(by_n))
    assert any(fold(fact) in fold(by_n[n].text) for n in numbers), result.answer


def text_of(message: dict) -> str:
    """The text of a chatbot message as ``gradio_client`` returns it."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))
