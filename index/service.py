"""IndexService: the one entry point other stages use to ingest, inspect and search."""

from __future__ import annotations

from pathlib import Path

from index.types import IngestReport, Passage
from settings import Settings


class IndexService:
    """Owns the embedding model, the Chroma collection and the keyword index of one corpus.

    Thread-safe for ``search`` while ``ingest`` runs in another thread: searches see the
    previous index until the ingest completes.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def ingest(
        self, path: Path | None = None, *, dry_run: bool = False, progress: bool = False
    ) -> IngestReport:
        """Mirror ``path`` (default: the corpus folder) into the index."""
        raise NotImplementedError

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """Top-k passages for ``question`` (dense and BM25 rankings fused)."""
        raise NotImplementedError

    def status(self) -> dict:
        """``{"documents", "chunks", "embedding_model", "collection", "store"}``."""
        raise NotImplementedError

    def documents(self) -> list[dict]:
        """Indexed documents: ``[{"source", "title", "chunks", "hash"}]``."""
        raise NotImplementedError

    def document_text(self, source: str) -> str | None:
        """The whole cleaned text of an indexed document (offsets of passages point into it)."""
        raise NotImplementedError
