"""Values that leave the index: ranked passages and ingest reports."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

LAST_REPORT_FILE = "last_ingest.json"


@dataclass
class Passage:
    """One retrieved chunk, located in its cleaned document by character offsets."""

    id: str
    source: (
        str  # path relative to the corpus folder, e.g. "mission-bassin-minier-international.txt"
    )
    title: str
    page: int | None
    text: str
    start: int  # offset of ``text`` in the cleaned document text
    end: int
    score: float
    heading: str | None = None
    similarity: float = 0.0  # cosine between question and passage embeddings (for refusals)
    # the passage's sentence units (ingest/sentences.py) as [start, end, cosine to the
    # question] in document offsets: which part of the passage the question is about
    units: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form (the ``passages`` items of ``passerelle search --json``)."""
        return asdict(self)


@dataclass
class IngestFailure:
    path: str
    error: str


@dataclass
class IngestReport:
    """What one ``passerelle ingest`` run did (or, with ``dry_run``, would do)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    chunks: int = 0  # chunks in the index after the run
    seconds: float = 0.0
    dry_run: bool = False

    def to_dict(self) -> dict:
        """The ``--json`` object: counts, failures, chunk total and duration."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": [asdict(f) for f in self.failed],
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
        }


def save_last_report(data_dir: Path, report: IngestReport, target: list[str]) -> None:
    """Write ``report`` as the last ingest's (``DATA_DIR/last_ingest.json``, atomic): the
    ``--json`` counts, when it finished, what it read, and the documents it changed."""
    data = {
        **report.to_dict(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "documents": {k: getattr(report, k) for k in ("added", "updated", "removed")},
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LAST_REPORT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_last_report(data_dir: Path) -> dict | None:
    """The last ingest's report as saved by ``save_last_report`` (None if none or damaged)."""
    try:
        return json.loads((data_dir / LAST_REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
