"""English replies over French passages: the quoted sentences put into English by the
model, then checked like any model answer.

Quoting is what the engine falls back to when the model's own answer fails the checks, and
the quote is in the passages' language. An English question then got a French reply (seed
dev: 58 % of the English answers). The model translates the quote; the translation is kept
only when each of its sentences matches one quoted sentence: the same citations, no number
or web address the source lacks, and the same meaning by the multilingual embedding model
(the citation checker's word overlap cannot compare two languages). A wrong translation
leaves the French quote, never a claim the passages do not make.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from answer.errors import GeneratorUnavailable
from answer.facts import (
    MARKER,
    Facts,
    PassageFacts,
    cited_numbers,
    missing_facts,
    sentence_facts,
    split_sentences,
)
from answer.generators import Generator
from answer.prompts import translate_answer_messages
from ingest.text import detect_language

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

log = logging.getLogger(__name__)

# A translation is about as long as its source; far shorter or longer, it left out or
# added something. A bound on plausibility, not fitted.
LENGTH_RATIO = (0.5, 2.0)
# An English sentence this close to its French source (cosine of the default embedding
# model, multilingual-e5-small) says the same. ``python -m evaluation.calibrate_translation``:
# the local model's translations of 65 quotes of the PIAF dev articles; the highest cosine
# keeping 95 % of the 114 faithful (sentence, source) pairs. Against the French sentence
# after the quote (same topic, another claim), no pair passes. Held out (PIAF test
# articles, 65 quotes): 92.7 % of 96 faithful pairs kept, 0 % of 96 unfaithful ones passed;
# whole translations accepted (with ``MAX_NAMES_LOST``) 53/65 on dev, 47/65 on test.
MIN_COSINE = 0.893
# Names of the source sentence the translation may lack: French capitalises words that
# English translates ("l'État", "l'Église", "Belgique"), so one goes; more is a lossy
# translation ("the Belgian and French parks of the Escaut" for « le Parc naturel des
# Plaines de l'Escaut en Belgique et le Parc naturel régional Scarpe-Escaut en France »).
# Chosen on the same dev pairs: none missing rejects 19 % of the 112 faithful ones, at
# most one 5 % (half of them real omissions: "Dantzig", "Gdansk", "Vistule" left out).
MAX_NAMES_LOST = 1
TRANSLATION_TOKENS = 400  # a quote is at most 2 x 480 characters (answer/fallback.py)


def english_pieces(body: str, generator: Generator) -> Iterator[str]:
    """The model's English translation of ``body`` (French quotes with their ``[n]``), as
    it streams; nothing when the model fails."""
    try:
        yield from generator.stream(translate_answer_messages(body), max_tokens=TRANSLATION_TOKENS)
    except GeneratorUnavailable as err:
        log.warning("could not translate the quoted answer: %s", err)


def faithful(
    english: str, french: str, embed: BaseEmbedding, min_cosine: float = MIN_COSINE
) -> bool:
    """The translation keeps the quote, sentence by sentence: English, of a plausible
    length, each sentence citing what its source cites, with no number or web address its
    source lacks, keeping its source's names (but one), and close to its source in the
    embedding model's space."""
    low, high = LENGTH_RATIO
    if not english or not low * len(french) <= len(english) <= high * len(french):
        return False
    if detect_language(english) != "en":
        return False
    pairs = aligned(english, french)
    if pairs is None:
        return False
    for e, f in pairs:
        if cited_numbers(e) != cited_numbers(f):
            return False
        facts, source = sentence_facts(e), PassageFacts.of([f])
        if missing_facts(Facts(numbers=facts.numbers, urls=facts.urls), source):
            return False
        lost = missing_facts(Facts(names=sentence_facts(f).names), PassageFacts.of([e]), "en")
        if len(lost) > MAX_NAMES_LOST:
            return False
    return all(c >= min_cosine for c in similarities(embed, pairs))


def aligned(english: str, french: str) -> list[tuple[str, str]] | None:
    """The (English, French) sentence pairs, None when the sentences do not align one to
    one (a translation that merged, split or dropped sentences is not checked further)."""
    en = [u.text for u in split_sentences(english)]
    fr = [u.text for u in split_sentences(french)]
    return list(zip(en, fr, strict=True)) if len(en) == len(fr) else None


def similarities(embed: BaseEmbedding, pairs: list[tuple[str, str]]) -> list[float]:
    """The embedding cosine of each (English, French) pair, markers left out."""
    if not pairs:
        return []
    texts = [MARKER.sub(" ", t).strip() for pair in pairs for t in pair]
    vectors = embed.get_text_embedding_batch(texts)
    return [_cosine(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(pairs))]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
