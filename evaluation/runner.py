"""Running the answer engine over an evaluation file and scoring every answer."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from answer.citations import check_answer, cited_numbers, numbers_absent
from answer.engine import AnswerEngine
from answer.types import AnswerEvent, AnswerResult, Citation, Message, SourcesEvent, TokenEvent
from evaluation import metrics
from evaluation.datasets import EvalFile, Turn
from index.service import IndexService


@dataclass
class Row:
    """One asked question and how its answer scored (None = not applicable)."""

    id: str
    question: str
    answer: str = ""
    expected_answerable: bool = True
    answered: bool = False  # the engine gave a cited answer (did not refuse)
    key_hit: bool | None = None
    evidence_cited: bool | None = None
    evidence_retrieved: bool | None = None
    refusal_correct: bool | None = None
    span_hit: bool | None = None
    hit_at_5: bool | None = None
    invented_numbers: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    raw_answer: str = ""  # the streamed text, before the citation checker
    removed_sentences: list[str] = field(default_factory=list)  # what the checker dropped
    first_token_ms: float | None = None
    total_ms: float | None = None
    error: str | None = None


@dataclass
class Report:
    """Metrics of one evaluation run, with the per-question rows behind them."""

    file: str
    format: str
    generator: str
    metrics: dict[str, Any]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Timed:
    result: AnswerResult
    sources: list[Citation]  # every passage given to the generator (the answer cites some)
    raw: str  # the streamed tokens
    first_token_ms: float
    total_ms: float


def _timed_answer(engine: AnswerEngine, question: str, history: list[Message]) -> _Timed:
    """The engine's checked answer, its sources, time to first token and total (ms, wall)."""
    start = time.perf_counter()
    first: float | None = None
    result: AnswerResult | None = None
    sources: list[Citation] = []
    pieces: list[str] = []
    for event in engine.stream(question, history):
        if isinstance(event, SourcesEvent):
            sources = event.citations
        elif isinstance(event, TokenEvent):
            pieces.append(event.text)
            if first is None and event.text.strip():
                first = time.perf_counter()
        elif isinstance(event, AnswerEvent):
            result = event.result
    end = time.perf_counter()
    if result is None:
        raise RuntimeError("the engine stream ended without an answer event")
    first_ms, total_ms = ((first or end) - start) * 1000, (end - start) * 1000
    return _Timed(result, sources, "".join(pieces), first_ms, total_ms)


def score_turn(
    row: Row, turn: Turn, result: AnswerResult, sources: list[Citation], raw: str = ""
) -> None:
    """Fill the scores of ``row`` from the engine's result and the passages it was given."""
    row.answer = result.answer
    row.raw_answer = raw.strip()
    if sources and row.raw_answer:  # what the checker dropped from the streamed text
        row.removed_sentences = check_answer(row.raw_answer, sources, result.language).removed
    row.answered = result.answerable
    row.cited = sorted(cited_numbers(result.answer))
    if result.answerable:  # a refusal asserts nothing (its corpus summary lists titles)
        row.invented_numbers = numbers_absent(result.answer, result.citations)
    if not turn.answerable:
        row.refusal_correct = not result.answerable
        return
    if turn.keys:
        row.key_hit = result.answerable and metrics.keys_found(result.answer, turn.keys)
    if turn.evidence:
        row.evidence_retrieved = metrics.evidence_given(sources or result.citations, turn.evidence)
        if result.answerable:
            row.evidence_cited = metrics.evidence_cited(
                result.answer, result.citations, turn.evidence
            )
    if turn.spans:
        row.span_hit = result.answerable and metrics.span_found(result.answer, turn.spans)


def summarise(rows: list[Row], fmt: str) -> dict[str, Any]:
    """Aggregate metrics over the rows (errors excluded from every rate)."""
    ok = [r for r in rows if r.error is None]
    answerable = [r for r in ok if r.expected_answerable]
    first = [r.first_token_ms for r in ok if r.first_token_ms is not None]
    total = [r.total_ms for r in ok if r.total_ms is not None]

    def rate(values: list[bool | None]) -> float | None:
        return metrics.share([v for v in values if v is not None])

    out: dict[str, Any] = {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "key_recall": rate([r.key_hit for r in ok]),
        "citation_precision": rate([r.evidence_cited for r in ok]),
        "evidence_retrieved": rate([r.evidence_retrieved for r in ok]),
        "refusal_accuracy": rate([r.refusal_correct for r in ok]),
        "false_refusals": metrics.share([not r.answered for r in answerable]),
        "invented_numbers": sum(len(r.invented_numbers) for r in ok),
        "answers_with_invented_numbers": sum(1 for r in ok if r.invented_numbers),
        "sentences_removed": sum(len(r.removed_sentences) for r in ok),
        "first_token_ms_p50": metrics.percentile(first, 50),
        "first_token_ms_p95": metrics.percentile(first, 95),
        "total_ms_p50": metrics.percentile(total, 50),
        "total_ms_p95": metrics.percentile(total, 95),
    }
    if fmt == "piaf":
        out["span_recall"] = rate([r.span_hit for r in ok])
        out["hit_at_5"] = rate([r.hit_at_5 for r in ok])
    return out


def evaluate(
    data: EvalFile,
    engine: AnswerEngine,
    index: IndexService,
    generator: str,
    progress: Callable[[Row], None] | None = None,
) -> Report:
    """Ask every question (conversations turn by turn, with history) and score the answers."""
    if data.format == "feedback":
        return evaluate_feedback(data)
    rows: list[Row] = []
    for case in data.cases:
        history: list[Message] = []
        for t_index, turn in enumerate(case.turns, 1):
            rid = case.id if len(case.turns) == 1 else f"{case.id}#{t_index}"
            row = Row(rid, turn.question, expected_answerable=turn.answerable)
            try:
                timed = _timed_answer(engine, turn.question, list(history))
                result = timed.result
                row.first_token_ms = round(timed.first_token_ms, 1)
                row.total_ms = round(timed.total_ms, 1)
                score_turn(row, turn, result, timed.sources, timed.raw)
                if turn.spans:  # PIAF: is a gold span in the top-5 retrieved passages?
                    top = index.search(turn.question, k=5)
                    row.hit_at_5 = any(metrics.span_found(p.text, turn.spans) for p in top)
                history += [Message("user", turn.question), Message("assistant", result.answer)]
            except Exception as exc:  # one failing question must not hide the others' scores
                row.error = f"{type(exc).__name__}: {exc}"
                history += [Message("user", turn.question), Message("assistant", "")]
            rows.append(row)
            if progress:
                progress(row)
    return Report(
        str(data.path),
        data.format,
        generator,
        summarise(rows, data.format),
        [asdict(r) for r in rows],
    )


def _citation(raw: dict[str, Any], n: int) -> Citation:
    """A citation from an exported dict (missing fields defaulted)."""
    return Citation(
        int(raw.get("n", n)),
        str(raw.get("source", "")),
        str(raw.get("title", "")),
        raw.get("page"),
        str(raw.get("text", "")),
        int(raw.get("start", 0)),
        int(raw.get("end", 0)),
        float(raw.get("score", 0.0)),
    )


def evaluate_feedback(data: EvalFile) -> Report:
    """Invented numbers and ratings of exported answers (no engine needed)."""
    rows = []
    for fb in data.feedback:
        cits = [_citation(c, i) for i, c in enumerate(fb.citations, 1) if isinstance(c, dict)]
        invented = numbers_absent(fb.answer, cits)
        rows.append(
            {
                "id": fb.id,
                "question": fb.question,
                "rating": fb.rating,
                "cites": bool(cits),
                "invented_numbers": invented,
            }
        )
    summary = {
        "answers": len(rows),
        "ratings": dict(Counter(str(r["rating"]) for r in rows)),
        "positive_ratings": metrics.share(
            [r["rating"] > 0 for r in rows if isinstance(r["rating"], int | float)]
        ),
        "with_citations": metrics.share([r["cites"] for r in rows]),
        "invented_numbers": sum(len(r["invented_numbers"]) for r in rows),
        "answers_with_invented_numbers": sum(1 for r in rows if r["invented_numbers"]),
    }
    return Report(str(data.path), "feedback", "-", summary, rows)
