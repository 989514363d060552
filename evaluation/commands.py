"""``passerelle eval FILE``: score the answer engine on an evaluation file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evaluation import piaf_sets
from evaluation.datasets import EvalFile, EvalFileError, load, split_files
from evaluation.runner import Report, Row, evaluate, evaluate_feedback
from settings import Settings

_LABELS = [
    ("questions", "questions asked", "n"),
    ("answers", "answers", "n"),
    ("errors", "engine errors", "n"),
    ("correct", "correct (facts found, or refused if unanswerable)", "%"),
    ("key_recall", "key recall (every key group in the answer)", "%"),
    ("span_recall", "gold span in the answer (PIAF)", "%"),
    ("citation_correct", "correct citation (evidence in a cited passage)", "%"),
    ("paragraph_cited", "gold paragraph cited (PIAF)", "%"),
    ("evidence_retrieved", "evidence among the given passages", "%"),
    ("hit_at_5", "retrieval hit@5 (PIAF)", "%"),
    ("wrongly_refused", "wrongly refused (answerable refused)", "%"),
    ("answered_wrongly", "answered wrongly (answered without the facts)", "%"),
    ("confident_precision", "precision of confident answers", "%"),
    ("refusal_accuracy", "refusals correct (unanswerable refused)", "%"),
    ("language_ok", "answer in the question's language", "%"),
    ("model_written", "answers written by the model", "%"),
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


def _columns(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``all``, then one column per language and per kind (when there is more than one)."""
    cols = [("all", metrics)]
    for group in ("by_language", "by_kind"):
        blocks = metrics.get(group) or {}
        if len(blocks) > 1 or group == "by_kind":
            cols += list(blocks.items())
    return cols


def format_table(report: Report) -> str:
    """The metrics as a table (rows: metrics; columns: all, each language, each kind), then
    the ratings of a feedback file."""
    lines = [f"{report.file} ({report.format}, generator {report.generator})"]
    cols = _columns(report.metrics)
    width = max(len(label) for _, label, _ in _LABELS)
    widths = [max(9, len(name)) for name, _ in cols]
    head = "  ".join(f"{name:>{w}}" for (name, _), w in zip(cols, widths, strict=True))
    lines.append(f"  {'':<{width}}  {head}")
    for key, label, unit in _LABELS:
        values = [block.get(key) for _, block in cols]
        if key not in report.metrics or all(v is None for v in values):
            continue
        cells = "  ".join(f"{_fmt(v, unit):>{w}}" for v, w in zip(values, widths, strict=True))
        lines.append(f"  {label:<{width}}  {cells}")
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
    line = f"{mark} {ms}  {row.id}  {row.question[:70]}"
    if row.error:
        line += f"  ({row.error[:160]})"
    print(line, file=sys.stderr, flush=True)


def eval_settings(data: EvalFile, generator: str | None) -> Settings:
    """Settings for the run: the generator override, and a PIAF-format file's own corpus
    indexed into its own data folder (``<data_dir>/eval-<folder of the file>``)."""
    overrides: dict[str, Any] = {"generator": generator} if generator else {}
    settings = Settings(**overrides)
    corpus = data.corpus_dir
    if corpus is not None and settings.corpus_dir.resolve() != corpus.resolve():
        # PIAF questions are about their own documents: index them apart from the user's corpus
        store = settings.data_dir / f"eval-{corpus.parent.name}"
        settings = Settings(**overrides, corpus_dir=corpus, data_dir=store)
    return settings


def load_files(path: Path, split: str | None, limit: int | None) -> list[EvalFile]:
    """The files to evaluate: a folder's seed files of ``split`` (dev when not given), one
    file's rows of ``split``, or for the PIAF questions the fixed answer-level half."""
    if path.is_dir():
        if split is None:
            print("passerelle eval: no --split given, using dev", file=sys.stderr)
        return [load(f, limit, split or "dev") for f in split_files(path, split or "dev")]
    data = load(path, limit if split is None else None)
    if split is None:
        return [data]
    if data.format == "piaf" and data.corpus_dir is not None and not data.has_splits:
        # the raw PIAF questions: their fixed 300-question sample, split by article
        cases = piaf_sets.answer_cases(data.corpus_dir, path, split)
        return [piaf_sets.as_eval_file(path, cases[:limit] if limit else cases)]
    return [load(path, limit, split)]


def evaluate_file(
    path: Path,
    generator: str | None = None,
    limit: int | None = None,
    quiet: bool = False,
    split: str | None = None,
) -> Report:
    """Load the files, the index and the engine once, and evaluate (raises ``EvalFileError``)."""
    files = load_files(path, split, limit)
    data = files[0]
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
        files, services.engine, services.index, settings.generator, None if quiet else progress_line
    )


def run(args: argparse.Namespace) -> int:
    """Entry of ``passerelle eval FILE|DIR [--split dev|test] [--generator G] [--json]
    [--limit N]``."""
    try:
        report = evaluate_file(
            args.file, args.generator, args.limit, args.json, getattr(args, "split", None)
        )
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
