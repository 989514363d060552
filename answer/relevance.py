"""Early refusals: questions that try to change the rules, and retrieval that found nothing."""

from __future__ import annotations

import re

from index.types import Passage

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


# Retrieval scores below this mean the best passage is unrelated to the question.
# Calibrated on /work/shared/eval/questions.jsonl (see docs/answer.md).
MIN_TOP_SCORE = 0.0


def retrieval_found_something(passages: list[Passage]) -> bool:
    """False when no passage is close enough to the question to possibly answer it."""
    return bool(passages) and passages[0].score >= MIN_TOP_SCORE
