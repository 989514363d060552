"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by llama-index's fusion retriever."""

from __future__ import annotations

import chromadb
import numpy as np
from llama_index.core import QueryBundle, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore
from llama_index.vector_stores.chroma import ChromaVectorStore

from index.keyword import KeywordIndex, KeywordRetriever
from index.types import Passage
from settings import Settings

MODES = {
    "rrf": FUSION_MODES.RECIPROCAL_RANK,
    "relative": FUSION_MODES.RELATIVE_SCORE,
    "dist": FUSION_MODES.DIST_BASED_SCORE,
}


def build_retriever(
    settings: Settings,
    store: ChromaVectorStore,
    embed_model: BaseEmbedding,
    keyword: KeywordIndex,
    k: int,
    fusion: str | None = None,
) -> BaseRetriever:
    """The retriever named by ``fusion`` (settings.fusion by default)."""
    fusion = fusion or settings.fusion
    dense = VectorStoreIndex.from_vector_store(store, embed_model=embed_model).as_retriever(
        similarity_top_k=k if fusion == "dense" else settings.candidates
    )
    if fusion == "dense":
        return dense
    sparse = KeywordRetriever(keyword, top_k=k if fusion == "bm25" else settings.candidates)
    if fusion == "bm25":
        return sparse
    return QueryFusionRetriever(
        [dense, sparse],
        llm=MockLLM(),  # no query rewriting: one query, no LLM needed
        mode=MODES[fusion],
        retriever_weights=[settings.dense_weight, 1 - settings.dense_weight],
        num_queries=1,
        use_async=False,
        similarity_top_k=k,
    )


def to_passages(
    results: list[NodeWithScore], query_embedding: list[float], collection: chromadb.Collection
) -> list[Passage]:
    """Passages with source, offsets and a cosine ``similarity`` to the question."""
    if not results:
        return []
    ids = [r.node.node_id for r in results]
    got = collection.get(ids=ids, include=["embeddings"])
    pairs = zip(got["ids"], got["embeddings"], strict=True)
    vectors = {i: np.asarray(e, dtype=np.float32) for i, e in pairs}
    q = np.asarray(query_embedding, dtype=np.float32)
    q /= np.linalg.norm(q) or 1.0
    passages = []
    for r in results:
        meta = r.node.metadata
        vec = vectors.get(r.node.node_id)
        sim = float(vec @ q / (np.linalg.norm(vec) or 1.0)) if vec is not None else 0.0
        passages.append(
            Passage(
                id=r.node.node_id,
                source=meta.get("source", ""),
                title=meta.get("title", ""),
                page=int(meta["page"]) if meta.get("page") else None,
                text=r.node.get_content(),
                start=int(meta.get("start", 0)),
                end=int(meta.get("end", 0)),
                score=round(float(r.score or 0.0), 6),
                heading=meta.get("heading") or None,
                similarity=round(sim, 4),
            )
        )
    return passages


def query_bundle(question: str, embed_model: BaseEmbedding) -> QueryBundle:
    """The question with its embedding computed once for every retriever."""
    return QueryBundle(query_str=question, embedding=embed_model.get_query_embedding(question))
