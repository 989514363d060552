"""Small document fixtures built on the fly: PDF (hand-written writer), DOCX, HTML, bad files.

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


def write_docx(path: Path, blocks: list[tuple[str, str]], title: str | None = None) -> Path:
    """A Word file; ``blocks`` are (kind, text) with kind "h1".."h3", "p" or "title"."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        else:
            document.add_paragraph(text)
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
