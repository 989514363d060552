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
from evaluation.datasets import FOLLOW_UP, KINDS, Case, EvalFile, Turn
from index.service import IndexService

GENERATED_BY_MODEL = ("local", "openai")  # the others quote passages (extractive)


@dataclass
class Row:
    """One asked question and how its answer scored (None = not applicable)."""

    id: str
    question: str
    answer: str = ""
    expected_answerable: bool = True
    lang: str = "fr"  # the question's language: the answer must be in it
    kind: str = "answerable"  # answerable, near-miss, off-topic, injection
    follow_up: bool = False  # second or later turn of a conversation
    split: str = "test"
    answered: bool = False  # the engine gave a cited answer (did not refuse)
    generator: str = ""  # who wrote the answer ("extractive" after a fallback)
    confidence: float | None = None  # the decision's probability for the best sentence
    key_hit: bool | None = None
    span_hit: bool | None = None  # PIAF: a gold span in the answer
    correct: bool | None = None  # facts found (answerable) or refused (unanswerable)
    answered_wrongly: bool | None = None  # answered without the asked facts, or not refused
    evidence_cited: bool | None = None  # the evidence (PIAF: gold span) in a cited passage
    paragraph_cited: bool | None = None  # PIAF: a citation overlaps the gold paragraph
    evidence_retrieved: bool | None = None
    refusal_correct: bool | None = None
    hit_at_5: bool | None = None
    answer_language: str | None = None
    language_ok: bool | None = None
    invented_numbers: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    query: str = ""  # the standalone question retrieval used (a follow-up's rewrite)
    raw_answer: str = ""  # the streamed text, before the citation checker
    removed_sentences: list[str] = field(default_factory=list)  # what the checker dropped
    first_token_ms: float | None = None
    total_ms: float | None = None
    error: str | None = None

    @property
    def group(self) -> str:
        """The by-kind group: follow-up turns apart, the others by their kind."""
        return FOLLOW_UP if self.follow_up else self.kind


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
    row.query = result.query or ""
    row.raw_answer = raw.strip()
    if sources and row.raw_answer:  # what the checker dropped from the streamed text
        row.removed_sentences = check_answer(row.raw_answer, sources, result.language).removed
    row.answered = result.answerable
    row.generator = result.generator
    row.confidence = result.confidence
    row.cited = sorted(cited_numbers(result.answer))
    if result.answerable:  # a refusal asserts nothing (its corpus summary lists titles)
        row.invented_numbers = numbers_absent(result.answer, result.citations)
        row.answer_language = metrics.answer_language(result.answer)
        row.language_ok = row.answer_language in (row.lang, None)
    if not turn.answerable:
        row.refusal_correct = row.correct = not result.answerable
        row.answered_wrongly = result.answerable
        return
    if turn.keys:
        row.key_hit = result.answerable and metrics.keys_found(result.answer, turn.keys)
    if turn.spans:
        row.span_hit = result.answerable and metrics.span_found(result.answer, turn.spans)
    facts = row.key_hit if turn.keys else row.span_hit if turn.spans else None
    row.correct = result.answerable if facts is None else facts
    row.answered_wrongly = result.answerable and facts is False
    if turn.evidence:
        row.evidence_retrieved = metrics.evidence_given(sources or result.citations, turn.evidence)
        if result.answerable:
            row.evidence_cited = metrics.evidence_cited(
                result.answer, result.citations, turn.evidence
            )
    if turn.spans and result.answerable:
        cited = set(row.cited)
        row.evidence_cited = any(
            c.n in cited and metrics.span_found(c.text, turn.spans) for c in result.citations
        )
        if turn.paragraphs:
            row.paragraph_cited = metrics.paragraph_cited(
                [c for c in result.citations if c.n in cited], turn.source, turn.paragraphs
            )


def _block(rows: list[Row]) -> dict[str, Any]:
    """The quality metrics of a group of rows (errors excluded from every rate)."""
    ok = [r for r in rows if r.error is None]
    answerable = [r for r in ok if r.expected_answerable]
    answered = [r for r in ok if r.answered]

    def rate(values: list[bool | None]) -> float | None:
        return metrics.share([v for v in values if v is not None])

    return {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "correct": rate([r.correct for r in ok]),
        "key_recall": rate([r.key_hit for r in ok]),
        "span_recall": rate([r.span_hit for r in ok]),
        "citation_correct": rate([r.evidence_cited for r in ok]),
        "paragraph_cited": rate([r.paragraph_cited for r in ok]),
        "evidence_retrieved": rate([r.evidence_retrieved for r in ok]),
        "hit_at_5": rate([r.hit_at_5 for r in ok]),
        "wrongly_refused": metrics.share([not r.answered for r in answerable]),
        "answered_wrongly": rate([r.answered_wrongly for r in ok]),
        "confident_precision": metrics.share([not r.answered_wrongly for r in answered]),
        "refusal_accuracy": rate([r.refusal_correct for r in ok]),
        "language_ok": rate([r.language_ok for r in ok]),
        "model_written": metrics.share([r.generator in GENERATED_BY_MODEL for r in answered]),
        "invented_numbers": sum(len(r.invented_numbers) for r in ok),
        "answers_with_invented_numbers": sum(1 for r in ok if r.invented_numbers),
        "sentences_removed": sum(len(r.removed_sentences) for r in ok),
    }


def summarise(rows: list[Row], fmt: str = "") -> dict[str, Any]:
    """Metrics over all rows, latency percentiles, and the same metrics by language and by
    kind (follow-up turns form their own group)."""
    ok = [r for r in rows if r.error is None]
    first = [r.first_token_ms for r in ok if r.first_token_ms is not None]
    total = [r.total_ms for r in ok if r.total_ms is not None]
    out = _block(rows)
    out |= {
        "first_token_ms_p50": metrics.percentile(first, 50),
        "first_token_ms_p95": metrics.percentile(first, 95),
        "total_ms_p50": metrics.percentile(total, 50),
        "total_ms_p95": metrics.percentile(total, 95),
    }
    out["by_language"] = {
        lang: _block([r for r in rows if r.lang == lang]) for lang in sorted({r.lang for r in rows})
    }
    groups = [*KINDS, FOLLOW_UP]
    present = {r.group for r in rows}
    out["by_kind"] = {
        g: _block([r for r in rows if r.group == g])
        for g in [*[k for k in groups if k in present], *sorted(present - set(groups))]
    }
    return out


def ask_cases(
    cases: list[Case],
    engine: AnswerEngine,
    index: IndexService,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Ask every question (conversations turn by turn, with history) and score the answers."""
    rows: list[Row] = []
    for case in cases:
        history: list[Message] = []
        for t_index, turn in enumerate(case.turns, 1):
            rid = case.id if len(case.turns) == 1 else f"{case.id}#{t_index}"
            row = Row(
                rid,
                turn.question,
                expected_answerable=turn.answerable,
                lang=turn.lang or metrics.detect_language(turn.question),
                kind=turn.kind,
                follow_up=t_index > 1,
                split=case.split,
            )
            try:
                timed = _timed_answer(engine, turn.question, list(history))
                result = timed.result
                row.first_token_ms = round(timed.first_token_ms, 1)
                row.total_ms = round(timed.total_ms, 1)
                score_turn(row, turn, result, timed.sources, timed.raw)
                if turn.spans and turn.answerable:  # PIAF: a gold span in the top 5 passages?
                    top = index.search(turn.question, k=5)
                    row.hit_at_5 = any(metrics.span_found(p.text, turn.spans) for p in top)
                history += [Message("user", turn.question), Message("assistant", result.answer)]
            except Exception as exc:  # one failing question must not hide the others' scores
                row.error = f"{type(exc).__name__}: {exc}"
                history += [Message("user", turn.question), Message("assistant", "")]
            rows.append(row)
            if progress:
                progress(row)
    return rows


def report_of(name: str, fmt: str, generator: str, rows: list[Row]) -> Report:
    """The report of scored rows (metrics, then every row)."""
    dicts = [{**asdict(r), "group": r.group} for r in rows]
    return Report(name, fmt, generator, summarise(rows, fmt), dicts)


def evaluate(
    data: EvalFile | list[EvalFile],
    engine: AnswerEngine,
    index: IndexService,
    generator: str,
    progress: Callable[[Row], None] | None = None,
) -> Report:
    """Ask every question of one file (or of several, e.g. a split's questions and
    conversations, scored together) and score the answers."""
    files = data if isinstance(data, list) else [data]
    if len(files) == 1 and files[0].format == "feedback":
        return evaluate_feedback(files[0])
    rows = [row for f in files for row in ask_cases(f.cases, engine, index, progress)]
    fmt = files[0].format if len({f.format for f in files}) == 1 else "seed"
    return report_of(" + ".join(str(f.path) for f in files), fmt, generator, rows)


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
