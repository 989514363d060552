"""Lexical indexes of the chunks: BM25 with French stemming and stop words (bm25s +
PyStemmer), and character n-grams (scikit-learn TF-IDF).

Both are derived from the vector store's chunks and stamped with a fingerprint of their
ids, so they can never disagree with Chroma: a stale or missing copy is rebuilt on load.

Character n-grams are the typo- and inflection-tolerant ranking: "premiermottet",
"britaniques" or "Lavoisiers" share most 3-5-grams with the right words where BM25's
whole stemmed words share none. No llama-index retriever does this, hence the class.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import bm25s
import numpy as np
from llama_index.core import QueryBundle
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from sklearn.feature_extraction.text import TfidfVectorizer

from ingest.text import stemmer, strip_accents


def _fold(words: list[str]) -> list[str]:
    """French stems without accents, so "coopération" and "cooperation" match."""
    return [strip_accents(stem) for stem in stemmer("french").stemWords(words)]


def _ngram_text(text: str) -> str:
    return strip_accents(text.casefold())


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop words removed, stemmed and accent-folded tokens."""
    return bm25s.tokenize(
        texts,
        token_pattern=r"(?u)\b\w\w+\b|\b\d\b",
        stopwords="fr",
        stemmer=_fold,
        return_ids=False,
        show_progress=False,
    )


def fingerprint(ids: list[str]) -> str:
    """Identity of a set of chunk ids."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


class KeywordIndex:
    """BM25 and character n-grams over chunk texts (title and heading included)."""

    def __init__(self, ids: list[str], texts: list[str], metadatas: list[dict]) -> None:
        self.ids = ids
        self.texts = texts
        self.metadatas = metadatas
        self.fingerprint = fingerprint(ids)
        self.positions = {chunk_id: i for i, chunk_id in enumerate(ids)}
        # k1/b and the title + heading in each chunk's text were measured on PIAF
        # (bench/retrieval.py): the dense side embeds them too.
        self._bm25 = bm25s.BM25(k1=0.9, b=0.4)
        # words, and their 3-5 character pieces (inside word boundaries), TF-IDF weighted
        self._ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        if ids:
            searchable = [
                f"{m.get('title', '')}\n{m.get('heading', '')}\n{t}"
                for m, t in zip(metadatas, texts, strict=True)
            ]
            self._bm25.index(tokenize(searchable), show_progress=False)
            self._ngram_matrix = self._ngrams.fit_transform(_ngram_text(t) for t in searchable)

    def search_ngrams(self, query: str, k: int) -> list[tuple[int, float]]:
        """Positions and n-gram cosine scores of the best ``k`` chunks (score > 0 only)."""
        if not self.ids or not query.strip():
            return []
        scores = (self._ngram_matrix @ self._ngrams.transform([_ngram_text(query)]).T).toarray()
        scores = scores.ravel()
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Positions and BM25 scores of the best ``k`` chunks (score > 0 only)."""
        if not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        docs, scores = self._bm25.retrieve(
            tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self, folder: Path) -> None:
        """Write texts and fingerprint atomically (the BM25 matrix is cheap to rebuild)."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "keyword.json.tmp"
        payload = {"fingerprint": self.fingerprint, "ids": self.ids, "texts": self.texts,
                   "metadatas": self.metadatas}  # fmt: skip
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / "keyword.json")

    @classmethod
    def load(cls, folder: Path, expected: str) -> KeywordIndex | None:
        """The saved index if its fingerprint is ``expected``, else None."""
        path = folder / "keyword.json"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if payload.get("fingerprint") != expected:
            return None
        return cls(payload["ids"], payload["texts"], payload["metadatas"])

    def node(self, position: int, score: float) -> NodeWithScore:
        """The chunk at ``position`` as a scored node."""
        # Rebuilt exactly as the Chroma adapter rebuilds it, so that fusion recognises a
        # chunk found by several rankings as one.
        meta = self.metadatas[position]
        node = metadata_dict_to_node(meta, text=self.texts[position])
        return NodeWithScore(node=node, score=score)


class KeywordRetriever(BaseRetriever):
    """llama-index retriever over a ``KeywordIndex`` (so fusion can combine it).

    ``scorer`` is "bm25" or "ngrams".
    """

    def __init__(self, index: KeywordIndex, top_k: int, scorer: str = "bm25") -> None:
        super().__init__()
        self.index = index
        self.top_k = top_k
        self._search = index.search_ngrams if scorer == "ngrams" else index.search

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._search(query_bundle.query_str, self.top_k)
        return [self.index.node(position, score) for position, score in hits]
