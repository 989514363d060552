"""Answers without a language model: the best-supporting sentences, each cited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

from answer.evidence import Evidence, Sentence, gather
from answer.generators.base import ChatMessage, Grounding
from answer.prompts import EXTRACTIVE_LEAD, NOT_IN_DOCUMENTS

# Below this weighted share of the question's terms, no sentence answers the question.
# Measured on the seed questions: answerable ones reach >= 0.5, "annual budget of the
# Mission" stays under 0.4 (its distinctive words appear nowhere).
MIN_COVERAGE = 0.45
MAX_SENTENCES = 3
MAX_CHARS = 480
MIN_WORDS = 6  # shorter sentences are titles or names: the next line says more
MAX_CONTINUATIONS = 3  # sentences that may follow the best one (it announces, they detail)


class ExtractiveGenerator:
    """Quotes the sentences of the top passages that best match the question."""

    name = "extractive"
    uses_llm = False

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int | None = None,
        grounding: Grounding | None = None,
    ) -> Iterator[str]:
        """The answer in one piece (it is ready at once)."""
        if grounding is None:
            raise ValueError("the extractive generator needs the question and its passages")
        yield extract(
            gather(grounding.question, grounding.citations, grounding.language), grounding.language
        )


def pick(evidence: Evidence) -> list[Sentence]:
    """The supporting sentences, best first (empty when none answers)."""
    best = evidence.best()
    if best is None:
        return []
    # Across languages few words match (only names and shared roots): any match will do,
    # the retrieval ranking does the rest.
    floor = MIN_COVERAGE if evidence.same_language else 0.0
    if best.coverage <= floor or (evidence.same_language and best.coverage < MIN_COVERAGE):
        return []
    picked = [best]
    used = len(best.text)
    for s in sorted(evidence.sentences, key=lambda s: -s.score):
        if len(picked) >= MAX_SENTENCES:
            break
        if s is best or s.coverage <= 0 or any(_overlaps(s.text, p.text) for p in picked):
            continue
        if not evidence.same_language and len(picked) >= 2:
            break
        if s.score >= 0.75 * best.score and used + len(s.text) <= MAX_CHARS:
            picked.append(s)
            used += len(s.text)
    anchor = best
    for _ in range(MAX_CONTINUATIONS):
        follow = _continuation(evidence, anchor, picked)
        if follow is None or used + len(follow.text) > 2 * MAX_CHARS:
            break
        picked.insert(picked.index(anchor) + 1, follow)
        used += len(follow.text)
        anchor = follow
    out: list[Sentence] = []
    for s in (_with_next_if_short(evidence, s) for s in picked):
        # a label joined with its next line repeats that line: keep one of the two
        if not any(_sentence(s.text) in o.text or _sentence(o.text) in s.text for o in out):
            out.append(s)
    return out


def _continuation(evidence: Evidence, best: Sentence, picked: list[Sentence]) -> Sentence | None:
    """The sentence after the best one when it carries the facts the topic sentence
    announces ("… programme « Mosaïques »." then "9 sites brésiliens ont été identifiés.",
    a project then its web address): it matches the question or holds a number or URL."""
    anchor = best
    if len(best.text.split()) < MIN_WORDS:  # a label: it is read with its next line
        anchor = evidence.following(best) or best
    nxt = evidence.following(anchor)
    if nxt is None or any(_overlaps(nxt.text, p.text) for p in picked):
        return None
    has_value = bool(re.search(r"\d|www\.|https?://", nxt.text))
    return nxt if nxt.coverage > 0 or has_value else None


def _overlaps(a: str, b: str) -> bool:
    """Same sentence seen twice (overlapping chunks cut it at different places)."""
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match()
    return match.size >= 0.6 * min(len(a), len(b))


def _with_next_if_short(evidence: Evidence, s: Sentence) -> Sentence:
    """A title-like sentence ("Christian CHOCQUET") joined with the line that follows it."""
    if len(s.text.split()) >= MIN_WORDS:
        return s
    following = [t for t in evidence.of_passage(s.n) if t.index == s.index + 1]
    if not following:
        return s
    text = f"{s.text.rstrip(' .:;,')} : {following[0].text}"
    return Sentence(s.n, s.index, text, s.coverage, s.score)


def extract(evidence: Evidence, language) -> str:
    """Cited quotes (``sentence [n]``), or the fixed "not in the documents" sentence."""
    picked = pick(evidence)
    if not picked:
        return NOT_IN_DOCUMENTS[language]
    return EXTRACTIVE_LEAD[language] + " ".join(f"{_sentence(s.text)} [{s.n}]." for s in picked)


def _sentence(text: str) -> str:
    """The sentence without its final punctuation (the citation goes before the dot)."""
    return text.strip().rstrip(" .:;,")
