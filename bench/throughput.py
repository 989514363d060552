"""Throughput of the model backends: the in-process model against a managed llama-server.

The engine's own answer prompts (the messages it sends the model, prefill included) are
captured once for the answerable seed questions of ``--split`` (index over ``corpus/`` in
``bench/cache/seed-index``). Then, for each backend and each concurrency N, N workers
send those prompts back to back (no reading time: the model never idles), each starting
at another prompt, until ``--prompts`` answers are written:

- ``inprocess``: the ``local`` generator (one llama.cpp context; calls take turns);
- ``llama-server``: the same model behind llama.cpp's own server, started by the
  ``local`` generator itself (``llm_server``, ``answer/generators/llama_server.py``) with N
  slots and continuous batching; same prompts, prefill and sampling.

    .venv/bin/python -m bench.throughput [--backend inprocess llama-server]
        [--conversations 1 4 20] [--prompts 16] [--split dev]

Prints and merges into ``bench/results/throughput.json``: per backend and concurrency,
answers per minute, errors (a request past the client's 120 s timeout), generated tokens
per second (all workers), p50/p95 of time to first token and of full answer, and the load
average.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from answer.errors import GeneratorUnavailable  # noqa: E402
from answer.generators import make_generator  # noqa: E402
from answer.generators.base import ChatMessage, Generator  # noqa: E402
from answer.generators.llama_server import LlamaServerGenerator  # noqa: E402
from bench.common import RESULTS, cache_dir, load_jsonl, percentile, write_result  # noqa: E402
from bench.generation import engine_messages  # noqa: E402
from settings import ROOT, Settings  # noqa: E402


def engine_prompts(split: str) -> list[list[ChatMessage]]:
    """The answer messages the engine sends the model for the answerable ``split``
    questions that reach it (the decision answers the others without the model)."""
    rows = load_jsonl(ROOT / "evaluation" / "data" / f"seed-{split}.jsonl")
    return engine_messages([r for r in rows if r.get("kind") == "answerable"])


def run(generator: Generator, prompts: list[list[ChatMessage]], workers: int, total: int,
        count: Any) -> dict[str, Any]:  # fmt: skip
    """``total`` answers written by ``workers`` threads sending prompts back to back."""
    rows: list[dict[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    todo = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            start = time.perf_counter()
            first, text = None, ""
            try:
                for piece in generator.stream(prompts[n % len(prompts)]):
                    first = first or time.perf_counter()
                    text += piece
            except GeneratorUnavailable as err:  # e.g. the openai client's 120 s timeout
                with lock:
                    errors.append(str(err)[:200])
                continue
            end = time.perf_counter()
            with lock:
                rows.append({"first": (first or end) - start, "total": end - start,
                             "tokens": count(text)})  # fmt: skip

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    first = [r["first"] for r in rows]
    totals = [r["total"] for r in rows]
    return {
        "conversations": workers,
        "answers": len(rows),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 1),
        "answers_per_minute": round(60 * len(rows) / wall, 2),
        "tokens_per_s": round(sum(r["tokens"] for r in rows) / wall, 2),
        "first_token_s_p50": round(percentile(first, 50), 2),
        "first_token_s_p95": round(percentile(first, 95), 2),
        "total_s_p50": round(percentile(totals, 50), 2),
        "total_s_p95": round(percentile(totals, 95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", nargs="+", default=["inprocess", "llama-server"],
                        choices=["inprocess", "llama-server"])  # fmt: skip
    parser.add_argument("--conversations", type=int, nargs="+", default=[1, 4, 20])
    parser.add_argument("--prompts", type=int, default=16, help="answers per run")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    args = parser.parse_args()
    base = Settings(generator="local", data_dir=cache_dir("seed-index"))
    prompts = engine_prompts(args.split)
    print(f"{len(prompts)} engine prompts captured from seed-{args.split}", flush=True)
    from answer.generators.local import LocalGenerator

    tokenizer = LocalGenerator(base)  # counts tokens with the same vocabulary
    path = RESULTS / "throughput.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    for backend in args.backend:
        for workers in args.conversations:
            settings = base.model_copy(
                update={"llm_server": backend == "llama-server", "llm_parallel": workers}
            )
            generator = make_generator(settings)
            assert generator is not None
            if backend == "llama-server":
                assert isinstance(generator, LlamaServerGenerator), "llama-server is missing"
            generator.load()  # type: ignore[attr-defined]
            try:
                list(generator.stream(prompts[-1], max_tokens=8))  # warm-up: system prefix
                total = max(args.prompts, workers)
                row = run(generator, prompts, workers, total, tokenizer.count_tokens)
            finally:
                if isinstance(generator, LlamaServerGenerator):
                    generator.close()
            row["load_average"] = [round(x, 2) for x in os.getloadavg()]
            results[f"{backend}-{workers}"] = row
            print(f"{backend} x{workers}: {row}", flush=True)
    results["prompts"] = {"split": args.split, "captured": len(prompts)}
    print(f"written {write_result('throughput', results)}")


if __name__ == "__main__":
    main()
