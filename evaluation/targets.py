"""The targets of issue 9, read from the reports of one benchmark run.

Each target names the report (``seed``, ``piaf``, ``nearmiss``, ``extractive``, ``swaps``),
the metric path in its ``metrics`` and the bound; a target whose report was not run (or
whose metric has no value) is shown as not measured, never as met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    report: str
    path: tuple[str, ...]  # keys into the report's metrics
    bound: float
    at_least: bool = True  # False: at most
    unit: str = "%"
    model_only: bool = False  # only meaningful when a model writes the answers


TARGETS = [
    Target("seed key recall, French", "seed", ("by_language", "fr", "key_recall"), 0.95),
    Target("seed key recall, English", "seed", ("by_language", "en", "key_recall"), 0.95),
    Target("seed correct citation", "seed", ("citation_correct",), 0.95),
    Target("seed refusals (near-misses included)", "seed", ("refusal_accuracy",), 0.95),
    Target("seed near-misses refused", "seed", ("by_kind", "near-miss", "refusal_accuracy"), 0.95),
    Target("seed follow-ups correct", "seed", ("by_kind", "follow-up", "correct"), 0.95),
    Target("seed answered wrongly", "seed", ("answered_wrongly",), 0.03, at_least=False),
    Target("seed answer in the question's language", "seed", ("language_ok",), 0.95),
    Target("invented numbers (every run)", "*", ("invented_numbers",), 0, False, "n"),
    Target("answers written by the model", "seed", ("model_written",), 0.70, model_only=True),
    Target("PIAF (300) gold span in answer", "piaf", ("span_recall",), 0.80),
    Target("PIAF (300) wrongly refused", "piaf", ("wrongly_refused",), 0.05, at_least=False),
    Target(
        "PIAF near-misses refused", "nearmiss", ("by_kind", "near-miss", "refusal_accuracy"), 0.90
    ),  # fmt: skip
    Target(
        "PIAF controls gold span in answer",
        "nearmiss",
        ("by_kind", "answerable", "span_recall"),
        0.80,
    ),  # fmt: skip
    Target(
        "PIAF controls wrongly refused",
        "nearmiss",
        ("by_kind", "answerable", "wrongly_refused"),
        0.05,
        at_least=False,
    ),  # fmt: skip
    Target("local full answer p50", "seed", ("total_ms_p50",), 6200, False, "ms", True),
    Target("extractive total p50", "extractive", ("total_ms_p50",), 500, False, "ms"),
]


def _get(metrics: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = metrics
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def measure(target: Target, reports: dict[str, dict[str, Any]], generator: str) -> dict:
    """``{"target", "value", "bound", "met"}`` (``met`` None when not measured)."""
    if target.model_only and generator == "extractive":
        value = None
    elif target.report == "*":
        values = [_get(r, target.path) for r in reports.values()]
        values = [v for v in values if v is not None]
        value = sum(values) if values else None
    else:
        report = reports.get(target.report)
        if report is None and target.report == "extractive" and generator == "extractive":
            report = reports.get("seed")  # the run itself is the extractive floor
        if report is None and target.path[:2] == ("by_kind", "follow-up"):
            report = reports.get("conversations")  # ``--only conversations``
        value = _get(report or {}, target.path)
    met = None
    if value is not None:
        met = value >= target.bound if target.at_least else value <= target.bound
    return {
        "target": target.name,
        "value": value,
        "bound": f"{'≥' if target.at_least else '≤'} {_fmt(target.bound, target.unit)}",
        "met": met,
        "unit": target.unit,
    }


def measure_all(reports: dict[str, dict[str, Any]], generator: str) -> list[dict]:
    """Every target, measured on ``reports`` (report name → its ``metrics``)."""
    return [measure(t, reports, generator) for t in TARGETS]


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{100 * value:.1f} %"
    if unit == "ms":
        return f"{value / 1000:.2f} s"
    return str(value)


def format_targets(results: list[dict]) -> str:
    """The targets table: value, bound, and ok / MISS / not measured."""
    width = max(len(r["target"]) for r in results)
    lines = [f"  {'target':<{width}}  {'value':>9}  {'bound':>10}  status"]
    for r in results:
        status = {True: "ok", False: "MISS", None: "not measured"}[r["met"]]
        lines.append(
            f"  {r['target']:<{width}}  {_fmt(r['value'], r['unit']):>9}  {r['bound']:>10}  "
            f"{status}"
        )
    return "\n".join(lines)
