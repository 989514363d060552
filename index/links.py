"""Document identities and links: a web document's identity is its URL, a file's its path
in the corpus folder. A citation leads back to the page URL of a web document, else to the
document file as served by the app (``/documents/<path>#page=N``, ``server/documents.py``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

DOCUMENTS_PREFIX = "/documents/"


def is_url(source: str) -> bool:
    """True for a web document (its identity is its URL), False for a corpus file."""
    return source.startswith(("http://", "https://"))


def document_link(source: str, page: int | None = None) -> str:
    """The link of document ``source`` (a URL, or a path relative to the corpus)."""
    if is_url(source):
        return source
    link = DOCUMENTS_PREFIX + quote(source)
    return f"{link}#page={int(page)}" if page else link


def with_links(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``citations`` (dicts of ``answer.types.Citation``), each given its ``url``."""
    for c in citations:
        c["url"] = document_link(str(c["source"]), c.get("page"))
    return citations
