"""EPUB books through ebooklib: chapters in reading (spine) order, as HTML."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ingest.errors import DocumentError
from ingest.formats.text import html_to_text
from ingest.raw import LoadOptions, RawDocument

# encryption.xml also lists fonts obfuscated by the publisher (not a protection of the
# text); only encrypted chapters make a book unreadable.
_ENCRYPTED_CHAPTER = re.compile(rb'URI="[^"]+\.(?:x?html?|xml)"', re.IGNORECASE)


def _refuse_drm(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        if "META-INF/encryption.xml" in archive.namelist() and _ENCRYPTED_CHAPTER.search(
            archive.read("META-INF/encryption.xml")
        ):
            raise DocumentError("DRM-protected EPUB (its chapters are encrypted)")


def load_epub(path: Path, options: LoadOptions) -> RawDocument:
    """Each chapter's visible text with its headings; the book's title from its metadata."""
    import ebooklib
    from ebooklib import epub

    _refuse_drm(path)
    try:
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises KeyError, EpubException, XML errors…
        raise DocumentError(f"corrupt or unreadable EPUB ({type(exc).__name__}: {exc})") from exc
    chapters = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        if isinstance(item, epub.EpubNav) or "nav" in (getattr(item, "properties", None) or []):
            continue  # the table of contents: the chapters' headings once more
        text, _title = html_to_text(item.get_content().decode("utf-8", errors="replace"))
        if text.strip():
            chapters.append(text)
    titles = book.get_metadata("DC", "title")
    title = (titles[0][0] or "").strip() if titles else ""
    return RawDocument(pages=["\n\n".join(chapters)], title=title or None)
