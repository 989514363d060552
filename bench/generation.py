"""Generation speed of the local model: plain decoding against prompt-lookup decoding.

Asks the first ``--limit`` answerable seed questions of a split
(``evaluation/data/seed-<split>.jsonl``) through the engine over ``corpus/`` (index in
``bench/cache/seed-index``) once per mode, the model loaded before the first question,
and times every model call of the answer (translating included, as a user waits for it):

    .venv/bin/python -m bench.generation [--split test] [--lookup 0 10] [--repeat 1]

Prints and writes ``bench/results/generation-<split>.json``: per mode, p50/p95 of time to
first token and of full answer, generated tokens per second while decoding (first token
to last), answers written by the model, and how many answers differ from plain decoding.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from answer.engine import AnswerEngine  # noqa: E402
from answer.generators.local import LocalGenerator  # noqa: E402
from bench.common import cache_dir, load_jsonl, percentile, write_result  # noqa: E402
from settings import ROOT, Settings  # noqa: E402

SEED_DATA = ROOT / "evaluation" / "data"


class TimedGenerator:
    """The local generator, recording for each call its start, first and last piece."""

    name = "local"

    def __init__(self, inner: LocalGenerator) -> None:
        self.inner = inner
        self.calls: list[dict[str, float | str]] = []

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None
               ) -> Iterator[str]:  # fmt: skip
        call: dict[str, Any] = {"start": time.perf_counter(), "text": ""}
        self.calls.append(call)
        for piece in self.inner.stream(messages, max_tokens=max_tokens):
            now = time.perf_counter()
            call.setdefault("first", now)
            call["last"] = now
            call["text"] += piece
            yield piece


def run_mode(split: str, lookup: int, questions: list[dict], repeat: int) -> dict[str, Any]:
    settings = Settings(
        generator="local", data_dir=cache_dir("seed-index"), llm_prompt_lookup=lookup
    )
    from index.service import IndexService

    index = IndexService(settings)
    index.ingest(settings.corpus_dir)  # a no-op when nothing changed
    local = LocalGenerator(settings)
    started = time.perf_counter()
    local.load()
    load_s = time.perf_counter() - started
    timed = TimedGenerator(local)
    engine = AnswerEngine(settings, index, generator=timed)
    rows = []
    for round_ in range(repeat):
        for q in questions:
            timed.calls.clear()
            result = engine.ask(q["question"])
            decode = [c for c in timed.calls if "first" in c]
            tokens = sum(local.count_tokens(str(c["text"])) for c in decode)
            decode_s = sum(float(c["last"]) - float(c["first"]) for c in decode)
            rows.append({
                "id": q["id"], "round": round_, "generator": result.generator,
                "first_token_ms": result.timings_ms.get("first_token"),
                "total_ms": result.timings_ms.get("total"), "model_calls": len(timed.calls),
                "generated_tokens": tokens,
                # the first token of each call comes with the prompt: not counted
                "decode_tokens_per_s": round((tokens - len(decode)) / decode_s, 1)
                if decode_s > 0 else None,
                "answer": result.answer,
            })  # fmt: skip
            print(f"  lookup={lookup} {q['id']}: {rows[-1]['total_ms']:.0f} ms, "
                  f"{tokens} tokens, {result.generator}", file=sys.stderr, flush=True)  # fmt: skip
    first = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    total = [r["total_ms"] for r in rows]
    tokens = sum(r["generated_tokens"] for r in rows)
    speeds = [r["decode_tokens_per_s"] for r in rows if r["decode_tokens_per_s"]]
    return {
        "prompt_lookup_tokens": lookup,
        "model_load_s": round(load_s, 2),
        "questions": len(rows),
        "first_token_ms_p50": round(percentile(first, 50)),
        "first_token_ms_p95": round(percentile(first, 95)),
        "total_ms_p50": round(percentile(total, 50)),
        "total_ms_p95": round(percentile(total, 95)),
        "generated_tokens": tokens,
        "decode_tokens_per_s_p50": percentile(speeds, 50) if speeds else None,
        "written_by_model": sum(r["generator"] == "local" for r in rows),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--lookup", type=int, nargs="+", default=[0, 10],
                        help="draft tokens per mode (0 = plain decoding)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--limit", type=int, default=20, help="first N answerable questions")
    args = parser.parse_args()
    cases = load_jsonl(SEED_DATA / f"seed-{args.split}.jsonl")
    # answerable questions: the ones the model writes (refusals are decided before it runs)
    questions = [q for q in cases if q.get("kind") == "answerable"][: args.limit]
    modes = [run_mode(args.split, n, questions, args.repeat) for n in args.lookup]
    plain = next((m for m in modes if m["prompt_lookup_tokens"] == 0), None)
    for mode in modes:
        if plain is not None:
            mode["answers_differing_from_plain"] = sum(
                a["answer"] != b["answer"] for a, b in zip(mode["rows"], plain["rows"], strict=True)
            )
        shown = {k: v for k, v in mode.items() if k != "rows"}
        print(f"prompt lookup {mode['prompt_lookup_tokens']}: {shown}")
    payload = {
        "split": args.split,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared: numbers pessimistic)",
        "load_average": os.getloadavg(),
        "modes": modes,
    }
    print(f"written {write_result(f'generation-{args.split}', payload)}")


if __name__ == "__main__":
    main()
