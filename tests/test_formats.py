"""Office, LibreOffice, EPUB and RTF files: the text a user reads, in order, with its context.

Each sample is written by the format's own library (docfactory), then read back the way
ingest reads it: cleaned Documents, chunks with headings and pages, and search.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from docfactory import (
    write_docx,
    write_epub,
    write_odp,
    write_ods,
    write_odt,
    write_pptx,
    write_rtf,
    write_xlsx,
)
from test_loaders import chunks, documents

from index.service import IndexService
from settings import Settings


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path


def in_order(text: str, *parts: str) -> None:
    """Every part is in ``text``, each after the previous one."""
    positions = [text.find(part) for part in parts]
    assert -1 not in positions, [p for p, at in zip(parts, positions, strict=True) if at < 0]
    assert positions == sorted(positions), list(zip(parts, positions, strict=True))


def heading_of(pieces, phrase: str) -> str:
    """The heading of the first chunk that contains ``phrase``."""
    return next(p.metadata["heading"] for p in pieces if phrase in p.text)


def test_docx_tables_stay_where_they_are_in_the_text(folder: Path) -> None:
    write_docx(
        folder / "budget.docx",
        [
            ("h1", "Le budget"),
            ("p", "Le tableau suivant donne les montants votés."),
            ("table", [["Programme", "Montant"], ["RESCUE", "1,2 M€"], ["INTERREG", "3,5 M€"]]),
            ("p", "Ces montants ont été votés le 3 mars."),
            ("h2", "Les partenaires"),
            ("p", "La Région et l'État financent le reste."),
        ],
    )
    text = documents(folder)["budget.docx"].text
    in_order(
        text,
        "# Le budget",
        "montants votés.",
        "Programme | Montant\nRESCUE | 1,2 M€\nINTERREG | 3,5 M€",
        "votés le 3 mars.",
        "## Les partenaires",
        "La Région",
    )
    pieces = chunks(documents(folder)["budget.docx"], size=200, overlap=0)
    assert heading_of(pieces, "RESCUE | 1,2 M€") == "Le budget"
    assert heading_of(pieces, "La Région") == "Les partenaires"


def test_odt_headings_lists_and_tables(folder: Path) -> None:
    write_odt(
        folder / "note.odt",
        [
            ("h1", "Présentation"),
            ("p", "La Mission Bassin Minier accompagne les communes depuis 2000."),
            ("list", ["Aménagement des cités minières", "Valorisation des terrils"]),
            ("h2", "Financement"),
            ("table", [["Financeur", "Part"], ["Région", "50 %"]]),
            ("p", "Le Conseil régional finance la moitié des actions."),
        ],
        title="Note de présentation",
    )
    doc = documents(folder)["note.odt"]
    assert doc.metadata["title"] == "Note de présentation"
    in_order(
        doc.text,
        "# Présentation",
        "depuis 2000.",
        "- Aménagement des cités minières\n- Valorisation des terrils",
        "## Financement",
        "Financeur | Part\nRégion | 50 %",
        "finance la moitié",
    )
    pieces = chunks(doc, size=120, overlap=0)
    assert heading_of(pieces, "Conseil régional") == "Financement"
    assert heading_of(pieces, "2000") == "Présentation"


def test_xlsx_rows_keep_sheet_row_and_column_labels(folder: Path) -> None:
    write_xlsx(
        folder / "budget.xlsx",
        {
            "Budget": [
                ["Programme", "Montant", "Année"],
                ["INTERREG", 3.5, 2021],
                ["RESCUE", "1,2 M€", 2023],
            ],
            "Contacts": [None, ["Nom", "Téléphone"], ["Catherine Bertrand", "03 21 08 72 72"]],
        },
        title="Budget des programmes",
    )
    doc = documents(folder)["budget.xlsx"]
    assert doc.metadata["title"] == "Budget des programmes"
    lines = doc.text.splitlines()
    budget = "Feuille Budget — ligne"
    assert f"{budget} 3 : Programme : RESCUE ; Montant : 1,2 M€ ; Année : 2023" in lines
    assert f"{budget} 2 : Programme : INTERREG ; Montant : 3,5 ; Année : 2021" in lines
    # row numbers are the sheet's own (an empty first row is still row 1)
    assert (
        "Feuille Contacts — ligne 3 : Nom : Catherine Bertrand ; Téléphone : 03 21 08 72 72"
        in lines
    )
    in_order(doc.text, "## Feuille Budget", "ligne 3", "## Feuille Contacts", "Catherine")
    pieces = chunks(doc, size=200, overlap=0)
    assert heading_of(pieces, "RESCUE") == "Feuille Budget"
    assert heading_of(pieces, "Catherine") == "Feuille Contacts"


def test_a_long_sheet_is_cut_between_rows_and_every_chunk_says_where_it_is(folder: Path) -> None:
    rows = [["Programme", "Montant", "Année"]]
    rows += [[f"PROJET{i}", f"{i},5 M€", 2000 + i] for i in range(60)]
    write_xlsx(folder / "long.xlsx", {"Budget": rows})
    pieces = chunks(documents(folder)["long.xlsx"], size=1000, overlap=150)
    assert len(pieces) >= 5
    for piece in pieces:
        assert piece.metadata["heading"] == "Feuille Budget"
        lines = [line for line in piece.text.splitlines() if line and line[0] != "#"]
        for line in lines:  # whole rows only, each with its context
            assert line == "Feuille Budget — ligne 1 : Programme ; Montant ; Année" or re.fullmatch(
                r"Feuille Budget — ligne (\d+) : Programme : PROJET\d+ ; Montant : \d+,5 M€ ; "
                r"Année : 20\d\d",
                line,
            ), line


def test_xlsx_formatted_to_the_last_cell_is_read_in_seconds(folder: Path) -> None:
    # a style on XFD1048576 makes the sheet's stored dimension 17 billion cells
    from openpyxl import load_workbook

    path = write_xlsx(folder / "styles.xlsx", {"Budget": [["Programme", "Montant"],
                                                          ["RESCUE", "1,2 M€"]]})  # fmt: skip
    book = load_workbook(path)
    book["Budget"]["XFD1048576"].number_format = "0.00"
    book.save(path)
    started = time.perf_counter()
    doc = documents(folder)["styles.xlsx"]
    assert time.perf_counter() - started < 15
    assert doc.text.endswith("Feuille Budget — ligne 2 : Programme : RESCUE ; Montant : 1,2 M€")


def test_ods_rows_keep_context_and_repeated_empty_rows_cost_nothing(folder: Path) -> None:
    # LibreOffice stores the empty rest of a sheet as one row repeated a million times
    write_ods(
        folder / "budget.ods",
        {
            "Budget": [
                ["Programme", "Montant"],
                ["RESCUE", "1,2 M€"],
                ["", ""],
                ["PRISM", "800 k€"],
            ],  # fmt: skip
            "Vide": [],
        },
        title="Budget LibreOffice",
    )
    doc = documents(folder)["budget.ods"]
    assert doc.metadata["title"] == "Budget LibreOffice"
    lines = doc.text.splitlines()
    assert "Feuille Budget — ligne 2 : Programme : RESCUE ; Montant : 1,2 M€" in lines
    assert "Feuille Budget — ligne 4 : Programme : PRISM ; Montant : 800 k€" in lines
    assert "Vide" not in doc.text and len(doc.text) < 300


@pytest.mark.parametrize("suffix", [".pptx", ".odp"])
def test_slides_are_pages_with_their_titles_as_headings(folder: Path, suffix: str) -> None:
    slides = [
        ("Le projet RESCUE", ["Reconversion des sites miniers", "Cinq partenaires européens"]),
        ("Le budget", ["1,2 million d'euros sur trois ans"]),
        ("Les contacts", ["Catherine Bertrand, chargée de mission"]),
    ]
    path = folder / f"projet{suffix}"
    if suffix == ".pptx":
        write_pptx(path, slides, title="Présentation RESCUE", table=(1, [["Année", "Montant"],
                   ["2023", "400 k€"]]), notes="Note de l'orateur à ne pas indexer")  # fmt: skip
    else:
        write_odp(path, slides, title="Présentation RESCUE", notes="Note de l'orateur")
    doc = documents(folder)[path.name]
    assert doc.metadata["title"] == "Présentation RESCUE"
    assert "orateur" not in doc.text  # speaker notes are not what the slide shows
    pieces = chunks(doc, size=900, overlap=0)
    pages = {piece.metadata["page"]: piece for piece in pieces}
    assert sorted(pages) == [1, 2, 3]  # one chunk per slide, numbered as slides
    assert pages[1].metadata["heading"] == "Le projet RESCUE"
    assert "Reconversion des sites miniers\nCinq partenaires européens" in pages[1].text
    assert pages[2].metadata["heading"] == "Le budget"
    assert "1,2 million" in pages[2].text
    if suffix == ".pptx":
        assert "Année | Montant\n2023 | 400 k€" in pages[2].text
    assert "Catherine Bertrand" in pages[3].text


def test_slide_numbers_reach_search_results(folder: Path, tmp_path: Path) -> None:
    write_pptx(
        folder / "projet.pptx",
        [
            ("Le projet RESCUE", ["Reconversion des sites miniers en Europe"]),
            ("Les écluses", ["Les écluses de Don ont été restaurées en 2015"]),
        ],
    )
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    report = service.ingest()
    assert report.added == ["projet.pptx"] and not report.failed
    top = service.search("restauration des écluses de Don", k=1)[0]
    assert top.page == 2 and "2015" in top.text


def test_epub_chapters_in_reading_order_without_the_table_of_contents(folder: Path) -> None:
    write_epub(
        folder / "livre.epub",
        "Le livre des terrils",
        [
            ("Les terrils", "<p>Le terril 74 de Loos-en-Gohelle culmine à 186 mètres.</p>"),
            ("Les cités", "<p>Les corons datent du <b>XIXe</b> siècle.</p><script>x=1</script>"),
        ],
    )
    doc = documents(folder)["livre.epub"]
    assert doc.metadata["title"] == "Le livre des terrils"
    in_order(doc.text, "# Les terrils", "186 mètres.", "# Les cités", "XIXe siècle.")
    assert doc.text.count("Les cités") == 1  # the navigation page is not read
    assert "x=1" not in doc.text
    pieces = chunks(doc, size=80, overlap=0)
    assert heading_of(pieces, "XIXe") == "Les cités"
    assert heading_of(pieces, "186 mètres") == "Les terrils"


def test_rtf_paragraphs_and_accents(folder: Path) -> None:
    write_rtf(
        folder / "courrier.rtf",
        [
            ("h1", "Présentation du canal"),
            ("p", "Le canal de la Deûle a coûté 4,2 millions d'euros."),
            ("p", "Les écluses ont été restaurées en 2015."),
        ],
    )
    doc = documents(folder)["courrier.rtf"]
    assert doc.text == (
        "Présentation du canal\n\nLe canal de la Deûle a coûté 4,2 millions d'euros.\n\n"
        "Les écluses ont été restaurées en 2015."
    )
    [chunk] = chunks(doc)
    assert chunk.metadata["heading"] == "Présentation du canal"


def test_rtf_escaped_accents_and_info_title(folder: Path) -> None:
    # what Word and LibreOffice write: \'xx escapes in the document's code page
    (folder / "note.rtf").write_text(
        r"{\rtf1\ansi\ansicpg1252{\info{\title Note sur l'\'e9cluse}}"
        r"\pard Caf\'e9 des \'e9cluses\par Deuxi\u232?me ligne\par}",
        encoding="ascii",
    )
    doc = documents(folder)["note.rtf"]
    assert doc.metadata["title"] == "Note sur l'écluse"
    assert doc.text == "Café des écluses\n\nDeuxième ligne"
