"""Choose ``answer/decision.MODEL_FLOOR``: down to which decision probability the model
is still asked when no sentence reaches the answer threshold.

Reads answer-bench runs made with ``--model-floor 0`` (the model asked whatever the
probability; every row records the probability of its best sentence). Any floor can then
be replayed without rerunning the model: a row under the floor would have been refused
(the engine's "not given" reply), every other row keeps its outcome. The floor is chosen
on dev runs by the decision's utility (``calibrate_decision.utility``: right answers and
right refusals, minus twice the wrong answers), and scored on test runs when given.

    python -m evaluation.calibrate_floor --dev bench/results/answers-local-dev-seed-floor0.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from answer import decision
from evaluation.calibrate_decision import FLAT
from evaluation.calibrate_decision import utility as decision_utility

GRID = [round(0.02 * i, 2) for i in range(26)]  # 0.00 … 0.50, under the 0.51 threshold


def rows_of(paths: list[Path]) -> list[dict[str, Any]]:
    """Every scored row of the model runs of the given bench results (errors and the
    seed bench's extractive comparison run left out)."""
    out = []
    for path in paths:
        runs = json.loads(path.read_text("utf-8"))["runs"]
        for name, run in runs.items():
            if name != "extractive":
                out += [r for r in run["rows"] if r.get("error") is None]
    return out


def replay(row: dict[str, Any], floor: float | None, threshold: float) -> tuple[bool, bool]:
    """(answered, correct) of ``row`` had the engine used ``floor`` (None: no gray zone)."""
    p = row.get("confidence")
    below = p is not None and p < threshold and (floor is None or p < floor)
    if below:  # refused without asking the model
        return False, not row["expected_answerable"]
    return bool(row["answered"]), bool(row["correct"])


def utility(rows: list[dict[str, Any]], floor: float | None, threshold: float) -> float:
    """The decision's utility of ``rows`` under ``floor``: (right answers + right refusals
    − 2 × wrong answers) / rows."""
    return decision_utility({"rows": outcomes(rows, floor, threshold)})


def outcomes(rows: list[dict[str, Any]], floor: float | None, threshold: float) -> dict[str, int]:
    """Counts of right / wrong answers and right / wrong refusals under ``floor``."""
    out = {"n": len(rows), "right": 0, "wrong": 0, "refused_right": 0, "refused_wrong": 0}
    for row in rows:
        answered, correct = replay(row, floor, threshold)
        if answered:
            out["right" if correct else "wrong"] += 1
        else:
            out["refused_right" if correct else "refused_wrong"] += 1
    return out


def choose(rows: list[dict[str, Any]], threshold: float) -> float | None:
    """The highest floor within ``FLAT`` of the best dev utility (the model asked as
    rarely as the data allows); None when no floor beats asking only above the threshold."""
    base = utility(rows, None, threshold)
    scored = {f: utility(rows, f, threshold) for f in GRID if f < threshold}
    top = max(scored.values())
    if top < base + FLAT:
        return None
    return max(f for f, u in scored.items() if u >= top - FLAT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, nargs="+", required=True)
    parser.add_argument("--test", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    fitted = decision.model()
    if fitted is None:
        raise SystemExit("no fitted decision (answer/decision.json)")
    threshold = fitted.threshold
    dev, test = rows_of(args.dev), rows_of(args.test)
    print(f"threshold {threshold}; dev {len(dev)} rows, test {len(test)} rows")
    print(" floor  dev utility" + ("  test utility" if test else ""))
    for f in [None, *[g for g in GRID if g < threshold]]:
        line = f"{'none' if f is None else f:>6}  {utility(dev, f, threshold):11.3f}"
        print(line + (f"  {utility(test, f, threshold):12.3f}" if test else ""))
    chosen = choose(dev, threshold)
    print(f"chosen on dev: {chosen}  dev {outcomes(dev, chosen, threshold)}")
    if test:
        print(
            f"held out: utility {utility(test, chosen, threshold):.3f} "
            f"(no floor {utility(test, None, threshold):.3f}) {outcomes(test, chosen, threshold)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
