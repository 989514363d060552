"""llama-index's vector store over the Chroma collections of ``index/store.py``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import chromadb
from llama_index.core import Settings as LlamaSettings
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.utils import node_to_metadata_dict
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr

from ingest.sentences import is_sentence

REF_KEY = "document_id"  # Chroma metadata key of a node's document (llama-index's)
UPSERT_BATCH = 1000  # under Chroma's largest batch

# Every llama-index VectorStoreIndex (index/retrieve.py builds one per retriever) takes
# llama-index's default transformations, a SentenceSplitter that loads tiktoken's
# vocabulary: 0.15-0.3 s of each `passerelle search`. It would only split documents
# inserted through such an index, and none is: Passerelle chunks with ingest/chunk.py
# and its pipeline passes its own transformations (index/pipeline.py).
LlamaSettings.transformations = []


def vector_store(collection: chromadb.Collection) -> ChromaVectorStore:
    """llama-index's adapter over the collection."""
    return ChromaVectorStore(chroma_collection=collection)


class ChunkStore(ChromaVectorStore):
    """The chunk collection, with sentence nodes routed to their own collection.

    The ingestion pipeline sees one vector store: ``add`` sends sentence nodes to the
    sentence collection and chunks to the chunk collection, and ``delete`` (called by the
    pipeline's upserts and by removals) clears a document from both, so the two
    collections cannot drift apart. Queries go to the chunk collection.

    ``replace`` writes new versions of documents before their old vectors go: a changed
    document stays searchable while it is re-embedded.
    """

    _sentences: ChromaVectorStore | None = PrivateAttr(default=None)
    _deferring: bool = PrivateAttr(default=False)

    def __init__(
        self, chunks: chromadb.Collection, sentences: chromadb.Collection | None = None
    ) -> None:
        super().__init__(chroma_collection=chunks)
        self._sentences = vector_store(sentences) if sentences is not None else None

    def add(self, nodes: list[BaseNode], **add_kwargs) -> list[str]:
        chunks = [n for n in nodes if not is_sentence(n)]
        sentences = [n for n in nodes if is_sentence(n)]
        ids = []
        if sentences and self._sentences is not None:
            ids += _upsert(self._sentences, sentences)
        return ids + _upsert(self, chunks)

    def delete(self, ref_doc_id: str, **delete_kwargs) -> None:
        if self._deferring:  # inside ``replace``: its stale vectors are deleted after
            return
        if self._sentences is not None:
            self._sentences.delete(ref_doc_id)
        super().delete(ref_doc_id)

    def replace(
        self, ref_doc_ids: list[str], write: Callable[[], Sequence[BaseNode]]
    ) -> Sequence[BaseNode]:
        """Run ``write`` (the pipeline storing new versions of ``ref_doc_ids``) with
        deletions held back, then delete the vectors of those documents that the new
        versions do not have (their old chunks and sentences, and any left by an
        interrupted run). A document ``write`` stored nothing for keeps its vectors."""
        stores = [s for s in (self, self._sentences) if s is not None]
        before = [_ids_of(s, ref_doc_ids) for s in stores]
        self._deferring = True
        try:
            nodes = write()
        finally:
            self._deferring = False
        written = {n.ref_doc_id for n in nodes}
        kept = {n.node_id for n in nodes}
        for store, old in zip(stores, before, strict=True):
            stale = [i for ref, ids in old.items() if ref in written for i in ids if i not in kept]
            if stale:
                store._collection.delete(ids=stale)
        return nodes


def _ids_of(store: ChromaVectorStore, ref_doc_ids: list[str]) -> dict[str, list[str]]:
    """Vector ids of each document in ``store``."""
    if not ref_doc_ids:
        return {}
    data = store._collection.get(where={REF_KEY: {"$in": ref_doc_ids}}, include=["metadatas"])
    out: dict[str, list[str]] = {ref: [] for ref in ref_doc_ids}
    for node_id, meta in zip(data["ids"], data["metadatas"] or [], strict=False):
        out.setdefault(str((meta or {}).get(REF_KEY)), []).append(node_id)
    return out


def _upsert(store: ChromaVectorStore, nodes: list[BaseNode]) -> list[str]:
    """Store ``nodes`` as ``ChromaVectorStore.add`` does, but with Chroma's upsert: an id
    that the new version of a document shares with the old one (same text, maybe new
    offsets) is overwritten, never skipped."""
    ids = []
    for start in range(0, len(nodes), UPSERT_BATCH):
        batch = nodes[start : start + UPSERT_BATCH]
        metadatas = []
        for node in batch:
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=store.flat_metadata)
            metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
        store._collection.upsert(
            ids=[n.node_id for n in batch],
            embeddings=[n.get_embedding() for n in batch],
            metadatas=metadatas,
            documents=[n.get_content(metadata_mode=MetadataMode.NONE) for n in batch],
        )
        ids += [n.node_id for n in batch]
    return ids
