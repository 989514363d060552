"""Word documents (.docx) through python-docx: paragraphs and tables in reading order."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import DocumentError
from ingest.raw import LoadOptions, RawDocument, heading

_HEADING_STYLE = re.compile(r"(?:Heading|Titre)\s*(\d)")


def load_docx(path: Path, options: LoadOptions) -> RawDocument:
    """Heading styles become Markdown headings; a table sits where it is in the text."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except PackageNotFoundError as exc:  # not a zip archive at all
        raise DocumentError("corrupt or unreadable Word file (not a .docx archive)") from exc
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable Word file ({exc})") from exc
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = table_rows(block)
            if rows:  # one block, a row per line: rows are never taken for headings
                parts.append("\n".join(rows))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = _HEADING_STYLE.search(style)
        text = block.text.strip()
        if text:
            parts.append(heading(int(level.group(1)), text) if level else text)
    title = document.core_properties.title or None
    return RawDocument(pages=["\n\n".join(parts)], title=title)


def table_rows(table) -> list[str]:
    """One line per row, cells joined by `` | `` (a merged cell counted once)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows
