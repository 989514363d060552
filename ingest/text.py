"""Text analysis shared by ingest, index and answer: folding, words, stems, stop words,
language guess, paragraphs and sentences.

One implementation of each: the chunker, the sentence vectors, the lexical rankings, the
evidence scorer and the citation checker all cut and compare text through this module,
so a sentence the checker quotes is the sentence the index embedded.

Stop words come from NLTK data that llama-index ships in
``llama_index/core/_static/nltk_cache`` (nothing is downloaded).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import Stemmer

Language = Literal["fr", "en"]

_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- folding


def strip_accents(text: str) -> str:
    """Accents removed ("protégées" -> "protegees"), case kept."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# An e-mail address hidden from robots: "cbertram(at)missionbassinminier(dot)org",
# "x [at] y [dot] fr", "x (AT) y". The one reading of it that folding, the language guess
# and the evidence scorer share.
_HIDDEN = re.compile(r"\s?[(\[]\s?(at|dot)\s?[)\]]\s?", re.IGNORECASE)


def reveal_addresses(text: str) -> str:
    """``text`` with its hidden e-mail addresses written plainly ("x(at)y(dot)org" ->
    "x@y.org")."""
    return _HIDDEN.sub(lambda m: "@" if m.group(1).lower() == "at" else ".", text)


def fold(text: str) -> str:
    """The comparable form of a text: lower case, no accents, one kind of apostrophe and
    dash, hidden e-mail addresses revealed (``reveal_addresses``), every run of blanks one
    space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    return _SPACES.sub(" ", reveal_addresses(text).lower()).strip()


def squash_spaces(text: str) -> str:
    """Runs of blanks and line breaks (tabs of PDF extraction included) become one space."""
    return " ".join(text.split())


# ---------------------------------------------------------------- words and stems

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Words that are stop words in one language but carry meaning or are ambiguous.
_AMBIGUOUS = {"a", "on", "as", "me", "ma", "d", "m", "s", "t", "y", "if", "de", "en", "la"}


def words(text: str, *, lower: bool = True) -> list[str]:
    """Lower-cased words (as written with ``lower=False``), French elisions (l', d',
    qu'...) removed."""
    out = []
    for w in _WORD.findall(text.lower() if lower else text):
        w = _ELISION.sub("", w)
        if w:
            out.append(w)
    return out


@lru_cache(maxsize=1)
def _nltk_stop_words() -> tuple[frozenset[str], frozenset[str]]:
    import llama_index.core
    import nltk

    data = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    if str(data) not in nltk.data.path:
        nltk.data.path.insert(0, str(data))
    from nltk.corpus import stopwords

    return frozenset(stopwords.words("french")), frozenset(stopwords.words("english"))


@lru_cache(maxsize=1)
def stop_words() -> dict[str, frozenset[str]]:
    """NLTK's French and English stop words, plus question words they lack."""
    fr, en = _nltk_stop_words()
    fr = set(fr) | {
        "quel", "quelle", "quels", "quelles", "combien", "comment", "pourquoi", "quand",
        "où", "qui", "quoi", "est-ce", "cette", "ces", "cet", "été", "dont", "a-t-il",
        "a-t-elle", "ont-ils", "sont", "peut", "fait", "faire", "plus", "très", "aussi",
        "faut",
        # what a user says around a question, never its subject ("je peux avoir le tel
        # stp", "Bonjour, je cherche …")
        "bonjour", "merci", "svp", "stp", "peux", "pouvez", "pourriez", "voudrais",
        "voudrait", "aimerais", "souhaite", "souhaiterais", "besoin", "dois",
        "quelqu'un", "avoir",
    }  # fmt: skip
    en = set(en) | {
        "which", "what", "who", "whom", "when", "where", "hello", "hi", "please", "thanks",
        "thank", "need", "want", "looking", "tell", "know", "whats",
    }  # fmt: skip
    return {"fr": frozenset(fr), "en": frozenset(en)}


@lru_cache(maxsize=1)
def folded_stop_words() -> frozenset[str]:
    """Both languages' stop words, folded (for comparisons on folded text)."""
    sw = stop_words()
    return frozenset(fold(w) for w in sw["fr"] | sw["en"])


# A word written in capitals, 2 to 10 characters with at least two letters ("RESCUE",
# "MBM", "COSANTRAN"), on a line that also writes lower case: a heading typed in capitals
# ("LA MISSION") names nothing.
_CAPITALS = re.compile(r"(?<![\w'’-])[A-Z][A-Z0-9]{1,9}(?![\w-])")
_LOWER = re.compile(r"[a-zß-ÿ]")


def acronyms_in(text: str) -> dict[str, str]:
    """The acronyms ``text`` writes, by folded form: {"rescue": "RESCUE"}."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if _LOWER.search(line):
            for w in _CAPITALS.findall(line):
                if sum(c.isalpha() for c in w) >= 2:
                    found.setdefault(fold(w), w)
    return found


def detect_language(text: str) -> Language:
    """French or English, by counting each language's stop words (French wins ties).

    ``langdetect`` is slow to load and unstable on the short questions users type
    ("Qui est X ?" flips between runs); stop words decide these reliably.
    """
    fr_score, en_score = language_scores(text)
    return "en" if en_score > fr_score else "fr"


# An e-mail or web address, written plainly or hidden from robots ("cbertram(at)mission
# bassinminier(dot)org"): its "at" is no English word, its letters no language at all.
# A rule, not fitted. Session 28, seed replays: no answer changed; answers in the
# question's language, dev (179 turns) 88.0 -> 90.7 %, held-out test (175) 92.6 % both.
_ADDRESS = re.compile(r"\S*(?:@|www\.|https?://)\S*", re.IGNORECASE)  # on revealed text


def language_scores(text: str) -> tuple[float, float]:
    """The French and English evidence of ``text``: its stop words of each language (and
    French accents), addresses left out; (0, 0) for a text in no language ("2009", "April
    23, 2009", "cbertram(at)missionbassinminier(dot)org")."""
    sw = stop_words()
    fr_score = en_score = 0.0
    for w in words(_ADDRESS.sub(" ", reveal_addresses(text))):
        if w in _AMBIGUOUS:
            continue
        fr_score += w in sw["fr"]
        en_score += w in sw["en"]
        if any(c in "éèêàùçôîûœ" for c in w):
            fr_score += 0.5
    return fr_score, en_score


def in_no_language(text: str) -> bool:
    """``text`` holds no word of either language: a bare value ("2009 [1]", "April 23,
    2009", "Catherine Bertram [1]"), in the language of whoever reads it."""
    return language_scores(text) == (0.0, 0.0)


@lru_cache(maxsize=2)
def stemmer(language: str) -> Stemmer.Stemmer:
    """PyStemmer's Snowball stemmer (``"french"`` or ``"english"``)."""
    return Stemmer.Stemmer(language)


@lru_cache(maxsize=50_000)
def stems(word: str) -> frozenset[str]:
    """The French and the English stems of one word, accent-folded: a cheap bridge between
    the forms of both languages (answers may translate the French passages). The word is
    stemmed as written and without its accents, since Snowball reads "engagée" and
    "engagee" (typed without accents) differently."""
    lower, folded = word.lower(), fold(word)
    return frozenset(
        {fold(stemmer("french").stemWord(lower)), stemmer("french").stemWord(folded)}
        | {stemmer("english").stemWord(folded)}
    )


# The subject pronoun a French question puts after its verb ("faut-il", "peut-on",
# "finance-t-il"): a rule of the language, not a word of the question's subject.
_CLITIC = re.compile(r"-(?:t-)?(?:il|elle|on|ils|elles|je|tu|nous|vous|ce)$", re.IGNORECASE)


def content_terms(text: str) -> list[str]:
    """Meaningful words of ``text`` (no stop words, also typed without their accents:
    "ete", "etait", "tres"), in order, without duplicates."""
    folded = folded_stop_words()  # holds every stop word's folded form
    seen: dict[str, None] = {}
    for w in words(text):
        w = _CLITIC.sub("", w) or w  # "peut-on", "finance-t-il": the verb alone
        if fold(w) in folded:
            continue
        if len(w) < 2 and not w.isdigit():
            continue
        seen.setdefault(w, None)
    return list(seen)


def term_set(text: str) -> set[str]:
    """All stems of the content words of ``text``."""
    keys: set[str] = set()
    for w in content_terms(text):
        keys |= stems(w)
    return keys


# ---------------------------------------------------------------- paragraphs and sentences


@dataclass
class Span:
    start: int
    end: int


def paragraphs(text: str) -> list[Span]:
    """Paragraph spans (separated by blank lines), surrounding blanks excluded."""
    spans = []
    for match in re.finditer(r"(?:[^\n]|\n(?!\s*\n))+", text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append(Span(start, end))
    return spans


# Abbreviations after which a period does not end a sentence (French and English).
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "cf", "p", "pp", "n", "no",
    "vol", "ex", "etc", "env", "art", "av", "bd", "mr", "mrs", "ms", "vs", "fig", "ch", "chap",
}  # fmt: skip
# French puts a space before the closing guillemet: "continuerons. » Puis" ends after ».
# A line break ends a sentence too: documents hold one item per line (titles, bullets,
# phone numbers) without final punctuation. Except where the line plainly goes on: it has
# no final punctuation and the next line starts in lower case, or it ends on an open word
# ("pour constituer le «", "de la", "Nord -"): one sentence broken by the layout.
_SENTENCE_END = re.compile(r"[.!?…]+(?:\s?»|[\"')\]’])*[.!?…]*\s+(?!»)|\n+")
_LINE_END = re.compile(r"[.!?;:»…)\]]$")
_OPEN_END = re.compile(
    r"(?:[«(\[,\-–]|\b(?:le|la|les|de|du|des|un|une|et|à|au|aux|en|par|pour|sur|the|of|and))$",
    re.IGNORECASE,
)


def sentence_spans(text: str, block: Span | None = None) -> list[Span]:
    """Sentence spans inside ``block`` (default: all of ``text``), not cut after
    abbreviations ("M.", "p.") nor before a lower-case word on the same line."""
    block = block or Span(0, len(text))
    spans = []
    start = block.start
    for match in _SENTENCE_END.finditer(text, block.start, block.end):
        end = match.start() + len(match.group().rstrip())
        word = re.search(r"(\w+)\.$", text[start : match.start() + 1])
        if match.group().startswith(".") and word and word.group(1).lower() in _ABBREVIATIONS:
            continue
        nxt = text[match.end() : match.end() + 1]
        if nxt and nxt.islower() and "\n" not in match.group():
            continue
        if nxt in (":", ";", ",") and "\n" not in match.group():
            continue  # "Tél. : 03 21 …": no sentence starts with a colon
        if match.group().startswith("\n") and _goes_on(text[start : match.start()], nxt):
            continue
        if end > start:
            spans.append(Span(start, end))
        start = match.end()
    if block.end > start:
        spans.append(Span(start, block.end))
    return [s for s in spans if text[s.start : s.end].strip()]


def _goes_on(line: str, next_char: str) -> bool:
    """A line broken inside its sentence (see ``_OPEN_END``)."""
    line = line.rstrip()
    if not line or _LINE_END.search(line):
        return False
    return next_char.islower() or next_char.isdigit() or bool(_OPEN_END.search(line))


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every sentence of ``text``, paragraph by paragraph; a sentence
    that a blank line broke ("le front traversait la" / "Belgique …") is joined again."""
    out: list[tuple[int, int]] = []
    for block in paragraphs(text):
        for span in sentence_spans(text, block):
            broken = out and text[out[-1][1] : span.start].count("\n") > 1
            if broken and _goes_on(text[out[-1][0] : out[-1][1]], text[span.start]):
                out[-1] = (out[-1][0], span.end)
                continue
            out.append((span.start, span.end))
    return out


# ---------------------------------------------------------------- lines

# A line shorter than this many words is a heading, a label or a name ("Directrice",
# "Tél. :", "Christian CHOCQUET"): it reads with the line after it. Set by hand on the seed
# documents' contact blocks, not fitted.
LABEL_WORDS = 6
_LIST_ITEM = re.compile(r"^\s*(?:[-–—•*▪·]|\d{1,2}[.)])\s")


# How a sentence ends, as opposed to a line of a block ("Tél. : 03 21 …", an address): a
# full stop, a question or exclamation mark, an ellipsis, or a closing quote after one.
_SENTENCE_ENDS = (".", "!", "?", "…", "»", "”", '"')


def ends_as_sentence(line: str) -> bool:
    """``line`` ends as a sentence does, not as a label or value line of a block."""
    return line.rstrip().endswith(_SENTENCE_ENDS)


def is_label(line: str) -> bool:
    """A heading, label or name line, read with the line after it."""
    return len(line.split()) < LABEL_WORDS


def is_list_item(line: str) -> bool:
    """A bulleted or numbered list item ("- …", "• …", "3) …")."""
    return bool(_LIST_ITEM.match(line))
