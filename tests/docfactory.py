"""Small document fixtures built on the fly: PDF (hand-written writer), office files, EPUB,
RTF, scanned PDFs, zip bombs and other bad files.

No binary fixture is committed: every file a test needs is produced here, so what it
contains is visible in the test that uses it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# A real 1x1 PNG: what a user gets when an image is saved under a wrong extension.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (accents included), escaped."""
    raw = text.encode("cp1252")
    raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + raw + b")"


def pdf_bytes(pages: list[list[str]], title: str | None = None) -> bytes:
    """A valid PDF with one page per item of ``pages``, each a list of text lines.

    Helvetica with WinAnsiEncoding, so pypdf extracts French accents back exactly.
    """
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for lines in pages:
        ops = [b"BT /F1 12 Tf 14 TL 72 770 Td"]
        for line in lines:
            ops.append(_pdf_string(line) + b" Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, font, content)
            )
        )
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    info = add(b"<< /Title " + _pdf_string(title) + b" >>") if title else None

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    path.write_bytes(pdf_bytes(pages, title))
    return path


def write_encrypted_pdf(path: Path, pages: list[list[str]], password: str = "secret") -> Path:
    """A PDF that needs a user password to open (RC4, as old office suites produce)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def write_corrupt_pdf(path: Path) -> Path:
    """Starts like a PDF, then garbage: a truncated download."""
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + bytes(range(256)) * 4)
    return path


def write_docx(path: Path, blocks: list[tuple[str, object]], title: str | None = None) -> Path:
    """A Word file; ``blocks`` are (kind, text) with kind "h1".."h3" or "p", or
    ("table", rows) with rows a list of lists of cell texts."""
    import docx

    document = docx.Document()
    for kind, content in blocks:
        if kind == "table":
            rows = content
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        elif kind.startswith("h"):
            document.add_heading(str(content), level=int(kind[1:]))
        else:
            document.add_paragraph(str(content))
    if title:
        document.core_properties.title = title
    document.save(str(path))
    return path


def write_html(path: Path, title: str, body: str) -> Path:
    """An HTML page with a <head> (title, style, script) around ``body``."""
    path.write_text(
        "<!DOCTYPE html>\n<html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        "<style>body { font-family: sans-serif; } .cache { display: none }</style>"
        "<script>var suivi = 'codeDeSuiviPublicitaire'; console.log(suivi);</script>"
        f"</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def write_toml_metadata(folder: Path, entries: dict[str, dict[str, str]]) -> Path:
    """A metadata.toml mapping file names to {title, url}."""
    lines = []
    for name, meta in entries.items():
        lines.append(f"[{json.dumps(name)}]")
        for key, value in meta.items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    path = folder / "metadata.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_chunk_ids(settings, folder: Path | None = None, sentences: bool = False) -> list[str]:
    """Chunk ids a clean ingest of ``folder`` would store (computed without embedding).

    Runs the same plan/load/chunk code as ``IndexService.ingest`` on an empty docstore,
    so a resumed or incremental index can be compared with a clean one id by id.
    ``sentences=True``: the ids of the sentence nodes instead (the sentence collection).
    """
    from llama_index.core.storage.docstore import SimpleDocumentStore

    from index.pipeline import make_plan
    from ingest.chunk import FrenchChunker
    from ingest.corpus import load_document
    from ingest.errors import DocumentError
    from ingest.sentences import SentenceNodes, is_sentence

    folder = Path(folder or settings.corpus_dir)
    plan = make_plan(settings, folder, SimpleDocumentStore())
    chunker = FrenchChunker(chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap)
    ids: list[str] = []
    for file, doc_hash, meta in plan.todo:
        try:
            doc = load_document(file, meta, doc_hash, int(settings.max_file_mb * 1_000_000))
        except DocumentError:
            continue
        nodes = SentenceNodes()(chunker([doc]))
        ids.extend(node.id_ for node in nodes if is_sentence(node) == sentences)
    return sorted(ids)


# --- office formats, each written by its own library -------------------------------------


def write_encrypted_docx(path: Path, password: str = "secret") -> Path:
    """A Word file protected by a password to open (Office's agile encryption)."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_docx(path.with_suffix(".plain.docx"), [("p", "Texte confidentiel.")])
    with open(plain, "rb") as source, open(path, "wb") as target:
        OOXMLFile(io.BytesIO(source.read())).encrypt(password, target)
    plain.unlink()
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]], title: str | None = None) -> Path:
    """An Excel workbook: one sheet per entry, rows written from A1 (None: an empty row)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row or [None])
    if title:
        book.properties.title = title
    book.save(path)
    return path


def write_pptx(
    path: Path,
    slides: list[tuple[str, list[str]]],
    title: str | None = None,
    table: tuple[int, list[list[str]]] | None = None,
    notes: str | None = None,
) -> Path:
    """A PowerPoint file: (title, bullet points) per slide; ``table``: (slide index, rows)
    adds a table to that slide; ``notes`` go to every slide's speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for index, (slide_title, bullets) in enumerate(slides):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = slide_title
        body = slide.placeholders[1].text_frame
        for i, bullet in enumerate(bullets):
            (body.paragraphs[0] if i == 0 else body.add_paragraph()).text = bullet
        if table and table[0] == index:
            rows = table[1]
            shape = slide.shapes.add_table(
                len(rows), len(rows[0]), Inches(1), Inches(5), Inches(6), Inches(1)
            )
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    shape.table.cell(r, c).text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    if title:
        presentation.core_properties.title = title
    presentation.save(str(path))
    return path


def write_odt(path: Path, blocks: list[tuple[str, object]], title: str | None = None) -> Path:
    """A LibreOffice text: ("h1".."h3", text), ("p", text), ("list", items), ("table", rows)."""
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    for kind, content in blocks:
        if kind.startswith("h"):
            document.text.addElement(H(outlinelevel=int(kind[1:]), text=str(content)))
        elif kind == "list":
            items = List()
            for text in content:
                item = ListItem()
                item.addElement(P(text=text))
                items.addElement(item)
            document.text.addElement(items)
        elif kind == "table":
            document.text.addElement(_odf_table("Tableau", content))
        else:
            document.text.addElement(P(text=str(content)))
    if title:
        document.meta.addElement(dc.Title(text=title))
    document.save(str(path))
    return path


def _odf_table(name: str, rows: list[list[str]], filler_rows: int = 0):
    from odf import table
    from odf.text import P

    element = table.Table(name=name)
    for row in rows:
        line = table.TableRow()
        for text in row:
            cell = table.TableCell()
            if text:
                cell.addElement(P(text=text))
            line.addElement(cell)
        element.addElement(line)
    if filler_rows:  # what LibreOffice writes below the data: empty rows, repeated
        line = table.TableRow(numberrowsrepeated=filler_rows)
        line.addElement(table.TableCell(numbercolumnsrepeated=1024))
        element.addElement(line)
    return element


def write_ods(path: Path, sheets: dict[str, list[list[str]]], title: str | None = None) -> Path:
    """A LibreOffice spreadsheet; each sheet ends with a million repeated empty rows."""
    from odf import dc
    from odf.opendocument import OpenDocumentSpreadsheet

    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        document.spreadsheet.addElement(_odf_table(name, rows, filler_rows=1_048_000))
    if title:
        document.meta.addElement(dc.Title(text=title))
    document.save(str(path))
    return path


def write_odp(
    path: Path, slides: list[tuple[str, list[str]]], title: str | None = None,
    notes: str | None = None,
) -> Path:  # fmt: skip
    """A LibreOffice presentation: (title, text lines) per slide, optional speaker notes."""
    from odf import dc, draw, presentation, style
    from odf.opendocument import OpenDocumentPresentation
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = style.PageLayout(name="Mise-en-page")
    document.automaticstyles.addElement(layout)
    master = style.MasterPage(name="Standard", pagelayoutname=layout)
    document.masterstyles.addElement(master)

    def frame(kind: str, lines: list[str], y: str):
        box = draw.TextBox()
        for line in lines:
            box.addElement(P(text=line))
        element = draw.Frame(width="25cm", height="4cm", x="1cm", y=y, **{"class": kind})
        element.addElement(box)
        return element

    for number, (slide_title, lines) in enumerate(slides, start=1):
        page = draw.Page(masterpagename=master, name=f"diapo{number}")
        page.addElement(frame("title", [slide_title], "1cm"))
        page.addElement(frame("outline", lines, "6cm"))
        if notes:
            note = presentation.Notes()
            note.addElement(frame("notes", [notes], "1cm"))
            page.addElement(note)
        document.presentation.addElement(page)
    if title:
        document.meta.addElement(dc.Title(text=title))
    document.save(str(path))
    return path


def write_encrypted_odt(path: Path) -> Path:
    """An .odt saved with a password: the manifest declares encrypted content.

    No Python library writes ODF encryption, so the parts are rewritten the way
    LibreOffice stores them: content.xml scrambled, manifest:encryption-data beside it.
    """
    import os
    import re
    import zipfile

    plain = write_odt(path.with_suffix(".plain.odt"), [("p", "Texte confidentiel.")])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml":
                data = os.urandom(len(data))
            elif info.filename == "META-INF/manifest.xml":
                data = re.sub(
                    rb'(<manifest:file-entry manifest:full-path="content.xml"[^>]*?)/>',
                    rb'\1><manifest:encryption-data manifest:checksum-type="SHA1/1K" '
                    rb'manifest:checksum="AAAA"><manifest:algorithm '
                    rb'manifest:algorithm-name="Blowfish CFB" '
                    rb'manifest:initialisation-vector="AAAA"/>'
                    rb"</manifest:encryption-data></manifest:file-entry>",
                    data,
                )
                assert b"encryption-data" in data
            target.writestr(info, data)
    plain.unlink()
    return path


def write_epub(path: Path, title: str, chapters: list[tuple[str, str]]) -> Path:
    """An EPUB 3 book: (chapter title, HTML body) per chapter, with its navigation page."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("passerelle-test")
    book.set_title(title)
    book.set_language("fr")
    items = []
    for number, (chapter_title, body) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=chapter_title, file_name=f"chap{number}.xhtml", lang="fr")
        item.content = f"<h1>{chapter_title}</h1>{body}"
        book.add_item(item)
        items.append(item)
    book.toc = tuple(items)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    epub.write_epub(str(path), book)
    return path


def write_rtf(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """An RTF document through PyRTF: ("h1", text) headings and ("p", text) paragraphs."""
    import io

    from PyRTF.document.paragraph import Paragraph
    from PyRTF.Elements import Document, Section
    from PyRTF.Renderer import Renderer

    document = Document()
    styles = document.StyleSheet.ParagraphStyles
    section = Section()
    document.Sections.append(section)
    for kind, text in blocks:
        paragraph = Paragraph(styles.Heading1 if kind == "h1" else styles.Normal)
        paragraph.append(text)
        section.append(paragraph)
    out = io.StringIO()
    Renderer().Write(document, out)
    path.write_bytes(out.getvalue().encode("cp1252"))  # \ansi: Windows-1252 text
    return path


# --- zip bombs ---------------------------------------------------------------------------

ZIP_BOMB_MB = 300


def write_docx_bomb(path: Path, node_mb: int | None = None, total_mb: int = ZIP_BOMB_MB) -> Path:
    """A real .docx whose word/document.xml inflates to ~300 MB (a few hundred KB on disk).

    ``node_mb``: split the text into text nodes of that many MB (one paragraph each), the
    variant that slipped under the XML parser's own limit.
    """
    write_docx(path, [("p", "Modèle.")])
    return inflate_member(
        path,
        "word/document.xml",
        total_mb,
        node_mb,
        head=b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document '
        b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
        node=(b"<w:p><w:r><w:t>", b"</w:t></w:r></w:p>"),
        tail=b"</w:body></w:document>",
    )


def inflate_member(
    path: Path,
    member: str,
    total_mb: int,
    node_mb: int | None = None,
    head: bytes = b"<?xml version='1.0'?><x>",
    node: tuple[bytes, bytes] = (b"<t>", b"</t>"),
    tail: bytes = b"</x>",
) -> Path:
    """Rewrite the zip at ``path`` with ``member`` replaced by ``total_mb`` MB of text in
    nodes of ``node_mb`` MB (one node if None), deflated at level 9 (~1,000 times).

    Streamed, so building a 300 MB bomb never holds it in memory.
    """
    import zipfile

    chunk = b"A" * 1_000_000
    per_node = node_mb or total_mb
    original = path.with_suffix(path.suffix + ".orig")
    path.rename(original)
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(
        path, "w", zipfile.ZIP_DEFLATED, compresslevel=9
    ) as target:
        assert member in source.namelist(), source.namelist()
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info.filename, source.read(info))
                continue
            with target.open(member, "w", force_zip64=True) as stream:
                stream.write(head)
                for _ in range(0, total_mb, per_node):
                    stream.write(node[0])
                    for _ in range(per_node):
                        stream.write(chunk)
                    stream.write(node[1])
                stream.write(tail)
    original.unlink()
    return path


def write_lying_docx(path: Path, real_mb: int = 50) -> Path:
    """A .docx whose headers declare a 1 KB document.xml that really inflates to ``real_mb``."""
    import struct
    import zipfile

    template = write_docx(path.with_suffix(".template.docx"), [("p", "Modèle.")])
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(
        path, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                target.writestr(info.filename, b"<w:t>" + b"A" * real_mb * 1_000_000)
            else:
                target.writestr(info.filename, source.read(info))
    template.unlink()
    data = bytearray(path.read_bytes())
    name = b"word/document.xml"
    # the central directory entry (PK\x01\x02) and the local header (PK\x03\x04) both
    # carry the uncompressed size: rewrite both to 1,000 bytes
    for signature, size_offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_at = start + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, start + size_offset, 1000)
            start += 4
    path.write_bytes(bytes(data))
    return path


# --- scanned PDFs ------------------------------------------------------------------------

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
SCAN_DPI = 200


def render_page_image(lines: list[str], dpi: int = SCAN_DPI):
    """An A4 page image with ``lines`` printed in 12 pt black on white, as a scanner sees it."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    size = int(12 * dpi / 72)
    font = ImageFont.truetype(str(FONT), size) if FONT.exists() else ImageFont.load_default(size)
    y = dpi  # one-inch margin
    for line in lines:
        draw.text((dpi, y), line, fill=0, font=font)
        y += int(size * 1.6)
    return image


def write_scanned_pdf(path: Path, pages: list[list[str]], dpi: int = SCAN_DPI) -> Path:
    """A PDF of page images only, no text layer: what a scanner produces."""
    images = [render_page_image(lines, dpi) for lines in pages]
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def write_mixed_pdf(path: Path, pages: list[tuple[str, list[str]]]) -> Path:
    """A PDF mixing ("text", lines) pages with a text layer and ("scan", lines) image pages."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for kind, lines in pages:
        if kind == "text":
            source = io.BytesIO(pdf_bytes([lines]))
        else:
            source = io.BytesIO()
            render_page_image(lines).save(source, "PDF", resolution=SCAN_DPI)
        writer.add_page(PdfReader(source).pages[0])
    with open(path, "wb") as handle:
        writer.write(handle)
    return path
