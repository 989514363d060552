"""Re-indexing mirrors the corpus folder: adds, updates, removes, and nothing else.

The seed corpus is embedded once per module; each test starts from a copy of that index
(``settings.data_dir``) over its own copy of the corpus, so only what a test changes is
embedded again. After every run the index is compared, chunk id by chunk id, with what a
clean ingest of the same folder stores (``expected_chunk_ids``).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from docfactory import expected_chunk_ids, write_toml_metadata

from index.pipeline import load_docstore
from index.service import IndexService
from ingest.sentences import UNITS
from settings import ROOT, Settings

MISSION = "mission-bassin-minier-international.txt"
BROCHURE = "cooperation-transfrontaliere-nord-pas-de-calais.txt"
SEED = {MISSION, BROCHURE}
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "corpus"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory):
    """The seed corpus ingested once: (data dir, first report, chunk ids)."""
    root = tmp_path_factory.mktemp("reindex-template")
    settings = Settings(data_dir=root / "data", corpus_dir=root / "corpus")
    shutil.copytree(ROOT / "corpus", settings.corpus_dir)
    service = IndexService(settings)
    report = service.ingest()
    ids = sorted(service.collection.get()["ids"])
    return settings.data_dir, report, ids


@pytest.fixture
def service(settings: Settings, template) -> IndexService:
    """A service whose index is a copy of the template's (the seed corpus, indexed)."""
    shutil.copytree(template[0], settings.data_dir)
    return IndexService(settings)


def writable(path: Path) -> Path:
    """The seed files are read-only; the copies a test edits must not be."""
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return path


def stored(service: IndexService) -> dict[str, list]:
    data = service.collection.get(include=["documents", "metadatas"])
    return {"ids": data["ids"], "texts": data["documents"], "metas": data["metadatas"]}


def vectors_of(service: IndexService, source: str) -> int:
    """Texts the model reads for one document: its sentence units, and its chunks without
    units (a chunk with units gets their mean, ``settings.chunk_vectors``)."""
    where = {"source": source}
    chunks = service.collection.get(where=where)["metadatas"]
    alone = sum(1 for m in chunks if not m.get(UNITS))
    return alone + len(service.sentence_collection.get(where=where)["ids"])


def assert_mirrors(service: IndexService, sources: set[str]) -> None:
    """Chunk and sentence vectors, lexical index and docstore hold what a clean ingest would."""
    expected = expected_chunk_ids(service.settings)
    data = stored(service)
    assert sorted(data["ids"]) == expected
    assert service.collection.count() == len(expected)
    sentences = service.sentence_collection.get(include=["metadatas"])
    assert sorted(sentences["ids"]) == expected_chunk_ids(service.settings, sentences=True)
    assert {m["chunk_id"] for m in sentences["metadatas"]} <= set(expected)
    assert len(set(data["texts"])) == len(data["texts"]), "duplicate chunk texts"
    assert {m["source"] for m in data["metas"]} == sources
    keyword = service.keyword_index()
    assert sorted(keyword.ids) == expected
    assert {m["source"] for m in keyword.metadatas} == sources
    docstore = load_docstore(service.docstore_path)
    assert set(docstore.get_all_document_hashes().values()) == sources
    assert service.status()["documents"] == len(sources)


def test_first_ingest_indexes_the_seed_corpus(settings: Settings, template) -> None:
    _, report, ids = template
    assert sorted(report.added) == sorted(SEED)
    assert report.updated == report.unchanged == report.removed == report.failed == []
    assert report.chunks == len(ids) > 5
    assert ids == expected_chunk_ids(settings)


def test_second_run_changes_nothing_and_embeds_nothing(
    service: IndexService, template, embedded: list[str]
) -> None:
    before = stored(service)
    docstore_bytes = service.docstore_path.read_bytes()
    report = service.ingest()
    assert sorted(report.unchanged) == sorted(SEED)
    assert report.added == report.updated == report.removed == report.failed == []
    assert embedded == []
    assert report.seconds < 5
    assert report.chunks == len(template[2])
    assert stored(service) == before
    assert service.docstore_path.read_bytes() == docstore_bytes
    assert_mirrors(service, SEED)


def test_touching_a_file_changes_nothing(service: IndexService, embedded: list[str]) -> None:
    for name in SEED:
        os.utime(service.settings.corpus_dir / name, (2_000_000_000, 2_000_000_000))
    report = service.ingest()
    assert sorted(report.unchanged) == sorted(SEED) and not report.updated
    assert embedded == []


def test_changed_file_replaces_its_chunks(service: IndexService, embedded: list[str]) -> None:
    path = writable(service.settings.corpus_dir / MISSION)
    text = path.read_text(encoding="utf-8")
    assert "Catherine Bertram" in text
    path.write_text(text.replace("Catherine Bertram", "Jeanne Vasseur"), encoding="utf-8")
    old_ids = set(stored(service)["ids"])

    report = service.ingest()
    assert report.updated == [MISSION] and report.unchanged == [BROCHURE]
    assert report.added == report.removed == report.failed == []
    # only the changed document was embedded again: its sentence units (its chunks get
    # their units' mean) and its chunks without units
    new = stored(service)
    mission_chunks = [t for t, m in zip(new["texts"], new["metas"], strict=True)
                      if m["source"] == MISSION]  # fmt: skip
    mission_sentences = service.sentence_collection.get(where={"source": MISSION})["documents"]
    assert mission_sentences and all(s in "\n".join(mission_chunks) for s in mission_sentences)
    assert len(embedded) == vectors_of(service, MISSION)
    assert all(any(unit in text for text in embedded) for unit in mission_sentences)
    assert not any("Catherine Bertram" in t for t in new["texts"])
    assert not any("Catherine Bertram" in t for t in service.keyword_index().texts)
    for passage in service.search("Catherine Bertram directrice contact", k=5):
        assert "Catherine Bertram" not in passage.text
    top = service.search("Jeanne Vasseur", k=1, fusion="bm25")[0]
    assert top.source == MISSION and "Jeanne Vasseur" in top.text
    # the brochure's chunks were left alone
    assert {i for i in old_ids if i.startswith(BROCHURE)} <= set(new["ids"])
    assert "Jeanne Vasseur" in service.document_text(MISSION)
    assert_mirrors(service, SEED)


def test_added_file_is_indexed(service: IndexService, embedded: list[str]) -> None:
    shutil.copy(PIAF / "Hongre.md", service.settings.corpus_dir / "Hongre.md")
    report = service.ingest()
    assert report.added == ["Hongre.md"] and sorted(report.unchanged) == sorted(SEED)
    assert embedded and all(t.startswith("Hongre") for t in embedded)  # title first
    top = service.search("cheval castré hongre", k=1)[0]
    assert top.source == "Hongre.md" and top.title == "Hongre"
    assert_mirrors(service, SEED | {"Hongre.md"})


def test_removed_file_disappears_from_dense_and_bm25(service: IndexService) -> None:
    (service.settings.corpus_dir / BROCHURE).unlink()
    report = service.ingest()
    assert report.removed == [BROCHURE] and report.unchanged == [MISSION]
    assert service.collection.get(where={"source": BROCHURE})["ids"] == []
    assert service.sentence_collection.get(where={"source": BROCHURE})["ids"] == []
    keyword = service.keyword_index()
    assert all(m["source"] != BROCHURE for m in keyword.metadatas)
    assert not any("franco-wallons" in t for t in keyword.texts)
    for fusion in ("dense", "sentences", "bm25", "ngrams", "rrf", "relative"):
        passages = service.search("terrils franco-wallons biodiversité", k=5, fusion=fusion)
        assert all(p.source == MISSION for p in passages), fusion
    assert service.document_text(BROCHURE) is None
    assert_mirrors(service, {MISSION})
    # a later run has nothing left to remove
    again = service.ingest()
    assert again.removed == [] and again.unchanged == [MISSION]


def test_a_second_service_sees_the_removal(service: IndexService) -> None:
    """A server process holding the index notices another process's ingest."""
    reader = IndexService(service.settings)
    assert any(m["source"] == BROCHURE for m in reader.keyword_index().metadatas)
    (service.settings.corpus_dir / BROCHURE).unlink()
    service.ingest()
    assert all(m["source"] != BROCHURE for m in reader.keyword_index().metadatas)
    assert all(p.source == MISSION for p in reader.search("terrils franco-wallons", k=3))


def test_title_edit_in_metadata_updates_that_document(
    service: IndexService, embedded: list[str]
) -> None:
    settings = service.settings
    writable(settings.corpus_dir / "metadata.toml")
    write_toml_metadata(
        settings.corpus_dir,
        {
            MISSION: {"title": "Mission Bassin Minier : l'international"},
            BROCHURE: {
                "title": "La coopération transfrontalière dans le Nord-Pas de Calais "
                "(Interreg France-Wallonie-Vlaanderen)",
                "url": "",
                "original": "004_e8f85599edcc36f1.txt",
            },
        },
    )
    report = service.ingest()
    assert report.updated == [MISSION] and report.unchanged == [BROCHURE]
    titles = {m["title"] for m in stored(service)["metas"] if m["source"] == MISSION}
    assert titles == {"Mission Bassin Minier : l'international"}
    assert service.search("Catherine Bertram", k=1)[0].title == (
        "Mission Bassin Minier : l'international"
    )
    assert len(embedded) == vectors_of(service, MISSION)  # that document only
    assert_mirrors(service, SEED)


def test_dry_run_reports_the_plan_and_changes_nothing(
    service: IndexService, embedded: list[str]
) -> None:
    corpus = service.settings.corpus_dir
    writable(corpus / MISSION).write_text("Texte entièrement nouveau.", encoding="utf-8")
    (corpus / BROCHURE).unlink()
    shutil.copy(PIAF / "Hongre.md", corpus / "Hongre.md")
    before = stored(service)
    docstore_bytes = service.docstore_path.read_bytes()

    report = service.ingest(dry_run=True)
    assert report.dry_run
    assert report.added == ["Hongre.md"]
    assert report.updated == [MISSION]
    assert report.removed == [BROCHURE]
    assert report.chunks == len(before["ids"])
    assert embedded == []
    assert stored(service) == before
    assert service.docstore_path.read_bytes() == docstore_bytes

    report = service.ingest()  # the real run then does what was planned
    assert (report.added, report.updated, report.removed) == (["Hongre.md"], [MISSION], [BROCHURE])
    assert_mirrors(service, {MISSION, "Hongre.md"})


def test_cli_dry_run_prints_the_plan(
    service: IndexService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cli import main
    from settings import get_settings

    corpus = service.settings.corpus_dir
    (corpus / BROCHURE).unlink()
    shutil.copy(PIAF / "Hongre.md", corpus / "Hongre.md")
    before = stored(service)
    monkeypatch.setenv("PASSERELLE_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("PASSERELLE_CORPUS_DIR", str(corpus))
    get_settings.cache_clear()
    try:
        assert main(["ingest", "--dry-run"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "+ Hongre.md" in out and f"- {BROCHURE}" in out
    assert "1 new, 0 changed, 1 unchanged, 1 removed would be" in out
    assert stored(service) == before


def test_chunk_settings_change_reindexes_everything(service: IndexService) -> None:
    settings = service.settings.model_copy(update={"chunk_size": 600, "chunk_overlap": 100})
    resized = IndexService(settings)
    report = resized.ingest()
    assert sorted(report.updated) == sorted(SEED) and not report.unchanged
    assert all(len(t) <= 600 for t in stored(resized)["texts"])
    assert_mirrors(resized, SEED)


def test_sentence_vectors_switched_off_and_on_again(service: IndexService) -> None:
    off = IndexService(service.settings.model_copy(update={"sentence_vectors": False}))
    report = off.ingest()
    assert sorted(report.updated) == sorted(SEED)  # stored content changed: re-indexed
    assert off.sentence_collection is None
    assert off.search("Catherine Bertram directrice", k=1)[0].source == MISSION
    with pytest.raises(ValueError, match="sentence vectors"):
        off.search("Catherine Bertram", k=1, fusion="sentences")
    (off.settings.corpus_dir / BROCHURE).unlink()  # removed while sentences are off
    assert off.ingest().removed == [BROCHURE]

    on = IndexService(service.settings)
    assert sorted(on.ingest().updated) == [MISSION]
    assert_mirrors(on, {MISSION})  # no orphan sentence of the removed brochure


def test_concurrent_ingest_is_refused(service: IndexService) -> None:
    import fcntl

    from index.service import IngestBusy

    with open(service.settings.index_dir / "ingest.lock", "w") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(IngestBusy, match="another ingest"):
            service.ingest()
        assert service.search("Catherine Bertram", k=1)  # searching is not blocked
    assert sorted(service.ingest().unchanged) == sorted(SEED)
