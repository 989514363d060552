"""A fetched page as a ``RawDocument``: the main content of HTML pages, the existing
loaders for documents (PDF, Word, …) linked from a site.

Menus and page furniture go first (``strip_boilerplate``): ``<nav>``, ``<aside>``,
``<form>``, ``<menu>``, ``<dialog>``, elements whose ARIA role is navigation, banner,
contentinfo, search or complementary, and the page's own ``<header>`` and ``<footer>``
(those inside ``<main>`` or ``<article>`` stay). Then trafilatura finds the main content
in what is left (it also drops menus, cookie banners and link lists that carry no such
markup) and writes it as Markdown, headings kept. When trafilatura is not installed or
finds nothing (a very short page), the corpus's HTML path (``html_to_text``) reads the
stripped page: that fallback keeps all remaining visible text.
"""

from __future__ import annotations

import logging
import mimetypes
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ingest.errors import DocumentError
from ingest.formats.text import html_to_text
from ingest.loaders import LOADERS, load_raw
from ingest.raw import LoadOptions, RawDocument, decode_text
from sources.fetch import Response

log = logging.getLogger("passerelle.sources")

# Bumped when extraction changes what is kept of the same page: every page is re-embedded.
EXTRACTOR_VERSION = 1
HTML_TYPES = ("text/html", "application/xhtml+xml", "")
BOILERPLATE_TAGS = ["nav", "aside", "form", "menu", "dialog"]
BOILERPLATE_ROLES = ["navigation", "banner", "contentinfo", "search", "complementary"]


def page_title(html: str) -> str | None:
    """The page's ``<title>`` (through the corpus's HTML path)."""
    return html_to_text(html)[1]


def trafilatura_text(html: str, url: str) -> str | None:
    """Main content as Markdown (headings, lists, tables), None if none was found."""
    try:
        import trafilatura
    except ImportError:  # documented fallback: BeautifulSoup below
        return None
    text = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        favor_recall=True,
        deduplicate=False,
    )
    return text if text and text.strip() else None


def strip_boilerplate(html: str) -> str:
    """``html`` without menus, side bars, forms and the page's header and footer."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(BOILERPLATE_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": BOILERPLATE_ROLES}):
        tag.decompose()
    for tag in soup(["header", "footer"]):
        if tag.decomposed or tag.find_parent(["main", "article"]) is None:
            tag.decompose()
    return str(soup)


def main_content(html: str, url: str) -> RawDocument:
    """The page's main text and title."""
    stripped = strip_boilerplate(html)
    text = trafilatura_text(stripped, url)
    if text is None:
        text = html_to_text(stripped)[0]
    return RawDocument(pages=[text], title=page_title(html))


def _suffix(response: Response) -> str:
    suffix = PurePosixPath(urlsplit(response.url).path).suffix.lower()
    if suffix in LOADERS:
        return suffix
    return (mimetypes.guess_extension(response.content_type) or "").lower()


def raw_document(response: Response, options: LoadOptions) -> RawDocument:
    """What a fetched page or document says; ``DocumentError`` for types we cannot read."""
    if response.content_type in HTML_TYPES:
        return main_content(decode_text(response.body), response.url)
    if response.content_type == "text/plain":
        return RawDocument(pages=[decode_text(response.body)])
    suffix = _suffix(response)
    if suffix not in LOADERS:
        raise DocumentError(f"unsupported content type {response.content_type or '(none)'}")
    with tempfile.TemporaryDirectory(prefix="passerelle-web-") as folder:
        path = Path(folder) / f"document{suffix}"
        path.write_bytes(response.body)
        return load_raw(path, options)
