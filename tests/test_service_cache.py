"""IndexService builds its retriever and reads its docstore once, not on every request,
and still sees every ingest (its own, or another process's)."""

from __future__ import annotations

import fcntl
import shutil
from contextlib import nullcontext

import pytest

import index.retrieve as retrieve_module
from index.service import IndexService
from settings import ROOT, Settings

PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "corpus"
QUESTION = "Qui est la directrice de la Mission Bassin Minier ?"


def test_repeated_searches_reuse_one_retriever(
    index_service: IndexService, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = index_service.search(QUESTION, k=5)
    built: list[tuple] = []
    original = retrieve_module.build_retriever
    monkeypatch.setattr(
        retrieve_module,
        "build_retriever",
        lambda *a, **kw: built.append(a) or original(*a, **kw),
    )
    retriever = index_service.retriever(5)
    for _ in range(3):
        assert index_service.search(QUESTION, k=5) == first
    assert built == [] and index_service.retriever(5) is retriever
    # another k is another retriever, built once (9: no other test of the session uses it)
    index_service.search(QUESTION, k=9)
    index_service.search(QUESTION, k=9)
    assert len(built) == 1
    assert index_service.docstore() is index_service.docstore()


def test_an_ingest_rebuilds_what_it_changed(settings: Settings) -> None:
    service = IndexService(settings)
    service.ingest()
    before = service.retriever(5)
    docstore = service.docstore()
    assert len(service.documents()) == 2
    shutil.copy(PIAF / "Hongre.md", settings.corpus_dir / "Hongre.md")
    service.ingest()
    top = service.search("cheval castré hongre", k=1)[0]
    assert top.source == "Hongre.md"
    assert service.retriever(5) is not before
    assert service.docstore() is not docstore
    assert "Hongre.md" in {d["source"] for d in service.documents()}
    assert service.document_text("Hongre.md")


def test_another_process_ingest_is_seen_once_it_completes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = IndexService(settings)
    writer.ingest()
    reader = IndexService(settings)  # a server holding the index
    assert reader.search("cheval castré hongre", k=1)[0].source != "Hongre.md"
    shutil.copy(PIAF / "Hongre.md", settings.corpus_dir / "Hongre.md")
    keyword = reader.keyword_index()
    lock = open(settings.index_dir / "ingest.lock", "w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)  # what the other process holds while it ingests
    try:
        monkeypatch.setattr(writer, "_ingest_lock", nullcontext)  # runs inside the held lock
        writer.ingest()
        assert reader.keyword_index() is keyword  # not rebuilt after each of its batches
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    assert reader.keyword_index() is not keyword
    assert reader.search("cheval castré hongre", k=1)[0].source == "Hongre.md"
    assert reader.status()["documents"] == 3
