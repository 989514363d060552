"""Choose ``answer/fallback.UNSURE_P``: when a refusal says "not sure" instead of "the
documents do not give this".

    .venv/bin/python -m evaluation.calibrate_lead

Reads the decision data (``bench/cache/decision-<split>.jsonl``, written by
``python -m evaluation.calibrate_decision --collect``): seed questions, PIAF questions over
the intact articles and over the near-miss corpus. For every question the decision
refuses (no sentence reaches its threshold), it finds the sentence the refusal shows
(``fallback.nearest_sentences``), its probability and whether it may answer
(``fallback.may_answer``). At a floor f the refusal says "not sure" when that sentence
may answer and its probability is at least f. The cost of f counts two false or useless
leads, one each:

- "the documents do not give this" said of an answerable question (a false claim);
- "not sure" said of an unanswerable one (a true claim, but a weaker one than it could be).

The floor of least cost on the **dev** refusals is chosen; test is printed first. It also
prints how often the most probable sentence holds the answer of a refused answerable
question, against the sentence of best hand-set score that refusals showed before, and
how often the shipped reply (two sentences when it says "not sure") shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from answer import decision, fallback
from evaluation.calibrate_decision import answers, evidence_of

FLOORS = [f / 100 for f in range(0, 60, 5)]


@dataclass(frozen=True)
class Refusal:
    """A refused question: its set, whether it is answerable, the shown sentence's
    probability, whether that sentence may answer, and whether it (or the old choice)
    holds the answer."""

    set: str
    answerable: bool
    p: float
    may_answer: bool
    shows_answer: bool  # the most probable sentence holds the answer
    showed_answer: bool  # the sentence of best score (the choice before the decision's)
    reply_shows: bool  # the reply at the shipped floor (two sentences when unsure) does


def refusals(split: str) -> list[Refusal]:
    """The refused questions of ``split`` (gate passed, no sentence answering)."""
    from bench.common import cache_dir

    out = []
    path = cache_dir(".") / f"decision-{split}.jsonl"
    for line in path.read_text("utf-8").splitlines():
        row = json.loads(line)
        if not row["gate"]:
            continue
        question, evidence, similarity = evidence_of(row)
        ranked = decision.rank(evidence, question, similarity)
        if not ranked or decision.first_answering(ranked, evidence, question) is not None:
            continue
        nearest = fallback.nearest_sentences(evidence, ranked)
        p = nearest[0][0] if nearest else None
        if p is None:
            continue
        shown = evidence.with_next_line(nearest[0][1])
        old = fallback.nearest_sentences(evidence, None)
        reply = fallback.not_given(evidence, question, ranked).text
        out.append(
            Refusal(
                row["set"],
                row["answerable"],
                p,
                fallback.may_answer(question, shown, True),
                answers(row, shown.text),
                any(answers(row, evidence.with_next_line(s).text) for _p, s in old),
                answers(row, reply),
            )
        )
    return out


def cost(rows: list[Refusal], floor: float) -> int:
    """False "not given" leads plus needless "not sure" ones at ``floor``."""
    unsure = [r.may_answer and r.p >= floor for r in rows]
    return sum(r.answerable != u for r, u in zip(rows, unsure, strict=True))


def _report(name: str, rows: list[Refusal], floor: float) -> str:
    answerable = [r for r in rows if r.answerable]
    plain = [r for r in rows if not r.answerable and not (r.may_answer and r.p >= floor)]
    return (
        f"{name}: {len(rows)} refusals ({len(answerable)} answerable); at {floor}: cost "
        f"{cost(rows, floor)} (always 'not given': {cost(rows, 1.01)}); unanswerable "
        f"questions told 'not given' {len(plain)} of {len(rows) - len(answerable)}; "
        f"refused answerable questions whose shown sentence holds "
        f"the answer {sum(r.shows_answer for r in answerable)} "
        f"(best-score sentence: {sum(r.showed_answer for r in answerable)}; the shipped "
        f"reply, two sentences when unsure: {sum(r.reply_shows for r in answerable)})"
    )


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    dev, test = refusals("dev"), refusals("test")
    costs = {f: cost(dev, f) for f in FLOORS}
    # least cost; of equal ones, the highest floor (the plainer "not given" said more)
    best = max(FLOORS, key=lambda f: (-costs[f], f))
    print("dev costs by floor: " + ", ".join(f"{f}: {c}" for f, c in costs.items()))
    print("TEST (held out) " + _report("test", test, best))
    print("dev " + _report("dev", dev, best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
