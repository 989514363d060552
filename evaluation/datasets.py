"""Evaluation files: format detection and validated rows.

Four JSONL formats, recognised by the keys of their first row:

- ``questions``: ``{"id", "question", "lang", "keys": [[alternatives...], ...], "source",
  "evidence", "answerable"}``;
- ``conversations``: ``{"id", "turns": [{"question", "keys", "source"}, ...]}``;
- ``piaf``: ``{"id", "question", "answers": [spans...], "source"}`` (its documents live in a
  ``corpus/`` folder next to the file);
- ``feedback``: an export of user ratings (``python -m ui.feedback export``),
  ``{"question", "answer", "citations", "rating"}`` with ``rating`` 1 or -1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Format = Literal["questions", "conversations", "piaf", "feedback"]


class EvalFileError(ValueError):
    """The evaluation file is missing, not JSONL, or its rows miss required fields."""


@dataclass
class Turn:
    """One question to ask, with what a good answer must contain."""

    question: str
    keys: list[list[str]] = field(default_factory=list)  # every group needs one alternative
    answerable: bool = True
    evidence: str | None = None  # quote that the cited passage must contain
    source: str | None = None
    spans: list[str] = field(default_factory=list)  # PIAF gold answers (any one suffices)
    lang: str | None = None


@dataclass
class Case:
    """An evaluation item: one question, or one conversation of several turns."""

    id: str
    turns: list[Turn]


@dataclass
class FeedbackRow:
    """A rated answer exported from the product."""

    id: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    rating: Any


@dataclass
class EvalFile:
    path: Path
    format: Format
    cases: list[Case] = field(default_factory=list)
    feedback: list[FeedbackRow] = field(default_factory=list)

    @property
    def corpus_dir(self) -> Path | None:
        """The PIAF documents folder (``corpus/`` beside the file), if any."""
        folder = self.path.parent / "corpus"
        return folder if self.format == "piaf" and folder.is_dir() else None


def detect_format(row: dict[str, Any]) -> Format:
    """The format a row belongs to, from its keys."""
    if "turns" in row:
        return "conversations"
    if "answers" in row:
        return "piaf"
    if "rating" in row and "answer" in row:
        return "feedback"
    if "question" in row and ("keys" in row or "answerable" in row):
        return "questions"
    raise EvalFileError(
        "unrecognised row: expected keys 'question'+'keys' (questions), 'turns' "
        "(conversations), 'answers' (PIAF) or 'answer'+'rating' (feedback); got "
        + ", ".join(sorted(row))
    )


def _detect(where: str, row: dict[str, Any]) -> Format:
    try:
        return detect_format(row)
    except EvalFileError as exc:
        raise EvalFileError(f"{where}: {exc}") from None


def _keys(value: Any, where: str) -> list[list[str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(g, list) and g and all(isinstance(a, str) for a in g) for g in value
    ):
        raise EvalFileError(f"{where}: 'keys' must be a list of non-empty lists of strings")
    return value


def _question(row: dict[str, Any], where: str) -> str:
    q = row.get("question")
    if not isinstance(q, str) or not q.strip():
        raise EvalFileError(f"{where}: missing or empty 'question'")
    return q


def _case(fmt: Format, row: dict[str, Any], where: str, index: int) -> Case:
    rid = str(row.get("id", index))
    if fmt == "questions":
        turn = Turn(
            _question(row, where),
            keys=_keys(row.get("keys"), where),
            answerable=bool(row.get("answerable", True)),
            evidence=row.get("evidence") or None,
            source=row.get("source"),
            lang=row.get("lang"),
        )
        return Case(rid, [turn])
    if fmt == "piaf":
        spans = row.get("answers")
        if not isinstance(spans, list) or not all(isinstance(s, str) for s in spans):
            raise EvalFileError(f"{where}: 'answers' must be a list of strings")
        return Case(rid, [Turn(_question(row, where), spans=spans, source=row.get("source"))])
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise EvalFileError(f"{where}: 'turns' must be a non-empty list")
    out = []
    for t_index, t in enumerate(turns, 1):
        at = f"{where}, turn {t_index}"
        if not isinstance(t, dict):
            raise EvalFileError(f"{at}: a turn must be an object")
        out.append(
            Turn(
                _question(t, at),
                keys=_keys(t.get("keys"), at),
                answerable=bool(t.get("answerable", True)),
                evidence=t.get("evidence") or None,
                source=t.get("source"),
            )
        )
    return Case(rid, out)


def load(path: Path, limit: int | None = None) -> EvalFile:
    """Read and validate an evaluation file; ``limit`` keeps the first N items."""
    if not path.is_file():
        raise EvalFileError(f"{path}: no such file")
    rows: list[tuple[str, dict[str, Any]]] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalFileError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise EvalFileError(f"{where}: each line must be a JSON object")
            rows.append((where, row))
    if not rows:
        raise EvalFileError(f"{path}: empty file")
    fmt = _detect(*rows[0])
    if limit is not None:
        rows = rows[: max(limit, 0)]
    result = EvalFile(path, fmt)
    for index, (where, row) in enumerate(rows, 1):
        if _detect(where, row) != fmt:
            raise EvalFileError(f"{where}: row of another format than the first ({fmt})")
        if fmt == "feedback":
            cits = row.get("citations") or []
            if not isinstance(cits, list):
                raise EvalFileError(f"{where}: 'citations' must be a list")
            result.feedback.append(
                FeedbackRow(
                    str(row.get("id", index)),
                    str(row.get("question", "")),
                    str(row["answer"]),
                    cits,
                    row["rating"],
                )
            )
        else:
            result.cases.append(_case(fmt, row, where, index))
    return result
