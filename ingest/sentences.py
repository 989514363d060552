"""Sentence units of each chunk, for small-to-big retrieval.

A question usually paraphrases one sentence; its vector is closer to that sentence's
vector than to the vector of the whole 1,000-character chunk around it. Each chunk
therefore also yields nodes for its *sentence units*, pointing back to their chunk
(``chunk_id``), so retrieval can rank units and return their chunk (measured on PIAF:
README).

A unit is a span of the chunk (exact offsets) made of whole sentences of ``ingest.text``:
consecutive short sentences, list items and short lines are folded together until the
unit is ``UNIT_MIN_CHARS`` long (without passing ``UNIT_MAX_CHARS``), so a list of twenty
bullets costs a few vectors, not twenty. Embedding buys nothing for:

- a chunk shorter than ``UNITS_FROM_CHUNK_CHARS``: its own vector already is the vector
  of about one unit; it gets no unit (``units: 0`` in its metadata) and the sentence
  ranking scores it by its chunk vector;
- sentences repeated elsewhere in the same document (a contact block or a notice under
  every section): only their first occurrence is embedded. Only repeats inside one
  document count, so what is stored for a document never depends on the other ones.

llama-index's ``SentenceWindowNodeParser`` makes windows *instead of* chunks and has no
link back to a chunk, so this small transform keeps our chunks and adds the units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core.schema import BaseNode, NodeRelationship, TextNode, TransformComponent

from ingest.text import fold, sentences

SENTENCE = "sentence"
UNITS = "units"  # chunk metadata: how many units of the chunk are stored
MIN_SENTENCE_CHARS = 12  # shorter pieces ("1.", "Contact") carry no meaning of their own
# Unit length and the chunk length from which units are made: picked from unit counts and
# embedded characters on PIAF (401 chunks) and the list-heavy corpus (360 chunks) between
# 150-350/0, 200-400/500, 200-400/700 and 250-500/700, then checked for quality on PIAF
# (bench/retrieval.py --units, all 2,025 questions; half 0 of the articles chooses, half 1
# checks; session 9). Default fusion hit@5: units for every chunk (0) 0.950 (halves 0.940 /
# 0.961), none under 400 characters the same (8 % less ingest on the list pages), none
# under 700 characters 0.945 (0.933 / 0.960); per-sentence vectors before
# units: 0.953. So every chunk keeps its units (0): within 0.005 of 0.953, where 700 is not.
UNIT_MIN_CHARS = 200
UNIT_MAX_CHARS = 400
UNITS_FROM_CHUNK_CHARS = 0
_EXCLUDED = ["kind", "chunk_id", "source", "start", "end"]


def chunk_units(
    text: str, keep: Callable[[int, int], bool] = lambda start, end: True
) -> list[tuple[int, int]]:
    """(start, end) of the sentence units of a chunk's text, relative to the chunk.

    Sentences for which ``keep`` is false are left out, and no unit spans them.
    """
    units: list[list[int]] = []  # [start, end, 1 if it directly follows the unit before]
    follows = False  # nothing was left out since the last unit
    for start, end in sentences(text):
        if not keep(start, end):
            follows = False
            continue
        if follows and _short(units[-1]) and end - units[-1][0] <= UNIT_MAX_CHARS:
            units[-1][1] = end
        else:
            units.append([start, end, int(follows)])
        follows = True
    # a short last piece joins the unit before it when that stays under the maximum
    last = units[-1] if len(units) > 1 else None
    if last and last[2] and _short(last) and last[1] - units[-2][0] <= UNIT_MAX_CHARS:
        units.pop()
        units[-1][1] = last[1]
    return [(s, e) for s, e, _ in units if e - s >= MIN_SENTENCE_CHARS]


def _short(unit: list[int]) -> bool:
    return unit[1] - unit[0] < UNIT_MIN_CHARS


def _first_here(seen: dict[str, int], text: str, base: int) -> Callable[[int, int], bool]:
    """Whether a sentence of the chunk ``text`` (at ``base`` in its document) is not a
    repeat: the same sentence elsewhere in the document. The overlap of two chunks is the
    same sentence at the same place, not a repeat."""

    def first(start: int, end: int) -> bool:
        return seen.setdefault(fold(text[start:end]), base + start) == base + start

    return first


class SentenceNodes(TransformComponent):
    """Passes chunks through and adds, after each chunk, one node per sentence unit."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        # per document: where each sentence (folded) was first seen, as a document offset
        first_seen: dict[str, dict[str, int]] = {}
        for chunk in nodes:
            out.append(chunk)
            if is_sentence(chunk):
                continue
            text = chunk.get_content()
            base = int(chunk.metadata.get("start", 0))
            seen = first_seen.setdefault(chunk.metadata.get("source", ""), {})
            spans = chunk_units(text, _first_here(seen, text, base))
            if len(text) < UNITS_FROM_CHUNK_CHARS:
                spans = []
            units = [_unit_node(chunk, n, text, s, e) for n, (s, e) in enumerate(spans)]
            out.extend(units)
            chunk.metadata[UNITS] = len(units)
            for keys in (chunk.excluded_embed_metadata_keys, chunk.excluded_llm_metadata_keys):
                if UNITS not in keys:
                    keys.append(UNITS)
        return out


def _unit_node(chunk: BaseNode, n: int, text: str, start: int, end: int) -> TextNode:
    """The node of unit ``n`` of ``chunk``: ``text[start:end]``, document offsets."""
    base = int(chunk.metadata.get("start", 0))
    source = chunk.relationships.get(NodeRelationship.SOURCE)
    return TextNode(
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
        # embedded as "title\nunit", like the measured setup
        excluded_embed_metadata_keys=list(_EXCLUDED),
        excluded_llm_metadata_keys=list(_EXCLUDED),
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
        relationships={NodeRelationship.SOURCE: source} if source else {},
    )


def is_sentence(node: BaseNode) -> bool:
    """True for a sentence-unit node made by ``SentenceNodes``."""
    return node.metadata.get("kind") == SENTENCE
