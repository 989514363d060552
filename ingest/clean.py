"""Repair of extraction damage before chunking (PDF tabs, split words, layout tokens).

Hand-written: the damage is specific to our brochures (tab-separated words, hyphenated
line breaks, image file names left by web exports), which no general cleaner targets.
Offsets of chunks point into the text this module returns.
"""

from __future__ import annotations

import re
import unicodedata

CLEANER_VERSION = "2"  # bump when cleaning or chunking changes: re-indexes everything

_LAYOUT_LINE = re.compile(
    r"^(?:\S+\.(?:jpe?g|png|gif|svg|webp|bmp)|[a-z0-9]+(?:_[a-z0-9]+)+)$", re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
# word-hyphen, line break(s), lower-case continuation: "trans-\n\nfrontalière"
_SPLIT_WORD = re.compile(r"(\w)-[ ]*\n+[ ]*(?=[a-zà-öø-ÿ])")
# hyphenated compound broken before a capital: "Nord-\nPas" keeps its hyphen
_SPLIT_COMPOUND = re.compile(r"(\w)-[ ]*\n+[ ]*(?=[A-ZÀ-ÖØ-Þ])")
_BULLETS = re.compile(r"^[ ]*[•●▪◦■□➢►–][ ]*", re.MULTILINE)
_END_OF_SENTENCE = re.compile(r"[.!?:;…][\s»\"')\]]*$")  # a closing » alone ends no sentence


def clean_text(text: str) -> str:
    """Return ``text`` with extraction damage repaired and paragraphs separated by blank lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\ufffd", "").replace("\u00ad", "").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = _SPACES.sub(" ", text)
    text = _BULLETS.sub("- ", text)
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if not _LAYOUT_LINE.match(line)]
    text = "\n".join(lines)
    text = _SPLIT_WORD.sub(r"\1", text)
    text = _SPLIT_COMPOUND.sub(r"\1-", text)
    return _join_broken_paragraphs(text).strip()


def _join_broken_paragraphs(text: str) -> str:
    """Glue blocks that a PDF broke mid-sentence (the next block starts in lower case)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    merged: list[str] = []
    for block in blocks:
        if (
            merged
            and not _END_OF_SENTENCE.search(merged[-1])
            and not merged[-1].startswith(("#", "- "))
            and (block[0].islower() or block[0].isdigit())
        ):
            merged[-1] = f"{merged[-1]} {block}"
        else:
            merged.append(block)
    return "\n\n".join(merged)
