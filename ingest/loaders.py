"""Loaders: one function per file type, each returning raw text (and page starts for PDFs)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import DocumentError


@dataclass
class RawDocument:
    """Text as extracted from a file, before cleaning."""

    pages: list[str]  # one entry per page (a single entry for non-paginated formats)
    title: str | None = None
    paginated: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _decode(data: bytes, path: Path) -> str:
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


def load_text(path: Path) -> RawDocument:
    """Plain text or Markdown; a leading ``# Title`` line gives the title."""
    text = _decode(path.read_bytes(), path)
    match = re.match(r"\s*#\s+(.+)", text)
    return RawDocument(pages=[text], title=match.group(1).strip() if match else None)


def load_html(path: Path) -> RawDocument:
    """HTML through BeautifulSoup: visible text only, headings kept as Markdown headings."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes(), path), "html.parser")
    # <head> is optional in HTML: look for the page's <title> anywhere but inside an <svg>
    title_tag = next((t for t in soup.find_all("title") if not t.find_parent("svg")), None)
    title = title_tag.get_text(strip=True) if title_tag else None
    for tag in soup(["script", "style", "noscript", "template", "svg", "head", "title"]):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.insert_before("\n\n" + "#" * level + " ")
            heading.insert_after("\n\n")
    for block in soup.find_all(["p", "li", "div", "br", "tr", "section", "article"]):
        block.insert_after("\n\n")
    return RawDocument(pages=[soup.get_text()], title=title or None)


def load_pdf(path: Path) -> RawDocument:
    """PDF through pypdf, one entry per page; password-protected files are refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("password-protected PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises many internal errors on damaged files
        if "password" in str(exc).lower() or "decrypt" in str(exc).lower():
            raise DocumentError("password-protected PDF") from exc
        raise DocumentError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    return RawDocument(pages=pages, title=title, paginated=True)


def load_docx(path: Path) -> RawDocument:
    """Word documents through python-docx; heading styles become Markdown headings."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except PackageNotFoundError as exc:  # not a zip archive at all
        raise DocumentError("corrupt or unreadable Word file (not a .docx archive)") from exc
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable Word file ({exc})") from exc
    parts: list[str] = []
    for para in document.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        level = re.search(r"(?:Heading|Titre)\s*(\d)", style)
        text = para.text.strip()
        if text:
            parts.append(f"{'#' * int(level.group(1))} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    title = document.core_properties.title or None
    return RawDocument(pages=["\n\n".join(parts)], title=title)


LOADERS: dict[str, Callable[[Path], RawDocument]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}
SUPPORTED_SUFFIXES = tuple(LOADERS)


def load_raw(path: Path) -> RawDocument:
    """Extract the text of ``path`` with the loader of its type."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return loader(path)
