"""The checks every way into the answer engine runs first: rate limits, sizes, text.

One implementation for the HTTP API (``/api/ask``, ``/api/chat``) and the Gradio chat
(``/ask`` and the buttons that call it), so that no door has looser limits than another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from answer.errors import EmptyQuestion, QuestionTooLong
from server.ratelimit import Limit, RateLimiter
from settings import Settings

if TYPE_CHECKING:
    from server.keys import ApiKey


@dataclass
class Refused(Exception):
    """A question refused before any engine work; ``status`` is its HTTP form."""

    status: int
    code: str
    detail: str
    extra: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be processed, or None.

    A lone UTF-16 surrogate (``"\\ud800"``, legal in JSON escapes) cannot be encoded as
    UTF-8: the tokenizer, the store and the JSON response would all fail on it.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "texte invalide (caractère de substitution isolé) / invalid text (lone surrogate)"
    return None


def check_text(text: str) -> str:
    """``text`` itself, or ``ValueError`` (used by the API's request models)."""
    problem = text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def admit_question(
    settings: Settings,
    limiter: RateLimiter,
    question: str,
    history: Sequence[str],
    *,
    client: str,
    session: str | None,
    key: ApiKey | None = None,
) -> None:
    """Rate limits (per client address, or per API ``key`` when one is sent, and per
    conversation), then sizes and text.

    ``history`` holds the contents of the earlier messages. Raises ``Refused``.
    """
    if key is not None:
        per_key = key.rate_limit_per_minute or settings.key_rate_limit_per_minute
        checks = [(Limit("key", per_key), key.id)]
    else:
        checks = [(Limit("ip", settings.rate_limit_per_minute), client)]
    if session:
        checks.append((Limit("session", settings.session_rate_limit_per_minute), session))
    refused = limiter.hit(checks)
    if refused is not None:
        limit, wait = refused
        who = {
            "ip": "cette adresse / this address",
            "key": "cette clé / this key",
        }.get(limit.kind, "cette conversation / this conversation")
        raise Refused(
            429,
            "rate_limited",
            f"Trop de questions pour {who} ({limit.count} par minute) : réessayez dans "
            f"{wait} s. / Too many questions; retry in {wait} s.",
            {"retry_after": wait},
        )
    limit_chars = settings.max_question_chars
    if len(question) > limit_chars:
        too_long = QuestionTooLong(len(question), limit_chars)
        raise Refused(413, "question_too_long", str(too_long), {"max_chars": limit_chars})
    for text in (question, *history):
        problem = text_problem(text)
        if problem is not None:
            raise Refused(422, "invalid_request", f"Requête invalide : {problem}.")
    if not question.strip():
        raise Refused(422, "empty_question", str(EmptyQuestion()))
    if len(history) > settings.max_history_messages:
        raise Refused(
            413,
            "history_too_long",
            f"L'historique compte {len(history)} messages ; le maximum est "
            f"{settings.max_history_messages}. / History too long.",
            {"max_messages": settings.max_history_messages},
        )
    history_chars = 4 * limit_chars
    if any(len(m) > history_chars for m in history):
        raise Refused(
            413,
            "history_too_long",
            f"Un message de l'historique dépasse {history_chars} caractères. "
            "/ A history message is too long.",
            {"max_chars": history_chars},
        )
