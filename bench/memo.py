"""A question asked again: the model's earlier text for the same prompt (answer/generators/memo.py).

The fresh questions of ``bench/load.py`` (written for the benches, not evaluation data) are
asked of the ``local`` engine over the seed corpus, then asked again. Prints and writes
``bench/results/memo.json``: total time p50 / max of each pass, how many of the first answers
the model wrote, and whether every second answer is the first one.

    .venv/bin/python -m bench.memo
"""

from __future__ import annotations

import time

from bench.common import cache_dir, percentile, write_result
from bench.load import SCRIPT
from settings import Settings


def main() -> None:
    from server.services import Services

    settings = Settings(generator="local", data_dir=cache_dir("seed-index"))
    services = Services.load(settings)
    services.index.ingest(settings.corpus_dir)
    engine = services.engine
    questions = [question for question, _follow_ups in SCRIPT]
    passes: list[list[tuple[float, str, str]]] = []
    for _ in range(2):
        done = []
        for question in questions:
            started = time.perf_counter()
            result = engine.ask(question)
            done.append((time.perf_counter() - started, result.answer, result.generator))
        passes.append(done)
    first, again = passes
    payload = {
        "questions": len(questions),
        "written_by_model_first": sum(g == "local" for _t, _a, g in first),
        "same_answers": sum(a[1] == b[1] for a, b in zip(first, again, strict=True)),
        "memo": engine.memo.stats(),
    }
    for name, done in (("first", first), ("again", again)):
        times = [t for t, _a, _g in done]
        payload[f"{name}_total_s_p50"] = round(percentile(times, 50), 3)
        payload[f"{name}_total_s_max"] = round(max(times), 3)
    for key, value in payload.items():
        print(f"{key:>24}: {value}")
    print(f"written {write_result('memo', payload)}")


if __name__ == "__main__":
    main()
