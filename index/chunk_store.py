"""llama-index's vector store over the Chroma collections of ``index/store.py``."""

from __future__ import annotations

import chromadb
from llama_index.core.schema import BaseNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr

from ingest.sentences import is_sentence


def vector_store(collection: chromadb.Collection) -> ChromaVectorStore:
    """llama-index's adapter over the collection."""
    return ChromaVectorStore(chroma_collection=collection)


class ChunkStore(ChromaVectorStore):
    """The chunk collection, with sentence nodes routed to their own collection.

    The ingestion pipeline sees one vector store: ``add`` sends sentence nodes to the
    sentence collection and chunks to the chunk collection, and ``delete`` (called by the
    pipeline's upserts and by removals) clears a document from both, so the two
    collections cannot drift apart. Queries go to the chunk collection.
    """

    _sentences: ChromaVectorStore | None = PrivateAttr(default=None)

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
            ids += self._sentences.add(sentences)
        return ids + super().add(chunks)

    def delete(self, ref_doc_id: str, **delete_kwargs) -> None:
        if self._sentences is not None:
            self._sentences.delete(ref_doc_id)
        super().delete(ref_doc_id)
