"""Retrieval quality and latency on PIAF: hit@1, hit@5, MRR@10 for dense, BM25 and fusion.

A hit is a returned passage containing a gold answer span. The 96 PIAF articles are
indexed once into ``data/bench-piaf`` (re-used on later runs: a no-op re-index).

    .venv/bin/python -m bench.retrieval [--limit N] [--modes dense,sentences,ngrams,relative]
"""

from __future__ import annotations

import argparse
import time
import unicodedata

from bench.common import PIAF_CORPUS, PIAF_QUESTIONS, load_jsonl, percentile, write_result
from index.service import IndexService
from settings import ROOT, Settings


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split())


def piaf_service(**overrides) -> IndexService:
    """An IndexService over the PIAF corpus in its own data folder, ingested."""
    suffix = "".join(f"-{k}{v}" for k, v in sorted(overrides.items()))
    data_dir = ROOT / "data" / f"bench-piaf{suffix}"
    settings = Settings(data_dir=data_dir, corpus_dir=PIAF_CORPUS, **overrides)
    service = IndexService(settings)
    report = service.ingest(progress=True)
    print(f"index: {report.chunks} chunks ({len(report.added)} new) in {report.seconds:.1f} s")
    return service


def evaluate(service: IndexService, questions: list[dict], mode: str) -> dict:
    """hit@1, hit@5, MRR@10 and latency of one ranking mode."""
    hits1 = hits5 = 0
    rr = 0.0
    latencies: list[float] = []
    for q in questions:
        gold = [normalise(a) for a in q["answers"]]
        start = time.perf_counter()
        passages = service.search(q["question"], k=10, fusion=mode)
        latencies.append((time.perf_counter() - start) * 1000)
        rank = next(
            (i for i, p in enumerate(passages, 1) if any(g in normalise(p.text) for g in gold)),
            None,
        )
        if rank:
            hits1 += rank == 1
            hits5 += rank <= 5
            rr += 1 / rank
    n = len(questions)
    return {
        "mode": mode,
        "questions": n,
        "hit@1": round(hits1 / n, 4),
        "hit@5": round(hits5 / n, 4),
        "mrr@10": round(rr / n, 4),
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--modes", default="dense,sentences,bm25,ngrams,rrf,relative")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument(
        "--no-sentence-vectors", action="store_true", help="index and rank without them"
    )
    args = parser.parse_args()
    overrides = {"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap,
                 "sentence_vectors": False if args.no_sentence_vectors else None}  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    service = piaf_service(**overrides)
    questions = load_jsonl(PIAF_QUESTIONS)[: args.limit]
    rows = []
    for mode in args.modes.split(","):
        row = evaluate(service, questions, mode)
        rows.append(row)
        print(
            f"{mode:>9}: hit@1 {row['hit@1']:.3f}  hit@5 {row['hit@5']:.3f}  "
            f"MRR@10 {row['mrr@10']:.3f}  latency p50 {row['latency_ms_p50']} ms "
            f"p95 {row['latency_ms_p95']} ms  (n={row['questions']})"
        )
    s = service.settings
    path = write_result(
        "retrieval" + "".join(f"-{k}{v}" for k, v in sorted(overrides.items())),
        {"settings": {"chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap,
                      "sentence_vectors": s.sentence_vectors, "candidates": s.candidates,
                      "default_fusion": s.fusion}, "modes": rows},
    )  # fmt: skip
    print(f"written {path}")


if __name__ == "__main__":
    main()
