"""Calibrate the off-topic gate on the seed dev half, report the test half.

    .venv/bin/python -m evaluation.calibrate_gate [--piaf N]

On-topic questions are the seed questions that the documents can be asked about
(answerable and near-miss); off-topic ones are the seed off-topic questions plus PIAF
questions (Wikipedia articles that the seed documents never mention) asked against the seed
index. PIAF questions come from the dev or test articles of ``evaluation.piaf_sets``, so the
two halves share no question. Prints, for each half, how many on-topic questions the gate
lets through and how many off-topic ones it stops, for the gate as written and for a
logistic regression of its signals fitted on dev.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from answer.evidence import gather
from answer.question import analyse
from answer.relevance import gate_signals, retrieval_found_something
from answer.types import Citation
from evaluation.piaf_sets import article_splits, load_questions
from index.service import IndexService
from settings import ROOT, get_settings

DATA = ROOT / "evaluation" / "data"
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "questions.jsonl"


def rows(split: str, piaf: int) -> list[tuple[str, bool]]:
    """(question, on topic) pairs of one half."""
    out = []
    for line in (DATA / f"seed-{split}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["kind"] in ("answerable", "near-miss"):
            out.append((row["question"], True))
        elif row["kind"] == "off-topic":
            out.append((row["question"], False))
    questions = load_questions(PIAF)
    halves = article_splits(sorted({q["source"] for q in questions}))
    pool = [q["question"] for q in questions if halves[q["source"]] == split]
    out += [(q, False) for q in random.Random(split).sample(pool, min(piaf, len(pool)))]
    return out


def features(index: IndexService, settings, data: list[tuple[str, bool]]):
    out = []
    for text, on_topic in data:
        question = analyse(text)
        passages = index.search(question.match_text, settings.top_k)
        cites = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
        evidence = gather(question, cites)
        out.append(
            (
                gate_signals(question, passages, evidence),
                retrieval_found_something(settings, question, passages),
                on_topic,
            )
        )
    return out


def report(name: str, verdicts: list[bool], labels: list[bool]) -> dict[str, float]:
    on = [v for v, y in zip(verdicts, labels, strict=True) if y]
    off = [not v for v, y in zip(verdicts, labels, strict=True) if not y]
    res = {"on_topic_passed": sum(on) / len(on), "off_topic_refused": sum(off) / len(off)}
    print(name, json.dumps({**res, "on_topic": len(on), "off_topic": len(off)}))
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piaf", type=int, default=200, help="PIAF questions per half")
    parser.add_argument("--out", type=Path, default=None, help="write the signals as JSON")
    args = parser.parse_args(argv)
    settings = get_settings()
    index = IndexService(settings)
    dev = features(index, settings, rows("dev", args.piaf))
    test = features(index, settings, rows("test", args.piaf))
    if args.out:
        args.out.write_text(json.dumps({"dev": dev, "test": test}), encoding="utf-8")
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced").fit(
        [f for f, _, _ in dev], [y for *_, y in dev]
    )
    print("coefficients", model.coef_.round(3).tolist(), "intercept", model.intercept_.round(3))
    for name, half in (("dev", dev), ("test", test)):
        labels = [y for *_, y in half]
        report(f"{name} rule", [g for _, g, _ in half], labels)
        report(f"{name} logistic", list(model.predict([f for f, _, _ in half])), labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
