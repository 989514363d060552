"""Web documents in the re-index plan: their own group, keyed by URL.

Each source is read (``sources/crawl.py``); then, as for files: a page whose content hash
is the indexed one is unchanged, a new or different one is (re)indexed, and an indexed
page of the source that is gone (404/410), no longer listed or reached, or now
disallowed by robots.txt is removed. A 304 is unchanged without a download. A page that
fails (a 500, a timeout) keeps its indexed version; a source that cannot be read whole
(site unreachable, sitemap failing) keeps all its pages. Both are reported as failures.
"""

from __future__ import annotations

import time
from functools import partial

from llama_index.core.storage.docstore import SimpleDocumentStore

from index.links import is_url
from index.pipeline import Plan, pipeline_key
from index.types import IngestFailure
from ingest.corpus import content_hash, make_document
from ingest.errors import DocumentError
from ingest.loaders import options_from_settings
from settings import Settings
from sources.config import WebSource
from sources.crawl import PageResult, read_source
from sources.extract import EXTRACTOR_VERSION, raw_document
from sources.fetch import Fetcher
from sources.state import PageState, WebState

SOURCE_KEY = "web_source"  # docstore metadata: the URL of the source that found the page
LISTED_KEY = "web_listed"  # "1" when that source is listed in sources.toml


def indexed_pages(docstore: SimpleDocumentStore) -> dict[str, dict]:
    """Metadata of every indexed web document, by URL."""
    out = {}
    for source in docstore.get_all_document_hashes().values():
        if is_url(source):
            doc = docstore.get_document(source, raise_error=False)
            out[source] = dict(doc.metadata) if doc is not None else {}
    return out


class WebPlanner:
    """Adds the web group to a ``Plan``: one call of ``plan_source`` per source."""

    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        docstore: SimpleDocumentStore,
        state: WebState,
        fetcher: Fetcher,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.docstore = docstore
        self.state = state
        self.fetcher = fetcher
        self.indexed = indexed_pages(docstore)
        self.seen: set[str] = set()  # documents planned (or kept) this run
        # validators are sent only for the version the docstore holds
        state.pages = {
            k: v for k, v in state.pages.items() if docstore.get_document_hash(v.url) == v.hash
        }
        self.key = f"{pipeline_key(settings)}/web{EXTRACTOR_VERSION}"

    def plan_source(self, source: WebSource) -> None:
        """Read ``source`` and plan each of its pages."""
        report = self.plan.report
        pages = source.max_pages or self.settings.web_max_pages
        result = read_source(source, self.fetcher, self.state, pages)
        owned = {url for url, meta in self.indexed.items() if meta.get(SOURCE_KEY) == source.url}
        for page in result.pages:
            if page.url in self.seen:
                continue
            self.seen.add(page.url)
            if page.outcome == "not_modified":
                report.unchanged.append(page.url)
            elif page.outcome == "fetched":
                self._plan_fetched(page, source)
            elif page.outcome == "failed":
                report.failed.append(IngestFailure(page.url, page.error))
            elif page.url in self.indexed:  # gone: removed like a deleted file
                self._remove(page.url)
        if result.error:
            report.failed.append(IngestFailure(source.url, result.error))
            self.seen |= owned
        else:
            for url in sorted(owned - self.seen):
                self._remove(url)

    def prune(self, sources: list[WebSource]) -> None:
        """Remove the pages of sources that ``sources.toml`` no longer lists."""
        listed = {s.url for s in sources}
        for url, meta in sorted(self.indexed.items()):
            if meta.get(LISTED_KEY) == "1" and meta.get(SOURCE_KEY) not in listed:
                self._remove(url)

    def _remove(self, url: str) -> None:
        if url not in self.plan.report.removed:
            self.plan.report.removed.append(url)
        self.seen.add(url)
        self.state.forget(url)

    def _plan_fetched(self, page: PageResult, source: WebSource) -> None:
        report = self.plan.report
        response = page.response
        assert response is not None  # a fetched page has its response
        try:
            raw = raw_document(response, options_from_settings(self.settings))
        except DocumentError as exc:
            report.failed.append(IngestFailure(page.url, str(exc)))
            return
        except Exception as exc:  # a parser crash must not stop the other pages
            report.failed.append(IngestFailure(page.url, f"{type(exc).__name__}: {exc}"))
            return
        meta = {"url": page.url, "collection": source.collection}
        extra = {SOURCE_KEY: source.url, LISTED_KEY: "1" if source.listed else ""}
        text = "\n\n".join([raw.title or "", *raw.pages])
        doc_hash = content_hash(text.encode(), {**meta, **extra, "source": page.url}, self.key)
        self.state.pages[page.requested] = PageState(
            page.url, doc_hash, response.etag, response.last_modified, page.links
        )
        old = self.docstore.get_document_hash(page.url)
        if old == doc_hash:
            report.unchanged.append(page.url)
            return
        (report.updated if old else report.added).append(page.url)
        load = partial(make_document, page.url, raw, meta, doc_hash, time.time(), extra)
        self.plan.pages.append((page.url, load))


def plan_web(
    settings: Settings,
    plan: Plan,
    docstore: SimpleDocumentStore,
    state: WebState,
    sources: list[WebSource],
    prune: bool,
) -> int:
    """Add ``sources`` to ``plan``; with ``prune``, also remove the pages of sources no
    longer listed. Returns the number of HTTP requests sent."""
    with Fetcher(settings) as fetcher:
        planner = WebPlanner(settings, plan, docstore, state, fetcher)
        for source in sources:
            planner.plan_source(source)
        if prune:
            planner.prune(sources)
        return fetcher.requests
