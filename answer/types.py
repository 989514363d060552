"""Values that leave the answer engine: results, citations and stream events."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

from index.types import Passage

Language = Literal["fr", "en"]


@dataclass
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass
class Citation:
    """A passage given to the generator, numbered as cited ``[n]`` in the answer."""

    n: int
    source: str
    title: str
    page: int | None
    text: str
    start: int
    end: int
    score: float
    # [start, end] inside ``text`` of the sentence that best supports the answer's claims
    # citing it (set on the checked answer's citations; None when no sentence does)
    evidence: tuple[int, int] | None = None

    @classmethod
    def from_passage(cls, n: int, p: Passage) -> Citation:
        return cls(n, p.source, p.title, p.page, p.text, p.start, p.end, p.score)


@dataclass
class AnswerResult:
    """The checked answer: the ``--json`` output of ``ask`` and the body of ``POST /api/ask``."""

    question: str
    answer: str
    answerable: bool
    language: Language
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)  # retrieval, first_token, total
    generator: str = ""  # generator that wrote the answer ("extractive" after a fallback)
    query: str = ""  # standalone question used for retrieval (follow-ups rewritten)
    # probability that the best retrieved sentence answers (answer/decision.py); None when
    # the question was refused before that (injection, off-topic, empty index)
    confidence: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SourcesEvent:
    """First stream event: the passages the answer may cite, numbered from 1."""

    citations: list[Citation]
    type: Literal["sources"] = "sources"


@dataclass
class TokenEvent:
    """A piece of the (not yet checked) answer text."""

    text: str
    type: Literal["token"] = "token"


@dataclass
class AnswerEvent:
    """Last stream event: the checked answer, which replaces the streamed text."""

    result: AnswerResult
    type: Literal["answer"] = "answer"


@dataclass
class QueuedEvent:
    """The question waits for the model: ``position`` 1 is next; ``expected_s`` to wait."""

    position: int
    expected_s: float
    type: Literal["queued"] = "queued"


StreamEvent = SourcesEvent | TokenEvent | AnswerEvent | QueuedEvent


class ModelTurn(Protocol):
    """A turn at the language model, which the engine asks for only when it is about to
    use the model (``server/scheduler.py`` gives them): ``wait`` yields ``QueuedEvent``s
    while the question is in line and returns False when the model is too busy (the
    engine then answers without it)."""

    def wait(self) -> Generator[QueuedEvent, None, bool]: ...

    def others_waiting(self) -> bool:
        """Other questions wait for the model: work the answer can do without (putting a
        quote in the model's words) is left out."""
        ...
