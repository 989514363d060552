"""Retrieval quality and latency on PIAF: hit@1, hit@5, MRR@10 for dense, BM25 and fusion.

A hit is a returned passage containing a gold answer span. The 96 PIAF articles are
indexed once into ``data/bench-piaf`` (re-used on later runs: a no-op re-index). Scores
are also given per half of the articles (sorted names, even / odd positions, as in
``bench/fusion_weights.py``): half 0 chooses sentence-unit lengths (``--units``), half 1
checks them.

    .venv/bin/python -m bench.retrieval [--limit N] [--modes dense,sentences,ngrams,relative]
        [--units MIN,MAX,FROM_CHUNK_CHARS] [--label NAME]
"""

from __future__ import annotations

import argparse
import time
import unicodedata

from bench.common import PIAF_CORPUS, PIAF_QUESTIONS, load_jsonl, percentile, write_result
from index.service import IndexService
from ingest import sentences
from settings import ROOT, Settings


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split())


def piaf_service(units: str = "", **overrides) -> IndexService:
    """An IndexService over the PIAF corpus in its own data folder, ingested.

    ``units`` ("MIN,MAX,FROM") overrides the sentence-unit lengths of ``ingest.sentences``.
    """
    suffix = "".join(f"-{k}{v}" for k, v in sorted(overrides.items()))
    if units:
        lengths = [int(v) for v in units.split(",")]
        (sentences.UNIT_MIN_CHARS, sentences.UNIT_MAX_CHARS,
         sentences.UNITS_FROM_CHUNK_CHARS) = lengths  # fmt: skip
        suffix += "-units" + "-".join(map(str, lengths))
    data_dir = ROOT / "data" / f"bench-piaf{suffix}"
    # ingest at normal priority: here the index build is not competing with answers
    settings = Settings(data_dir=data_dir, corpus_dir=PIAF_CORPUS, ingest_nice=0, **overrides)
    service = IndexService(settings)
    report = service.ingest(progress=True)
    print(f"index: {report.chunks} chunks ({len(report.added)} new) in {report.seconds:.1f} s")
    return service


def halves(questions: list[dict]) -> list[int]:
    """0 or 1 for each question: its article's position among sorted article names, mod 2."""
    articles = sorted({q["source"] for q in questions})
    return [articles.index(q["source"]) % 2 for q in questions]


def evaluate(service: IndexService, questions: list[dict], mode: str) -> dict:
    """hit@1, hit@5, MRR@10 and latency of one ranking mode (also per half of articles)."""
    hits1 = hits5 = 0
    rr = 0.0
    latencies: list[float] = []
    half_hits = [[0, 0], [0, 0]]  # per half: hits@5, questions
    for q, half in zip(questions, halves(questions), strict=True):
        gold = [normalise(a) for a in q["answers"]]
        start = time.perf_counter()
        passages = service.search(q["question"], k=10, fusion=mode)
        latencies.append((time.perf_counter() - start) * 1000)
        rank = next(
            (i for i, p in enumerate(passages, 1) if any(g in normalise(p.text) for g in gold)),
            None,
        )
        half_hits[half][1] += 1
        if rank:
            hits1 += rank == 1
            hits5 += rank <= 5
            half_hits[half][0] += rank <= 5
            rr += 1 / rank
    n = len(questions)
    return {
        "mode": mode,
        "questions": n,
        "hit@1": round(hits1 / n, 4),
        "hit@5": round(hits5 / n, 4),
        "mrr@10": round(rr / n, 4),
        "hit@5_half0": round(half_hits[0][0] / max(half_hits[0][1], 1), 4),
        "hit@5_half1": round(half_hits[1][0] / max(half_hits[1][1], 1), 4),
        "questions_half0": half_hits[0][1],
        "questions_half1": half_hits[1][1],
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
    parser.add_argument(
        "--chunk-vectors", choices=["embedded", "units"], help="how chunks get their vectors"
    )
    parser.add_argument("--units", default="", help="sentence units MIN,MAX,FROM_CHUNK_CHARS")
    parser.add_argument("--label", default="", help="suffix of the result file")
    args = parser.parse_args()
    overrides = {"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap,
                 "sentence_vectors": False if args.no_sentence_vectors else None,
                 "chunk_vectors": args.chunk_vectors}  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    service = piaf_service(args.units, **overrides)
    questions = load_jsonl(PIAF_QUESTIONS)[: args.limit]
    rows = []
    for mode in args.modes.split(","):
        row = evaluate(service, questions, mode)
        rows.append(row)
        print(
            f"{mode:>9}: hit@1 {row['hit@1']:.3f}  hit@5 {row['hit@5']:.3f}  "
            f"MRR@10 {row['mrr@10']:.3f}  hit@5 halves {row['hit@5_half0']:.3f} / "
            f"{row['hit@5_half1']:.3f}  latency p50 {row['latency_ms_p50']} ms "
            f"p95 {row['latency_ms_p95']} ms  (n={row['questions']})"
        )
    s = service.settings
    name = "retrieval" + "".join(f"-{k}{v}" for k, v in sorted(overrides.items()))
    name += f"-units{args.units.replace(',', '-')}" if args.units else ""
    name += f"-{args.label}" if args.label else ""
    units = [sentences.UNIT_MIN_CHARS, sentences.UNIT_MAX_CHARS, sentences.UNITS_FROM_CHUNK_CHARS]
    path = write_result(
        name,
        {"settings": {"chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap,
                      "sentence_vectors": s.sentence_vectors, "candidates": s.candidates,
                      "default_fusion": s.fusion, "sentence_units": units},
         "sentences_stored": service.status()["sentences"],
         "chunks": service.status()["chunks"], "modes": rows},
    )  # fmt: skip
    print(f"written {path}")


if __name__ == "__main__":
    main()
