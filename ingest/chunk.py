"""Chunking that follows French sentences and headings and keeps exact character offsets.

Hand-written as a llama-index ``TransformComponent``: ``SentenceSplitter`` ignores
headings and recovers offsets by searching the chunk text again, which misplaces repeated
passages; the chat UI highlights cited spans from these offsets, so they must be exact.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import (
    BaseNode,
    MetadataMode,
    NodeRelationship,
    TextNode,
    TransformComponent,
)

from ingest.text import Span, paragraphs, sentence_spans

_HEADING = re.compile(r"^#{1,6}\s+\S")


def _is_heading(text: str, block: Span, next_block: Span | None) -> bool:
    """Markdown headings, or a short line without final punctuation before a paragraph."""
    content = text[block.start : block.end]
    if _HEADING.match(content):
        return True
    if "\n" in content or len(content) > 90 or next_block is None:
        return False
    if content.startswith("- ") or re.search(r"[.,;:!?»…]$", content):
        return False
    return content[0].isupper() and (next_block.end - next_block.start) > len(content)


def split_document(
    text: str, size: int, overlap: int, breaks: Sequence[int] = ()
) -> list[tuple[Span, str | None]]:
    """Chunk spans of ``text`` with the heading each falls under.

    Whole paragraphs (or the sentences of a paragraph longer than ``size``) are packed up
    to ``size`` characters; a new heading starts a new chunk once the current one holds a
    useful amount of text; ``overlap`` characters of whole sentences are repeated at the
    start of the next chunk when a paragraph had to be split. ``breaks``
    (page starts) always start a new chunk, so a chunk's page is the page of all its text.
    """
    blocks = paragraphs(text)
    # units: a whole paragraph when it fits, else its sentences; with heading, section
    # number and paragraph number (overlap is only carried inside a split paragraph)
    units: list[tuple[Span, str | None, int, int]] = []
    heading: str | None = None
    section = 0
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if _is_heading(text, block, nxt):
            heading = text[block.start : block.end].lstrip("#").strip()
            section += 1
        crosses_page = bisect_right(breaks, block.start) != bisect_right(breaks, block.end - 1)
        if block.end - block.start <= size and not crosses_page:
            units.append((block, heading, section, i))
            continue
        for sentence in sentence_spans(text, block):
            units.extend(
                (span, h, sec, i)
                for span, h, sec in _cut_long(text, sentence, size, heading, section)
            )
    chunks: list[tuple[Span, str | None]] = []
    current: list[tuple[Span, str | None, int, int]] = []
    for unit in units:
        if current:
            length = unit[0].end - current[0][0].start
            new_section = unit[2] != current[-1][2]
            new_page = bisect_right(breaks, unit[0].start) != bisect_right(
                breaks, current[0][0].start
            )
            if (
                new_page
                or length > size
                or (new_section and current[-1][0].end - current[0][0].start > size // 3)
            ):
                chunks.append((Span(current[0][0].start, current[-1][0].end), current[0][1]))
                kept: list[tuple[Span, str | None, int, int]] = []
                if not new_section and not new_page and unit[3] == current[-1][3]:
                    for prev in reversed(current):
                        if (
                            current[-1][0].end - prev[0].start > overlap
                            or unit[0].end - prev[0].start > size
                            or len(kept) + 1 >= len(current)
                        ):
                            break
                        kept.insert(0, prev)
                current = kept
        current.append(unit)
    if current:
        chunks.append((Span(current[0][0].start, current[-1][0].end), current[0][1]))
    return chunks


def _cut_long(text: str, sentence: Span, size: int, heading: str | None, section: int):
    """A sentence longer than ``size`` is cut at spaces into pieces of at most ``size``."""
    start = sentence.start
    while sentence.end - start > size:
        cut = start + size
        while cut > start + size // 2 and not text[cut].isspace():
            cut -= 1
        if not text[cut].isspace():
            cut = start + size  # one huge "word" (a URL, a table row): cut it anyway
        end = cut
        while end > start and text[end - 1].isspace():
            end -= 1
        yield Span(start, end), heading, section
        start = cut
        while start < sentence.end and text[start].isspace():
            start += 1
    if sentence.end > start:
        yield Span(start, sentence.end), heading, section


class FrenchChunker(TransformComponent):
    """Turns cleaned corpus Documents into TextNodes with offsets, title, heading and page."""

    chunk_size: int = 900
    chunk_overlap: int = 150

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for doc in nodes:
            text = doc.get_content(metadata_mode=MetadataMode.NONE)
            page_starts = json.loads(doc.metadata.get("page_starts") or "[]")
            for i, (span, heading) in enumerate(
                split_document(text, self.chunk_size, self.chunk_overlap, page_starts)
            ):
                chunk_text = text[span.start : span.end]
                # the id changes with anything embedded (title, heading, text), so every
                # derived index (the BM25 copy) notices a title edit
                identity = f"{doc.metadata['title']}\n{heading or ''}\n{chunk_text}"
                digest = hashlib.sha1(identity.encode()).hexdigest()[:10]
                page = bisect_right(page_starts, span.start) if page_starts else None
                node = TextNode(
                    id_=f"{doc.id_}#{i}-{digest}",
                    text=chunk_text,
                    start_char_idx=span.start,
                    end_char_idx=span.end,
                    metadata={
                        "source": doc.metadata["source"],
                        "title": doc.metadata["title"],
                        "heading": heading or "",
                        "page": page or 0,
                        "start": span.start,
                        "end": span.end,
                    },
                    excluded_embed_metadata_keys=["source", "page", "start", "end"],
                    excluded_llm_metadata_keys=["source", "page", "start", "end", "heading"],
                    metadata_template="{value}",
                    text_template="{metadata_str}\n{content}",
                    relationships={NodeRelationship.SOURCE: doc.as_related_node_info()},
                )
                out.append(node)
        return out
