"""How the fusion weights were chosen: 2-fold cross-validation over PIAF articles.

Each of the four rankings (dense, sentences, bm25, ngrams) is run once per question with
its 50 candidates; relative-score fusion (min-max per ranking, weighted sum, as
llama-index's ``QueryFusionRetriever`` does) is then replayed for every weight combination
on a 0.1 grid. Weights are picked on the questions of one half of the articles and scored
on the other half, and the other way round: the held-out hit@5 is an honest estimate.

    .venv/bin/python -m bench.fusion_weights [--limit N]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from bench.common import PIAF_QUESTIONS, load_jsonl, write_result
from bench.retrieval import normalise, piaf_service

RANKINGS = ("dense", "sentences", "bm25", "ngrams")


def candidate_scores(service, questions: list[dict]) -> tuple[list[dict], list[set[str]]]:
    """Per question: {ranking: {chunk id: min-max score}}, and the ids holding an answer."""
    runs, gold_ids = [], []
    for q in questions:
        gold = [normalise(a) for a in q["answers"]]
        per_ranking: dict[str, dict[str, float]] = {}
        hits: set[str] = set()
        for ranking in RANKINGS:
            passages = service.search(q["question"], k=service.settings.candidates, fusion=ranking)
            scores = [p.score for p in passages]
            lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
            per_ranking[ranking] = {
                p.id: (p.score - lo) / (hi - lo) if hi > lo else float(hi > 0) for p in passages
            }
            hits |= {p.id for p in passages if any(g in normalise(p.text) for g in gold)}
        runs.append(per_ranking)
        gold_ids.append(hits)
    return runs, gold_ids


def hit5(runs: list[dict], gold_ids: list[set[str]], weights: dict[str, float]) -> np.ndarray:
    """1 where a gold chunk is in the fused top 5, per question."""
    out = np.zeros(len(runs))
    for i, (per_ranking, gold) in enumerate(zip(runs, gold_ids, strict=True)):
        fused: dict[str, float] = {}
        for ranking, scores in per_ranking.items():
            for chunk_id, score in scores.items():
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weights[ranking] * score
        top = sorted(fused, key=lambda c: -fused[c])[:5]
        out[i] = any(c in gold for c in top)
    return out


def grid(step: int = 10):
    for parts in itertools.product(range(step + 1), repeat=len(RANKINGS)):
        if sum(parts) == step:
            yield {r: p / step for r, p in zip(RANKINGS, parts, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    args = parser.parse_args()
    service = piaf_service()
    questions = load_jsonl(PIAF_QUESTIONS)[: args.limit]
    runs, gold_ids = candidate_scores(service, questions)
    articles = sorted({q["source"] for q in questions})
    fold = np.array([articles.index(q["source"]) % 2 for q in questions])
    table = [(w, hit5(runs, gold_ids, w)) for w in grid()]
    held_out = np.zeros(len(questions))
    chosen = []
    for train in (0, 1):
        best, hits = max(table, key=lambda row: row[1][fold == train].mean())
        chosen.append(best)
        held_out[fold != train] = hits[fold != train]
    equal = {r: 1 / len(RANKINGS) for r in RANKINGS}
    s = service.settings
    default = {"dense": s.weight_dense, "sentences": s.weight_sentences,
               "bm25": s.weight_bm25, "ngrams": s.weight_ngrams}  # fmt: skip
    result = {
        "questions": len(questions),
        "weights_chosen_per_fold": chosen,
        "held_out_hit@5": round(float(held_out.mean()), 4),
        "equal_weights_hit@5": round(float(hit5(runs, gold_ids, equal).mean()), 4),
        "default_weights": default,
        "default_weights_hit@5": round(float(hit5(runs, gold_ids, default).mean()), 4),
    }
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    print(f"written {write_result('fusion_weights', result)}")


if __name__ == "__main__":
    main()
