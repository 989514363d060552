"""The citation checker on subject swaps: does it reject a claim whose subject was swapped,
and keep a faithful paraphrase?

Rows ``{"id", "lang", "passage", "claim", "supported", "kind": "swap"|"paraphrase",
"split"}``. Each claim, written with ``[1]``, is checked against its passage as citation
[1]; it is *accepted* when the checked answer keeps it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from answer.citations import check_answer
from answer.types import Citation
from evaluation.datasets import SPLITS, EvalFileError, first_per_kind
from evaluation.metrics import CITATION_MARKER, share


@dataclass
class SwapRow:
    id: str
    lang: str
    kind: str
    supported: bool
    accepted: bool
    checked: str  # the checker's answer (empty when it removed the claim)
    split: str


def load_swaps(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """The rows of ``path`` (those of ``split`` when given; rows without one are test)."""
    if not path.is_file():
        raise EvalFileError(f"{path}: no such file")
    rows = []
    for line_no, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path.name}:{line_no}: not valid JSON ({exc.msg})") from None
        missing = {"passage", "claim", "supported"} - set(row)
        if missing:
            raise EvalFileError(f"{path.name}:{line_no}: missing {', '.join(sorted(missing))}")
        rows.append(row)
    if split is not None:
        if split not in SPLITS:
            raise EvalFileError(f"unknown split {split!r}")
        rows = [r for r in rows if r.get("split", "test") == split]
    return rows


def with_marker(claim: str) -> str:
    """The claim citing [1] (before its final punctuation when it has none)."""
    if CITATION_MARKER.search(claim):
        return claim
    text = claim.rstrip()
    if text and text[-1] in ".!?…":
        return f"{text[:-1].rstrip()} [1]{text[-1]}"
    return f"{text} [1]"


def check_claim(claim: str, passage: str, language: str) -> tuple[bool, str]:
    """(accepted, checked answer) for ``claim`` checked against ``passage`` as [1]."""
    citation = Citation(1, "passage", "passage", None, passage, 0, len(passage), 1.0)
    result = check_answer(with_marker(claim), [citation], language)  # type: ignore[arg-type]
    return result.answerable and not result.removed, result.answer


def score(rows: list[dict[str, Any]]) -> list[SwapRow]:
    out = []
    for i, row in enumerate(rows, 1):
        lang = row.get("lang") or "fr"
        accepted, checked = check_claim(row["claim"], row["passage"], lang)
        kind = row.get("kind") or ("paraphrase" if row["supported"] else "swap")
        out.append(
            SwapRow(
                str(row.get("id", i)),
                lang,
                kind,
                bool(row["supported"]),
                accepted,
                checked,
                row.get("split", "test"),
            )  # fmt: skip
        )
    return out


def summarise(rows: list[SwapRow]) -> dict[str, Any]:
    """Precision and recall of the "supported" verdict, accuracy by kind and by language."""
    accepted = [r for r in rows if r.accepted]
    supported = [r for r in rows if r.supported]

    def accuracy(group: list[SwapRow]) -> float | None:
        return share([r.accepted == r.supported for r in group])

    return {
        "claims": len(rows),
        "precision": share([r.supported for r in accepted]),
        "recall": share([r.accepted for r in supported]),
        "accuracy": accuracy(rows),
        "by_kind": {
            k: accuracy([r for r in rows if r.kind == k]) for k in sorted({r.kind for r in rows})
        },  # fmt: skip
        "by_language": {
            lang: accuracy([r for r in rows if r.lang == lang])
            for lang in sorted({r.lang for r in rows})
        },  # fmt: skip
    }


def evaluate_swaps(
    path: Path, split: str | None = None, limit: int | None = None, by_kind: bool = False
) -> dict:
    """``{"file", "split", "metrics", "rows"}`` for the swap file; ``limit`` keeps the first
    N rows (of each kind with ``by_kind``)."""
    rows = first_per_kind(
        load_swaps(path, split), lambda r: str(r.get("kind")) if by_kind else "", limit
    )
    scored = score(rows)
    return {
        "file": str(path),
        "split": split,
        "metrics": summarise(scored),
        "rows": [asdict(r) for r in scored],
    }


def format_swaps(report: dict) -> str:
    m = report["metrics"]

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{100 * v:.0f} %"

    lines = [f"{report['file']} (subject swaps, split {report['split'] or 'all'})",
             f"  claims                               {m['claims']}",
             f"  precision of 'supported' (accepted)  {pct(m['precision'])}",
             f"  recall of 'supported'                {pct(m['recall'])}",
             f"  accuracy                             {pct(m['accuracy'])}"]  # fmt: skip
    lines += [f"  accuracy on {k:<25}{pct(v)}" for k, v in m["by_kind"].items()]
    lines += [f"  accuracy in {k:<25}{pct(v)}" for k, v in m["by_language"].items()]
    return "\n".join(lines)
