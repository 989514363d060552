"""Spreadsheets: Excel (.xlsx) through openpyxl, and the row lines every sheet format shares.

A row becomes one line that carries its context, so that a passage cut out of a long
sheet still says where it comes from and what each value is:
``Feuille Budget — ligne 3 : Programme : RESCUE ; Montant : 1,2 M€``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import zip_longest
from pathlib import Path

from ingest.errors import DocumentError
from ingest.raw import LoadOptions, RawDocument, heading


def sheet_text(name: str, rows: Iterable[tuple[int, list[str]]]) -> str:
    """A sheet as a heading and one line per non-empty row (``rows``: number, cell texts).

    The first non-empty row whose cells are all text is taken as the column labels.
    """
    lines = list(_row_lines(name, rows))
    if not lines:
        return ""
    return heading(2, f"Feuille {name}") + "\n\n" + "\n".join(lines)


def _row_lines(name: str, rows: Iterable[tuple[int, list[str]]]) -> Iterator[str]:
    labels: list[str] | None = None
    for number, cells in rows:
        cells = [" ".join(cell.split()) for cell in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if labels is None:
            labels = cells
            if all(not _is_number(cell) for cell in cells):
                yield f"Feuille {name} — ligne {number} : " + " ; ".join(c for c in cells if c)
                continue
            labels = []
        pairs = [
            f"{label} : {value}" if label else value
            for label, value in zip_longest(labels, cells, fillvalue="")
            if value
        ]
        yield f"Feuille {name} — ligne {number} : " + " ; ".join(pairs)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return False
    return True


def cell_text(value: object) -> str:
    """A cell value as a reader sees it (French decimal comma, ISO dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def load_xlsx(path: Path, options: LoadOptions) -> RawDocument:
    """Every worksheet in order, each a heading and its rows with sheet and column labels."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable Excel file ({exc})") from exc
    except Exception as exc:  # openpyxl raises its own errors on damaged parts
        raise DocumentError(f"corrupt or unreadable Excel file ({type(exc).__name__})") from exc
    try:
        sheets = []
        for sheet in book.worksheets:
            # the stored dimension often spans formatted empty cells up to XFD1048576: rows
            # padded to it would be billions of cells; without it each row is as long as its
            # cells
            sheet.reset_dimensions()
            rows = (
                (number, [cell_text(v) for v in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            )
            text = sheet_text(sheet.title, rows)
            if text:
                sheets.append(text)
        title = book.properties.title or None
    finally:
        book.close()
    return RawDocument(pages=["\n\n".join(sheets)], title=title)
