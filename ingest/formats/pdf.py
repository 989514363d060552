"""PDF through pypdf, one entry per page; pages without a text layer are OCRed."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest import ocr
from ingest.errors import DocumentError
from ingest.raw import LoadOptions, RawDocument

log = logging.getLogger(__name__)

# A page with fewer visible characters than this has no real text layer (a scan may
# carry a page number or a stamp as text): it is rendered and OCRed if it shows ink.
MIN_TEXT_CHARS = 20
# Tesseract subprocesses reading pages at once, one thread each: both cores busy.
PAGES_IN_PARALLEL = 2


def load_pdf(path: Path, options: LoadOptions) -> RawDocument:
    """Text of every page; password-protected files are refused."""
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
    ocr_scanned_pages(path, pages, options.ocr)
    return RawDocument(pages=pages, title=title, paginated=True)


def _visible(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def ocr_scanned_pages(path: Path, pages: list[str], options: ocr.OcrOptions) -> None:
    """Replace, in place, the text of pages without a text layer by what OCR reads on them.

    Pages with text are left as extracted. Without Tesseract, a PDF with no text at all
    is refused with the reason; a mixed one keeps its text pages (and a warning is logged).
    """
    todo = [i for i, text in enumerate(pages) if _visible(text) < MIN_TEXT_CHARS]
    if not todo:
        return
    problem = ocr.ocr_problem(options)
    if problem is not None:
        if all(_visible(text) == 0 for text in pages):
            if _any_ink(path, todo):
                pages_word = "page" if len(todo) == 1 else "pages"
                raise DocumentError(
                    f"no text found: a scanned PDF ({len(todo)} {pages_word} without a text "
                    f"layer) and {problem}"
                )
            return  # blank pages: the corpus reports "no text found"
        log.warning("%s: %d scanned pages not read: %s", path.name, len(todo), problem)
        return
    for start in range(0, len(todo), PAGES_IN_PARALLEL):
        images = {}
        for index in todo[start : start + PAGES_IN_PARALLEL]:  # pdfium: one thread only
            try:
                image = ocr.render_page(path, index, options.dpi)
            except Exception as exc:  # pdfium cannot draw this page: keep what pypdf found
                log.warning("%s: page %d not rendered for OCR (%s)", path.name, index + 1, exc)
                continue
            if not ocr.is_blank(image):
                images[index] = image
        with ThreadPoolExecutor(max_workers=PAGES_IN_PARALLEL) as pool:
            read = {i: pool.submit(ocr.read_image, image, options) for i, image in images.items()}
        for index, future in read.items():
            text = future.result()
            if _visible(text) > _visible(pages[index]):
                pages[index] = text


def _any_ink(path: Path, indexes: list[int]) -> bool:
    """Whether any of these pages shows something when rendered (a low-resolution look)."""
    try:
        return any(not ocr.is_blank(ocr.render_page(path, i, 36)) for i in indexes)
    except Exception:
        return True
