"""Evaluation files: format detection and validated rows.

Four JSONL formats, recognised by the keys of their first row:

- ``questions``: ``{"id", "question", "lang", "kind", "asks", "keys": [[alternatives...], ...],
  "source", "evidence", "answerable", "split"}``;
- ``conversations``: ``{"id", "split", "lang", "turns": [{"question", "keys", "source",
  "answerable", "asks", "kind"}, ...]}``;
- ``piaf``: ``{"id", "question", "answers": [spans...], "source"}`` (its documents live in a
  ``corpus/`` folder next to the file);
- ``feedback``: an export of user ratings (``python -m ui.feedback export``),
  ``{"question", "answer", "citations", "rating"}`` with ``rating`` 1 or -1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")

Format = Literal["questions", "conversations", "piaf", "feedback"]
Split = Literal["dev", "test"]

SPLITS: tuple[Split, ...] = ("dev", "test")
# kinds of the seed sets; the shared file's kinds (fact, list, english, unanswerable) map to them
KINDS = ("answerable", "near-miss", "off-topic", "injection")
FOLLOW_UP = "follow-up"  # group of the second and later turns of a conversation
_LEGACY_KINDS = {"fact": "answerable", "list": "answerable", "english": "answerable"}


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
    kind: str = "answerable"  # answerable, near-miss, off-topic, injection (or the file's own)
    asks: str | None = None  # amount, count, date, person, ... (what the question asks for)
    # PIAF: [start, end) of the paragraphs of the cleaned document that hold a gold span
    paragraphs: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Case:
    """An evaluation item: one question, or one conversation of several turns."""

    id: str
    turns: list[Turn]
    split: str = "test"  # rows without a split are test-only data (the shared files)


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
    has_splits: bool = False  # some row names its split (else every row is test data)

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


def _kind(row: dict[str, Any], answerable: bool) -> str:
    """The row's kind; legacy kinds mapped, absent kinds from ``answerable``."""
    kind = row.get("kind")
    if isinstance(kind, str) and kind:
        return _LEGACY_KINDS.get(kind, kind)
    return "answerable" if answerable else "off-topic"


def _split(row: dict[str, Any], where: str) -> str:
    split = row.get("split", "test")
    if split not in SPLITS:
        raise EvalFileError(f"{where}: 'split' must be one of {', '.join(SPLITS)}")
    return split


def _turn(row: dict[str, Any], where: str, lang: str | None = None) -> Turn:
    """A question or conversation turn (its ``lang`` defaults to the conversation's)."""
    answerable = bool(row.get("answerable", True))
    return Turn(
        _question(row, where),
        keys=_keys(row.get("keys"), where),
        answerable=answerable,
        evidence=row.get("evidence") or None,
        source=row.get("source"),
        lang=row.get("lang") or lang,
        kind=_kind(row, answerable),
        asks=row.get("asks"),
    )


def _paragraphs(value: Any, where: str) -> list[tuple[int, int]]:
    if value is None:
        return []
    try:
        return [(int(a), int(b)) for a, b in value]
    except (TypeError, ValueError):
        raise EvalFileError(f"{where}: 'paragraphs' must be a list of [start, end]") from None


def _question(row: dict[str, Any], where: str) -> str:
    q = row.get("question")
    if not isinstance(q, str) or not q.strip():
        raise EvalFileError(f"{where}: missing or empty 'question'")
    return q


def _case(fmt: Format, row: dict[str, Any], where: str, index: int) -> Case:
    rid = str(row.get("id", index))
    split = _split(row, where)
    if fmt == "questions":
        return Case(rid, [_turn(row, where)], split)
    if fmt == "piaf":
        spans = row.get("answers")
        if not isinstance(spans, list) or not all(isinstance(s, str) for s in spans):
            raise EvalFileError(f"{where}: 'answers' must be a list of strings")
        answerable = bool(row.get("answerable", True))
        turn = Turn(
            _question(row, where),
            spans=spans,
            source=row.get("source"),
            answerable=answerable,
            lang="fr",
            kind=_kind(row, answerable),
            paragraphs=_paragraphs(row.get("paragraphs"), where),
        )
        return Case(rid, [turn], split)
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise EvalFileError(f"{where}: 'turns' must be a non-empty list")
    out = []
    for t_index, t in enumerate(turns, 1):
        at = f"{where}, turn {t_index}"
        if not isinstance(t, dict):
            raise EvalFileError(f"{at}: a turn must be an object")
        out.append(_turn(t, at, row.get("lang")))
    return Case(rid, out, split)


def load(path: Path, limit: int | None = None, split: str | None = None) -> EvalFile:
    """Read and validate an evaluation file; ``split`` keeps the rows of that half (rows
    without a ``split`` are test rows), then ``limit`` keeps the first N items."""
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
    has_splits = any("split" in row for _, row in rows)
    if split is not None:
        if split not in SPLITS:
            raise EvalFileError(f"unknown split {split!r} (expected {' or '.join(SPLITS)})")
        rows = [(w, r) for w, r in rows if _split(r, w) == split]
        if not rows:
            raise EvalFileError(f"{path}: no row of the {split} split")
    if limit is not None:
        rows = rows[: max(limit, 0)]
    result = EvalFile(path, fmt, has_splits=has_splits)
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


SEED_FILES = ("seed-{split}.jsonl", "seed-conversations-{split}.jsonl")


def split_files(folder: Path, split: str) -> list[Path]:
    """The seed question and conversation files of ``split`` in ``folder`` (those present)."""
    if split not in SPLITS:
        raise EvalFileError(f"unknown split {split!r} (expected {' or '.join(SPLITS)})")
    files = [folder / name.format(split=split) for name in SEED_FILES]
    found = [f for f in files if f.is_file()]
    if not found:
        raise EvalFileError(f"{folder}: no {' or '.join(f.name for f in files)}")
    return found


def first_per_kind(items: list[T], kind_of: Callable[[T], str], limit: int | None) -> list[T]:
    """The first ``limit`` items of each kind, in their order (all without a limit)."""
    if limit is None:
        return items
    seen: dict[str, int] = {}
    out = []
    for item in items:
        kind = kind_of(item)
        if seen.get(kind, 0) < limit:
            seen[kind] = seen.get(kind, 0) + 1
            out.append(item)
    return out
