"""Which loader reads which file type; zip-based formats are checked for bombs first.

Each loader (in ``ingest/formats/``) returns a RawDocument: the text a user would read,
headings as Markdown headings, and pages for PDFs (slides for presentations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.archive_guard import ArchiveLimits, check_archive
from ingest.errors import DocumentError
from ingest.formats.epub import load_epub
from ingest.formats.opendocument import load_odp, load_ods, load_odt
from ingest.formats.pdf import load_pdf
from ingest.formats.rtf import load_rtf
from ingest.formats.slides import load_pptx
from ingest.formats.spreadsheets import load_xlsx
from ingest.formats.text import load_html, load_text
from ingest.formats.word import load_docx
from ingest.ocr import OcrOptions
from ingest.raw import LoadOptions, RawDocument

__all__ = ["LOADERS", "SUPPORTED_SUFFIXES", "LoadOptions", "RawDocument", "load_raw"]


@dataclass(frozen=True)
class Format:
    """A file type: its loader and, for zip-based formats, the name used in messages."""

    load: Callable[[Path, LoadOptions], RawDocument]
    zip_kind: str | None = None  # e.g. "Word file": checked by the archive guard first


LOADERS: dict[str, Format] = {
    ".txt": Format(load_text),
    ".md": Format(load_text),
    ".markdown": Format(load_text),
    ".html": Format(load_html),
    ".htm": Format(load_html),
    ".pdf": Format(load_pdf),
    ".docx": Format(load_docx, "Word file"),
    ".pptx": Format(load_pptx, "PowerPoint file"),
    ".xlsx": Format(load_xlsx, "Excel file"),
    ".odt": Format(load_odt, "OpenDocument text"),
    ".ods": Format(load_ods, "OpenDocument spreadsheet"),
    ".odp": Format(load_odp, "OpenDocument presentation"),
    ".epub": Format(load_epub, "EPUB book"),
    ".rtf": Format(load_rtf),
}
SUPPORTED_SUFFIXES = tuple(LOADERS)


def options_from_settings(settings=None) -> LoadOptions:
    """Loader options from ``settings`` (default: this process's ``PASSERELLE_*`` settings)."""
    if settings is None:
        from settings import get_settings

        settings = get_settings()
    return LoadOptions(
        archive=ArchiveLimits(
            max_unzipped_mb=settings.max_unzipped_mb,
            max_ratio=settings.max_zip_ratio,
            max_members=settings.max_zip_members,
        ),
        ocr=OcrOptions(languages=settings.ocr_languages, dpi=settings.ocr_dpi),
    )


def load_raw(path: Path, options: LoadOptions | None = None) -> RawDocument:
    """Extract the text of ``path`` with the loader of its type."""
    fmt = LOADERS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    options = options or options_from_settings()
    if fmt.zip_kind:
        check_archive(path, options.archive, fmt.zip_kind)
    return fmt.load(path, options)
