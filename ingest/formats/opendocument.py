"""OpenDocument (LibreOffice) files through odfpy: .odt text, .ods sheets, .odp slides."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.errors import DocumentError
from ingest.formats.slides import slide_text
from ingest.formats.spreadsheets import sheet_text
from ingest.raw import LoadOptions, RawDocument, heading

# Parts of an ODF body that are not the text a reader reads in place: generated indexes
# repeat the headings, tracked changes hold deleted text, notes sit beside slides.
_SKIPPED = {
    "table-of-content", "illustration-index", "alphabetical-index", "bibliography",
    "object-index", "user-index", "table-index", "tracked-changes", "sequence-decls",
    "variable-decls", "user-field-decls", "forms", "notes",
}  # fmt: skip
# A row or cell repeated more than this is an empty filler (ODF repeats them by the million)
_MAX_REPEAT = 1000


def _open(path: Path, kind: str):
    from odf.opendocument import load

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "META-INF/manifest.xml" in names:
            manifest = archive.read("META-INF/manifest.xml")
            if b"encryption-data" in manifest:
                raise DocumentError(f"password-protected {kind}")
        if "content.xml" not in names:
            raise DocumentError(f"corrupt or unreadable {kind} (no content.xml)")
    try:
        return load(str(path))
    except Exception as exc:  # odfpy surfaces expat, zip and its own errors
        raise DocumentError(f"corrupt or unreadable {kind} ({type(exc).__name__}: {exc})") from exc


def _title(document) -> str | None:
    from odf import dc, teletype

    titles = document.meta.getElementsByType(dc.Title) if document.meta else []
    return (teletype.extractText(titles[0]).strip() or None) if titles else None


def _elements(node) -> Iterator:
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            yield child


def _text(node) -> str:
    from odf import teletype

    return " ".join(teletype.extractText(node).split())


def _blocks(node, prefix: str = "") -> Iterator[str]:
    """Paragraphs, headings, list items and tables of ``node`` in document order."""
    from odf.namespaces import PRESENTATIONNS, TABLENS, TEXTNS

    for child in _elements(node):
        namespace, name = child.qname
        if name in _SKIPPED:
            continue
        if namespace == TEXTNS and name == "h":
            level = child.getAttrNS(TEXTNS, "outline-level") or "1"
            if text := _text(child):
                yield heading(int(level) if level.isdigit() else 1, text)
        elif namespace == TEXTNS and name == "p":
            if text := _text(child):
                yield prefix + text
        elif namespace == TEXTNS and name == "list":  # one block, an item per line
            if items := list(_blocks(child, prefix="- ")):
                yield "\n".join(items)
        elif namespace == TEXTNS and name == "list-item":
            yield from _blocks(child, prefix="- ")
        elif namespace == TABLENS and name == "table":
            rows = [" | ".join(cells) for _n, cells in _table_rows(child) if any(cells)]
            if rows:
                yield "\n".join(rows)
        elif child.getAttrNS(PRESENTATIONNS, "class") == "title":
            if text := _text(child):
                yield heading(1, text)
        else:
            yield from _blocks(child, prefix)


def _table_rows(table) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) of an ODF table, expanding repeated rows and cells sparingly."""
    from odf.namespaces import TABLENS

    number = 0
    for row in _rows(table):
        repeat = int(row.getAttrNS(TABLENS, "number-rows-repeated") or 1)
        cells: list[str] = []
        for cell in _elements(row):
            if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                continue
            text = _text(cell) if cell.qname[1] == "table-cell" else ""
            times = int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1)
            cells.extend([text] * min(times, _MAX_REPEAT))
        if any(cells):
            for i in range(min(repeat, _MAX_REPEAT)):
                yield number + i + 1, cells
        number += repeat


def _rows(node) -> Iterator:
    for child in _elements(node):
        if child.qname[1] == "table-row":
            yield child
        elif child.qname[1] in ("table-header-rows", "table-rows", "table-row-group"):
            yield from _rows(child)


def load_odt(path: Path, options: LoadOptions) -> RawDocument:
    """Text documents: ODF headings (outline levels) become Markdown headings."""
    document = _open(path, "OpenDocument text")
    text = "\n\n".join(_blocks(document.text))
    return RawDocument(pages=[text], title=_title(document))


def load_ods(path: Path, options: LoadOptions) -> RawDocument:
    """Spreadsheets: every sheet, each row with its sheet, number and column labels."""
    from odf.namespaces import TABLENS
    from odf.table import Table

    document = _open(path, "OpenDocument spreadsheet")
    sheets = []
    for table in document.spreadsheet.getElementsByType(Table):
        name = table.getAttrNS(TABLENS, "name") or f"{len(sheets) + 1}"
        if text := sheet_text(name, _table_rows(table)):
            sheets.append(text)
    return RawDocument(pages=["\n\n".join(sheets)], title=_title(document))


def load_odp(path: Path, options: LoadOptions) -> RawDocument:
    """Presentations: one page per slide (its number is the page), titles as headings."""
    from odf.draw import Page

    document = _open(path, "OpenDocument presentation")
    slides = []
    for slide in document.presentation.getElementsByType(Page):
        slides.append(slide_text(list(_blocks(slide))))
    return RawDocument(pages=slides, title=_title(document), paginated=True)
