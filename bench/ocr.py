"""OCR benchmark: seconds per scanned page and character accuracy on rendered pages.

The pages are the seed corpus's own French text (cleaned), printed in 12 pt into A4 page
images at 300 dpi (the usual scanner setting) by the same helper the OCR tests use, then
saved as an image-only PDF. Each page is rendered and read by the functions ingest uses
(``ingest.ocr``); ``load_raw`` then reads the whole PDF end to end.

Character accuracy = 1 - Levenshtein distance / length of the printed text, after
squashing whitespace and writing apostrophes one way (Tesseract reads ’ as ').
The load average is recorded with the numbers: on a shared machine it explains them.

    python -m bench.ocr [--pages N] [--dpi 300 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from bench.common import write_result
from ingest import ocr
from ingest.clean import clean_text
from ingest.loaders import load_raw
from ingest.raw import LoadOptions
from settings import ROOT

sys.path.insert(0, str(ROOT / "tests"))
from docfactory import write_scanned_pdf  # noqa: E402

LINES_PER_PAGE = 30
SCAN_DPI = 300


def corpus_pages(limit: int) -> list[list[str]]:
    """The seed corpus's text wrapped into lines of 80 characters, 30 lines a page."""
    text = " ".join(
        " ".join(clean_text(path.read_text(encoding="utf-8")).split())
        for path in sorted((ROOT / "corpus").glob("*.txt"))
    )
    lines = textwrap.wrap(text, width=80)
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    return pages[:limit]


def normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def run(pages: list[list[str]], dpi: int, folder: Path) -> dict:
    """OCR every page at ``dpi``; timings per step and accuracy per page."""
    pdf = write_scanned_pdf(folder / f"scan-{dpi}.pdf", pages, dpi=SCAN_DPI)
    options = ocr.OcrOptions(dpi=dpi)
    render_s, read_s, accuracies, distance, length = [], [], [], 0, 0
    for index, lines in enumerate(pages):
        started = time.perf_counter()
        image = ocr.render_page(pdf, index, dpi)
        render_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        text = ocr.read_image(image, options)
        read_s.append(time.perf_counter() - started)
        truth, got = normalise(" ".join(lines)), normalise(text)
        errors = Levenshtein.distance(got, truth)
        accuracies.append(1 - errors / len(truth))
        distance += errors
        length += len(truth)
    started = time.perf_counter()
    raw = load_raw(pdf, LoadOptions(ocr=options))
    end_to_end = time.perf_counter() - started
    assert len(raw.pages) == len(pages)
    return {
        "ocr_dpi": dpi,
        "pages": len(pages),
        "characters": length,
        # what ingest pays: load_raw, pages read two at a time
        "seconds_per_page": round(end_to_end / len(pages), 2),
        # one page at a time, by step
        "render_seconds_per_page": round(sum(render_s) / len(pages), 2),
        "tesseract_seconds_per_page": round(sum(read_s) / len(pages), 2),
        "character_accuracy": round(1 - distance / length, 4),
        "worst_page_accuracy": round(min(accuracies), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--dpi", type=int, nargs="+", default=[300, 200])
    args = parser.parse_args()
    problem = ocr.ocr_problem(ocr.OcrOptions())
    if problem:
        sys.exit(f"bench.ocr: {problem}")
    pages = corpus_pages(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run(pages, dpi, Path(tmp)) for dpi in args.dpi]
    import pytesseract

    result = {
        "scan_dpi": SCAN_DPI,
        "languages": ocr.OcrOptions().languages,
        "tesseract": str(pytesseract.get_tesseract_version()),
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT", "1 (ingest.ocr default)"),
        "runs": runs,
    }
    for r in runs:
        print(
            f"OCR at {r['ocr_dpi']} dpi: {r['seconds_per_page']:.2f} s/page in load_raw "
            f"(one page at a time: render {r['render_seconds_per_page']:.2f} s, Tesseract "
            f"{r['tesseract_seconds_per_page']:.2f} s), "
            f"character accuracy {r['character_accuracy']:.2%} "
            f"(worst page {r['worst_page_accuracy']:.2%}) over {r['pages']} pages, "
            f"{r['characters']:,} characters"
        )
    print(f"load average {result['load_average_1min']} on {result['cores']} cores")
    print(f"wrote {write_result('ocr', result)}")


if __name__ == "__main__":
    main()
