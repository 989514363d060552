"""Pydantic request and response bodies of the HTTP API (they shape ``/openapi.json``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server.admission import check_text

# Text the engine can encode: a lone surrogate ("\ud800") is a 422, not a 500 downstream.
Text = Annotated[str, AfterValidator(check_text)]


class HistoryMessage(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Text


class AskRequest(BaseModel):
    """A question, with the conversation so far (oldest first) for follow-up questions."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Quand la Mission Bassin Minier a-t-elle été créée ?", "history": []}
            ]
        },
    )

    question: Text = Field(description="The question; 413 beyond max_question_chars.")
    history: list[HistoryMessage] = Field(
        default_factory=list, description="Earlier turns; 413 beyond max_history_messages."
    )
    session: str | None = Field(
        default=None,
        max_length=128,
        description="Conversation id for per-session rate limits (or X-Passerelle-Session).",
    )
    collection: str | None = Field(
        default=None,
        max_length=63,
        description="Search only this collection (the widget's data-collection); 403 "
        "collection_not_allowed unless the caller (key, origin) may read it.",
    )


class CitationModel(BaseModel):
    """A passage the answer may cite as ``[n]``, located in its cleaned document."""

    model_config = ConfigDict(extra="allow")  # fields the engine adds later pass through

    n: int
    source: str = Field(
        description="Path of the document relative to the corpus folder, or its URL."
    )
    title: str
    page: int | None
    text: str = Field(description="The quoted passage.")
    start: int
    end: int
    score: float
    url: str = Field(
        default="",
        description="Where the passage leads back to: the page URL of a web document, "
        "else `/documents/<path>#page=N` on this server.",
    )
    evidence: list[int] | None = Field(
        default=None,
        description="[start, end] inside `text` of the sentence that best supports the "
        "answer's claims citing this passage (in the answer only; null when none does).",
    )


class AnswerModel(BaseModel):
    """The checked answer: every ``[n]`` in ``answer`` refers to ``citations[n-1]``."""

    model_config = ConfigDict(extra="allow")  # fields the engine adds later pass through

    question: str
    answer: str
    answerable: bool
    language: Literal["fr", "en"]
    citations: list[CitationModel]
    timings_ms: dict[str, float] = Field(description="retrieval, first_token, total")
    generator: str = Field("", description="Generator that wrote the answer.")
    query: str = Field("", description="Standalone question used for retrieval.")


class HealthModel(BaseModel):
    """Service state once the index and engine are loaded."""

    status: Literal["ok"]
    documents: int
    chunks: int
    generator: str
    queue: dict[str, Any] | None = Field(
        default=None,
        description="The language model's queue (server/scheduler.py): waiting, running, "
        "slots, budget_s, expected_wait_s, service_s_avg/_p50/_p95 of recent answers, "
        "services_measured, answers: model (turns given to the model), quick (answered "
        "without it, the model being busy), direct (answered without needing the model).",
    )
    memo: dict[str, int] | None = Field(
        default=None,
        description="Texts the model wrote, kept by prompt (answer/generators/memo.py): "
        "kept, and reused (prompts answered with the model's earlier text, without a turn).",
    )


class LoadingModel(BaseModel):
    """Service state while loading (or after loading failed): answered with 503."""

    status: Literal["loading", "error"]
    detail: str | None = None


class ErrorModel(BaseModel):
    """Every API error: a stable machine code and a message for people (French / English)."""

    error: str = Field(
        description="origin_not_allowed, rate_limited, question_too_long, history_too_long, "
        "request_too_large, invalid_request, empty_question, loading, unavailable, "
        "internal_error"
    )
    detail: str
    retry_after: int | None = None
    max_chars: int | None = None
    max_messages: int | None = None
