"""``sources.toml``: the web sources that ``passerelle ingest`` reads along with the corpus.

```toml
[[source]]
url = "https://www.example.org/sitemap.xml"   # a sitemap, a page, or a site root
depth = 1                                     # links followed from a page (0: the page only)
collection = "public"                         # default: public
max_pages = 200                               # default: PASSERELLE_WEB_MAX_PAGES
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from index.collections import DEFAULT_COLLECTION, CollectionError, check_name
from ingest.errors import DocumentError

SOURCES_FILE = "sources.toml"


@dataclass(frozen=True)
class WebSource:
    """One web source: where to start, how far to follow links, where its pages go.

    ``listed``: it comes from ``sources.toml`` (its pages are removed when it is taken
    out of the file); a URL given on the command line is not listed.
    """

    url: str
    depth: int = 0
    collection: str = DEFAULT_COLLECTION
    max_pages: int | None = None
    listed: bool = False


def normalise_url(url: str) -> str:
    """``url`` without its fragment, with a lower-case scheme and host and a path."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DocumentError(f"not an http(s) URL: {url!r}")
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def make_source(
    url: str,
    depth: int = 0,
    collection: str | None = None,
    max_pages: int | None = None,
    listed: bool = False,
) -> WebSource:
    """A checked ``WebSource``; raises ``DocumentError`` with a plain reason."""
    if depth < 0 or (max_pages is not None and max_pages < 1):
        raise DocumentError(f"{url}: depth must be >= 0 and max_pages >= 1")
    try:
        name = check_name(collection) if collection else DEFAULT_COLLECTION
    except CollectionError as exc:
        raise DocumentError(f"{url}: {exc}") from exc
    return WebSource(normalise_url(url), depth, name, max_pages, listed)


def sources_path(corpus_dir: Path, configured: Path | None) -> Path:
    """Where ``sources.toml`` is: the configured file, else beside the corpus folder."""
    return Path(configured) if configured else Path(corpus_dir).resolve().parent / SOURCES_FILE


def read_sources(path: Path) -> list[WebSource]:
    """The sources listed in ``path`` (none when it is missing); ``DocumentError`` if broken."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path.name} is not valid TOML ({exc})") from exc
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise DocumentError(f"{path.name}: write each source as a [[source]] table")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise DocumentError(f"{path.name}: every [[source]] needs a url")
        try:
            depth = int(entry.get("depth", 0))
            pages = int(entry["max_pages"]) if "max_pages" in entry else None
        except (TypeError, ValueError) as exc:
            raise DocumentError(f"{path.name}: {entry['url']}: {exc}") from exc
        out.append(make_source(entry["url"], depth, entry.get("collection"), pages, True))
    return out
