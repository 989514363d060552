"""What a loader returns: the text as extracted from a file, before cleaning."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.archive_guard import ArchiveLimits
from ingest.errors import DocumentError
from ingest.ocr import OcrOptions


@dataclass
class RawDocument:
    """Text as extracted from a file, before cleaning.

    Headings are Markdown headings (``## Financement``) so that the chunker keeps them;
    ``paginated`` documents give one entry of ``pages`` per page (PDF) or slide.
    """

    pages: list[str]  # one entry per page (a single entry for non-paginated formats)
    title: str | None = None
    paginated: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadOptions:
    """Settings a loader may need: zip bomb limits and OCR (from ``Settings``)."""

    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    ocr: OcrOptions = field(default_factory=OcrOptions)


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str (UTF-8, else Windows-1252); binary data is refused."""
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
        if controls > 0.05 * max(1, len(text[:8192])):
            raise DocumentError("binary file, not text")
        return text
    raise DocumentError("not valid UTF-8 or Windows-1252 text")


def heading(level: int, text: str) -> str:
    """A Markdown heading line, the form the chunker recognises (levels 1 to 6)."""
    return f"{'#' * min(6, max(1, level))} {text}"
