"""Shared helpers of the benchmarks: PIAF paths, percentiles, JSON results."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from settings import ROOT

SHARED_EVAL = ROOT.parent / "shared" / "eval"
PIAF_CORPUS = SHARED_EVAL / "piaf" / "corpus"
PIAF_QUESTIONS = SHARED_EVAL / "piaf" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values`` (inclusive method)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def write_result(name: str, payload: dict) -> Path:
    """Write ``bench/results/<name>.json`` and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
