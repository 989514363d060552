"""Lexical indexes of the chunks: BM25 with French stemming and stop words (bm25s +
PyStemmer), and TF-IDF of character n-grams (scipy).

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
import re
from collections import Counter
from pathlib import Path

import numpy as np
from llama_index.core import QueryBundle
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from index.collections import METADATA_KEY, Scope
from ingest.text import acronyms_in, stemmer, strip_accents

# bm25s and scipy are imported when an index is built: commands that only inspect the
# index (``passerelle status``, health checks) never pay for them.
_BLANKS = re.compile(r"\s\s+")


def _fold(words: list[str]) -> list[str]:
    """French stems without accents, so "coopération" and "cooperation" match."""
    return [strip_accents(stem) for stem in stemmer("french").stemWords(words)]


def _ngram_text(text: str) -> str:
    return strip_accents(text.casefold())


def char_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """``low``-``high`` character n-grams of each word padded with one space on each side
    (scikit-learn's ``char_wb`` analyzer, lower-cased); a short word counts once."""
    grams: list[str] = []
    for word in _BLANKS.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(low, high + 1):
            grams.extend(word[i : i + n] for i in range(max(len(word) - n, 0) + 1))
            if len(word) <= n:
                break
    return grams


class CharNgramTfidf:
    """TF-IDF of ``char_ngrams``: sublinear tf (1 + log), smoothed idf, rows of norm 1.

    The same numbers as scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
    ngram_range=(3, 5), sublinear_tf=True)`` (tests/test_rankings.py compares them), with
    scipy only: importing scikit-learn costs a command-line search about a second.
    """

    def __init__(self, texts: list[str]) -> None:
        from scipy.sparse import csr_matrix

        self.vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        for row, text in enumerate(texts):
            for gram, count in Counter(char_ngrams(text)).items():
                rows.append(row)
                columns.append(self.vocabulary.setdefault(gram, len(self.vocabulary)))
                counts.append(count)
        shape = (len(texts), len(self.vocabulary))
        matrix = csr_matrix((np.asarray(counts, dtype=np.float64), (rows, columns)), shape=shape)
        document_frequency = np.bincount(matrix.indices, minlength=shape[1])
        self.idf = np.log((1 + shape[0]) / (1 + document_frequency)) + 1
        self.matrix = self._weigh(matrix)

    def _weigh(self, matrix):
        """Sublinear tf times idf, each row scaled to norm 1."""
        from scipy.sparse import diags

        matrix.data = np.log(matrix.data) + 1
        matrix = (matrix @ diags(self.idf)).tocsr()
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return (diags(1 / norms) @ matrix).tocsr()

    def scores(self, query: str) -> np.ndarray:
        """Cosine of ``query``'s vector with every row."""
        from scipy.sparse import csr_matrix

        counts = Counter(g for g in char_ngrams(query) if g in self.vocabulary)
        if not counts:
            return np.zeros(self.matrix.shape[0])
        columns = [self.vocabulary[g] for g in counts]
        vector = csr_matrix(
            (np.asarray(list(counts.values()), dtype=np.float64), ([0] * len(columns), columns)),
            shape=(1, self.matrix.shape[1]),
        )
        return (self.matrix @ self._weigh(vector).T).toarray().ravel()


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop words removed, stemmed and accent-folded tokens."""
    import bm25s

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
        import bm25s

        self.ids = ids
        self.texts = texts
        self.metadatas = metadatas
        self.fingerprint = fingerprint(ids)
        self.positions = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self._masks: dict[frozenset[str], np.ndarray] = {}  # by scope
        self._acronyms: dict[Scope, dict[str, str]] = {}  # by scope
        # k1/b and the title + heading in each chunk's text were measured on PIAF
        # (bench/retrieval.py): the dense side embeds them too.
        self._bm25 = bm25s.BM25(k1=0.9, b=0.4)
        if ids:
            searchable = [
                f"{m.get('title', '')}\n{m.get('heading', '')}\n{t}"
                for m, t in zip(metadatas, texts, strict=True)
            ]
            self._bm25.index(tokenize(searchable), show_progress=False)
            # words, and their 3-5 character pieces (inside word boundaries), TF-IDF weighted
            self._ngrams = CharNgramTfidf([_ngram_text(t) for t in searchable])

    def mask(self, scope: Scope) -> np.ndarray | None:
        """1.0 for the chunks of ``scope``'s collections, 0.0 elsewhere (None: no filter)."""
        if scope is None:
            return None
        if scope not in self._masks:
            self._masks[scope] = np.array(
                [float(m.get(METADATA_KEY) in scope) for m in self.metadatas], dtype=np.float32
            )
        return self._masks[scope]

    def acronyms(self, scope: Scope = None) -> dict[str, str]:
        """The acronyms the chunks of ``scope`` write (``ingest.text.acronyms_in``), by
        folded form; read once per index and scope."""
        if scope not in self._acronyms:
            keep = self.mask(scope)
            found: dict[str, str] = {}
            for i, text in enumerate(self.texts):
                if keep is None or keep[i]:
                    for folded, written in acronyms_in(text).items():
                        found.setdefault(folded, written)
            self._acronyms[scope] = found
        return self._acronyms[scope]

    def search_ngrams(self, query: str, k: int, scope: Scope = None) -> list[tuple[int, float]]:
        """Positions and n-gram cosine scores of the best ``k`` chunks (score > 0 only),
        among the chunks of ``scope``."""
        if not self.ids or not query.strip():
            return []
        scores = self._ngrams.scores(_ngram_text(query))
        if (mask := self.mask(scope)) is not None:
            scores = scores * mask
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]

    def search(self, query: str, k: int, scope: Scope = None) -> list[tuple[int, float]]:
        """Positions and BM25 scores of the best ``k`` chunks (score > 0 only), among the
        chunks of ``scope``."""
        if not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        docs, scores = self._bm25.retrieve(
            tokens,
            k=min(k, len(self.ids)),
            show_progress=False,
            n_threads=1,
            weight_mask=self.mask(scope),
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

    ``scorer`` is "bm25" or "ngrams"; only chunks of ``scope``'s collections are ranked.
    """

    def __init__(
        self, index: KeywordIndex, top_k: int, scorer: str = "bm25", scope: Scope = None
    ) -> None:
        super().__init__()
        self.index = index
        self.top_k = top_k
        self.scope = scope
        self._search = index.search_ngrams if scorer == "ngrams" else index.search

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._search(query_bundle.query_str, self.top_k, self.scope)
        return [self.index.node(position, score) for position, score in hits]
