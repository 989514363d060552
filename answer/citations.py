"""Citation checker, run after generation: every kept sentence is backed by the passages it cites.

The checker splits the answer into sentences (list items count as sentences) and, for each one:

1. drops ``[n]`` markers that do not point to a given passage (a ``[7]`` with 4 passages);
2. extracts its *facts* — numbers (``118,2``, ``2007-2013``, ``08 72 72``), dates (a month next
   to a number), magnitudes (``millions``), URLs/domains and proper names (capitalised words not
   at sentence start, acronyms such as ``COSANTRAN``) — each of which must appear in the cited
   passages (accent-, case- and whitespace-insensitive; ``118,2`` == ``118.2``; thin spaces);
3. measures its *overlap*: the share of its content words (stop words removed, each stemmed with
   the French and the English Snowball stemmers) whose stem occurs in the cited passages. The
   sentence is supported when all facts are found and overlap >= ``OVERLAP_THRESHOLD``.

An unsupported sentence gets the best other passage (or pair of passages) that supports it, or is
removed. A sentence without any citation is checked against all passages the same way; short
connective sentences without facts ("Voici ce que disent les documents :") stay uncited.
Finally no number remains in the answer unless a cited passage contains it.

Calibration of ``OVERLAP_THRESHOLD`` (``python -m evaluation.calibrate_citations``, seed corpus):
sentences of one document scored against the best passage of the *other* document (claims from
another document) versus faithful paraphrases of passage sentences; see ``docs/evaluation.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import combinations

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_FRENCH

from answer.types import Citation, Language
from ingest.sentences import chunk_sentences

OVERLAP_THRESHOLD: dict[str, float] = {"fr": 0.5, "en": 0.4}
"""Minimum share of a sentence's content stems and numbers found in its cited passages.

Calibrated (``python -m evaluation.calibrate_citations``, 200 sentences of 98 documents): at
0.5, 3.5 % of sentences reach it against the most overlapping passage of another document and
2.5 % also pass the facts check (same document, other passage: 8.6 % / 4.3 %); faithful French
paraphrases score 0.67-1.0. English answers translate the (French) passages and keep fewer
stems (0.44-0.73 measured on paraphrases of the seed corpus), hence 0.4 in English."""

CONNECTIVE_MAX_WORDS = 14
"""An uncited sentence without facts and at most this many words may stay as a connective."""

NAME_SIMILARITY = {"fr": 0.85, "en": 0.6}
"""A proper name matches a passage word this similar (difflib ratio, same first two letters):
plurals and spellings in French (``Silesie``/``Silésie``); in English also translated names
(``Brazil``/``Brésil``, ``Belgium``/``Belgique``) since the passages are mostly French."""

# Words an answer uses to frame its claims; they say nothing about the passage content.
_FRAMING_WORDS = {
    "selon",
    "document",
    "documents",
    "passage",
    "passages",
    "source",
    "sources",
    "voici",
    "cette",
    "cet",
    "aussi",
    "ainsi",
    "egalement",
    "a",
    "notamment",
    "plus",
    "tres",
    "information",
    "informations",
    "indique",
    "indiquent",
    "mentionne",
    "precise",
    "according",
    "states",
    "mentions",
    "also",
    "including",
    "question",
    "reponse",
    "answer",
    "oui",
    "non",
    "yes",
    "no",
}

_MONTHS = (
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|"
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_MAGNITUDES = r"millions?|milliards?|billions?|thousands?|mille|k€|m€|md€|mds"

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LIST_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|[-*•·–]\s+|\d{1,2}[.)]\s+)?)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*)(\s+)(?=\S)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)+(?:[a-z]{2,6})(?:/[^\s\])]*)?(?![a-z0-9])", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_PLAIN_WORD = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- normalisation


def fold(text: str) -> str:
    """Lowercase, strip accents, unify apostrophes/dashes and collapse all spaces (thin too)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    text = text.replace("(at)", "@").replace("(dot)", ".")  # de-obfuscated e-mail addresses
    return _SPACES.sub(" ", text.lower()).strip()


def _number_variants(token: str) -> set[str]:
    """Comparable forms of one number token: ``118,2`` -> ``118.2``; ``1.000`` -> ``1000``."""
    t = token.replace(",", ".")
    forms = {t, t.lstrip("0") or "0"}
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", t):  # 1.000.000 written with thousand separators
        forms.add(t.replace(".", ""))
    return forms


def number_tokens(text: str) -> list[str]:
    """Numbers of a text as written, markers excluded: ``2007-2013`` gives ``2007`` and ``2013``."""
    return _NUMBER.findall(_MARKER.sub(" ", fold(text)))


@dataclass
class _Evidence:
    """Pre-computed, comparable content of one or several passages."""

    text: str  # folded
    numbers: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, texts: list[str]) -> _Evidence:
        folded = " \n ".join(fold(t) for t in texts)
        numbers: set[str] = set()
        tokens = [m for m in _NUMBER.finditer(folded)]
        for tok in tokens:
            numbers |= _number_variants(tok.group())
        # groups written with spaces ("100 000", "08 72 72") also match their joined form
        for i in range(len(tokens)):
            joined = tokens[i].group()
            for j in range(i + 1, min(i + 5, len(tokens))):
                if folded[tokens[j - 1].end() : tokens[j].start()] != " ":
                    break
                joined += tokens[j].group()
                numbers |= _number_variants(joined)
        words = set(_WORD.findall(folded)) | set(_PLAIN_WORD.findall(folded))
        stems = {s for w in _PLAIN_WORD.findall(folded) for s in _stems(w)}
        return cls(folded, numbers, words, stems)


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


@lru_cache(maxsize=20000)
def _stems(word: str) -> tuple[str, ...]:
    """French and English stems of a folded word (answers may translate the passages)."""
    return tuple({_stemmer("french").stemWord(word), _stemmer("english").stemWord(word)})


_STOPWORDS = {fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN_PLUS)} | _FRAMING_WORDS


def content_words(text: str) -> list[str]:
    """Folded words of a sentence that carry meaning (stop and framing words removed)."""
    words = _PLAIN_WORD.findall(fold(_MARKER.sub(" ", text)))  # l'Union -> l, union
    return [w for w in words if len(w) > 1 and w not in _STOPWORDS]


# ---------------------------------------------------------------- facts of a sentence


@dataclass
class Facts:
    """What a sentence asserts that must be found verbatim (modulo normalisation) in a passage."""

    numbers: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    magnitudes: list[str] = field(default_factory=list)
    quantities: list[tuple[str, list[str]]] = field(default_factory=list)  # number, nouns

    def __bool__(self) -> bool:
        return bool(self.numbers or self.urls or self.names or self.months or self.magnitudes)


def sentence_facts(sentence: str) -> Facts:
    """Numbers, URLs/domains, proper names, dated months and magnitudes of one sentence."""
    raw = _MARKER.sub(" ", sentence)
    urls = [u.rstrip(".").lower() for u in _URL.findall(raw) if re.search(r"[a-z]", u, re.I)]
    no_urls = _URL.sub(" ", raw)
    folded = fold(no_urls)
    names: list[str] = []
    words = list(re.finditer(_WORD, no_urls))
    for i, m in enumerate(words):
        w = m.group()
        elided = re.match(r"^(?:[lLdDjJnNsScCmMtT]|[qQ]u)['’](?=\w)", w)
        if elided:  # "l'Italie", "d'Escaut": the name is what follows the elision
            w = w[elided.end() :]
        before = no_urls[: m.start()].rstrip()
        at_start = i == 0 or before.endswith((".", "!", "?", ":", "«", '"', "“", "*", "-", "•"))
        acronym = len(w) >= 2 and w.isupper()
        if acronym or (w[0].isupper() and not at_start and fold(w) not in _STOPWORDS):
            names.append(fold(w))
    return Facts(
        numbers=_NUMBER.findall(folded),
        urls=urls,
        names=names,
        months=re.findall(rf"(?<=\d )(?:{_MONTHS})\b|\b(?:{_MONTHS})(?= \d{{4}})", folded),
        magnitudes=re.findall(rf"\d+(?:[.,]\d+)? (?:{_MAGNITUDES})", folded),
        quantities=_quantities(folded, after=3),
    )


_YEAR = re.compile(r"(?:1[5-9]|20)\d\d")


def _nouns(words: list[str]) -> list[str]:
    """The words that can name what is counted (no stop words, no 1-2 letter words)."""
    return [w for w in words if len(w) > 2 and w not in _STOPWORDS]


def _quantities(folded: str, after: int) -> list[tuple[str, list[str]]]:
    """Counts and what they count: ``172 projets`` -> ("172", ["projets"]). Years, amounts
    with a magnitude and numbers followed by no content word are left out."""
    out = []
    for m in _NUMBER.finditer(folded):
        if _YEAR.fullmatch(m.group()):
            continue
        nouns = _nouns(_PLAIN_WORD.findall(folded[m.end() : m.end() + 60])[:after])
        if nouns and not re.match(rf"(?:{_MAGNITUDES})$", nouns[0]):
            out.append((m.group(), nouns))
    return out


def _counted_by(number: str, nouns: list[str], ev: _Evidence, language: Language) -> bool:
    """True when a passage writes ``number`` next to (3 words around) one of ``nouns``:
    "222 projets" is refused where the passage says "222 opérateurs … 172 projets"."""
    variants = _number_variants(number)
    threshold = NAME_SIMILARITY.get(language, NAME_SIMILARITY["fr"])
    for m in _NUMBER.finditer(ev.text):
        if not (_number_variants(m.group()) & variants):
            continue
        before = _PLAIN_WORD.findall(ev.text[max(0, m.start() - 40) : m.start()])[-3:]
        around = before + _PLAIN_WORD.findall(ev.text[m.end() : m.end() + 60])[:3]
        for noun in nouns:
            stems = set(_stems(noun))
            for word in around:
                if stems & set(_stems(word)) or (
                    word[:2] == noun[:2] and SequenceMatcher(None, noun, word).ratio() >= threshold
                ):
                    return True
    return False


def _name_found(name: str, ev: _Evidence, language: Language = "fr") -> bool:
    if name in ev.words or re.search(rf"\b{re.escape(name)}\b", ev.text):
        return True
    if "-" in name or "'" in name:  # "Nord-Pas-de-Calais" vs "Nord - Pas-de-Calais": part by part
        return all(_name_found(p, ev, language) for p in re.split(r"[-']", name) if p)
    threshold = NAME_SIMILARITY.get(language, NAME_SIMILARITY["fr"])
    return any(
        abs(len(w) - len(name)) <= 3 and SequenceMatcher(None, name, w).ratio() >= threshold
        for w in ev.words
        if w[:2] == name[:2]
    )


def missing_facts(facts: Facts, ev: _Evidence, language: Language = "fr") -> list[str]:
    """The facts of a sentence that the evidence does not contain."""
    missing = [n for n in facts.numbers if not (_number_variants(n) & ev.numbers)]
    for url in facts.urls:
        core = re.sub(r"^(?:https?://)?(?:www\.)?", "", fold(url)).rstrip("/")
        if core not in ev.text:
            missing.append(url)
    missing += [n for n in facts.names if not _name_found(n, ev, language)]
    missing += [m for m in facts.months if m not in ev.text]
    missing += [
        f"{number} {' '.join(nouns)}"
        for number, nouns in facts.quantities
        if _number_variants(number) & ev.numbers and not _counted_by(number, nouns, ev, language)
    ]
    for amount in facts.magnitudes:  # "253 millions": the number with its magnitude
        number, magnitude = amount.split(" ")
        number = re.escape(number.replace(",", "."))
        pattern = rf"(?<![\d.]){number}\s?{re.escape(magnitude.rstrip('s'))}"
        if not re.search(pattern, ev.text.replace(",", ".")):
            missing.append(amount)
    return missing


def overlap(sentence: str, ev: _Evidence) -> float:
    """Share of the sentence's content-word stems and numbers present in the evidence.

    Numbers count as content: "Le téléphone est le 321 08 72 72" is mostly its number.
    A sentence without content words or numbers scores 1.0.
    """
    words = content_words(sentence)
    numbers = number_tokens(sentence)
    if not words and not numbers:
        return 1.0
    hits = sum(1 for w in words if any(s in ev.stems for s in _stems(w)))
    hits += sum(1 for n in numbers if _number_variants(n) & ev.numbers)
    return hits / (len(words) + len(numbers))


# ---------------------------------------------------------------- sentence splitting


@dataclass
class _Unit:
    """One sentence of the answer: its text (markers included) and what follows it."""

    prefix: str  # list bullet / heading marks
    text: str
    sep: str  # whitespace up to the next unit


def split_sentences(answer: str) -> list[_Unit]:
    """Sentences and list items, each keeping the ``[n]`` markers written right after its end."""
    units: list[_Unit] = []
    lines = re.split(r"(\n+)", answer)
    for i in range(0, len(lines), 2):
        line, newline = lines[i], (lines[i + 1] if i + 1 < len(lines) else "")
        prefix = _LIST_PREFIX.match(line).group(1)  # type: ignore[union-attr]
        body = line[len(prefix) :]
        pos = 0
        for m in _SENTENCE_END.finditer(body):
            end = m.start(2)
            units.append(_Unit(prefix if pos == 0 else "", body[pos:end], m.group(2)))
            pos = m.end()
        units.append(_Unit(prefix if pos == 0 else "", body[pos:], newline))
    return [u for u in units if u.text.strip() or u.prefix.strip()]


def cited_numbers(text: str) -> list[int]:
    """The passage numbers cited in a text, in order of first appearance."""
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for n in re.split(r"\s*[,;]\s*", m.group(1)):
            if int(n) not in out:
                out.append(int(n))
    return out


def _with_markers(text: str, ns: list[int]) -> str:
    """The sentence with its markers replaced by ``[n]...`` before its final punctuation."""
    bare = _SPACES.sub(" ", _MARKER.sub("", text)).strip()
    bare = re.sub(r"\s+([.,;:!?…])", r"\1", bare)
    markers = "".join(f"[{n}]" for n in ns)
    if not markers:
        return bare
    m = re.search(r"[.!?…:;]+$", bare)
    return f"{bare[: m.start()]} {markers}{m.group()}" if m else f"{bare} {markers}"


# ---------------------------------------------------------------- the checker


@dataclass
class CheckResult:
    """The checked answer and what the check changed."""

    answer: str
    cited: list[int]
    removed: list[str]
    answerable: bool


class _Support:
    """Decides whether sets of passages support a sentence; caches evidence per set."""

    def __init__(self, citations: list[Citation], language: Language) -> None:
        self.by_n = {c.n: c for c in citations}
        self.language = language
        self._cache: dict[tuple[int, ...], _Evidence] = {}

    def evidence(self, ns: tuple[int, ...]) -> _Evidence:
        if ns not in self._cache:
            self._cache[ns] = _Evidence.of([self.by_n[n].text for n in ns])
        return self._cache[ns]

    def score(self, sentence: str, facts: Facts, ns: tuple[int, ...]) -> float | None:
        """Overlap when the passages ``ns`` support the sentence, else None."""
        if not ns:
            return None
        ev = self.evidence(ns)
        if missing_facts(facts, ev, self.language):
            return None
        s = overlap(sentence, ev)
        threshold = OVERLAP_THRESHOLD.get(self.language, OVERLAP_THRESHOLD["fr"])
        return s if s >= threshold else None

    def best(self, sentence: str, facts: Facts) -> list[int] | None:
        """The single passage, else the pair of passages, supporting the sentence best."""
        ns = sorted(self.by_n)
        for size in (1, 2):
            scored = [
                (s, combo)
                for combo in combinations(ns, size)
                if (s := self.score(sentence, facts, combo)) is not None
            ]
            if scored:
                return list(max(scored, key=lambda x: (x[0], [-n for n in x[1]]))[1])
        return None


def _restates(claim: str, question: str) -> bool:
    """True when every content word of ``claim`` comes from ``question``: the sentence only
    echoes the question ("The centre that is a mining history centre is [1].")."""
    words = content_words(claim)
    asked = {s for w in content_words(question) for s in _stems(w)}
    folded_question = fold(question)
    facts = sentence_facts(claim)
    if any(f not in folded_question for f in (*number_tokens(claim), *facts.names, *facts.urls)):
        return False  # it brings a number, a name or an address: an answer
    return bool(words) and all(set(_stems(w)) & asked for w in words)


def check_answer(
    answer: str, citations: list[Citation], language: Language, question: str | None = None
) -> CheckResult:
    """Keep only sentences supported by the passages they cite (citations fixed when possible).

    ``language`` is the answer's language: English answers may translate names of the (mostly
    French) passages, so their names are matched more loosely. French and English stems are
    always both compared. With ``question``, a sentence that only restates it is removed.
    """
    support = _Support(citations, language)
    kept: list[_Unit] = []
    removed: list[str] = []
    cited: list[int] = []
    for unit in split_sentences(answer):
        text = unit.text
        ns = cited_numbers(text)
        valid = [n for n in ns if n in support.by_n]
        claim = _MARKER.sub(" ", text)
        facts = sentence_facts(claim)
        if not content_words(claim) and not facts:
            # punctuation, "Oui.", a lone heading: keep without citation
            kept.append(_Unit(unit.prefix, _with_markers(text, []) if ns else text, unit.sep))
            continue
        if question and _restates(claim, question):
            removed.append(text.strip())
            continue
        if support.score(claim, facts, tuple(valid)) is not None:
            # of several citations, keep those supporting the sentence alone, if any do
            alone = [n for n in valid if support.score(claim, facts, (n,)) is not None]
            new_ns = alone or valid
        else:
            new_ns = support.best(claim, facts) or []
        short = len(_WORD.findall(claim)) <= CONNECTIVE_MAX_WORDS
        if not new_ns and not ns and not facts and short:  # connective: stays uncited
            kept.append(unit)
            continue
        if not new_ns:
            removed.append(text.strip())
            continue
        new_text = text if new_ns == ns else _with_markers(text, new_ns)
        kept.append(_Unit(unit.prefix, new_text, unit.sep))
        cited += [n for n in new_ns if n not in cited]
    # final guarantee: no number outside the cited passages (connectives have none by design)
    cited_ev = support.evidence(tuple(sorted(cited))) if cited else _Evidence.of([])
    final: list[_Unit] = []
    for unit in kept:
        if missing_facts(Facts(numbers=number_tokens(unit.text)), cited_ev):
            removed.append(unit.text.strip())
        else:
            final.append(unit)
    text = "".join(u.prefix + u.text + u.sep for u in final).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return CheckResult(answer=text, cited=sorted(cited), removed=removed, answerable=bool(cited))


EVIDENCE_MIN_OVERLAP = 0.4  # below this no sentence of the passage is shown as the support


def supporting_span(answer: str, n: int, passage: str) -> tuple[int, int] | None:
    """Offsets, inside ``passage``, of its sentence that best supports the sentences of
    ``answer`` citing ``[n]`` (what the reader should check first), or None."""
    claims = [
        _MARKER.sub(" ", unit.text)
        for unit in split_sentences(answer)
        if n in cited_numbers(unit.text)
    ]
    best: tuple[float, tuple[int, int]] | None = None
    for start, end in chunk_sentences(passage):
        ev = _Evidence.of([passage[start:end]])
        score = max((overlap(claim, ev) for claim in claims), default=0.0)
        if score >= EVIDENCE_MIN_OVERLAP and (best is None or score > best[0]):
            best = (score, (start, end))
    return best[1] if best else None


_COUNT_QUESTION = re.compile(r"\b(?:combien (?:de |d')|how many )(.+)")


def _counts_of(folded: str, asked: set[str]) -> list[str]:
    """Numbers of ``folded`` that count one of the ``asked`` stems ("172 projets")."""
    return [
        number
        for number, nouns in _quantities(folded, after=3)
        if any(set(_stems(noun)) & asked for noun in nouns)
    ]


def misses_asked_count(question: str, answer: str, citations: list[Citation]) -> bool:
    """True when ``question`` asks "how many X", a passage gives a count of X, and
    ``answer`` gives none: the answer is true but does not answer ("222 opérateurs" for
    "combien de projets" where the passage also says "172 projets")."""
    match = _COUNT_QUESTION.search(fold(question))
    if not match:
        return False
    nouns = _nouns(_PLAIN_WORD.findall(match.group(1)))[:3]
    asked = {stem for word in nouns for stem in _stems(word)}
    if not asked or not any(_counts_of(fold(c.text), asked) for c in citations):
        return False
    return not _counts_of(fold(_MARKER.sub(" ", answer)), asked)


def numbers_absent(answer: str, citations: list[Citation]) -> list[str]:
    """Numbers written in ``answer`` that no passage it cites contains (invented numbers)."""
    by_n = {c.n: c for c in citations}
    texts = [by_n[n].text for n in cited_numbers(answer) if n in by_n]
    ev = _Evidence.of(texts)
    written = [n for unit in split_sentences(answer) for n in number_tokens(unit.text)]
    return [n for n in written if not (_number_variants(n) & ev.numbers)]  # list numbers aside
