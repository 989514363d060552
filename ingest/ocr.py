"""OCR of scanned PDF pages: pdfium renders the page, Tesseract reads it (French and English).

Only pages without a text layer get here (see ``ingest.formats.pdf``); a page that
renders blank is skipped without running Tesseract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

INSTALL_HINT = "Debian: apt-get install tesseract-ocr tesseract-ocr-fra; scripts/setup.sh does it"


@dataclass(frozen=True)
class OcrOptions:
    """``languages`` as Tesseract names them (``fra+eng``; empty: no OCR), render ``dpi``."""

    languages: str = "fra+eng"
    dpi: int = 300


def ocr_problem(options: OcrOptions) -> str | None:
    """Why OCR cannot run on this machine (a sentence for the user), or None if it can."""
    if not options.languages:
        return "OCR is turned off (PASSERELLE_OCR_LANGUAGES is empty)"
    try:
        import pytesseract
    except ImportError:
        return "the pytesseract package is missing (pip install -e .)"
    try:
        pytesseract.get_tesseract_version()
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError):
        return f"Tesseract OCR is not installed ({INSTALL_HINT})"
    missing = [lang for lang in options.languages.split("+") if lang not in installed]
    if missing:
        return (
            f"Tesseract has no language data for {', '.join(missing)} "
            f"(Debian packages {', '.join('tesseract-ocr-' + m for m in missing)})"
        )
    return None


def render_page(path: Path, index: int, dpi: int) -> Image:
    """Page ``index`` (0-based) of the PDF at ``path`` as a grayscale image."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        page = document[index]
        try:
            return page.render(scale=dpi / 72, grayscale=True).to_pil()
        finally:
            page.close()
    finally:
        document.close()


def is_blank(image: Image) -> bool:
    """True when nothing darker than light grey is on the page (no ink to read)."""
    low, _high = image.convert("L").getextrema()
    return low > 200


def read_image(image: Image, options: OcrOptions) -> str:
    """Text Tesseract reads in ``image``, paragraphs separated by blank lines.

    Tesseract runs with one OpenMP thread (pages are read in parallel instead, see
    ``ingest.formats.pdf``): on 2 busy cores its own threads made a page 2.7 times slower
    (bench/ocr.py). pytesseract takes no environment argument, so the variable is set for
    its subprocess only, through the mapping it passes to ``Popen``; setting it in
    ``os.environ`` would also cap torch's OpenMP threads in this process.
    """
    import pytesseract
    from pytesseract import pytesseract as runner

    runner.environ = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    return pytesseract.image_to_string(image, lang=options.languages, config="--psm 3")
