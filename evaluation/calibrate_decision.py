"""Fit ``answer/decision.json``: which retrieved sentence answers, and when to answer at all.

    .venv/bin/python -m evaluation.calibrate_decision [--collect] [--fit]

``--collect`` runs retrieval, the relevance gate and the evidence scorer (no language model)
for every question of both halves and caches the labelled sentences in
``bench/cache/decision-<split>.jsonl``:

- the seed questions (``evaluation/data/seed-<split>.jsonl``): a sentence answers when it
  holds the hand-written evidence quote, or every key group;
- every PIAF question of the half's articles (split by article, as ``piaf_sets``) over the
  intact index: a sentence answers when it holds a gold span;
- the same questions over the near-miss corpus (one paragraph removed per article): those
  whose spans are no longer in their article, which must be refused (the others are the
  intact ones again and are left out).

``--fit`` fits a logistic regression on the **dev** sentences, chooses the answer
threshold on the dev questions (right answers + right refusals − 2 × confident wrong
answers, every question counting once), and prints both halves: test first.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from answer.decision import FEATURES, MODEL_FILE, feature_rows
from answer.evidence import Evidence, gather
from answer.fallback import MAX_CHARS, MAX_SENTENCES
from answer.question import Question, analyse, french_rewrite
from answer.relevance import is_injection, retrieval_found_something
from answer.types import Citation
from evaluation import piaf_sets
from evaluation.datasets import load
from evaluation.metrics import evidence_in, keys_found, norm, span_found
from index.types import Passage

ROOT = Path(__file__).resolve().parent.parent
SEED_DATA = ROOT / "evaluation" / "data"
SETS = ("seed", "piaf", "nearmiss")
COVERAGE, LENGTH = FEATURES.index("coverage"), FEATURES.index("length")
ITEM_MISSING = FEATURES.index("item_missing")
LOSS_WRONG = 2.0  # a confident wrong answer costs twice a refusal (the brief)
RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0)  # quote sentences within this share of the best's
FLAT = 0.01  # utility differences below this are noise (a few questions in a thousand)


@dataclass
class Item:
    """A question to collect: its text, whether it is answerable, and what answers it."""

    set: str
    id: str
    question: str
    lang: str
    answerable: bool
    quote: str = ""  # seed: the evidence quote
    keys: list[list[str]] | None = None  # seed: key groups
    spans: list[str] | None = None  # PIAF: gold spans


def answers(row: dict, text: str) -> bool:
    """Whether sentence ``text`` holds the answer of the collected question ``row``."""
    if row.get("spans"):
        return span_found(text, row["spans"])
    folded, quote = norm(text), norm(row.get("quote") or "")
    if quote and (evidence_in(quote, text) or (len(folded) > 30 and folded in quote)):
        return True
    return bool(row.get("keys")) and keys_found(text, row["keys"])


def _seed_items(split: str) -> list[Item]:
    out = []
    for case in load(SEED_DATA / f"seed-{split}.jsonl", split=split).cases:
        t = case.turns[0]
        out.append(Item("seed", case.id, t.question, t.lang or "fr", t.answerable,
                        quote=t.evidence or "", keys=t.keys))  # fmt: skip
    return out


def _piaf_items(corpus: Path, questions: Path, split: str, name: str) -> list[Item]:
    """Every PIAF question of the half's articles; unanswerable when no paragraph of its
    article (in ``corpus``) holds a gold span."""
    articles = piaf_sets.load_articles(corpus)
    splits = piaf_sets.article_splits(list(articles))
    out = []
    for row in piaf_sets.load_questions(questions):
        article = articles.get(row["source"])
        if article is None or splits[row["source"]] != split:
            continue
        spans = list(row["answers"])
        answerable = bool(article.holding(spans))

        out.append(Item(name, str(row["id"]), row["question"], "fr", answerable, spans=spans))
    return out


def collect(split: str) -> Path:
    """Labelled sentences of every question of ``split`` (see the module doc)."""
    from bench.common import PIAF_CORPUS, PIAF_QUESTIONS, cache_dir
    from server.services import Services
    from settings import Settings

    near = piaf_sets.write_near_miss_corpus(PIAF_CORPUS, PIAF_QUESTIONS, cache_dir("piaf-nearmiss"))
    near_corpus = near.parent / "corpus"
    plans = [
        ("seed", None, "seed-index", _seed_items(split)),
        ("piaf", PIAF_CORPUS, "piaf-index",
         _piaf_items(PIAF_CORPUS, PIAF_QUESTIONS, split, "piaf")),
        ("nearmiss", near_corpus, "piaf-nearmiss-index",
         [i for i in _piaf_items(near_corpus, PIAF_QUESTIONS, split, "nearmiss")
          if not i.answerable]),
    ]  # fmt: skip
    out = cache_dir(".") / f"decision-{split}.jsonl"
    kept = _rewrites()
    with out.open("w", encoding="utf-8") as fh:
        for _name, corpus, index_dir, items in plans:
            settings = Settings(generator="extractive", data_dir=cache_dir(index_dir))
            if corpus is not None:
                settings = settings.model_copy(update={"corpus_dir": corpus})
            index = Services.load(settings).index
            index.ingest(settings.corpus_dir)
            for i, item in enumerate(items):
                row = _sample(item, settings, index, kept)
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                if i % 100 == 0:
                    print(f"{item.set} {split}: {i}/{len(items)}", file=sys.stderr, flush=True)
    return out


def _rewrites() -> dict[str, str]:
    """The model's texts kept by the answer bench's live runs, by prompt
    (``evaluation.replay.CallsFile``): they hold the French rewrites of the English seed
    questions."""
    from bench.common import cache_dir
    from evaluation.replay import CallsFile

    return CallsFile(cache_dir("replay") / "calls.json").calls


def _french(
    question: str, kept: dict[str, str], known: dict[str, str] | None = None
) -> str | None:
    """The French rewrite the engine matches an English question with at run time
    (``engine._french``, asked with the ``known`` acronyms written as the documents
    write them), read from ``kept``; None when no live run asked it. Without it an
    English question was collected with other passages and other features than it gets
    when answered (before session 22)."""
    from answer.acronyms import written
    from answer.condense import REWRITE_TOKENS
    from answer.generators.memo import prompt_key
    from answer.prompts import translate_messages

    cased = written(question, known or {})
    raw = kept.get(prompt_key(translate_messages(cased), REWRITE_TOKENS))
    return None if raw is None else french_rewrite(cased, raw)


def _question(row: dict) -> Question:
    """The analysed question of a collected row, with its French rewrite if any."""
    question = analyse(row["question"])
    return question.with_french(row["french"]) if row.get("french") else question


def _sample(item: Item, settings, index, kept: dict[str, str]) -> dict:
    """The collected question: its labels, the gate's verdict and the retrieved passages."""
    french = _french(item.question, kept, index.acronyms()) if item.lang == "en" else None
    row = {"set": item.set, "id": item.id, "question": item.question, "french": french,
           "answerable": item.answerable, "quote": item.quote, "keys": item.keys,
           "spans": item.spans, "gate": False, "passages": []}  # fmt: skip
    question = _question(row)
    if is_injection(item.question):
        return row
    passages = index.search(question.match_text, settings.top_k)
    row["gate"] = retrieval_found_something(settings, question, passages)
    row["passages"] = [p.to_dict() for p in passages]
    return row


def evidence_of(row: dict) -> tuple[Question, Evidence, float]:
    """The analysed question of a collected row, the evidence sentences of its passages
    and their best retrieval cosine, as the engine computes them."""
    question = _question(row)
    passages = [Passage(**p) for p in row["passages"]]
    citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
    evidence = gather(question, citations, passages)
    return question, evidence, max((p.similarity for p in passages), default=0.0)


def _featured(row: dict) -> dict:
    """``row`` with ``sentences``: the features and label of each evidence sentence."""
    row["sentences"] = []
    if not row["gate"]:
        return row
    question, evidence, similarity = evidence_of(row)
    rows = feature_rows(evidence, question, similarity)
    row["sentences"] = [
        {"x": x, "y": answers(row, s.text)}
        for x, s in zip(rows, evidence.sentences, strict=True)
    ]
    return row


def _rows(split: str) -> list[dict]:
    from bench.common import cache_dir

    path = cache_dir(".") / f"decision-{split}.jsonl"
    if not path.is_file():
        return []
    return [_featured(json.loads(line)) for line in path.read_text("utf-8").splitlines() if line]


def _outcomes(
    rows: list[dict], weights, bias: float, threshold: float, ratio: float
) -> dict[str, dict]:
    """Per data set: right answers, right refusals, wrong answers, wrong refusals. An
    answer quotes the best sentence and those within ``ratio`` of its probability (at most
    ``MAX_SENTENCES``, as ``answer/fallback.pick``); it is right when one holds the answer."""
    import numpy as np

    out: dict[str, dict] = {}
    for row in rows:
        o = out.setdefault(row["set"], {"n": 0, "right": 0, "refused_right": 0, "wrong": 0,
                                        "refused_wrong": 0})  # fmt: skip
        o["n"] += 1
        best_p, best_y = 0.0, False
        if row["sentences"]:
            x = np.array([s["x"] for s in row["sentences"]])
            p = 1 / (1 + np.exp(-(x @ weights + bias)))
            x[:, LENGTH] = np.expm1(x[:, LENGTH])
            # a question asking for a value is answered by a sentence holding one; the
            # next sentences quoted are any (answer/fallback.pick)
            order = list(np.argsort(-p))
            holding = [j for j in order if not x[j, ITEM_MISSING]]
            first = holding[0] if holding else None
            best_p = float(p[first]) if first is not None else 0.0
            quoted, used = [first], x[first, LENGTH] if first is not None else 0.0
            for j in order:
                if first is None or len(quoted) >= MAX_SENTENCES or p[j] < ratio * best_p:
                    break
                if j != first and x[j, COVERAGE] > 0 and used + x[j, LENGTH] <= MAX_CHARS:
                    quoted.append(j)
                    used += x[j, LENGTH]
            best_y = first is not None and any(row["sentences"][j]["y"] for j in quoted)
        answered = row["gate"] and best_p >= threshold
        if answered:
            o["right" if row["answerable"] and best_y else "wrong"] += 1
        else:
            o["refused_wrong" if row["answerable"] else "refused_right"] += 1
    return out


def utility(outcomes: dict[str, dict]) -> float:
    """(right answers + right refusals − 2 × wrong answers) / questions, every question
    of every set counting once (about four answerable questions to one near-miss, near the
    seed sets' mix)."""
    n = sum(o["n"] for o in outcomes.values())
    gain = sum(o["right"] + o["refused_right"] - LOSS_WRONG * o["wrong"] for o in outcomes.values())
    return gain / max(n, 1)


def _table(outcomes: dict[str, dict]) -> str:
    lines = []
    for name, o in sorted(outcomes.items()):
        n = max(o["n"], 1)
        lines.append(
            f"  {name:9} n={o['n']:4}  right {o['right'] / n:6.1%}  refused right "
            f"{o['refused_right'] / n:6.1%}  wrong {o['wrong'] / n:6.1%}  refused wrong "
            f"{o['refused_wrong'] / n:6.1%}"
        )
    return "\n".join(lines)


def fit() -> dict:
    """Fit on dev, choose the threshold on dev, score test; write ``answer/decision.json``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    dev, test = _rows("dev"), _rows("test")
    xs = [s["x"] for r in dev for s in r["sentences"]]
    ys = [s["y"] for r in dev for s in r["sentences"]]
    # the sentences of unanswerable questions are all negatives; C chosen by hand, the
    # fit is not sensitive to it between 0.1 and 10 (few features, many rows)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(xs), np.array(ys))
    weights, bias = lr.coef_[0], float(lr.intercept_[0])
    grid = [(t / 100, r) for t in range(2, 96) for r in RATIOS]
    scores = {tr: utility(_outcomes(dev, weights, bias, *tr)) for tr in grid}
    top = max(scores.values())
    # the objective is flat near its top: of the points within FLAT of it, the one that
    # answers most (lowest threshold), quoting most (lowest ratio)
    best, ratio = min(tr for tr, u in scores.items() if u >= top - FLAT)
    dev_out = _outcomes(dev, weights, bias, best, ratio)
    test_out = _outcomes(test, weights, bias, best, ratio)
    result = {
        "features": list(FEATURES),
        "weights": [round(float(w), 5) for w in weights],
        "bias": round(bias, 5),
        "threshold": best,
        "quote_ratio": ratio,
        "fitted_on": (
            f"dev halves: {len(dev)} questions ({len(xs)} sentences): seed-dev.jsonl, PIAF "
            "dev articles (intact and near-miss corpora); python -m "
            "evaluation.calibrate_decision --collect --fit"
        ),
        "held_out": {"utility": round(utility(test_out), 4), "outcomes": test_out},
        "dev": {"utility": round(utility(dev_out), 4), "outcomes": dev_out},
    }
    MODEL_FILE.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"threshold {best}, quote ratio {ratio}; weights " + ", ".join(
        f"{f} {w:+.2f}" for f, w in zip(FEATURES, weights, strict=True)))  # fmt: skip
    print("TEST (held out):\n" + _table(test_out) + f"\n  utility {utility(test_out):.3f}")
    print("dev:\n" + _table(dev_out) + f"\n  utility {utility(dev_out):.3f}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args(argv)
    if args.collect:
        for split in ("dev", "test"):
            print(f"collected {collect(split)}", file=sys.stderr)
    if args.fit or not args.collect:
        fit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
