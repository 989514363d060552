"""Plain text, Markdown and HTML (also used for the chapters of EPUB books)."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.raw import LoadOptions, RawDocument, decode_text


def load_text(path: Path, options: LoadOptions | None = None) -> RawDocument:
    """Plain text or Markdown; a leading ``# Title`` line gives the title."""
    text = decode_text(path.read_bytes())
    match = re.match(r"\s*#\s+(.+)", text)
    return RawDocument(pages=[text], title=match.group(1).strip() if match else None)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page (headings as Markdown headings) and its <title>."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    # <head> is optional in HTML: look for the page's <title> anywhere but inside an <svg>
    title_tag = next((t for t in soup.find_all("title") if not t.find_parent("svg")), None)
    title = title_tag.get_text(strip=True) if title_tag else None
    for tag in soup(["script", "style", "noscript", "template", "svg", "head", "title"]):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.insert_before("\n\n" + "#" * level + " ")
            heading.insert_after("\n\n")
    for block in soup.find_all(["p", "li", "div", "br", "tr", "section", "article"]):
        block.insert_after("\n\n")
    return soup.get_text(), title or None


def load_html(path: Path, options: LoadOptions | None = None) -> RawDocument:
    """HTML through BeautifulSoup: visible text only, headings kept as Markdown headings."""
    text, title = html_to_text(decode_text(path.read_bytes()))
    return RawDocument(pages=[text], title=title)
