"""Who did what: a claim must not make a name the subject of an action that the passage
gives to someone else.

The facts check passes "La Fédération … s'est engagée dans une démarche de coopération"
when the passage says "La Région … s'est engagée …" and names the Fédération further on:
every name and number is there. This check looks at what follows each name of the claim
(its action: the first content word after it) and requires the passage to write that action
next to the same name: after it (active voice, within a few words of the same sentence), or
before it with "par"/"by" (passive voice: "coordonné par la Fédération"). A claim whose
action is not in the passage at all is left to the overlap check.

Hand-written: no installed library parses French grammar without a model, and the bundled
1.5B model cannot be trusted to judge its own answers. Measured on
``evaluation/data/subject-swaps.jsonl`` (``python -m evaluation.swaps``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.facts import MONTHS
from ingest.text import fold, folded_stop_words, stems

WINDOW = 8
"""Words after a name (same sentence) within which the passage must write the claim's action.
Chosen on the dev half of the swap set (40 claims) and checked against the seed dev
questions' model answers; held-out score in docs/answer.md."""

# Auxiliaries and light verbs that say nothing of who acted ("a été", "s'est").
_LIGHT = {
    fold(w)
    for w in [
        "a",
        "ont",
        "est",
        "sont",
        "été",
        "etait",
        "était",
        "sera",
        "fut",
        "avait",
        "avaient",
        "se",
        "s'",
        "has",
        "have",
        "had",
        "is",
        "are",
        "was",
        "were",
        "been",
        "be",
        "being",
        "will",
        "would",
        "also",
        "aussi",
        "ainsi",
        "notamment",
        "bien",
        "déjà",
    ]
}
_STOP = folded_stop_words() | _LIGHT
# A number or a month says when or how much, not what was done ("créée en juin 2000": the
# action is "créée"); numbers and dates are the facts check's job. Without this, "2000"
# matched the year written after another name of the passage.
_WHEN = re.compile(rf"\d[\d.,]*|{MONTHS}")
ACTION_WORDS = 2
_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*|[.!?;:]")
_PASSIVE = {"par", "by"}
# A name after a preposition is an object or a complement ("avec l'Union Européenne",
# "autour de la Région"), not the one who acts.
_PREPOSITIONS = {
    fold(w)
    for w in [
        "avec",
        "de",
        "du",
        "des",
        "à",
        "au",
        "aux",
        "par",
        "pour",
        "sur",
        "en",
        "dans",
        "autour",
        "entre",
        "chez",
        "vers",
        "sans",
        "sous",
        "contre",
        "auprès",
        "with",
        "of",
        "to",
        "by",
        "for",
        "in",
        "on",
        "from",
        "at",
        "into",
        "among",
        "between",
    ]
}
_ARTICLES = {"le", "la", "les", "l", "un", "une", "the", "a", "an"}
_NAME_JOINERS = {"de", "du", "des", "d", "la", "le", "l", "-", "et", "of", "the"}


@dataclass
class _Token:
    text: str  # as written
    folded: str
    capital: bool
    end: bool  # ends a sentence


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text.replace("’", "'")):
        word = m.group()
        bare = re.sub(r"^(?:[ldjmtsnc]|qu)'", "", word, flags=re.IGNORECASE)
        out.append(_Token(bare, fold(bare), bare[:1].isupper(), word in ".!?;:"))
    return out


def _names(tokens: list[_Token]) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` of capitalised names (not the first word of a sentence),
    joined over "de", "du", "-"…: "Fédération Nationale des Parcs Naturels Régionaux"."""
    spans = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        first = i == 0 or tokens[i - 1].end
        if t.capital and not t.end and not (first and t.folded in _STOP):
            j = i + 1
            while j < len(tokens):
                if tokens[j].capital and not tokens[j].end:
                    j += 1
                elif (
                    tokens[j].folded in _NAME_JOINERS
                    and j + 1 < len(tokens)
                    and tokens[j + 1].capital
                ):
                    j += 2
                else:
                    break
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


def _actions(tokens: list[_Token], after: int) -> list[frozenset[str]]:
    """Stems of the first ``ACTION_WORDS`` content words after position ``after``, up to
    the end of the sentence or the next name: what the name does (an adjective of the name,
    "l'Etat français", comes first and is found next to the name in the passage too)."""
    out = []
    for t in tokens[after:]:
        if t.end or t.capital or len(out) == ACTION_WORDS:
            break
        if t.folded not in _STOP and len(t.folded) > 2 and not _WHEN.fullmatch(t.folded):
            out.append(stems(t.text))
    return out


def _head(tokens: list[_Token], span: tuple[int, int]) -> set[str]:
    """The name's distinctive words (folded, no joiners, hyphenated words in parts, so that
    "Nord-Pas-de-Calais" finds « Nord – Pas-de-Calais »): what finds it in the passage."""
    parts = (p for t in tokens[span[0] : span[1]] for p in t.folded.split("-"))
    return {p for p in parts if p and p not in _NAME_JOINERS}


def swapped_subjects(claim: str, passage: str) -> list[str]:
    """The names of ``claim`` given an action that ``passage`` writes next to another name."""
    c_tokens, p_tokens = _tokens(claim), _tokens(passage)
    p_names = _names(p_tokens)
    swapped = []
    for span in _names(c_tokens) + _opening_noun(c_tokens):
        if _complement(c_tokens, span[0]):
            continue
        head = _head(c_tokens, span)
        where = [s for s in p_names if head <= _head(p_tokens, s) or _head(p_tokens, s) <= head]
        if not where and span[1] - span[0] == 1:
            where = [(i, i + 1) for i, t in enumerate(p_tokens) if stems(t.text) & _stems(head)]
        if not where:
            continue  # the passage does not name it
        others = [s for s in p_names if s not in where]
        for action in _actions(c_tokens, span[1]):
            acted = [i for i, t in enumerate(p_tokens) if not t.capital and stems(t.text) & action]
            if not acted:
                break  # an action the passage does not write: left to the overlap check
            if any(_writes(p_tokens, s, i) for s in where for i in acted):
                continue  # written for this name (an adjective of it, or its action): next
            # unsupported only when the passage gives this action to someone else
            if any(_writes(p_tokens, s, i) for s in others for i in acted):
                swapped.append(" ".join(t.text for t in c_tokens[span[0] : span[1]]))
                break
    return swapped


def _complement(tokens: list[_Token], start: int) -> bool:
    """The word at ``start`` follows a preposition (articles skipped)."""
    i = start - 1
    # "à" folds to the English article "a": it is the French preposition, never skipped
    while i >= 0 and tokens[i].folded in _ARTICLES and tokens[i].text.lower() != "à":
        i -= 1
    return i >= 0 and tokens[i].folded in _PREPOSITIONS


def _stems(words: set[str]) -> set[str]:
    return {s for w in words for s in stems(w)}


def _opening_noun(tokens: list[_Token]) -> list[tuple[int, int]]:
    """The claim's first content word when it is a common noun ("Les citoyens peuvent…"):
    the subject of a sentence that names no one."""
    for i, t in enumerate(tokens):
        if t.end:
            return []
        if t.folded not in _STOP and len(t.folded) > 2:
            return [] if t.capital else [(i, i + 1)]
    return []


def _writes(tokens: list[_Token], name: tuple[int, int], action: int) -> bool:
    """The passage writes the action at ``action`` for the name at ``name``."""
    start, end = name
    if end <= action < end + WINDOW and not any(t.end for t in tokens[end:action]):
        return True  # active: "La Région … s'est engagée"
    if start - WINDOW <= action < start and not any(t.end for t in tokens[action:start]):
        # passive: "coordonné par la Fédération"; or a relative clause after the name
        return any(t.folded in _PASSIVE for t in tokens[action:start])
    return False
