"""Calibrate the answer constants of the quoting path on the seed dev half, report the test half.

    .venv/bin/python -m evaluation.calibrate_answers [--dev FILE] [--test FILE]

For every single question, retrieval and the relevance gate run once; then each combination
of ``evidence.ABSENT_WEIGHT``, ``fallback.SUBJECT_MIN`` and ``fallback.MIN_COVERAGE`` is
scored on the quoted answers (no language model): right answers (answerable, every key
found) plus right refusals, minus twice the confident wrong answers (a wrong answer is worse
than an honest refusal). The best combination on dev is printed with its test score.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from answer import evidence as evidence_module
from answer import fallback
from answer.citations import check_answer
from answer.engine import PROMPT_PASSAGES
from answer.question import analyse
from answer.relevance import is_injection, retrieval_found_something
from answer.types import Citation
from evaluation.metrics import keys_found
from index.service import IndexService
from settings import ROOT, get_settings

DATA = ROOT / "evaluation" / "data"
GRID = {
    "ABSENT_WEIGHT": [0.0, 0.1, 0.25],
    "SUBJECT_MIN": [0.2, 0.3, 0.4, 0.5],
    "MIN_COVERAGE": [0.4, 0.45, 0.5, 0.55],
}


def prepared(path: Path, index: IndexService, settings) -> list[dict]:
    """Each question with its analysis, passages and gate verdict (computed once)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        question = analyse(row["question"])
        passages = index.search(question.match_text, settings.top_k)
        gate = not is_injection(row["question"]) and retrieval_found_something(
            settings, question, passages
        )
        cites = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
        rows.append({**row, "q": question, "gate": gate, "cites": cites[: PROMPT_PASSAGES + 1]})
    return rows


def score(rows: list[dict]) -> dict[str, float]:
    """Right, refused-right and confidently wrong counts of the quoted answers."""
    right = wrong = refused_right = 0
    for row in rows:
        answered, text = False, ""
        if row["gate"]:
            ev = evidence_module.gather(row["q"], row["cites"])
            reply = fallback.answer(ev, row["q"])
            check = check_answer(reply.text, row["cites"], row["q"].language, row["q"].text)
            answered = reply.answerable and check.answerable
            text = check.answer
        if row["answerable"]:
            ok = answered and keys_found(text, row["keys"])
            right += ok
            wrong += answered and not ok
        else:
            refused_right += not answered
            wrong += answered
    n = len(rows)
    return {
        "score": (right + refused_right - 2 * wrong) / n,
        "right": right,
        "refused_right": refused_right,
        "wrong": wrong,
        "n": n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DATA / "seed-dev.jsonl")
    parser.add_argument("--test", type=Path, default=DATA / "seed-test.jsonl")
    args = parser.parse_args(argv)
    settings = get_settings()
    index = IndexService(settings)
    dev, test = prepared(args.dev, index, settings), prepared(args.test, index, settings)
    results = []
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        evidence_module.ABSENT_WEIGHT = params["ABSENT_WEIGHT"]
        fallback.SUBJECT_MIN = params["SUBJECT_MIN"]
        fallback.MIN_COVERAGE = params["MIN_COVERAGE"]
        results.append((score(dev), params))
        print(json.dumps({"dev": results[-1][0], **params}), flush=True)
    best_dev, best = max(results, key=lambda r: r[0]["score"])
    evidence_module.ABSENT_WEIGHT = best["ABSENT_WEIGHT"]
    fallback.SUBJECT_MIN = best["SUBJECT_MIN"]
    fallback.MIN_COVERAGE = best["MIN_COVERAGE"]
    print(json.dumps({"best": best, "dev": best_dev, "test": score(test)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
