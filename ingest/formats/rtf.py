"""Rich Text Format (.rtf) through striprtf."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import DocumentError
from ingest.raw import LoadOptions, RawDocument, decode_text

_TITLE = re.compile(r"\{\\info.*?\{\\title\s?((?:[^{}\\]|\\.)*)\}", re.DOTALL)
_CODEPAGE = re.compile(r"\\ansicpg(\d+)")


def load_rtf(path: Path, options: LoadOptions) -> RawDocument:
    """The document's text (striprtf drops formatting; \\info's title is the title)."""
    from striprtf.striprtf import rtf_to_text

    source = decode_text(path.read_bytes())
    if not source.lstrip().startswith("{\\rtf"):
        raise DocumentError("corrupt or unreadable RTF file (it does not start with {\\rtf)")
    codepage = _CODEPAGE.search(source[:2000])
    encoding = f"cp{codepage.group(1)}" if codepage else "cp1252"
    try:
        # one RTF paragraph (\\par) per line: blank lines make them paragraphs for the chunker
        text = re.sub(r"\n", "\n\n", rtf_to_text(source, encoding=encoding, errors="replace"))
        match = _TITLE.search(source)
        title = rtf_to_text("{\\rtf1 " + match.group(1) + "}", encoding=encoding) if match else None
    except (LookupError, ValueError, IndexError) as exc:
        raise DocumentError(f"corrupt or unreadable RTF file ({exc})") from exc
    return RawDocument(pages=[text], title=(title or "").strip() or None)
