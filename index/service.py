"""IndexService: the one entry point other stages use to ingest, inspect and search."""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from index.collections import METADATA_KEY, Scope, ScopedIndex, allows
from index.links import is_url
from index.store import (
    SENTENCES_SUFFIX,
    StoreChanging,
    StoreUnavailable,
    drop_collection,
    forget_embedded_store,
    open_collection,
    rewritten_meanwhile,
)
from index.types import IngestFailure, IngestReport, Passage, load_last_report, save_last_report
from ingest.errors import DocumentError
from settings import Settings

if TYPE_CHECKING:  # llama-index, bm25s and scikit-learn are imported when first needed:
    # ``passerelle status`` and health checks only read Chroma and the docstore file
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.storage.docstore import SimpleDocumentStore

    from index.chunk_store import ChunkStore
    from index.keyword import KeywordIndex
    from index.pipeline import ProgressFn
    from sources.config import WebSource

MAX_QUERY_CHARS = 4000  # retrieval reads at most this much of a question
# Reads of an embedded store that another process is rewriting: tries, and the first
# pause (tripled each time: 0.05 + 0.15 + 0.45 + 1.35 s, about 2 s in all at worst).
STORE_ATTEMPTS = 5
STORE_RETRY_DELAY = 0.05

log = logging.getLogger(__name__)
T = TypeVar("T")


class IngestBusy(RuntimeError):
    """Another ingest of the same index is running."""


class IndexService:
    """Owns the embedding model, the Chroma collection and the keyword index of one corpus.

    ``search`` may run while ``ingest`` runs in another thread: the keyword index is
    swapped when the ingest completes, and ingests of one index never overlap (a file
    lock also guards against a second process).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embed: BaseEmbedding | None = None
        self._collection = None
        self._sentences = None
        self._keyword: KeywordIndex | None = None
        self._keyword_stamp: FileStamp = None
        self._docstore: SimpleDocumentStore | None = None
        self._docstore_stamp: FileStamp = None
        self._count: int = 0
        self._count_stamp: FileStamp | str = "unread"
        # retrievers by (k, fusion), valid for the keyword index and collections they hold
        self._retrievers: dict[tuple[int, str], BaseRetriever] = {}
        self._retriever_basis: tuple = ()
        self._lock = threading.RLock()
        # the embedded store: docstore stamp when its collections were opened (another
        # process's ingest changes it), and how many times they were reopened
        self._store_stamp: FileStamp | str = "unopened"
        self._store_generation = 0
        self._local = threading.local()  # .retrying: inside a _call_store that retries

    # ------------------------------------------------------------------ resources
    @property
    def docstore_path(self) -> Path:
        return self.settings.index_dir / "docstore.json"

    @property
    def embed_model(self) -> BaseEmbedding:
        with self._lock:
            if self._embed is None:
                from index.embeddings import make_embedding

                self._embed = make_embedding(self.settings)
            return self._embed

    @property
    def collection(self):
        """The Chroma collection (reconnects after the store was unreachable).

        Opened under the lock: two threads creating Chroma clients at once crash it.
        """
        with self._lock:
            if self._collection is None:
                # stamp read before opening: a write landing in between is seen later
                stamp = file_stamp(self.docstore_path)
                self._collection = open_collection(self.settings)
                self._store_stamp = stamp
            return self._collection

    @property
    def sentence_collection(self):
        """The companion collection of sentence vectors (None when they are off)."""
        if not self.settings.sentence_vectors:
            return None
        with self._lock:
            if self._sentences is None:
                self._sentences = open_collection(self.settings, SENTENCES_SUFFIX)
            return self._sentences

    def _store(self) -> ChunkStore:
        """The vector store the ingestion pipeline writes to (chunks and sentences).

        With sentence vectors off, their collection is dropped: left behind, it would
        miss every later removal and hold orphans when they are switched on again.
        """
        from index.chunk_store import ChunkStore

        if not self.settings.sentence_vectors:
            drop_collection(self.settings, SENTENCES_SUFFIX)
        return ChunkStore(self.collection, self.sentence_collection)

    def _call_store(self, fn: Callable[[], T], *, retry: bool = True) -> T:
        """Run ``fn`` against the store; ``fn`` must fetch the collections it reads.

        A Chroma server that does not answer gives StoreUnavailable. With ``retry`` (reads
        only), an embedded store that another process rewrote meanwhile is reopened and
        ``fn`` run again, a few times with growing pauses, then StoreChanging.
        """
        nested = getattr(self._local, "retrying", False)  # the outer call retries
        attempts = STORE_ATTEMPTS if retry and not nested and not self.settings.chroma_url else 1
        for attempt in range(attempts):
            generation = self._store_generation
            self._local.retrying = nested or attempts > 1
            try:
                return fn()
            except StoreUnavailable:
                raise
            except Exception as exc:
                if self.settings.chroma_url and _looks_like_connection_error(exc):
                    self._collection = self._sentences = None
                    raise StoreUnavailable(
                        f"the Chroma server at {self.settings.chroma_url} is not answering: {exc}"
                    ) from exc
                if attempts == 1 or not rewritten_meanwhile(exc):
                    raise
                if attempt + 1 == attempts:
                    raise StoreChanging(
                        f"the index at {self.settings.store_location} changed under each of "
                        f"{attempts} reads (another process is re-indexing it?): {exc}"
                    ) from exc
                if self._reopen_store(generation):  # once per reopening, not per thread
                    log.warning("index rewritten by another process (%s): reopened", exc)
                time.sleep(STORE_RETRY_DELAY * 3**attempt)
            finally:
                self._local.retrying = nested
        raise AssertionError("unreachable")  # the loop returns or raises

    def _reopen_store(self, generation: int | None = None) -> bool:
        """Drop the collections and retrievers, and chromadb's cached system of the embedded
        store, so that the next read sees the files as they are now.

        ``generation``: the reopening count a failed read started under; when another
        thread has reopened the store since, its fresh collections are kept (False).
        """
        with self._lock:
            if generation is not None and generation != self._store_generation:
                return False
            forget_embedded_store(self.settings)
            self._collection = self._sentences = None
            self._retrievers, self._retriever_basis = {}, ()
            self._store_stamp = "unopened"
            self._store_generation += 1
            return True

    def _sync_store(self, ingesting: bool = False) -> None:
        """Reopen the embedded store when another process's ingest changed it since it
        was opened (not while one runs, unless ``ingesting``: this process writes next,
        and must not write through segments that miss the other one's work)."""
        if self.settings.chroma_url:
            return  # a server serves every process the same store
        with self._lock:
            if self._collection is None or file_stamp(self.docstore_path) == self._store_stamp:
                return
            if ingesting or not self._ingest_running():
                log.info("index changed by another process's ingest: reopened")
                self._reopen_store()

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, reloaded when another process changed the index.

        While an ingest of this index runs (here or in another process) the current one
        is kept: reloading after each of its batches would rebuild BM25 and n-grams over
        the whole corpus for every search. The ingest's end is noticed at the next search.
        """
        with self._lock:
            stamp = file_stamp(self.docstore_path)
            if self._keyword is None or (
                stamp != self._keyword_stamp and not self._ingest_running()
            ):
                self._sync_store()
                self._keyword = self._load_keyword()
                self._keyword_stamp = stamp
            return self._keyword

    def acronyms(self, collections: Scope = None) -> dict[str, str]:
        """The acronyms the indexed chunks (of ``collections``) write, by folded form:
        {"rescue": "RESCUE"}."""
        return self.keyword_index().acronyms(collections)

    def docstore(self) -> SimpleDocumentStore:
        """The docstore (read-only use), parsed again only when its file changed."""
        with self._lock:
            stamp = file_stamp(self.docstore_path)
            if self._docstore is None or stamp != self._docstore_stamp:
                from index.pipeline import load_docstore

                self._docstore = load_docstore(self.docstore_path)
                self._docstore_stamp = stamp
            return self._docstore

    def _ingest_running(self) -> bool:
        """True while any process holds this index's ingest lock."""
        path = self.settings.index_dir / "ingest.lock"
        if not path.exists():
            return False
        with open(path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def retriever(self, k: int, fusion: str | None = None, scope: Scope = None) -> BaseRetriever:
        """The fusion (or single) retriever for ``k``, ``fusion`` and ``scope``, built once.

        Rebuilt only when the keyword index or a collection object changed (an ingest
        completed, or the store reconnected).
        """
        keyword = self.keyword_index()
        with self._lock:
            sentences = self.sentence_collection
            basis = (keyword, self.collection, sentences)
            if len(basis) != len(self._retriever_basis) or any(
                a is not b for a, b in zip(basis, self._retriever_basis, strict=True)
            ):
                self._retrievers = {}
                self._retriever_basis = basis
            key = (k, fusion or self.settings.fusion, scope)
            if key not in self._retrievers:
                from index import retrieve
                from index.chunk_store import vector_store

                self._retrievers[key] = retrieve.build_retriever(
                    self.settings,
                    vector_store(self.collection),
                    self.embed_model,
                    keyword,
                    k,
                    key[1],
                    vector_store(sentences) if sentences is not None else None,
                    scope,
                )
            return self._retrievers[key]

    def _load_keyword(self) -> KeywordIndex:
        from index.keyword import KeywordIndex, fingerprint

        # the ids tell whether the saved index is current; texts are read only when not
        ids = self._call_store(lambda: list(self.collection.get(include=[])["ids"]))
        cached = KeywordIndex.load(self.settings.index_dir, fingerprint(ids))
        if cached is not None:
            return cached
        data = self._call_store(lambda: self.collection.get(include=["documents", "metadatas"]))
        index = KeywordIndex(list(data["ids"]), list(data["documents"]), list(data["metadatas"]))
        index.save(self.settings.index_dir)
        return index

    # ------------------------------------------------------------------ ingest
    @contextmanager
    def _ingest_lock(self):
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.index_dir / "ingest.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IngestBusy("another ingest of this index is running") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ingest(
        self,
        path: Path | None = None,
        *,
        web: list[WebSource] | None = None,
        read_sources: bool = True,
        dry_run: bool = False,
        progress: bool | ProgressFn = False,
    ) -> IngestReport:
        """Mirror ``path`` (default: the corpus folder) and the sources of its
        ``sources.toml`` into the index; with ``web``, those web sources only.

        ``read_sources=False`` leaves web documents alone (the watched folder)."""
        start = time.perf_counter()
        folder = Path(path or self.settings.corpus_dir)
        if web is None and not folder.is_dir():
            raise FileNotFoundError(f"corpus folder not found: {folder}")
        from index.pipeline import Plan, build_pipeline, load_docstore, make_plan, run_plan
        from index.priority import YieldingEmbedding, run_at_low_priority
        from sources.plan import plan_web
        from sources.state import STATE_FILE, WebState

        with self._ingest_lock():
            docstore = load_docstore(self.docstore_path)
            if web is None:
                plan = make_plan(self.settings, folder, docstore)
            else:
                plan = Plan(IngestReport())
            report = plan.report
            sources, prune = web or [], False
            if web is None and read_sources:
                sources, prune = self._listed_sources(folder, report)
            if prune and not sources:  # nothing listed: only pages to remove, if any
                prune = any(is_url(s) for s in docstore.get_all_document_hashes().values())
            state = WebState(self.settings.index_dir / STATE_FILE)
            if sources or prune:
                plan_web(self.settings, plan, docstore, state, sources, prune)
            if dry_run:
                report.dry_run = True
                report.chunks = self._call_store(lambda: self.collection.count())
            else:
                self._sync_store(ingesting=True)
                store = self._call_store(self._store, retry=False)
                generation = self._store_generation  # the collections this ingest writes to
                embed = YieldingEmbedding(self.embed_model)
                pipeline = build_pipeline(self.settings, embed, store, docstore)

                def apply() -> KeywordIndex | None:
                    run_plan(self.settings, plan, pipeline, self.docstore_path, progress)
                    changed = report.added or report.updated or report.removed
                    return self._load_keyword() if changed else None

                # answering comes first: low OS priority, pauses between embedding batches
                keyword = self._call_store(
                    lambda: run_at_low_priority(apply, self.settings.ingest_nice), retry=False
                )
                if sources or prune:
                    state.save()
                with self._lock:  # this process wrote it: its collections are current
                    if self._collection is not None and generation == self._store_generation:
                        self._store_stamp = file_stamp(self.docstore_path)
                    if keyword is not None:
                        self._keyword = keyword
                        self._keyword_stamp = file_stamp(self.docstore_path)
                if keyword is not None:
                    report.chunks = len(keyword.ids)
                else:  # nothing changed: the lexical indexes are loaded when first searched
                    report.chunks = self._call_store(lambda: self.collection.count())
        report.seconds = time.perf_counter() - start
        if not dry_run:
            target = [s.url for s in web] if web is not None else [str(folder)]
            save_last_report(self.settings.data_dir, report, target)
        return report

    def _listed_sources(self, folder: Path, report: IngestReport) -> tuple[list[WebSource], bool]:
        """The sources of ``sources.toml`` and whether unlisted ones may be removed (not
        when the file is broken: its pages are kept until it is fixed)."""
        from sources.config import read_sources, sources_path

        path = sources_path(folder, self.settings.sources_file)
        try:
            return read_sources(path), True
        except DocumentError as exc:
            reason = f"{exc}; web pages stay as last indexed until it is fixed"
            report.failed.append(IngestFailure(path.name, reason))
            return [], False

    def last_report(self) -> dict | None:
        """The last ingest's report (``save_last_report``), None before the first."""
        return load_last_report(self.settings.data_dir)

    # ------------------------------------------------------------------ queries
    def search(
        self,
        question: str,
        k: int | None = None,
        fusion: str | None = None,
        collections: Scope = None,
    ) -> list[Passage]:
        """Top-k passages for ``question`` (dense and BM25 rankings fused), from the
        collections of ``collections`` only (None: every collection)."""
        question = question.strip()[:MAX_QUERY_CHARS]
        if not question:
            return []
        k = k or self.settings.top_k
        if not self.keyword_index().ids:
            return []
        from index.retrieve import query_bundle, to_passages

        bundle = query_bundle(question, self.embed_model)

        def read() -> list[Passage]:  # again from the retriever when the store was reopened
            results = self.retriever(k, fusion, collections).retrieve(bundle)
            results = [r for r in results if allows(collections, r.node.metadata.get(METADATA_KEY))]
            return to_passages(
                results[:k], bundle.embedding or [], self.collection, self.sentence_collection
            )

        return self._call_store(read)

    def status(self) -> dict:
        """``{"documents", "chunks", "sentences", "embedding_model", "collection", "store"}``."""
        self._sync_store()
        return {
            "documents": self._document_count(),
            "chunks": self._call_store(lambda: self.collection.count()),
            "sentences": self._call_store(
                lambda: sentences.count() if (sentences := self.sentence_collection) else 0
            ),
            "embedding_model": f"{self.settings.embed_backend}:{self.settings.embed_model}",
            "collection": self.settings.collection_name,
            "store": self.settings.store_location,
            "corpus": str(self.settings.corpus_dir),
        }

    def _document_count(self) -> int:
        """Indexed documents, read from the docstore file without loading llama-index.

        The file is llama-index's ``SimpleDocumentStore`` layout: one
        ``docstore/metadata`` entry with a ``doc_hash`` per indexed document.
        """
        with self._lock:
            stamp = file_stamp(self.docstore_path)
            if self._count_stamp != stamp:
                try:
                    meta = json.loads(self.docstore_path.read_text(encoding="utf-8"))
                    entries = meta.get("docstore/metadata", {}).values()
                    self._count = sum(1 for e in entries if e.get("doc_hash"))
                except (OSError, ValueError):
                    self._count = 0
                self._count_stamp = stamp
            return self._count

    def documents(self, collections: Scope = None) -> list[dict]:
        """Indexed documents of ``collections`` (None: all):
        ``[{"source", "title", "chunks", "hash", "collection"}]``."""
        docstore = self.docstore()
        counts: dict[str, int] = {}
        for meta in self.keyword_index().metadatas:
            counts[meta.get("source", "")] = counts.get(meta.get("source", ""), 0) + 1
        out = []
        for doc_hash, source in sorted(
            docstore.get_all_document_hashes().items(), key=lambda x: x[1]
        ):
            doc = docstore.get_document(source, raise_error=False)
            title = doc.metadata.get("title", source) if doc else source
            collection = doc.metadata.get(METADATA_KEY) if doc else None
            if not allows(collections, collection):
                continue
            out.append(
                {
                    "source": source,
                    "title": title,
                    "chunks": counts.get(source, 0),
                    "hash": doc_hash,
                    "collection": collection,
                }
            )
        return out

    def document_text(self, source: str, collections: Scope = None) -> str | None:
        """The whole cleaned text of an indexed document (offsets of passages point into
        it); None when it is not indexed or not in ``collections``."""
        doc = self.docstore().get_document(source, raise_error=False)
        if doc is None or not allows(collections, doc.metadata.get(METADATA_KEY)):
            return None
        return doc.get_content()

    def collections(self) -> dict[str, int]:
        """Chunks per collection in the index."""
        counts: dict[str, int] = {}
        for meta in self.keyword_index().metadatas:
            name = str(meta.get(METADATA_KEY, ""))
            counts[name] = counts.get(name, 0) + 1
        return counts

    def scoped(self, collections: Scope) -> ScopedIndex:
        """This index as seen by a surface bound to ``collections``."""
        return ScopedIndex(self, collections)


FileStamp = tuple[int, int, int] | None


def file_stamp(path: Path) -> FileStamp:
    """(inode, mtime, size) of a file, None when missing: changes with every atomic save."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _looks_like_connection_error(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(w in text for w in ("connect", "timeout", "refused", "unreachable", "http"))
