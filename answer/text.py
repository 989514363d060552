"""Text helpers of the answer stage: language guess, stemmed terms and sentences.

Stop-word lists and the Punkt sentence model come from NLTK data that llama-index
ships in ``llama_index/core/_static/nltk_cache`` (nothing is downloaded).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import llama_index.core
import nltk
import Stemmer
from nltk.tokenize import PunktTokenizer

from answer.types import Language

_NLTK_DATA = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
if str(_NLTK_DATA) not in nltk.data.path:
    nltk.data.path.insert(0, str(_NLTK_DATA))

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Words that are stop words in one language but carry meaning or are ambiguous.
_AMBIGUOUS = {"a", "on", "as", "me", "ma", "d", "m", "s", "t", "y", "if", "de", "en", "la"}


@lru_cache(maxsize=1)
def stop_words() -> dict[str, frozenset[str]]:
    """NLTK's French and English stop words, plus question words they lack."""
    from nltk.corpus import stopwords

    fr = set(stopwords.words("french")) | {
        "quel", "quelle", "quels", "quelles", "combien", "comment", "pourquoi", "quand",
        "où", "qui", "quoi", "est-ce", "cette", "ces", "cet", "été", "dont", "a-t-il",
        "a-t-elle", "ont-ils", "sont", "peut", "fait", "faire", "plus", "très", "aussi",
    }  # fmt: skip
    en = set(stopwords.words("english")) | {"which", "what", "who", "whom", "when", "where"}
    return {"fr": frozenset(fr), "en": frozenset(en)}


def words(text: str) -> list[str]:
    """Lower-cased words, French elisions (l', d', qu'...) removed."""
    out = []
    for w in _WORD.findall(text.lower()):
        w = _ELISION.sub("", w)
        if w:
            out.append(w)
    return out


def detect_language(text: str) -> Language:
    """French or English, by counting each language's stop words (French wins ties).

    ``langdetect`` is slow to load and unstable on the short questions users type
    ("Qui est X ?" flips between runs); stop words decide these reliably.
    """
    sw = stop_words()
    fr_score = en_score = 0.0
    for w in words(text):
        if w in _AMBIGUOUS:
            continue
        fr_score += w in sw["fr"]
        en_score += w in sw["en"]
        if any(c in "éèêàùçôîûœ" for c in w):
            fr_score += 0.5
    return "en" if en_score > fr_score else "fr"


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def fold(s: str) -> str:
    """Accents removed, so that "protégées" and "protegees" meet."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=50_000)
def term_keys(word: str) -> frozenset[str]:
    """Stems of one word under both stemmers: a cheap bridge between FR and EN forms."""
    fr = fold(_stemmer("french").stemWord(word))
    en = fold(_stemmer("english").stemWord(word))
    return frozenset({fr, en})


def content_terms(text: str) -> list[str]:
    """Meaningful words of ``text`` (no stop words), in order, without duplicates."""
    sw = stop_words()
    seen: dict[str, None] = {}
    for w in words(text):
        if w in sw["fr"] or w in sw["en"]:
            continue
        if len(w) < 2 and not w.isdigit():
            continue
        seen.setdefault(w, None)
    return list(seen)


def term_set(text: str) -> set[str]:
    """All stem keys of the content words of ``text``."""
    keys: set[str] = set()
    for w in content_terms(text):
        keys |= term_keys(w)
    return keys


def sentences(text: str, language: Language = "fr") -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` in ``text``: lines first, then Punkt inside lines.

    Documents extracted from PDFs and web pages hold one item per line (titles,
    bullets, phone numbers) without final punctuation; Punkt alone would glue them.
    A line that does not end a sentence and is followed by a lower-case line is one
    sentence broken by the layout, and is joined to it.
    """
    tokenizer = _punkt("french" if language == "fr" else "english")
    lines = [
        (m.start(), m.end())
        for m in re.finditer(r"[^\n]+", text)
        if text[m.start() : m.end()].strip()
    ]
    merged: list[list[int]] = []
    for start, end in lines:
        if merged:
            prev = text[merged[-1][0] : merged[-1][1]].rstrip()
            nxt = text[start:end].lstrip()
            if not _SENTENCE_END.search(prev) and (
                nxt[:1].islower() or nxt[:1].isdigit() or _OPEN_END.search(prev)
            ):
                merged[-1][1] = end
                continue
        merged.append([start, end])
    spans: list[tuple[int, int]] = []
    for start, end in merged:
        chunk = text[start:end].replace("\n", " ")
        for s, e in tokenizer.span_tokenize(chunk):
            spans.append((start + s, start + e))
    return spans


_SENTENCE_END = re.compile(r"[.!?;:»…)\]]$")
# A line ending like this goes on: "pour constituer le «" / "de la" / "Nord -".
_OPEN_END = re.compile(
    r"(?:[«(\[,\-–]|\b(?:le|la|les|de|du|des|un|une|et|à|au|aux|en|par|pour|sur|the|of|and))$",
    re.IGNORECASE,
)


@lru_cache(maxsize=2)
def _punkt(language: str) -> PunktTokenizer:
    return PunktTokenizer(language)


def squash_spaces(text: str) -> str:
    """Runs of blanks and line breaks (tabs of PDF extraction included) become one space."""
    return " ".join(text.split())
