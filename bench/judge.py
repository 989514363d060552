"""The local model as a yes/no judge of the decision's best sentence (measured, not kept).

    .venv/bin/python -m bench.judge --split dev --n 300
    .venv/bin/python -m bench.judge --split test --n 300 --rule 0.56 0.04

For questions of the calibration cache (``evaluation/calibrate_decision.py --collect``:
seed, PIAF and PIAF near-miss questions) whose best sentence holding the asked kind has a
decision probability >= 0.2, the model reads the question and that sentence (with the line
it heads) and the probability of "Oui" against "Non" for its first token is recorded: one
prompt of about 100 tokens, no generation. Prints the AUC of the judge and of the decision
probability against "the sentence holds the answer", and the utility (right answers + right
refusals - 2 x wrong answers, per question) of answering at the shipped threshold, with or
without the rule "answer when p >= A and judge >= B" (``--rule A B``, chosen on dev).
Writes ``bench/results/judge-<split>.json``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

JUDGE_SYSTEM = (
    "<|im_start|>system\nTu vérifies si un extrait répond à une question. Réponds "
    "uniquement par Oui ou Non.<|im_end|>\n"
)


def probe_model(batch: int, path: Path | None = None):
    """The bundled model (or the GGUF file at ``path``) for one-prompt probes: 2 threads,
    the engine's spin setting."""
    from llama_cpp import Llama

    from settings import Settings, apply_openmp_spin

    settings = Settings()
    apply_openmp_spin(settings.llm_omp_spin, "llama_cpp")
    return Llama(model_path=str(path or settings.llm_path), n_ctx=2048, n_threads=2,
                 n_threads_batch=2, n_batch=batch, n_ubatch=batch, verbose=False)  # fmt: skip


def gated(rows: list[dict]) -> Iterator[dict]:
    """The calibration cache's questions that passed the gate with passages, in a fixed
    random order (the first N make a sample)."""
    rows = list(rows)
    random.Random(0).shuffle(rows)
    return (row for row in rows if row["gate"] and row["passages"])


def first_token_logits(llm, prompt: str) -> np.ndarray:
    """The model's logits for the first token it would write after ``prompt`` (read from
    an empty cache)."""
    tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(tokens)
    # llama-cpp-python 0.3 keeps no logits without logits_all: read the context's last row
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()


def _judge(llm, question: str, text: str) -> float:
    """P("Oui") / (P("Oui") + P("Non")) for the model's first answer token."""
    prompt = (
        f"{JUDGE_SYSTEM}<|im_start|>user\nQuestion : {question}\nExtrait : {text}\n"
        "L'extrait donne-t-il la réponse à la question ?<|im_end|>\n<|im_start|>assistant\n"
    )
    logits = first_token_logits(llm, prompt)
    first = [llm.tokenize(w.encode(), add_bos=False)[0] for w in ("Oui", " Oui", "oui", "Yes")]
    no = [llm.tokenize(w.encode(), add_bos=False)[0] for w in ("Non", " Non", "non", "No")]
    p = np.exp(logits - logits.max())
    return float(p[first].sum() / (p[first].sum() + p[no].sum()))


def utility(rows: list[dict], answered: list[bool]) -> float:
    """The decision's utility (``calibrate_decision.utility``: right answers + right
    refusals - 2 x wrong answers, per question) of answering the judged ``rows`` as given."""
    from evaluation.calibrate_decision import utility as decision_utility

    o = {"n": len(rows), "right": 0, "refused_right": 0, "wrong": 0, "refused_wrong": 0}
    for row, a in zip(rows, answered, strict=True):
        answerable = row["set"] != "nearmiss"
        if a:
            o["right" if answerable and row["y"] else "wrong"] += 1
        else:
            o["refused_wrong" if answerable else "refused_right"] += 1
    return decision_utility({"judged": o})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rule", type=float, nargs=2, default=None, metavar=("A", "B"))
    args = parser.parse_args(argv)

    from answer import decision
    from answer.evidence import gather
    from answer.question import analyse
    from answer.types import Citation
    from bench.common import write_result
    from evaluation.calibrate_decision import _rows, answers
    from index.types import Passage

    llm = probe_model(batch=512)
    threshold = decision.model().threshold
    out: list[dict] = []
    started = time.perf_counter()
    for row in gated(_rows(args.split)):
        if len(out) >= args.n:
            break
        question = analyse(row["question"])
        passages = [Passage(**p) for p in row["passages"]]
        citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
        evidence = gather(question, citations, passages)
        ranked = decision.rank(evidence, question, max(p.similarity for p in passages))
        best = next(((p, s) for p, s in ranked
                     if not question.wants_item or decision.holds_value(s, evidence, question)),
                    None)  # fmt: skip
        if best is None or best[0] < 0.2:
            continue
        text = evidence.with_next_line(best[1]).text
        judged = round(_judge(llm, row["question"], text), 4)
        out.append({"set": row["set"], "id": row["id"], "p": round(best[0], 4),
                    "y": answers(row, text), "judge": judged})  # fmt: skip
        print(len(out), out[-1], file=sys.stderr, flush=True)
    result = summary(out, args.split, threshold, args.rule)
    result["seconds_per_question"] = (time.perf_counter() - started) / max(len(out), 1)
    print({k: v for k, v in result.items() if k != "rows"})
    write_result(f"judge-{args.split}", result)
    return 0


def summary(out: list[dict], split: str, threshold: float, rule: list[float] | None) -> dict:
    """AUCs and utilities of the judged rows; the rule chosen here when none is given."""
    from sklearn.metrics import roc_auc_score

    y = [r["y"] for r in out]
    p = np.array([r["p"] for r in out])
    j = np.array([r["judge"] for r in out])
    result = {
        "split": split, "questions": len(out), "positives": sum(y),
        "auc_judge": roc_auc_score(y, j), "auc_decision": roc_auc_score(y, p),
        "utility_shipped": utility(out, list(p >= threshold)),
        "rows": out,
    }  # fmt: skip
    if rule is None:  # choose it on this (dev) split
        grid = [(utility(out, list((p >= a) & (j >= b))), round(a, 2), round(b, 2))
                for a in np.arange(0.2, 0.7, 0.02) for b in np.arange(0.0, 0.6, 0.02)]  # fmt: skip
        _u, a, b = max(grid)
        rule = [float(a), float(b)]
    a, b = rule
    return result | {"rule": rule, "utility_rule": utility(out, list((p >= a) & (j >= b)))}


if __name__ == "__main__":
    sys.exit(main())
