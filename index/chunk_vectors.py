"""The ingest's embedding step: every node embedded, or chunk vectors from their units.

With sentence units (``ingest/sentences.py``) a chunk's text is embedded twice: once whole,
once in its units. ``units`` mode embeds only the units and gives each chunk the
length-weighted mean of its units' vectors, normalised: the model's own mean pooling over
the same tokens, without the context across unit borders. A chunk without units (all its
sentences repeat earlier ones) is embedded itself. llama-index has no such step: its
embedding transformation embeds every node it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode, MetadataMode, TransformComponent

from ingest.sentences import is_sentence


class ChunkVectorsFromUnits(TransformComponent):
    """Embeds the sentence units (and chunks without units); each other chunk gets the
    mean of its units' vectors, weighted by their embedded lengths."""

    embed_model: BaseEmbedding

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        import numpy as np

        units: dict[str, list[BaseNode]] = {}
        for node in nodes:
            if is_sentence(node):
                units.setdefault(node.metadata.get("chunk_id", ""), []).append(node)
        direct = [n for n in nodes if is_sentence(n) or n.node_id not in units]
        self.embed_model(direct, **kwargs)
        for node in nodes:
            parts = units.get(node.node_id)  # only a chunk's id keys units
            if not parts:
                continue
            vectors = np.asarray([u.embedding for u in parts], dtype=np.float32)
            weights = np.asarray(
                [len(u.get_content(metadata_mode=MetadataMode.EMBED)) for u in parts],
                dtype=np.float32,
            )
            mean = weights @ vectors
            norm = float(np.linalg.norm(mean))
            node.embedding = (mean / norm if norm else mean).tolist()
        return nodes
