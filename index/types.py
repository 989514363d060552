"""Values that leave the index: ranked passages and ingest reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
