"""Which pages a web source has, fetched conditionally: a sitemap's pages, or the pages
reached from a start page by following same-site links up to the source's depth."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import urljoin, urlsplit

from ingest.errors import DocumentError
from ingest.loaders import LOADERS
from sources.config import WebSource, normalise_url
from sources.fetch import Fetcher, FetchError, Response, SiteUnreachable, same_site
from sources.sitemap import Sitemap, parse_sitemap
from sources.state import PageState, WebState

MAX_SITEMAPS = 50  # nested sitemaps read for one source
Outcome = Literal["fetched", "not_modified", "gone", "failed"]


class SourceError(RuntimeError):
    """The source cannot be read whole (its sitemap fails): its pages are all kept."""


@dataclass
class PageResult:
    """One page request: ``fetched`` (200, body in ``response``), ``not_modified`` (304),
    ``gone`` (404/410) or ``failed`` (any other status or error, in ``error``)."""

    requested: str
    url: str  # the document's identity: the URL after same-site redirects
    outcome: Outcome
    response: Response | None = None  # when fetched
    error: str = ""
    links: list[str] = field(default_factory=list)


@dataclass
class SourceResult:
    """What reading one source found. ``error`` set: the source could not be read whole
    (site unreachable, sitemap failing), so none of its indexed pages may be removed."""

    source: WebSource
    pages: list[PageResult] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    error: str | None = None


def fetch_page(url: str, fetcher: Fetcher, previous: PageState | None) -> PageResult:
    """GET ``url``, conditional when ``previous`` holds validators."""
    etag = previous.etag if previous else None
    modified = previous.last_modified if previous else None
    known = previous.url if previous else url
    try:
        response = fetcher.get(url, etag, modified)
    except FetchError as exc:
        return PageResult(url, known, "failed", error=str(exc))
    if response.status == 304 and previous is not None:
        return PageResult(url, previous.url, "not_modified")
    if response.status == 200:
        return PageResult(url, normalise_url(response.url), "fetched", response)
    outcome: Outcome = "gone" if response.status in (404, 410) else "failed"
    return PageResult(url, known, outcome, error=f"HTTP {response.status}")


def links_of(html: bytes, base: str) -> list[str]:
    """Same-site links of a page that may be documents (no images, scripts, archives)."""
    from bs4 import BeautifulSoup

    out: list[str] = []
    for anchor in BeautifulSoup(html, "html.parser").find_all("a", href=True):
        try:
            url = normalise_url(urljoin(base, str(anchor["href"])))
        except DocumentError:
            continue
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        readable = not suffix or suffix in LOADERS or suffix in (".php", ".asp", ".aspx")
        if readable and same_site(url, base) and url not in out:
            out.append(url)
    return out


def read_source(
    source: WebSource, fetcher: Fetcher, state: WebState, max_pages: int
) -> SourceResult:
    """Every page of ``source``, each fetched once (robots.txt-disallowed ones never)."""
    result = SourceResult(source)
    try:
        start = fetch_page(source.url, fetcher, state.pages.get(source.url))
        sitemap = parse_sitemap(start.response) if start.response is not None else None
        if sitemap is not None and start.response is not None:
            state.sitemaps.add(source.url)
            for url in _sitemap_pages(start.response.url, sitemap, fetcher, max_pages):
                if fetcher.allowed(url):
                    result.pages.append(fetch_page(url, fetcher, state.pages.get(url)))
                else:
                    result.disallowed.append(url)
        elif start.outcome == "failed" or (
            start.outcome == "gone" and source.url in state.sitemaps
        ):
            result.error = f"cannot read {source.url}: {start.error}"
        else:
            state.sitemaps.discard(source.url)
            _crawl(source, start, fetcher, state, max_pages, result)
    except SiteUnreachable as exc:
        result.error = f"site unreachable: {exc}; its indexed pages are kept"
    except SourceError as exc:
        result.error = f"{exc}; its indexed pages are kept"
    return result


def _sitemap_pages(url: str, sitemap: Sitemap, fetcher: Fetcher, max_pages: int) -> list[str]:
    """Page URLs of a sitemap and of the sitemaps it lists (same site only)."""
    pages: list[str] = []
    todo = deque([(url, sitemap)])
    seen = {url}
    while todo and len(pages) < max_pages:
        at, current = todo.popleft()
        for page in current.pages:
            try:
                page = normalise_url(urljoin(at, page))
            except DocumentError:
                continue
            if same_site(page, url) and page not in pages:
                pages.append(page)
        for nested in current.sitemaps:
            nested = urljoin(at, nested)
            if nested in seen or not same_site(nested, url) or len(seen) >= MAX_SITEMAPS:
                continue
            seen.add(nested)
            try:
                response = fetcher.get(nested)
            except FetchError as exc:
                raise SourceError(f"sitemap {nested}: {exc}") from exc
            parsed = parse_sitemap(response) if response.status == 200 else None
            if parsed is None:
                raise SourceError(f"sitemap {nested}: HTTP {response.status}, not a sitemap")
            todo.append((response.url, parsed))
    return pages[:max_pages]


def _crawl(
    source: WebSource,
    start: PageResult,
    fetcher: Fetcher,
    state: WebState,
    max_pages: int,
    result: SourceResult,
) -> None:
    """Breadth-first from the start page, up to ``source.depth`` links away."""
    queue = deque([(start, 0)])
    seen = {source.url, start.url}
    while queue:
        page, depth = queue.popleft()
        if page.response is not None and "html" in (page.response.content_type or "html"):
            page.links = links_of(page.response.body, page.url)
        elif page.outcome == "not_modified":
            page.links = list(state.pages[page.requested].links)
        result.pages.append(page)
        if depth >= source.depth:
            continue
        for link in page.links:
            if link in seen or len(seen) >= max_pages:
                continue
            seen.add(link)
            if fetcher.allowed(link):
                queue.append((fetch_page(link, fetcher, state.pages.get(link)), depth + 1))
            else:
                result.disallowed.append(link)
