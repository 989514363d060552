"""Errors a user can cause when asking; the API maps them to 4xx responses."""

from __future__ import annotations


class QuestionError(ValueError):
    """A question the engine refuses to process; ``str(error)`` is the user message."""


class EmptyQuestion(QuestionError):
    """The question is empty or only blanks."""

    def __init__(self) -> None:
        super().__init__("La question est vide. / The question is empty.")


class QuestionTooLong(QuestionError):
    """The question exceeds ``settings.max_question_chars``."""

    def __init__(self, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(
            f"La question fait {length} caractères ; le maximum est {limit}. "
            f"/ The question is {length} characters long; the maximum is {limit}."
        )


class GeneratorUnavailable(RuntimeError):
    """The configured generator cannot run (model file missing, server unreachable...)."""
