"""Hybrid retrieval: four rankings of the chunks fused by llama-index's fusion retriever.

- dense: the question's vector against chunk vectors (Chroma);
- sentences: against sentence vectors, each chunk scored by its best sentence (small-to-big);
- bm25: French-stemmed words;
- ngrams: character 3-5-grams (typos, inflections, glued words).
"""

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

from index.collections import METADATA_KEY, Scope, allows, chroma_where
from index.embeddings import cosine
from index.keyword import KeywordIndex, KeywordRetriever
from index.types import Passage
from ingest.sentences import UNITS
from settings import Settings

MODES = {
    "rrf": FUSION_MODES.RECIPROCAL_RANK,
    "relative": FUSION_MODES.RELATIVE_SCORE,
    "dist": FUSION_MODES.DIST_BASED_SCORE,
}


class SentenceRetriever(BaseRetriever):
    """Ranks sentence units, returns their chunks, each scored by its best unit.

    A chunk stored without units (``units: 0``, see ``ingest/sentences.py``: too short to
    need them) is its own unit: ``chunks`` (the chunk vectors) scores it.
    llama-index's ``RecursiveRetriever`` follows ``IndexNode`` links to parents but
    needs every parent in memory as a dict and keeps the first hit; here the chunks are
    already in the keyword index, and max-pooling per chunk is the measured rule.
    """

    def __init__(
        self,
        sentences: BaseRetriever,
        keyword: KeywordIndex,
        top_k: int,
        chunks: BaseRetriever | None = None,
        scope: Scope = None,
    ) -> None:
        super().__init__()
        self.sentences = sentences
        self.keyword = keyword
        self.top_k = top_k
        self.scope = scope  # Chroma filters the units; checked again on their chunks
        self.chunks = chunks if any(m.get(UNITS) == 0 for m in keyword.metadatas) else None

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        best: dict[int, float] = {}
        hits = [(hit.node.metadata.get("chunk_id", ""), hit.score) for hit in
                self.sentences.retrieve(query_bundle)]  # fmt: skip
        if self.chunks is not None:
            hits += [(hit.node.node_id, hit.score) for hit in self.chunks.retrieve(query_bundle)
                     if hit.node.metadata.get(UNITS) == 0]  # fmt: skip
        for chunk_id, score in hits:
            position = self.keyword.positions.get(chunk_id)
            if position is not None and allows(
                self.scope, self.keyword.metadatas[position].get(METADATA_KEY)
            ):
                best[position] = max(best.get(position, float("-inf")), score or 0.0)
        ranked = sorted(best.items(), key=lambda item: -item[1])[: self.top_k]
        return [self.keyword.node(position, score) for position, score in ranked]


def build_retriever(
    settings: Settings,
    store: ChromaVectorStore,
    embed_model: BaseEmbedding,
    keyword: KeywordIndex,
    k: int,
    fusion: str | None = None,
    sentence_store: ChromaVectorStore | None = None,
    scope: Scope = None,
) -> BaseRetriever:
    """The retriever named by ``fusion`` (settings.fusion by default).

    Without ``sentence_store`` (sentence vectors off) the sentence ranking is left out.
    ``k`` passages are returned; each fused ranking contributes ``settings.candidates``.
    Every ranking sees only the chunks of ``scope``'s collections (Chroma ``where``,
    masked keyword scores); ``None`` is every collection.
    """
    where = chroma_where(scope)
    filtered = {"vector_store_kwargs": {"where": where}} if where else {}
    fusion = fusion or settings.fusion
    single = fusion in ("dense", "sentences", "bm25", "ngrams")
    top = k if single else settings.candidates
    rankings: list[tuple[BaseRetriever, float]] = []
    dense = VectorStoreIndex.from_vector_store(store, embed_model=embed_model)
    if fusion in ("dense", *MODES):
        # without sentence vectors, their share goes to the chunk vectors (same model):
        # measured on PIAF, hit@5 0.945 against 0.938 when the shares are just rescaled
        weight = settings.weight_dense + (0 if sentence_store else settings.weight_sentences)
        rankings.append((dense.as_retriever(similarity_top_k=top, **filtered), weight))
    if fusion in ("sentences", *MODES) and sentence_store is not None:
        index = VectorStoreIndex.from_vector_store(sentence_store, embed_model=embed_model)
        # about five sentences per chunk: enough sentences to reach ``top`` chunks
        sentences = index.as_retriever(similarity_top_k=top * 5, **filtered)
        chunks = dense.as_retriever(similarity_top_k=top, **filtered)
        ranking = SentenceRetriever(sentences, keyword, top, chunks, scope)
        rankings.append((ranking, settings.weight_sentences))
    if fusion in ("bm25", *MODES):
        rankings.append((KeywordRetriever(keyword, top, scope=scope), settings.weight_bm25))
    if fusion in ("ngrams", *MODES):
        ngrams = KeywordRetriever(keyword, top, "ngrams", scope)
        rankings.append((ngrams, settings.weight_ngrams))
    if not rankings:
        raise ValueError(f"ranking {fusion!r} needs sentence vectors (sentence_vectors=true)")
    if single:
        return rankings[0][0]
    return QueryFusionRetriever(
        [retriever for retriever, _ in rankings],
        llm=MockLLM(),  # no query rewriting: one query, no LLM needed
        mode=MODES[fusion],
        retriever_weights=[weight for _, weight in rankings],
        num_queries=1,
        use_async=False,
        similarity_top_k=k,
    )


def to_passages(
    results: list[NodeWithScore],
    query_embedding: list[float],
    collection: chromadb.Collection,
    sentences: chromadb.Collection | None = None,
) -> list[Passage]:
    """Passages with source, offsets, a cosine ``similarity`` to the question and, with
    the sentence collection, the cosine of each of their sentence units."""
    if not results:
        return []
    q = np.asarray(query_embedding, dtype=np.float32)
    ids = [r.node.node_id for r in results]
    vectors = _vectors(collection, ids)
    unit_ids = [f"{i}~s{n}" for r, i in zip(results, ids, strict=True)
                for n in range(int(r.node.metadata.get(UNITS) or 0))]  # fmt: skip
    units = _units(sentences, unit_ids, q) if sentences is not None and unit_ids else {}
    passages = []
    for r in results:
        meta = r.node.metadata
        vec = vectors.get(r.node.node_id)
        sim = cosine(vec, q) if vec is not None else 0.0
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
                units=units.get(r.node.node_id, []),
            )
        )
    return passages


def _vectors(collection: chromadb.Collection, ids: list[str]) -> dict[str, np.ndarray]:
    got = collection.get(ids=ids, include=["embeddings"])
    pairs = zip(got["ids"], got["embeddings"], strict=True)
    return {i: np.asarray(e, dtype=np.float32) for i, e in pairs}


def _units(
    sentences: chromadb.Collection, ids: list[str], q: np.ndarray
) -> dict[str, list[list[float]]]:
    """chunk id -> [start, end, cosine] of its stored units, in document order."""
    got = sentences.get(ids=ids, include=["embeddings", "metadatas"])
    out: dict[str, list[list[float]]] = {}
    for e, meta in zip(got["embeddings"], got["metadatas"], strict=True):
        vec = np.asarray(e, dtype=np.float32)
        cos = cosine(vec, q)
        out.setdefault(str(meta.get("chunk_id", "")), []).append(
            [int(meta.get("start", 0)), int(meta.get("end", 0)), round(cos, 4)]
        )
    return {k: sorted(v) for k, v in out.items()}


def query_bundle(question: str, embed_model: BaseEmbedding) -> QueryBundle:
    """The question with its embedding computed once for every retriever."""
    return QueryBundle(query_str=question, embedding=embed_model.get_query_embedding(question))
