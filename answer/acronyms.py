"""What an acronym stands for: « BMU c'est quoi » is answered by « Bassin Minier Uni (BMU) ».

The decision (``answer/decision.py``) scores sentences by the question's words; a question
about an acronym has one content word, and the sentence that expands it shares only that
word, so it ranked low (seed dev: « BMU c'est quoi », « que signifie APBM », "What does
the acronym ICI stand for" were refused with the expansion as the nearest passage).
Whether a sentence spells an acronym out is a fact of its letters, checked here.
Hand-written: no installed library finds acronym definitions in French text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ingest.text import fold, folded_stop_words, words

# Asking what an acronym means, in French or English (folded question).
_ASKS_MEANING = re.compile(
    r"\b(?:signifi\w*|veut dire|veulent dire|voulait dire|c'est quoi|qu'est[- ]ce que|"
    r"stand(?:s)? for|mean(?:s|ing)?|acronyme?|sigle|definition|what is|what's)\b"
)
# A word whose meaning a question may ask: 2 to 8 letters; it is an acronym when a
# passage writes it in capitals ("BMU"), whatever the question's case. Apostrophes and
# hyphens split it ("MBM's" asks about MBM), unlike ``ingest.text.words``.
_TOKEN = re.compile(r"\b\w{2,8}\b")
_WORD = re.compile(r"\b\w{2,10}\b")  # a word that may be an acronym (``ingest.text.acronyms_in``)
SPAN_WORDS = 24  # words read on each side of an acronym: a bound on an expansion, not fitted


def asked(question: str) -> list[str]:
    """The words of ``question`` it asks the meaning of (folded, 2-8 letters, no stop
    words): every one when it asks what something means, else none. A passage decides
    which is an acronym (written there in capitals)."""
    folded = fold(question)
    if not _ASKS_MEANING.search(folded):
        return []
    return [w for w in _TOKEN.findall(folded) if w not in folded_stop_words() and not w.isdigit()]


def _spells(acronym: str, span: list[str]) -> bool:
    """The words of ``span`` spell ``acronym``: the first is capitalised, its initial and
    the last word's are the acronym's first and last letters, and the acronym's letters
    are initials of the words in order. Stop words (articles, prepositions: the languages'
    lists) never count and the other words may (« Agir pour la connaissance … du
    Patrimoine … du Bassin Minier » is APBM), but at most ``2 n + 2`` of them for ``n``
    letters: an expansion, not any nearby words."""
    letters = fold(acronym)
    kept = [w for w in span if w[0].isalpha() and fold(w) not in folded_stop_words()]
    if not kept or not kept[0][0].isupper() or len(kept) > 2 * len(letters) + 2:
        return False
    initials = [fold(w)[0] for w in kept]
    if initials[0] != letters[0] or initials[-1] != letters[-1]:
        return False
    at = 0
    for initial in initials:
        if at < len(letters) and initial == letters[at]:
            at += 1
    return at == len(letters)


def expands(sentence: str, acronym: str) -> bool:
    """``sentence`` spells out ``acronym`` (folded): it writes the acronym in capitals
    with its expansion just before it (« Bassin Minier Uni (BMU) ») or just after it
    (« APBM - Agir pour … », « ICI : Itinéraire de la Culture Industrielle »)."""
    return any(
        _expansion(sentence, m, acronym)
        for m in re.finditer(rf"\b{re.escape(acronym.upper())}\b", sentence)
    )


def _expansion(sentence: str, at: re.Match[str], acronym: str) -> list[str] | None:
    """The words spelling out ``acronym`` written at ``at``: the shortest span ending
    right before it, else the shortest starting right after it; None when neither does."""
    before = words(sentence[: at.start()], lower=False)[-SPAN_WORDS:]
    after = words(sentence[at.end() :], lower=False)[:SPAN_WORDS]
    spans = [before[i:] for i in reversed(range(len(before)))]
    spans += [after[: j + 1] for j in range(len(after))]
    return next((span for span in spans if _spells(acronym, span)), None)


def spelt_out(text: str, acronym: str) -> bool:
    """``text`` writes words that spell ``acronym`` (folded), with or without the acronym
    itself: « La Mission Bassin Minier » spells "mbm", which a user types for it."""
    letters = fold(acronym)
    found = words(text, lower=False)
    return any(
        _spells(letters, found[i:j])
        for i, w in enumerate(found)
        if w[:1].isupper() and fold(w)[0] == letters[0]
        for j in range(i + len(letters), min(i + 2 * len(letters) + 3, len(found)) + 1)
    )


_CAPITALS = re.compile(r"\b[A-Z]{2,8}\b")


def expansions(sentence: str, only: Sequence[str]) -> list[str]:
    """The expansions ``sentence`` gives for the acronyms of ``only`` (folded) it writes,
    as written (« Bassin Minier Uni » for « Bassin Minier Uni (BMU) »)."""
    spans = (
        _expansion(sentence, m, m.group())
        for m in _CAPITALS.finditer(sentence)
        if fold(m.group()) in only
    )
    return [" ".join(span) for span in spans if span]


def written(question: str, known: Mapping[str, str]) -> str:
    """``question`` with each word typed in lower case that the documents write as an
    acronym (``known``, by folded form) written as they do: "involved in rescue" ->
    "involved in RESCUE". The model translating the question keeps acronyms as written,
    and cannot know that a lower-case "rescue" is one (it wrote « à la rescousse »). Stop
    words are left alone. A rule of reading, not fitted; session 30, replayed: seed test
    (175 turns, held out) 1 question concerned, no answer changed; dev (179) 2 concerned,
    1 refused -> right."""
    if not known:
        return question

    def cased(match: re.Match[str]) -> str:
        word = match.group()
        folded = fold(word)
        if word.islower() and folded in known and folded not in folded_stop_words():
            return known[folded]
        return word

    return _WORD.sub(cased, question)
