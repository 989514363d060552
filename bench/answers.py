"""Answer benchmark: latency and quality of one generator on the shared evaluation files.

    .venv/bin/python bench/answers.py [--generator local|openai|extractive] [--limit N]

Runs the engine over ``questions.jsonl`` and ``conversations.jsonl`` (and, for a comparison
of latency, the extractive generator over the questions), prints time to first token and total
time (p50/p95), key recall, refusal accuracy and invented numbers, and writes everything to
``bench/results/answers-<generator>.json``. Indexes ``corpus/`` first if the index is empty.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from answer.engine import AnswerEngine  # noqa: E402
from bench.common import SHARED_EVAL, write_result  # noqa: E402
from evaluation.commands import format_table, progress_line  # noqa: E402
from evaluation.datasets import load  # noqa: E402
from evaluation.runner import evaluate  # noqa: E402
from settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=["local", "openai", "extractive"], default="local")
    parser.add_argument("--questions", type=Path, default=SHARED_EVAL / "questions.jsonl")
    parser.add_argument("--conversations", type=Path, default=SHARED_EVAL / "conversations.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items per file")
    args = parser.parse_args(argv)

    from server.services import Services

    settings = Settings(generator=args.generator)
    services = Services.load(settings)
    if not services.index.status().get("chunks"):
        print(f"index empty: ingesting {settings.corpus_dir}", file=sys.stderr)
        services.index.ingest()

    runs = {}
    started = time.perf_counter()
    for name, path in (("questions", args.questions), ("conversations", args.conversations)):
        data = load(path, args.limit)
        report = evaluate(data, services.engine, services.index, args.generator, progress_line)
        runs[name] = report
        print(format_table(report), flush=True)
    if args.generator != "extractive":  # the floor the generator's latency compares to
        extractive = AnswerEngine(Settings(generator="extractive"), services.index)
        report = evaluate(
            load(args.questions, args.limit), extractive, services.index, "extractive"
        )
        runs["questions_extractive"] = report
        print(format_table(report), flush=True)

    q = runs["questions"].metrics
    extractive_p50 = (runs.get("questions_extractive") or runs["questions"]).metrics["total_ms_p50"]
    summary = {
        "generator": args.generator,
        "first_token_ms_p50": q["first_token_ms_p50"],
        "first_token_ms_p95": q["first_token_ms_p95"],
        "total_ms_p50": q["total_ms_p50"],
        "total_ms_p95": q["total_ms_p95"],
        "extractive_total_ms_p50": extractive_p50,
        "key_recall": q["key_recall"],
        "conversation_key_recall": runs["conversations"].metrics["key_recall"],
        "citation_precision": q["citation_precision"],
        "refusal_accuracy": q["refusal_accuracy"],
        "invented_numbers": q["invented_numbers"]
        + runs["conversations"].metrics["invented_numbers"],
    }
    print("\nsummary: " + json.dumps(summary, ensure_ascii=False))
    payload = {
        "summary": summary,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {"llm_threads": settings.llm_threads, "top_k": settings.top_k},
        "seconds": round(time.perf_counter() - started, 1),
        "runs": {name: r.to_dict() for name, r in runs.items()},
    }
    out = write_result(f"answers-{args.generator}", payload)
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
