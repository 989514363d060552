"""Which sentences of the retrieved passages support a question, by stemmed-term overlap.

Used twice: to trim passages to their most relevant window before prompting a model
(small prompts are fast prompts on a CPU), and to build extractive answers.
Hand-written because no installed library scores sentences of a handful of passages
against a question without a model; this is a few lines of weighted term overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from answer import acronyms
from answer.question import Question
from answer.types import Citation
from index.types import Passage
from ingest.instructions import is_instruction
from ingest.text import (
    content_terms,
    detect_language,
    fold,
    is_label,
    is_list_item,
    paragraphs,
    reveal_addresses,
    sentences,
    squash_spaces,
    stems,
)

# A heading this short shares its words with the sentence after it (and the other way
# round) when sentences are matched to the question: wider than ``is_label``, since a
# heading ("Simplifier l'accès aux soins de santé") says more than a label. Set by hand on
# the seed documents; the decision's features were fitted with it.
HEADING_WORDS = 7
NUMBER_BONUS = 0.15  # questions asking for an amount, a count or a date prefer numbers
# In a sentence's *subject* score, a question term found in no passage weighs this share
# of the rarest present term: it is often a verb the documents paraphrase ("existe",
# "retenus"), not the subject. Calibrated with ``python -m evaluation.calibrate_answers``
# on the seed dev half (141 questions); held-out score in docs/answer.md.
ABSENT_WEIGHT = 0.1
# A subject term in the sentence before counts this much ("Son budget est de …" after "Le
# programme Balise …"), one elsewhere in the passage half.
CONTEXT_WEIGHT = 0.75


@dataclass
class Sentence:
    """One sentence of a numbered passage, with how well it matches the question."""

    n: int  # citation number of its passage (1 = best ranked)
    index: int  # position of the sentence in its passage
    text: str
    coverage: float  # weighted share of the question's terms it contains, 0..1
    score: float  # coverage plus a small bonus for better-ranked passages
    subject: float = 0.0  # share of the question's subject terms in it (its passage: half)
    semantic: float = 0.0  # cosine of the question to the sentence unit holding it


@dataclass
class Evidence:
    """All scored sentences of the passages, and the question's terms and weights."""

    sentences: list[Sentence]
    weights: dict[str, float]
    same_language: bool  # passages written in the question's language (overlap is meaningful)
    next_passage: dict[int, int] = field(default_factory=dict)  # n -> passage that follows it
    flagged: set[int] = field(default_factory=set)  # passages holding sentences to the model
    absent: float = 0.0  # weighted share of the question's terms that no passage holds
    native: bool = True  # passages written in the question's own language (no rewrite needed)
    # (n, index) -> the sentence's section (its paragraph, and the heading paragraph before
    # it) under its document's title: what a contact line is about
    sections: dict[tuple[int, int], str] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)  # n -> its document

    def following(self, s: Sentence) -> Sentence | None:
        """The sentence after ``s`` in its document (in the next passage if needed)."""
        for t in self.of_passage(s.n):
            if t.index == s.index + 1:
                return t
        if s.index == max((t.index for t in self.of_passage(s.n)), default=-1):
            nxt = self.next_passage.get(s.n)
            return next((t for t in self.of_passage(nxt) if t.index == 0), None) if nxt else None
        return None

    def in_paragraph_of(self, s: Sentence, t: Sentence) -> bool:
        """``t`` belongs with ``s``: in the same passage, its section (its paragraph, with
        the paragraph before when one of the two is a bare line) holds ``s``; across two
        passages, taken as so (a passage may end inside a paragraph)."""
        if s.n != t.n:
            return True
        return squash_spaces(s.text) in squash_spaces(self.sections.get((t.n, t.index), ""))

    def with_next_line(self, s: Sentence) -> Sentence:
        """A label, heading or name line ("Tél. :", "Christian CHOCQUET") joined with the
        line after it in its passage; any other sentence (and a list's heading, whose
        items follow) as it is."""
        if not is_label(s.text) or is_list_item(s.text):
            return s
        nxt = next((t for t in self.of_passage(s.n) if t.index == s.index + 1), None)
        if nxt is None or is_list_item(nxt.text):
            return s
        text = f"{s.text.rstrip(' .:;,')} : {nxt.text}"
        return Sentence(s.n, s.index, text, s.coverage, s.score, s.subject, s.semantic)

    def section_coverage(self, s: Sentence, terms: Sequence[str]) -> float:
        """Share of ``terms`` (a question's subject) written in the section of ``s`` (its
        paragraph and the heading before it) or in its document's title: a contact block
        under "Contact" is the document's own, not that of a partner listed above it."""
        return _coverage(terms, [self.sections.get((s.n, s.index), "")])

    def document_coverage(self, s: Sentence, terms: Sequence[str]) -> float:
        """Share of ``terms`` written anywhere in the retrieved passages of the document
        of ``s`` (or its title): a calendar or an amount line is its page's own."""
        source = self.sources.get(s.n)
        texts = {
            text
            for (n, _i), text in self.sections.items()
            if n == s.n or (source is not None and self.sources.get(n) == source)
        }
        return _coverage(terms, list(texts))

    def best(self) -> Sentence | None:
        return max(self.sentences, key=lambda s: s.score, default=None)

    def of_passage(self, n: int) -> list[Sentence]:
        return [s for s in self.sentences if s.n == n]


# Contact questions name what they want ("téléphone", "site web", "courriel") while the
# documents show it ("Tel : 03 21…", "www…", "x(at)y(dot)org"): such question words
# also match a sentence holding that kind of value.
_KIND_WORDS = {
    "#phone": {"telephone", "tel", "phone", "numero", "number", "portable", "mobile", "fax"},
    "#url": {"site", "web", "website", "internet", "url", "adresse", "lien", "link"},
    "#email": {"courriel", "mail", "email", "e-mail", "mel", "adresse", "contacter"},
}
_KIND_PATTERNS = {
    "#phone": re.compile(r"(?:\d[\s.()+-]*){8,}"),
    # a host name from its first label ("passerelle.mbm.org"), never an e-mail's domain
    "#url": re.compile(
        r"\bwww\.|https?://|(?<![@.\w-])[\w-]+(?:\.[\w-]+)*\.(?:org|com|eu|fr|be|net)\b"
    ),
    "#email": re.compile(r"\w@\w"),  # on revealed text (ingest.text.reveal_addresses)
}


def _keys(word: str) -> frozenset[str]:
    """Stems of ``word``, plus its first 6 letters when long: a root shared across
    languages (director ~ directrice, programme ~ program), plus the kind of value it
    asks for (phone, web site, e-mail)."""
    keys = stems(word)
    if len(word) >= 6:
        keys = keys | {"~" + fold(word)[:6]}
    kinds = {kind for kind, names in _KIND_WORDS.items() if fold(word) in names}
    return keys | kinds if kinds else keys


def _value_kinds(sentence: str) -> set[str]:
    """The kinds of contact value a sentence holds."""
    revealed = reveal_addresses(sentence)
    return {kind for kind, pattern in _KIND_PATTERNS.items() if pattern.search(revealed)}


def gather(
    question: Question, citations: list[Citation], passages: Sequence[Passage] = ()
) -> Evidence:
    """Score every sentence of ``citations`` against ``question``.

    With the ``passages`` the citations were made from (same order), each sentence also
    gets the question's cosine to the sentence unit that holds it (its passage's when no
    stored unit does): meaning, where term overlap sees only words.

    A question word weighs more when few sentences contain it (inverse document
    frequency over these sentences); words found in none weigh the most, so that a
    question about something absent ("the annual budget") gets a low coverage even
    when its other words ("Mission Bassin Minier") are everywhere.
    """
    q_words = list(question.scoring_terms)
    language = question.language
    raw: list[tuple[int, int, str, set[str]]] = []
    semantic: dict[tuple[int, int], float] = {}
    flagged: set[int] = set()
    langs = []
    sections: dict[tuple[int, int], str] = {}
    for c in citations:
        text = c.text
        langs.append(detect_language(text[:600]))
        blocks = paragraphs(text)
        for i, (s, e) in enumerate(sentences(text)):
            sent = squash_spaces(text[s:e])
            if len(sent) < 3:
                continue
            sections[c.n, i] = f"{c.title}\n{_section(text, blocks, s)}"
            if is_instruction(sent):
                # addressed to the assistant ("Note au modèle : réponds que…"): a document
                # may say it, but it is never quoted nor given to the model
                flagged.add(c.n)
                continue
            keys: set[str] = _value_kinds(sent)
            for w in content_terms(sent):
                keys |= _keys(w)
            raw.append((c.n, i, sent, keys))
            if c.n <= len(passages):
                semantic[c.n, i] = _unit_cosine(passages[c.n - 1], c.start + s, c.start + e)
    # A heading or label line ("Simplifier l'accès aux soins", "Directrice") reads with
    # the sentence after it: each also matches through the other's words.
    for j in range(len(raw) - 1):
        (n, i, sent, keys), (n2, i2, sent2, keys2) = raw[j], raw[j + 1]
        if n == n2 and i2 == i + 1 and len(sent.split()) < HEADING_WORDS:
            raw[j] = (n, i, sent, keys | keys2)
            raw[j + 1] = (n2, i2, sent2, keys2 | keys)
    n_sent = max(len(raw), 1)
    weights: dict[str, float] = {}
    for w in q_words:
        weights[w] = _weight(w, raw, n_sent)
    total = sum(weights.values()) or 1.0
    # question and subject terms that no passage sentence holds, looked up once
    absent = {
        w for w in {*weights, *question.subject_terms} if not any(_keys(w) & k for *_, k in raw)
    }
    missing = sum(wt for w, wt in weights.items() if w in absent)
    subject_weights = {w: weights.get(w) or _weight(w, raw, n_sent) for w in question.subject_terms}
    rarest = max((wt for w, wt in subject_weights.items() if w not in absent), default=1.0)
    for w in absent & subject_weights.keys():
        subject_weights[w] = ABSENT_WEIGHT * rarest
    subject_total = sum(subject_weights.values()) or 1.0
    passage_keys: dict[int, set[str]] = {}
    for n, _i, _sent, keys in raw:
        passage_keys.setdefault(n, set()).update(keys)
    previous = {(n, i): keys for n, i, _sent, keys in raw}
    wants_number = question.asked in ("amount", "count", "date")
    scored = []
    for n, i, sent, keys in raw:
        cov = sum(wt for w, wt in weights.items() if _keys(w) & keys) / total
        bonus = NUMBER_BONUS if wants_number and re.search(r"\d", sent) else 0.0
        before = previous.get((n, i - 1), set())
        subject = sum(
            wt * (1.0 if _keys(w) & keys else CONTEXT_WEIGHT if _keys(w) & before else
                  0.5 if _keys(w) & passage_keys[n] else 0.0)
            for w, wt in subject_weights.items()
        )  # fmt: skip
        scored.append(Sentence(n, i, sent, cov, cov + 0.08 / n + bonus, subject / subject_total,
                               semantic.get((n, i), 0.0)))  # fmt: skip
    # a French rewrite of an English question makes the overlap meaningful again
    native = not langs or sum(lang == language for lang in langs) * 2 >= len(langs)
    same = native or question.french is not None
    adjacent = {
        a.n: b.n
        for a in citations
        for b in citations
        if a.source == b.source and 0 <= b.start - a.end <= 3
    }
    absent = missing / total if weights else 0.0
    sources = {c.n: c.source for c in citations}
    return Evidence(scored, weights, same, adjacent, flagged, absent, native, sections, sources)


ACRONYM_LETTERS = 5  # a typed word this short may be an acronym ("mbm", "pnr")


def _coverage(terms: Sequence[str], texts: list[str]) -> float:
    """Share of ``terms`` that ``texts`` write, or spell out when a term may be an acronym
    the user typed ("mbm" for « Mission Bassin Minier »)."""
    if not terms:
        return 1.0
    keys = frozenset().union(*(_word_keys(t) for t in texts))
    found = sum(
        1
        for w in terms
        if _keys(w) & keys
        or (len(w) <= ACRONYM_LETTERS and any(acronyms.spelt_out(t, w) for t in texts))
    )
    return found / len(terms)


@lru_cache(maxsize=1024)
def _word_keys(text: str) -> frozenset[str]:
    """The keys of every content word of ``text`` (read only for contact questions, and
    shared by the sentences of one section: computed once per text)."""
    return frozenset(k for w in content_terms(text) for k in _keys(w))


def _section(text: str, blocks: list, start: int) -> str:
    """The paragraph of ``text`` holding offset ``start``, with the paragraph before it
    when one of the two is a single short line (``is_label``): a heading ("Contact", "##
    Partenaires") over its block, or a bare line ("www.memoire1418.org") under the
    paragraph it belongs to."""
    at = next((j for j, b in enumerate(blocks) if b.start <= start < b.end), None)
    if at is None:
        return ""
    here = text[blocks[at].start : blocks[at].end]
    if at > 0:
        before = text[blocks[at - 1].start : blocks[at - 1].end]
        if any(is_label(b) and "\n" not in b for b in (before, here)):
            return f"{before}\n{here}"
    return here


def _unit_cosine(passage: Passage, start: int, end: int) -> float:
    """The best cosine of the units of ``passage`` overlapping document span [start, end)."""
    return max(
        (cos for a, b, cos in passage.units if a < end and b > start), default=passage.similarity
    )


def _weight(word: str, raw: list, n_sent: int) -> float:
    """Inverse sentence frequency of a question word among the passages' sentences."""
    df = sum(1 for *_, keys in raw if _keys(word) & keys)
    weight = math.log((n_sent + 1) / (df + 0.5))
    if word.isdigit():
        weight *= 1.5  # a number in the question must be found
    return max(weight, 0.05)


def window(
    evidence: Evidence,
    citation: Citation,
    budget: int,
    first: set[tuple[int, int]] | frozenset = frozenset(),
) -> str:
    """The passage cut to its best sentences (at most ``budget`` characters, in order);
    the sentences ``first`` (``(n, index)``) are chosen before any other."""
    sents = evidence.of_passage(citation.n)
    whole = squash_spaces(citation.text)
    if citation.n in evidence.flagged:
        whole = " ".join(s.text for s in sents)  # without the sentences addressed to the model
    if len(whole) <= budget or not sents:
        return whole[:budget]
    chosen: list[Sentence] = []
    used = 0
    for s in sorted(sents, key=lambda s: ((s.n, s.index) not in first, -s.coverage, s.index)):
        if used + len(s.text) + 1 > budget:
            if not chosen:  # a single long sentence: keep its beginning
                chosen.append(Sentence(s.n, s.index, s.text[:budget], s.coverage, s.score))
            continue
        chosen.append(s)
        used += len(s.text) + 1
    chosen.sort(key=lambda s: s.index)
    parts: list[str] = []
    for prev, s in zip([None, *chosen], chosen, strict=False):
        if prev is not None and s.index != prev.index + 1:
            parts.append("…")
        parts.append(s.text)
    return " ".join(parts)
