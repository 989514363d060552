"""Turn a follow-up ("Et quand a-t-il été signé ?") into a question that stands alone."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from answer.errors import GeneratorUnavailable
from answer.generators.base import Generator
from answer.prompts import condense_messages
from answer.types import Message
from ingest.text import content_terms, words

log = logging.getLogger(__name__)

_OPENERS = {"et", "and", "mais", "but", "also", "aussi", "puis", "then", "alors", "so", "ok"}
_ANAPHORA = {
    "il", "elle", "ils", "elles", "lui", "leur", "leurs", "celui-ci", "celle-ci", "ceux-ci",
    "celui-là", "cela", "ça", "y", "son", "sa", "ses", "le", "la", "les",
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she",
    "his", "her", "there", "ce", "cet", "cette", "ces",
}  # fmt: skip
# Determiners count as anaphora only in short questions ("Et ce projet ?").
_WEAK = {"le", "la", "les", "ce", "cet", "cette", "ces", "this", "that", "son", "sa", "ses"}


@dataclass
class Condensed:
    """The question to retrieve and answer with, and how it was obtained."""

    question: str  # standalone question (the user's own when no rewriting was needed)
    rewritten: bool  # True when the conversation changed the question
    by_model: bool = False


def is_follow_up(question: str) -> bool:
    """Short or pronoun-led questions that lean on the previous turn."""
    ws = [re.sub(r"^-", "", w) for w in words(question)]
    if not ws:
        return False
    n_terms = len(content_terms(question))
    if ws[0] in _OPENERS:
        return True
    strong = [w for w in ws if w in _ANAPHORA - _WEAK or w.endswith(("-il", "-elle", "-ils"))]
    if strong:
        return True
    return n_terms <= 2 and any(w in _WEAK for w in ws)


def last_user_question(history: list[Message]) -> str | None:
    for m in reversed(history):
        if m.role == "user" and m.content.strip():
            return m.content.strip()
    return None


def condense(question: str, history: list[Message], generator: Generator | None) -> Condensed:
    """The standalone form of ``question`` given ``history``.

    With a language model the follow-up is rewritten; without one (or if it fails or
    answers nonsense) the previous user question is prepended, which is what retrieval
    needs: its key terms.
    """
    previous = last_user_question(history)
    if previous is None or not is_follow_up(question):
        return Condensed(question, rewritten=False)
    if generator is not None:
        try:
            text = "".join(generator.stream(condense_messages(question, history), max_tokens=60))
            rewritten = _clean(text)
            if _usable(rewritten, question, previous):
                return Condensed(rewritten, rewritten=True, by_model=True)
            log.info("condensing produced an unusable question: %r", text[:200])
        except GeneratorUnavailable as err:
            log.warning("could not rewrite the follow-up with the model: %s", err)
    return Condensed(f"{previous} {question}", rewritten=True)


def _usable(rewritten: str, question: str, previous: str) -> bool:
    """A rewrite is kept only if it brought in a word of the conversation (a small model
    often just repeats the follow-up) and stayed a question-sized text."""
    if not rewritten or len(rewritten) > 3 * (len(question) + len(previous)):
        return False
    brought = set(content_terms(rewritten)) - set(content_terms(question))
    return bool(brought & set(content_terms(previous)))


def _clean(text: str) -> str:
    """First line of the model's output, without labels or quotes."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(rewritten question|question( reformulée)?)\s*:\s*", "", line, flags=re.I)
    return line.strip(" \"'«»").strip()
