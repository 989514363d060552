"""The local model choosing which of the decision's best sentences answers (measured, not
kept).

    .venv/bin/python -m bench.pick --split dev --n 100 --k 4 --order best-first
    .venv/bin/python -m bench.pick --split dev --n 100 --k 4 --order reversed

``bench/judge.py`` asked the model a yes/no question about the decision's best sentence.
This asks it to choose: the question and the decision's ``k`` most probable sentences,
numbered, "which one gives the answer? 0 if none", and reads the probability of each
number as the model's first token (one prompt of 250-450 tokens, no generation). The
order is the decision's (``best-first``) or its reverse, which tells the model's reading
from its preference for the first position. For questions of the calibration cache
(``evaluation/calibrate_decision.py --collect``) that pass the gate, sampled with a fixed
seed, it prints how often the decision's first sentence and the model's choice hold the
answer (answerable questions whose answer is among the ``k``), and the AUC of "none"
against the question having no answer there. Writes ``bench/results/pick-<split>-<order>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench.judge import first_token_logits, gated, probe_model

PICK_SYSTEM = "Tu lis des phrases et tu dis laquelle répond à une question."
SENTENCE_CHARS = 300  # a long sentence is cut: the prompt stays under ~450 tokens


def _choice(llm, question: str, sentences: list[str]) -> list[float]:
    """Log-probabilities of "0" (none) and of each sentence's number, as the model's first
    answer token, normalised over those numbers."""
    listing = "\n".join(f"{i}. {s[:SENTENCE_CHARS]}" for i, s in enumerate(sentences, 1))
    prompt = (
        f"<|im_start|>system\n{PICK_SYSTEM}<|im_end|>\n<|im_start|>user\nQuestion : {question}"
        f"\n\nPhrases :\n{listing}\n\nQuelle phrase donne la réponse à la question ? Réponds "
        "seulement par son numéro, ou 0 si aucune ne la donne.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    logits = first_token_logits(llm, prompt)
    ids = [llm.tokenize(str(i).encode(), add_bos=False)[0] for i in range(len(sentences) + 1)]
    chosen = logits[ids]
    return (chosen - np.logaddexp.reduce(chosen)).tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--order", choices=["best-first", "reversed"], default="best-first")
    args = parser.parse_args(argv)

    from answer import decision
    from bench.common import cache_dir, load_jsonl, write_result
    from evaluation.calibrate_decision import answers, evidence_of

    llm = probe_model(batch=1024)
    # the calibration cache as collected (passages only: no feature is computed here)
    rows = load_jsonl(cache_dir(".") / f"decision-{args.split}.jsonl")
    out: list[dict] = []
    started = time.perf_counter()
    for row in gated(rows):
        if len(out) >= args.n:
            break
        question, evidence, similarity = evidence_of(row)
        ranked = decision.rank(evidence, question, similarity)[: args.k]
        if args.order == "reversed":
            ranked = ranked[::-1]
        texts = [evidence.with_next_line(s).text.replace("\n", " ") for _p, s in ranked]
        out.append({
            "set": row["set"], "id": row["id"], "answerable": row["answerable"],
            "p": [round(p, 4) for p, _s in ranked], "y": [answers(row, t) for t in texts],
            "model": [round(v, 4) for v in _choice(llm, row["question"], texts)],
        })  # fmt: skip
        print(len(out), out[-1]["y"], out[-1]["model"], file=sys.stderr, flush=True)
    result = summary(out) | {"split": args.split, "k": args.k, "order": args.order}
    result["seconds_per_question"] = round((time.perf_counter() - started) / max(len(out), 1), 2)
    print({k: v for k, v in result.items() if k != "rows"})
    write_result(f"pick-{args.split}-{args.order}", result | {"rows": out})
    return 0


def summary(out: list[dict]) -> dict:
    """How often the decision's first sentence and the model's choice answer, and the AUC
    of the model's "none" (and of the decision's best probability) for "no answer here"."""
    from sklearn.metrics import roc_auc_score

    have = [r for r in out if r["answerable"] and any(r["y"])]
    first = [r["y"][int(np.argmax(r["p"]))] for r in have]
    chosen = [r["y"][int(np.argmax(r["model"][1:]))] for r in have]
    found = [r["answerable"] and any(r["y"]) for r in out]
    mixed = 0 < sum(found) < len(out)  # an AUC needs both kinds
    return {
        "questions": len(out),
        "answer_among_k": len(have),
        "decision_first_answers": sum(first),
        "model_choice_answers": sum(chosen),
        "model_choice_is_position": {
            str(i + 1): sum(1 for r in out if int(np.argmax(r["model"][1:])) == i)
            for i in range(max((len(r["y"]) for r in out), default=0))
        },
        "auc_none": roc_auc_score(found, [-r["model"][0] for r in out]) if mixed else None,
        "auc_decision": roc_auc_score(found, [max(r["p"]) for r in out]) if mixed else None,
    }


if __name__ == "__main__":
    sys.exit(main())
