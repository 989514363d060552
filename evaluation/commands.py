"""``passerelle eval FILE``: score the answer engine on an evaluation file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evaluation.datasets import EvalFile, EvalFileError, load
from evaluation.runner import Report, Row, evaluate, evaluate_feedback
from settings import Settings

_LABELS = [
    ("questions", "questions asked", "n"),
    ("answers", "answers", "n"),
    ("errors", "engine errors", "n"),
    ("key_recall", "answer-key recall", "%"),
    ("citation_precision", "citation precision (evidence in a cited passage)", "%"),
    ("evidence_retrieved", "evidence among the given passages", "%"),
    ("refusal_accuracy", "refusal accuracy (unanswerable refused)", "%"),
    ("false_refusals", "false refusals (answerable refused)", "%"),
    ("span_recall", "answer-span recall (PIAF)", "%"),
    ("hit_at_5", "retrieval hit@5 (PIAF)", "%"),
    ("positive_ratings", "positive ratings (feedback)", "%"),
    ("with_citations", "answers with citations", "%"),
    ("invented_numbers", "numbers absent from cited passages", "n"),
    ("answers_with_invented_numbers", "answers with such numbers", "n"),
    ("sentences_removed", "sentences removed by the citation checker", "n"),
    ("first_token_ms_p50", "first token p50", "ms"),
    ("first_token_ms_p95", "first token p95", "ms"),
    ("total_ms_p50", "total p50", "ms"),
    ("total_ms_p95", "total p95", "ms"),
]


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{100 * value:.0f} %"
    if unit == "ms":
        return f"{value:,.0f} ms".replace(",", " ")
    return str(value)


def format_table(report: Report) -> str:
    """The metrics as an aligned two-column table, then the ratings of a feedback file."""
    lines = [f"{report.file} ({report.format}, generator {report.generator})"]
    width = max(len(label) for _, label, _ in _LABELS)
    for key, label, unit in _LABELS:
        if key in report.metrics:
            lines.append(f"  {label:<{width}}  {_fmt(report.metrics[key], unit)}")
    if "ratings" in report.metrics:
        ratings = ", ".join(f"{k}: {v}" for k, v in report.metrics["ratings"].items())
        lines.append(f"  {'ratings':<{width}}  {ratings}")
    return "\n".join(lines)


def progress_line(row: Row) -> None:
    """One line per question on stderr, so stdout stays the table or the JSON."""
    if row.error:
        mark = "ERR"
    elif row.refusal_correct is not None:
        mark = "ok " if row.refusal_correct else "NO "
    else:
        hit = row.key_hit if row.key_hit is not None else row.span_hit
        mark = {True: "ok ", False: "NO ", None: " . "}[hit]
    ms = f"{row.total_ms:7.0f} ms" if row.total_ms is not None else " " * 10
    print(f"{mark} {ms}  {row.id}  {row.question[:70]}", file=sys.stderr, flush=True)


def eval_settings(data: EvalFile, generator: str | None) -> Settings:
    """Settings for the run: the generator override, and PIAF's own corpus and data folder."""
    overrides: dict[str, Any] = {"generator": generator} if generator else {}
    settings = Settings(**overrides)
    corpus = data.corpus_dir
    if corpus is not None and settings.corpus_dir.resolve() != corpus.resolve():
        # PIAF questions are about their own documents: index them apart from the user's corpus
        settings = Settings(
            **overrides, corpus_dir=corpus, data_dir=settings.data_dir / "eval-piaf"
        )
    return settings


def evaluate_file(
    path: Path, generator: str | None = None, limit: int | None = None, quiet: bool = False
) -> Report:
    """Load the file, the index and the engine once, and evaluate (raises ``EvalFileError``)."""
    data = load(path, limit)
    if data.format == "feedback":
        return evaluate_feedback(data)
    settings = eval_settings(data, generator)
    from server.services import Services  # heavy imports only when there is work to do

    services = Services.load(settings)
    if data.corpus_dir is not None:
        report = services.index.ingest(data.corpus_dir)
        if not quiet:
            print(f"PIAF corpus indexed: {json.dumps(report.to_dict())}", file=sys.stderr)
    elif not services.index.status().get("chunks"):
        raise EvalFileError(
            f"the index at {settings.store_location} is empty: run `passerelle ingest`"
        )
    return evaluate(
        data, services.engine, services.index, settings.generator, None if quiet else progress_line
    )


def run(args: argparse.Namespace) -> int:
    """Entry of ``passerelle eval FILE [--generator G] [--json] [--limit N]``."""
    try:
        report = evaluate_file(args.file, args.generator, args.limit, quiet=args.json)
    except EvalFileError as exc:
        print(f"passerelle eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(format_table(report))
    if (
        report.metrics.get("questions")
        and report.metrics.get("errors") == report.metrics["questions"]
    ):
        first_error = next(r["error"] for r in report.rows if r.get("error"))
        print(f"passerelle eval: every question failed ({first_error})", file=sys.stderr)
        return 1
    return 0
