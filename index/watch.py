"""``passerelle ingest --watch``: re-index a folder each time its files change.

watchfiles (Rust ``notify``) reports changes; a batch is complete once nothing changed
for ``watch_debounce_ms``, then the folder is mirrored into the index (the plan compares
hashes, so only what changed is embedded). Web sources are left alone: they are read by
a plain ``passerelle ingest``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from index.service import IndexService, IngestBusy
from index.types import IngestReport

log = logging.getLogger("passerelle.watch")
ReportFn = Callable[[IngestReport], None]


def watch(
    service: IndexService,
    folder: Path,
    on_report: ReportFn,
    stop: threading.Event | None = None,
) -> None:
    """Ingest ``folder`` now, then after each debounced batch of changes, until ``stop``
    is set (or Ctrl+C). ``on_report`` receives every run's report."""
    from watchfiles import DefaultFilter
    from watchfiles import watch as watch_changes

    folder = Path(folder)
    on_report(service.ingest(folder, read_sources=False))
    for _changes in watch_changes(
        folder,
        watch_filter=DefaultFilter(),
        debounce=service.settings.watch_debounce_ms,
        step=100,
        stop_event=stop,
        rust_timeout=1000,
        yield_on_timeout=False,
    ):
        try:
            on_report(service.ingest(folder, read_sources=False))
        except IngestBusy:  # another ingest runs: the next change (or run) catches up
            log.warning("another ingest of this index is running; changes wait for it")
