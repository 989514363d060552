"""Thumbs up/down on answers, kept in SQLite and exported as JSONL for ``passerelle eval``.

Export from the command line::

    python -m ui.feedback export feedback.jsonl      # or "-" for standard output

Each line: ``{"question", "answer", "citations", "rating", "time"}`` with ``rating`` 1
(useful) or -1 (not useful) and ``time`` in ISO 8601 (UTC).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT UNIQUE,
    time TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating INTEGER NOT NULL
)
"""


class FeedbackStore:
    """Ratings of answers in ``<data_dir>/feedback.sqlite3`` (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / "feedback.sqlite3")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path)
            try:
                with db:
                    yield db
            finally:
                db.close()

    def add(
        self,
        question: str,
        answer: str,
        citations: list[dict[str, Any]],
        rating: int,
        *,
        key: str | None = None,
        time: datetime | None = None,
    ) -> None:
        """Store one rating (1 or -1); a later rating with the same ``key`` replaces it."""
        if rating not in (1, -1):
            raise ValueError("rating must be 1 or -1")
        stamp = (time or datetime.now(UTC)).isoformat(timespec="seconds")
        row = (key, stamp, question, answer, json.dumps(citations, ensure_ascii=False), rating)
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (key, time, question, answer, citations, rating) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "time=excluded.time, answer=excluded.answer, "
                "citations=excluded.citations, rating=excluded.rating",
                row,
            )

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first, in the JSONL export format."""
        with self._connect() as db:
            cur = db.execute(
                "SELECT question, answer, citations, rating, time FROM feedback ORDER BY id"
            )
            return [
                {
                    "question": q,
                    "answer": a,
                    "citations": json.loads(c),
                    "rating": r,
                    "time": tm,
                }
                for q, a, c, r, tm in cur.fetchall()
            ]

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def export_jsonl(self, target: Path | str | IO[str]) -> int:
        """Write every rating as one JSON object per line; returns the number of lines."""
        rows = self.rows()
        if isinstance(target, str | Path):
            with open(target, "w", encoding="utf-8") as out:
                return self._write(rows, out)
        return self._write(rows, target)

    @staticmethod
    def _write(rows: list[dict[str, Any]], out: IO[str]) -> int:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return len(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m ui.feedback export FILE``: ratings as JSONL (``-`` = standard output)."""
    parser = argparse.ArgumentParser(prog="python -m ui.feedback", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="write every rating as JSONL")
    p.add_argument("file", help="output file, or - for standard output")
    args = parser.parse_args(argv)

    from settings import get_settings

    store = FeedbackStore.for_data_dir(get_settings().data_dir)
    n = store.export_jsonl(sys.stdout if args.file == "-" else Path(args.file))
    print(f"{n} avis exportés", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
