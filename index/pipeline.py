"""Re-indexing that mirrors the corpus folder: plan, then upsert and delete, crash-safe.

llama-index's ``IngestionPipeline`` (docstore + Chroma, ``UPSERTS`` strategy) does the
chunk → embed → store work and the hash bookkeeping. Around it this module adds what it
does not do: a plan computed from file hashes before anything is parsed (so unchanged
files cost one read and a hash), per-batch atomic persistence of the docstore, and
clearing the leftovers of an interrupted run so a ``kill -9`` never leaves duplicates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.schema import BaseNode, TransformComponent
from llama_index.core.storage.docstore import SimpleDocumentStore
from tqdm import tqdm

from index.chunk_store import ChunkStore
from index.chunk_vectors import ChunkVectorsFromUnits
from index.collections import DEFAULT_COLLECTION, METADATA_KEY, CollectionError, collection_of
from index.links import is_url
from index.types import IngestFailure, IngestReport
from ingest.chunk import FrenchChunker
from ingest.corpus import (
    CorpusDocument,
    CorpusFile,
    content_hash,
    load_document,
    read_metadata,
    scan,
)
from ingest.errors import DocumentError
from ingest.sentences import SentenceNodes
from settings import Settings

ProgressFn = Callable[[float, str], None]
BATCH_CHARS = 60_000  # about 64 chunks: one embedding batch, one docstore save


DocumentLoader = Callable[[], CorpusDocument]


@dataclass
class Plan:
    """What a run will do: ``todo`` holds the files to (re)index, ``pages`` the web
    documents (their identity and how to build them; ``sources/plan.py``)."""

    report: IngestReport
    todo: list[tuple[CorpusFile, str, dict[str, str]]] = field(default_factory=list)
    pages: list[tuple[str, DocumentLoader]] = field(default_factory=list)

    def loaders(self, max_bytes: int) -> list[tuple[str, DocumentLoader]]:
        """Every document to (re)index, files first, with the call that builds it."""
        files = [
            (file.source, partial(load_document, file, meta, doc_hash, max_bytes))
            for file, doc_hash, meta in self.todo
        ]
        return files + self.pages


# Bumped when chunking or sentence splitting changes what is stored for the same file.
CHUNKER_VERSION = 5  # 4: sentence units (ingest/sentences.py); 5: units for every chunk


def pipeline_key(settings: Settings) -> str:
    """Code and settings that shape what is stored: a change re-indexes every document."""
    sentences = "/sentences" if settings.sentence_vectors else ""
    if _chunks_from_units(settings):
        sentences += "/unit-mean"
    return f"v{CHUNKER_VERSION}/{settings.chunk_size}/{settings.chunk_overlap}{sentences}"


def _chunks_from_units(settings: Settings) -> bool:
    """Chunk vectors are their sentence units' mean (``index/chunk_vectors.py``)."""
    return settings.sentence_vectors and settings.chunk_vectors == "units"


def load_docstore(path: Path) -> SimpleDocumentStore:
    """The docstore of indexed documents (hashes and cleaned texts), empty when new."""
    if path.exists():
        return SimpleDocumentStore.from_persist_path(str(path))
    return SimpleDocumentStore()


def save_docstore(docstore: SimpleDocumentStore, path: Path) -> None:
    """Atomic save: a crash leaves the previous complete file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(docstore.to_dict(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def indexed_metadata(docstore: SimpleDocumentStore) -> dict[str, dict]:
    """Each indexed document's metadata.toml entry, as it was when indexed."""
    out = {}
    for source in docstore.get_all_document_hashes().values():
        doc = docstore.get_document(source, raise_error=False)
        if doc is not None and doc.metadata.get("corpus_meta"):
            out[source] = json.loads(doc.metadata["corpus_meta"])
    return out


def make_plan(settings: Settings, folder: Path, docstore: SimpleDocumentStore) -> Plan:
    """Compare the folder with the docstore: +new, ~changed, =unchanged, −removed.

    Only files are planned here: web documents (keyed by URL) are their own group, so a
    folder never removes a web page, nor a web source a file."""
    report = IngestReport()
    plan = Plan(report)
    try:
        metadata = read_metadata(folder)
    except DocumentError as exc:
        # Indexed documents keep the titles they were indexed with: a typo in the file
        # must not re-embed the whole corpus under file-name titles.
        reason = f"{exc}; titles and URLs stay as last indexed until it is fixed"
        report.failed.append(IngestFailure(f"{folder.name}/metadata.toml", reason))
        metadata = indexed_metadata(docstore)
    max_bytes = int(settings.max_file_mb * 1_000_000)
    present: set[str] = set()
    for file in scan(folder):
        present.add(file.source)
        meta = {str(k): str(v) for k, v in metadata.get(file.source, {}).items()}
        if file.size > max_bytes:
            report.failed.append(
                IngestFailure(
                    file.source,
                    f"file is {file.size / 1e6:.1f} MB, over the {settings.max_file_mb:g} MB "
                    "limit (PASSERELLE_MAX_FILE_MB)",
                )
            )
            continue
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            report.failed.append(IngestFailure(file.source, f"cannot read file ({exc})"))
            continue
        try:
            collection = collection_of(file.source, meta)
        except CollectionError as exc:
            report.failed.append(IngestFailure(file.source, f"metadata.toml: {exc}"))
            continue
        # the collection is hashed: moving a file to another one re-indexes that file only
        identity = {**meta, "source": file.source, METADATA_KEY: collection}
        doc_hash = content_hash(data, identity, pipeline_key(settings))
        old = docstore.get_document_hash(file.source)
        if old == doc_hash:
            report.unchanged.append(file.source)
            continue
        (report.updated if old else report.added).append(file.source)
        plan.todo.append((file, doc_hash, meta))
    indexed = {s for s in docstore.get_all_document_hashes().values() if not is_url(s)}
    report.removed = sorted(indexed - present)
    return plan


def run_plan(
    settings: Settings,
    plan: Plan,
    pipeline: IngestionPipeline,
    docstore_path: Path,
    progress: bool | ProgressFn = False,
) -> IngestReport:
    """Apply ``plan``: deletions first, then batches of upserts, saving after each batch."""
    report = plan.report
    docstore = pipeline.docstore
    store = pipeline.vector_store
    assert docstore is not None and store is not None
    for source in report.removed:
        store.delete(source)
        docstore.delete_document(source, raise_error=False)
        docstore.delete_ref_doc(source, raise_error=False)
    if report.removed:
        save_docstore(docstore, docstore_path)

    todo = plan.loaders(settings.max_file_bytes)
    total = len(todo)
    bar = tqdm(total=total, desc="indexing", unit="doc", disable=progress is not True or not total)
    batch: list = []
    batch_chars = 0
    for done, (source, load) in enumerate(todo, start=1):
        try:
            doc = load()
        except DocumentError as exc:
            _fail(report, source, str(exc))
        except Exception as exc:  # a parser crash must not stop the other documents
            _fail(report, source, f"cannot read file ({type(exc).__name__}: {exc})")
        else:
            batch.append(doc)
            batch_chars += len(doc.text)
        if batch and (batch_chars >= BATCH_CHARS or done == total):
            _index_batch(pipeline, batch, docstore_path)
            batch, batch_chars = [], 0
        bar.update(1)
        if callable(progress):
            progress(done / max(total, 1), source)
    bar.close()
    return report


def _index_batch(pipeline: IngestionPipeline, batch: list, docstore_path: Path) -> None:
    """Embed and store one batch. The new chunks are written before the old ones are
    deleted (``ChunkStore.replace``), so a changed document stays searchable meanwhile;
    then every vector of these documents that the new versions do not have goes, chunks
    left by an interrupted run included."""
    store = pipeline.vector_store
    assert isinstance(store, ChunkStore) and pipeline.docstore is not None
    store.replace([doc.id_ for doc in batch], lambda: pipeline.run(documents=batch))
    save_docstore(pipeline.docstore, docstore_path)


def _fail(report: IngestReport, source: str, reason: str) -> None:
    """Record a failure; a failed file keeps its previously indexed version, if any."""
    report.failed.append(IngestFailure(source, reason))
    for bucket in (report.added, report.updated):
        if source in bucket:
            bucket.remove(source)


class CollectionTags(TransformComponent):
    """Copies each document's collection onto its chunks and sentences, so that Chroma
    (``where``) and the keyword rankings can filter by it; never embedded."""

    def __call__(self, nodes: list[BaseNode], **kwargs) -> list[BaseNode]:
        for node in nodes:
            source = node.source_node
            meta = source.metadata if source is not None else {}
            node.metadata[METADATA_KEY] = meta.get(METADATA_KEY) or DEFAULT_COLLECTION
            for keys in (node.excluded_embed_metadata_keys, node.excluded_llm_metadata_keys):
                if METADATA_KEY not in keys:
                    keys.append(METADATA_KEY)
        return nodes


def build_pipeline(settings: Settings, embed_model, store, docstore) -> IngestionPipeline:
    """chunk (→ sentences) → collection tags → embed → Chroma, with docstore upserts keyed
    by document path.

    ``store`` is a ``ChunkStore``: it routes sentence nodes to their own collection.
    """
    chunker = FrenchChunker(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    steps = [chunker, SentenceNodes()] if settings.sentence_vectors else [chunker]
    embed = embed_model
    if _chunks_from_units(settings):
        embed = ChunkVectorsFromUnits(embed_model=embed_model)
    return IngestionPipeline(
        transformations=[*steps, CollectionTags(), embed],
        docstore=docstore,
        vector_store=store,
        docstore_strategy=DocstoreStrategy.UPSERTS,
        disable_cache=True,
    )
