"""Throughput of the model backends: the in-process model against llama.cpp servers.

N conversations (``--conversations 1 4``) each ask ``--questions`` answerable seed
questions back to back (no reading time: the model never idles) through the engine, over
``corpus/`` (index in ``bench/cache/seed-index``):

- ``inprocess``: the ``local`` generator (one llama.cpp context, calls serialised);
- ``llama-cpp-python``: ``python -m llama_cpp.server`` through the ``openai`` generator;
- ``llama-server``: llama.cpp's own server (``--server-bin``, default the one
  ``scripts/setup.sh`` builds), started by the ``local`` generator itself
  (``llm_server``, ``answer/generators/llama_server.py``) with one slot per conversation
  and continuous batching; same prompts, prefill and sampling as in-process.

    .venv/bin/python -m bench.throughput --backend inprocess llama-server \\
        [--conversations 1 4] [--questions 3] [--server-bin PATH]

Prints and merges into ``bench/results/throughput.json``: per backend and concurrency,
answers per minute, p50/p95 of time to first token and of full answer, model answers.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import httpx  # noqa: E402

from answer.engine import AnswerEngine  # noqa: E402
from answer.generators import make_generator  # noqa: E402
from bench.common import RESULTS, cache_dir, load_jsonl, percentile, write_result  # noqa: E402
from index.service import IndexService  # noqa: E402
from settings import ROOT, Settings  # noqa: E402

SEED = ROOT / "evaluation" / "data" / "seed-test.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(backend: str, settings: Settings) -> tuple[subprocess.Popen, str]:
    """The server process and its OpenAI-compatible base URL, once it answers."""
    port = free_port()
    model = str(settings.llm_path)
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model,
           "--n_threads", str(settings.llm_threads), "--n_ctx", str(settings.llm_context),
           "--n_batch", "1024", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    log = open(cache_dir("throughput") / f"{backend}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{backend} exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise TimeoutError(f"{backend} did not start")


def run(engine: AnswerEngine, conversations: int, questions: list[str], per: int) -> dict:
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()

    def conversation(n: int) -> None:
        for i in range(per):
            question = questions[(n * per + i) % len(questions)]
            result = engine.ask(question)
            with lock:
                rows.append({"first": result.timings_ms.get("first_token", 0) / 1000,
                             "total": result.timings_ms["total"] / 1000,
                             "generator": result.generator})  # fmt: skip

    started = time.perf_counter()
    threads = [threading.Thread(target=conversation, args=(n,)) for n in range(conversations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    first = [r["first"] for r in rows]
    total = [r["total"] for r in rows]
    return {
        "conversations": conversations,
        "answers": len(rows),
        "wall_s": round(wall, 1),
        "answers_per_minute": round(60 * len(rows) / wall, 2),
        "first_token_s_p50": round(percentile(first, 50), 2),
        "first_token_s_p95": round(percentile(first, 95), 2),
        "total_s_p50": round(percentile(total, 50), 2),
        "total_s_p95": round(percentile(total, 95), 2),
        "written_by_model": sum(r["generator"] != "extractive" for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", nargs="+", default=["inprocess", "llama-cpp-python"],
                        choices=["inprocess", "llama-cpp-python", "llama-server"])  # fmt: skip
    parser.add_argument("--conversations", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--questions", type=int, default=3, help="per conversation")
    parser.add_argument("--server-bin", type=Path, default=None)
    args = parser.parse_args()
    questions = [q["question"] for q in load_jsonl(SEED) if q.get("kind") == "answerable"]
    base = Settings(generator="local", data_dir=cache_dir("seed-index"))
    index = IndexService(base)
    index.ingest(base.corpus_dir)  # a no-op when nothing changed
    path = RESULTS / "throughput.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    for backend in args.backend:
        for conversations in args.conversations:
            proc = None
            settings = base
            if backend == "llama-server":
                settings = base.model_copy(update={
                    "llm_server": True, "llm_parallel": conversations,
                    "llm_server_bin": args.server_bin})  # fmt: skip
            elif backend == "llama-cpp-python":
                proc, url = start_server(backend, base)
                settings = base.model_copy(update={"generator": "openai", "openai_url": url})
            generator = None
            try:
                generator = make_generator(settings)
                if backend == "llama-server":
                    from answer.generators.llama_server import LlamaServerGenerator

                    assert isinstance(generator, LlamaServerGenerator), "no llama-server"
                if hasattr(generator, "load"):
                    generator.load()
                engine = AnswerEngine(settings, index, generator=generator)
                engine.ask(questions[0])  # warm-up: caches, first prompt
                row = run(engine, conversations, questions, args.questions)
            finally:
                if hasattr(generator, "close"):
                    generator.close()
                if proc is not None:
                    proc.terminate()
                    proc.wait(30)
            row["load_average"] = os.getloadavg()
            results[f"{backend}-{conversations}"] = row
            print(f"{backend} x{conversations}: {row}", flush=True)
    results["note"] = "2 shared cores (other work running): numbers are pessimistic"
    print(f"written {write_result('throughput', results)}")


if __name__ == "__main__":
    main()
