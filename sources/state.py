"""What the last runs learnt of each fetched URL: its validators (ETag, Last-Modified),
the URL it ended at, the content hash it was indexed with and its links.

Kept in ``<index dir>/web_sources.json``, saved atomically after a run. It is a cache:
a 304 is trusted only when the docstore still holds the page with the hash recorded
here; otherwise the page is fetched again in full. Losing the file costs one full
download of each page, never a re-embedding (the content hash decides that).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = "web_sources.json"


@dataclass
class PageState:
    """One requested URL as last fetched."""

    url: str  # where it ended (same-site redirects followed): the document's identity
    hash: str = ""  # content hash of the document built from that response
    etag: str | None = None
    last_modified: str | None = None
    links: list[str] = field(default_factory=list)  # same-site links (crawls)


class WebState:
    """Pages by requested URL, and which sources were sitemaps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pages: dict[str, PageState] = {}
        self.sitemaps: set[str] = set()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.pages = {k: PageState(**v) for k, v in data.get("pages", {}).items()}
            self.sitemaps = set(data.get("sitemaps", []))
        except (OSError, ValueError, TypeError):
            pass  # missing or damaged: every page is fetched in full once

    def save(self) -> None:
        """Atomic save: a crash leaves the previous file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {
            "pages": {k: asdict(v) for k, v in sorted(self.pages.items())},
            "sitemaps": sorted(self.sitemaps),
        }
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def forget(self, url: str) -> None:
        """Drop every entry that ends at document ``url`` (removed from the index)."""
        for key in [k for k, v in self.pages.items() if v.url == url or k == url]:
            del self.pages[key]
