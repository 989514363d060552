"""Shared helpers of the benchmarks: PIAF paths, percentiles, caches, JSON results."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.metrics import percentile as _percentile
from settings import ROOT

SHARED_EVAL = ROOT.parent / "shared" / "eval"
PIAF_CORPUS = SHARED_EVAL / "piaf" / "corpus"
PIAF_QUESTIONS = SHARED_EVAL / "piaf" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / "cache"  # indexes and derived corpora, never committed


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values`` (the project's nearest-rank helper), 0.0
    without values."""
    return _percentile(values, q) or 0.0


def cache_dir(name: str) -> Path:
    """``bench/cache/<name>``, created; the cache ignores itself in git."""
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("*\n", encoding="utf-8")
    path = CACHE / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_result(name: str, payload: dict) -> Path:
    """Write ``bench/results/<name>.json`` and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
