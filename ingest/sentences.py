"""Sentence nodes of each chunk, for small-to-big retrieval.

A question usually paraphrases one sentence; its vector is closer to that sentence's
vector than to the vector of the whole 1,000-character chunk around it. Each chunk
therefore also yields one node per sentence, pointing back to its chunk (``chunk_id``),
so retrieval can rank sentences and return their chunk (measured on PIAF: README).

llama-index's ``SentenceWindowNodeParser`` makes windows *instead of* chunks and has no
link back to a chunk, so this small transform keeps our chunks and adds the sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import BaseNode, NodeRelationship, TextNode, TransformComponent

from ingest.text import sentences

SENTENCE = "sentence"
MIN_SENTENCE_CHARS = 12  # shorter pieces ("1.", "Contact") carry no meaning of their own


def chunk_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence in a chunk's text, relative to the chunk."""
    return [(s, e) for s, e in sentences(text) if e - s >= MIN_SENTENCE_CHARS]


class SentenceNodes(TransformComponent):
    """Passes chunks through and adds, after each chunk, one node per sentence of it."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for chunk in nodes:
            out.append(chunk)
            if chunk.metadata.get("kind") == SENTENCE:
                continue
            text = chunk.get_content()
            base = int(chunk.metadata.get("start", 0))
            source = chunk.relationships.get(NodeRelationship.SOURCE)
            for n, (start, end) in enumerate(chunk_sentences(text)):
                out.append(
                    TextNode(
                        id_=f"{chunk.node_id}~s{n}",
                        text=text[start:end],
                        metadata={
                            "kind": SENTENCE,
                            "chunk_id": chunk.node_id,
                            "source": chunk.metadata.get("source", ""),
                            "title": chunk.metadata.get("title", ""),
                            "start": base + start,
                            "end": base + end,
                        },
                        # embedded as "title\nsentence", like the measured setup
                        excluded_embed_metadata_keys=["kind", "chunk_id", "source", "start", "end"],
                        excluded_llm_metadata_keys=["kind", "chunk_id", "source", "start", "end"],
                        metadata_template="{value}",
                        text_template="{metadata_str}\n{content}",
                        relationships={NodeRelationship.SOURCE: source} if source else {},
                    )
                )
        return out


def is_sentence(node: BaseNode) -> bool:
    """True for a sentence node made by ``SentenceNodes``."""
    return node.metadata.get("kind") == SENTENCE
