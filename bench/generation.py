"""Generation speed of the local model: builds, llama.cpp settings, prompt-lookup decoding.

Asks the first ``--limit`` answerable seed questions of a split
(``evaluation/data/seed-<split>.jsonl``) through the engine over ``corpus/`` (index in
``bench/cache/seed-index``) once per mode, the model loaded before the first question,
and times every model call of the answer (translating included, as a user waits for it):

    .venv/bin/python -m bench.generation [--split test] [--lookup 0 10] [--repeat 1]
        [--threads 2] [--batch 1024] [--flash-attn] [--label NAME]

Prints and writes ``bench/results/generation-<split>[-label].json``: per mode, p50/p95 of
time to first token and of full answer, generated tokens per second while decoding (first
token to last), llama.cpp's own prompt-reading ms per token and decoding tokens per second,
answers written by the model, and how many answers differ from plain decoding.

``--kernel`` times the model alone on the engine's own answer prompts (captured from
``AnswerEngine._messages``, ChatML as the local generator writes it), each read from an
empty cache, plus prompts cut from them to ``--lengths`` tokens (200-1,500: also a crash
test of a llama.cpp build), for each ``--threads`` x ``--batch`` x flash-attention setting:

    .venv/bin/python -m bench.generation --kernel [--threads 1 2] [--batch 512 1024]
        [--flash-attn off on] [--lengths 200 500 1000 1500] [--label avx512]

and writes ``bench/results/generation-kernel[-label].json``. Every file names the
llama.cpp build it measured (``llama_print_system_info``) and the load average, so an
AVX-512 build installed elsewhere (``PYTHONPATH=/tmp/llama512``) is compared fairly.
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
from answer.generators.base import split_prefill  # noqa: E402
from answer.generators.local import _STOPS, LocalGenerator, chatml  # noqa: E402
from bench.common import cache_dir, load_jsonl, percentile, write_result  # noqa: E402
from settings import ROOT, Settings, apply_openmp_spin  # noqa: E402

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
        perf_reset(self.inner._model())
        for piece in self.inner.stream(messages, max_tokens=max_tokens):
            now = time.perf_counter()
            call.setdefault("first", now)
            call["last"] = now
            call["text"] += piece
            yield piece
        call.update(perf(self.inner._model()))


def build_info() -> dict[str, str]:
    """Which llama-cpp-python is imported, and the CPU features its ggml was built with."""
    apply_openmp_spin(Settings().llm_omp_spin, "llama_cpp")  # as the local generator does
    import llama_cpp

    return {
        "llama_cpp": f"{llama_cpp.__version__} at {os.path.dirname(llama_cpp.__file__)}",
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "openmp": {k: os.environ.get(k) for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")},
    }


def perf_reset(llm: Any) -> None:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)


def perf(llm: Any) -> dict[str, float]:
    """llama.cpp's counters since ``perf_reset``: prompt tokens read (batches of more than
    one token: with prompt lookup, the checked drafts count here too) and decoded tokens."""
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return {"p_eval_tokens": data.n_p_eval, "p_eval_ms": data.t_p_eval_ms,
            "eval_tokens": data.n_eval, "eval_ms": data.t_eval_ms}  # fmt: skip


def rates(calls: list[dict[str, Any]]) -> dict[str, float | None]:
    """Prompt ms per token and decoded tokens per second over ``calls``."""
    p_tokens = sum(c.get("p_eval_tokens", 0) for c in calls)
    p_ms = sum(c.get("p_eval_ms", 0.0) for c in calls)
    e_tokens = sum(c.get("eval_tokens", 0) for c in calls)
    e_ms = sum(c.get("eval_ms", 0.0) for c in calls)
    return {
        "prompt_tokens": p_tokens,
        "prompt_ms_per_token": round(p_ms / p_tokens, 2) if p_tokens else None,
        "eval_tokens_per_s": round(1000 * e_tokens / e_ms, 1) if e_ms else None,
    }


def run_mode(split: str, lookup: int, questions: list[dict], repeat: int,
             options: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    settings = Settings(
        generator="local", data_dir=cache_dir("seed-index"), llm_prompt_lookup=lookup, **options
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
            rows.append({**rates(timed.calls),
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
                  f"{tokens} tokens, {result.generator}, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)  # fmt: skip
    first = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    total = [r["total_ms"] for r in rows]
    tokens = sum(r["generated_tokens"] for r in rows)
    speeds = [r["decode_tokens_per_s"] for r in rows if r["decode_tokens_per_s"]]
    p_ms = [r["prompt_ms_per_token"] for r in rows if r["prompt_ms_per_token"]]
    e_rate = [r["eval_tokens_per_s"] for r in rows if r["eval_tokens_per_s"]]
    return {
        "prompt_lookup_tokens": lookup,
        **options,
        "load_average_after": os.getloadavg(),
        "model_load_s": round(load_s, 2),
        "questions": len(rows),
        "first_token_ms_p50": round(percentile(first, 50)),
        "first_token_ms_p95": round(percentile(first, 95)),
        "total_ms_p50": round(percentile(total, 50)),
        "total_ms_p95": round(percentile(total, 95)),
        "generated_tokens": tokens,
        "decode_tokens_per_s_p50": percentile(speeds, 50) if speeds else None,
        "prompt_ms_per_token_p50": percentile(p_ms, 50) if p_ms else None,
        "eval_tokens_per_s_p50": percentile(e_rate, 50) if e_rate else None,
        "written_by_model": sum(r["generator"] == "local" for r in rows),
        "rows": rows,
    }


class PromptCapture:
    """A generator that answers nothing and keeps the answer messages the engine sends."""

    name = "local"

    def __init__(self) -> None:
        self.messages: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int | None = None
               ) -> Iterator[str]:  # fmt: skip
        if max_tokens is None:  # the answer (rewrites and translations set a limit)
            self.messages.append(messages)
        yield from ()


def engine_messages(questions: list[dict]) -> list[list[dict[str, str]]]:
    """The answer messages (prefill included) the engine sends the model for
    ``questions``, over ``corpus/``; those it answers without the model send none."""
    from index.service import IndexService

    settings = Settings(generator="local", data_dir=cache_dir("seed-index"))
    index = IndexService(settings)
    index.ingest(settings.corpus_dir)  # a no-op when nothing changed
    capture = PromptCapture()
    engine = AnswerEngine(settings, index, generator=capture)
    for q in questions:
        engine.ask(q["question"])
    return capture.messages


def rag_prompts(questions: list[dict]) -> list[str]:
    """The ChatML answer prompts of ``questions``, built by the engine's own prompt path."""
    prompts = []
    for messages in engine_messages(questions):
        messages, prefill = split_prefill(messages)
        prompts.append(chatml(messages) + (prefill or ""))
    return prompts


def cut_prompts(llm: Any, prompts: list[str], lengths: list[int]) -> list[tuple[str, list[int]]]:
    """Prompts of exactly ``lengths`` tokens: the engine's prompts one after the other
    (real system prefix and passages), cut, then the assistant's turn opened."""
    end = llm.tokenize(b"<|im_end|>\n<|im_start|>assistant\n", add_bos=False, special=True)
    text = "".join(prompts)
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    return [(f"cut-{n}", tokens[: n - len(end)] + end) for n in lengths]


def kernel_rates(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Reading and writing speed over ``rows``: llama.cpp's own timers (wall clock) and the
    process's CPU time (what a shared machine's other work does not inflate as much)."""
    p_tokens = sum(r["p_eval_tokens"] for r in rows)
    e_tokens = sum(r["eval_tokens"] for r in rows)
    e_ms = sum(r["eval_ms"] for r in rows)
    return {
        "prompt_tokens": p_tokens,
        "read_ms_per_token": round(sum(r["p_eval_ms"] for r in rows) / p_tokens, 2),
        "read_cpu_ms_per_token": round(1000 * sum(r["read_cpu_s"] for r in rows) / p_tokens, 2),
        "write_tokens_per_s": round(1000 * e_tokens / e_ms, 1) if e_ms else None,
        "write_cpu_ms_per_token": round(1000 * sum(r["write_cpu_s"] for r in rows) / e_tokens, 1)
        if e_tokens
        else None,
    }


def kernel_config(path: Any, prompts: list[str], lengths: list[int], threads: int, batch: int,
                  flash: bool, max_tokens: int) -> dict[str, Any]:  # fmt: skip
    """One llama.cpp setting on every prompt, each from an empty cache."""
    from llama_cpp import Llama

    started = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                n_batch=batch, n_ubatch=batch, flash_attn=flash, verbose=False)  # fmt: skip
    load_s = time.perf_counter() - started
    cases = [(f"rag-{i}", llm.tokenize(p.encode("utf-8"), add_bos=False, special=True))
             for i, p in enumerate(prompts)]  # fmt: skip
    cases += cut_prompts(llm, prompts, lengths)
    rows = []
    sampling = {"temperature": 0.1, "top_p": 0.9, "repeat_penalty": 1.05, "seed": 0, "stop": _STOPS}
    try:
        for name, tokens in cases:
            # reading: the whole prompt from an empty cache, one token out
            llm.reset()
            perf_reset(llm)
            t0, c0 = time.perf_counter(), time.process_time()
            llm.create_completion(tokens, max_tokens=1, **sampling)
            read = {"read_wall_s": time.perf_counter() - t0, "read_cpu_s": time.process_time() - c0,
                    **perf(llm)}  # fmt: skip
            # writing: the same prompt again (cached: one token re-read), then the answer
            perf_reset(llm)
            t0, c0 = time.perf_counter(), time.process_time()
            out = llm.create_completion(tokens, max_tokens=max_tokens, **sampling)
            gen = perf(llm)
            row = {"prompt": name, "prompt_len": len(tokens), **read,
                   "write_wall_s": time.perf_counter() - t0,
                   "write_cpu_s": time.process_time() - c0,
                   "eval_tokens": gen["eval_tokens"], "eval_ms": gen["eval_ms"],
                   "completion_tokens": out["usage"]["completion_tokens"]}  # fmt: skip
            rows.append(row)
            print(f"  t={threads} b={batch} fa={flash} {name} ({len(tokens)} tokens): read "
                  f"{row['p_eval_ms'] / max(row['p_eval_tokens'], 1):.2f} ms/token "
                  f"(cpu {1000 * row['read_cpu_s'] / len(tokens):.2f}), write "
                  f"{1000 * row['eval_tokens'] / max(row['eval_ms'], 1e-9):.1f} tokens/s "
                  f"(cpu {1000 * row['write_cpu_s'] / max(row['eval_tokens'], 1):.1f} ms/token), "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)  # fmt: skip
    finally:
        llm.close()
    rag = [r for r in rows if r["prompt"].startswith("rag-")]
    return {
        "threads": threads, "batch": batch, "flash_attn": flash, "model_load_s": round(load_s, 2),
        "rag_prompts": len(rag),
        "rag_prompt_tokens_p50": percentile([r["prompt_len"] for r in rag], 50),
        **{f"rag_{k}": v for k, v in kernel_rates(rag).items()},
        "by_length": {r["prompt"]: kernel_rates([r]) for r in rows
                      if r["prompt"].startswith("cut-")},
        "load_average_after": os.getloadavg(),
        "rows": rows,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--lookup", type=int, nargs="+", default=[0, 10],
                        help="draft tokens per mode (0 = plain decoding)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--limit", type=int, default=20, help="first N answerable questions")
    parser.add_argument("--threads", type=int, nargs="+", default=None)
    parser.add_argument("--batch", type=int, nargs="+", default=None)
    parser.add_argument("--flash-attn", nargs="+", choices=["off", "on"], default=None)
    parser.add_argument("--kernel", action="store_true", help="the model alone, see above")
    parser.add_argument("--lengths", type=int, nargs="*", default=[200, 500, 1000, 1500])
    parser.add_argument("--max-tokens", type=int, default=64, help="--kernel: per prompt")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    cases = load_jsonl(SEED_DATA / f"seed-{args.split}.jsonl")
    # answerable questions: the ones the model writes (refusals are decided before it runs)
    questions = [q for q in cases if q.get("kind") == "answerable"][: args.limit]
    defaults = Settings()
    threads = args.threads or [defaults.llm_threads]
    batches = args.batch or [defaults.llm_batch]
    flashes = [f == "on" for f in args.flash_attn] if args.flash_attn else [defaults.llm_flash_attn]
    info = build_info()
    print(f"llama.cpp: {info}", flush=True)
    common = {
        "split": args.split,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared: numbers pessimistic)",
        "load_average_before": os.getloadavg(),
        **info,
    }
    suffix = f"-{args.label}" if args.label else ""
    if args.kernel:
        prompts = rag_prompts(questions)
        configs = [kernel_config(defaults.llm_path, prompts, args.lengths, t, b, f, args.max_tokens)
                   for t in threads for b in batches for f in flashes]  # fmt: skip
        for config in configs:
            shown = {k: v for k, v in config.items() if k != "rows"}
            print(f"kernel: {shown}")
        payload = {**common, "max_tokens": args.max_tokens, "configs": configs,
                   "load_average": os.getloadavg()}  # fmt: skip
        print(f"written {write_result(f'generation-kernel{suffix}', payload)}")
        return
    modes = [
        run_mode(args.split, n, questions, args.repeat,
                 {"llm_threads": t, "llm_batch": b, "llm_flash_attn": f})
        for t in threads for b in batches for f in flashes for n in args.lookup
    ]  # fmt: skip
    plain = next((m for m in modes if m["prompt_lookup_tokens"] == 0), None)
    for mode in modes:
        if plain is not None:
            mode["answers_differing_from_plain"] = sum(
                a["answer"] != b["answer"] for a, b in zip(mode["rows"], plain["rows"], strict=True)
            )
        shown = {k: v for k, v in mode.items() if k != "rows"}
        print(f"prompt lookup {mode['prompt_lookup_tokens']}: {shown}")
    payload = {**common, "modes": modes, "load_average": os.getloadavg()}
    print(f"written {write_result(f'generation-{args.split}{suffix}', payload)}")


if __name__ == "__main__":
    main()
