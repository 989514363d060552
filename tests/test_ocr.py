"""Scanned PDFs: pages without a text layer are OCRed (Tesseract, French and English).

The PDFs are made by printing known French text into page images (docfactory), so what
OCR must find is known exactly; the facts are then looked up with real search.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from docfactory import write_mixed_pdf, write_pdf, write_scanned_pdf
from test_loaders import documents

from index.service import IndexService
from ingest import ocr
from settings import Settings

_PROBLEM = ocr.ocr_problem(ocr.OcrOptions())
if _PROBLEM and os.environ.get("CI"):
    raise RuntimeError(f"OCR tests need Tesseract in CI: {_PROBLEM}")
needs_tesseract = pytest.mark.skipif(_PROBLEM is not None, reason=str(_PROBLEM))

CANAL = [
    "Le canal de la Deûle relie Lille à la Scarpe depuis le Moyen Âge.",
    "Il servait au commerce des grains et du charbon.",
]
ECLUSES = [
    "Les écluses de Don ont été restaurées en 2015 par les Voies navigables.",
    "Le chantier a coûté 4,2 millions d'euros.",
]
TERRILS = [
    "Les terrils jumeaux de Loos-en-Gohelle culminent à 186 mètres.",
    "Ils sont classés au patrimoine mondial de l'UNESCO depuis 2012.",
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path


@pytest.fixture
def ocr_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pages Tesseract is run on."""
    calls: list[int] = []
    read = ocr.read_image

    def counted(image, options):
        calls.append(1)
        return read(image, options)

    monkeypatch.setattr(ocr, "read_image", counted)
    return calls


def service_for(folder: Path, tmp_path: Path) -> IndexService:
    return IndexService(
        Settings(data_dir=tmp_path / "data", corpus_dir=folder, chunk_size=300, chunk_overlap=0)
    )


@needs_tesseract
def test_scanned_pdf_is_read_and_its_facts_found_by_search(
    folder: Path, tmp_path: Path, ocr_calls: list[int]
) -> None:
    write_scanned_pdf(folder / "scan.pdf", [CANAL, ECLUSES, []])  # a blank last page
    service = service_for(folder, tmp_path)
    report = service.ingest()
    assert report.added == ["scan.pdf"] and not report.failed
    assert len(ocr_calls) == 2  # the blank page is rendered, seen empty, not OCRed
    top = service.search("Combien a coûté la restauration des écluses de Don ?", k=1)[0]
    assert top.page == 2
    assert "4,2 millions d'euros" in top.text and "restaurées en 2015" in top.text
    top = service.search("Que relie le canal de la Deûle ?", k=1)[0]
    assert top.page == 1
    assert "relie Lille à la Scarpe depuis le Moyen Âge" in top.text


@needs_tesseract
def test_mixed_pdf_keeps_its_text_pages_and_ocrs_only_the_scanned_one(
    folder: Path, tmp_path: Path, ocr_calls: list[int]
) -> None:
    write_mixed_pdf(folder / "mixte.pdf", [("text", CANAL), ("scan", TERRILS), ("text", ECLUSES)])
    doc = documents(folder)["mixte.pdf"]
    assert len(ocr_calls) == 1
    # the text pages are pypdf's text, exactly as before
    for line in CANAL + ECLUSES:
        assert line in doc.text
    service = service_for(folder, tmp_path)
    assert service.ingest().added == ["mixte.pdf"]
    top = service.search("hauteur des terrils jumeaux de Loos-en-Gohelle", k=1)[0]
    assert top.page == 2
    assert "186 mètres" in top.text and "UNESCO depuis 2012" in top.text
    assert service.search("écluses de Don restaurées", k=1)[0].page == 3


@needs_tesseract
def test_ocr_text_gets_the_same_cleaning(folder: Path) -> None:
    write_scanned_pdf(
        folder / "scan.pdf",
        [["La coopération trans-", "frontalière avec la Belgique date de 1991."]],
    )
    text = documents(folder)["scan.pdf"].text
    assert "La coopération transfrontalière avec la Belgique date de 1991." in text


def test_without_tesseract_each_scanned_pdf_says_so(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract"))
    write_scanned_pdf(folder / "scan.pdf", [CANAL])
    write_mixed_pdf(folder / "mixte.pdf", [("text", CANAL), ("scan", ECLUSES)])
    write_pdf(folder / "texte.pdf", [ECLUSES])
    service = service_for(folder, tmp_path)
    report = service.ingest()
    assert sorted(report.added) == ["mixte.pdf", "texte.pdf"]
    [failed] = report.failed
    assert failed.path == "scan.pdf"
    assert failed.error.startswith("no text found: a scanned PDF (1 page without a text layer)")
    assert "Tesseract OCR is not installed" in failed.error and "tesseract-ocr-fra" in failed.error
    mixed = service.collection.get(where={"source": "mixte.pdf"})["documents"]
    assert any("Deûle" in text for text in mixed)  # its text page is still indexed
