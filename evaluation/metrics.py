"""Scoring one answer, and summarising many: recall, citation precision, refusals, latency."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from answer.citations import cited_numbers
from answer.types import Citation
from ingest.text import detect_language, fold, in_no_language


def norm(text: str) -> str:
    """Accent-, case-, apostrophe- and whitespace-insensitive form used by every comparison."""
    return fold(text)


def _norm_span(text: str) -> str:
    """Normalised text with punctuation around words reduced to spaces (for gold spans)."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w%€$.,'-]+", " ", norm(text))).strip()


def keys_found(answer: str, keys: Sequence[Sequence[str]]) -> bool:
    """True when every key group has one alternative in the answer (normalised substring)."""
    text = norm(answer)
    return all(any(norm(alt) in text for alt in group) for group in keys)


def span_found(answer: str, spans: Iterable[str]) -> bool:
    """True when any gold span (PIAF) occurs in the text, normalised."""
    text = _norm_span(answer)
    return any(_norm_span(s) and _norm_span(s) in text for s in spans)


_CUT_WORD = re.compile(r"\s*\b\w+-$")


def evidence_in(evidence: str, text: str) -> bool:
    """The evidence quote lies in ``text`` (normalised), also without a word cut at its end
    by a line break of the source (« et la col- »): the ingest joins such words
    (« collaboration »), so the cut form is in no indexed passage (5 of the 262 seed
    evidence quotes); a quote ending in a hyphenated name (« RENCOSAN- ») is found whole."""
    quote, folded = norm(evidence), norm(text)
    return quote in folded or _CUT_WORD.sub("", quote) in folded


def evidence_cited(answer: str, citations: list[Citation], evidence: str) -> bool:
    """True when the evidence quote lies in a passage that the answer actually cites."""
    cited = set(cited_numbers(answer))
    return any(c.n in cited and evidence_in(evidence, c.text) for c in citations)


def evidence_given(citations: list[Citation], evidence: str) -> bool:
    """True when the evidence quote lies in any passage given to the generator (retrieval hit)."""
    return any(evidence_in(evidence, c.text) for c in citations)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of True values; None when there is nothing to count."""
    return sum(flags) / len(flags) if flags else None


CITATION_MARKER = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")


def answer_language(answer: str) -> str | None:
    """The language an answer is written in, its ``[n]`` markers stripped; None when it
    has no word of either language ("2009 [1]", "April 23, 2009 [1]"): such an answer is
    in the question's language, whichever it is."""
    text = CITATION_MARKER.sub(" ", answer)
    return None if in_no_language(text) else detect_language(text)


def overlaps(span: tuple[int, int], others: Iterable[tuple[int, int]]) -> bool:
    """True when ``span`` [start, end) shares a character with any of ``others``."""
    start, end = span
    return any(start < b and a < end for a, b in others)


def paragraph_cited(
    citations: list[Citation], source: str | None, paragraphs: Sequence[tuple[int, int]]
) -> bool:
    """True when a citation of ``source`` overlaps a gold paragraph (offsets in the cleaned
    document)."""
    return any(c.source == source and overlaps((c.start, c.end), paragraphs) for c in citations)
