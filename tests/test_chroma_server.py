"""Chroma server mode (``PASSERELLE_CHROMA_URL``): same index as embedded, clear failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import free_port, stop_process
from docfactory import expected_chunk_ids

from index.service import IndexService
from index.store import StoreUnavailable, open_collection
from settings import ROOT, Settings

pytestmark = pytest.mark.server

PASSERELLE = Path(sys.executable).parent / "passerelle"
MISSION = "mission-bassin-minier-international.txt"
BROCHURE = "cooperation-transfrontaliere-nord-pas-de-calais.txt"


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PASSERELLE), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def server_index(chroma_server: str, tmp_path_factory: pytest.TempPathFactory):
    """The seed corpus ingested into the server, in a collection of this module only."""
    root = tmp_path_factory.mktemp("server-mode")
    settings = Settings(
        chroma_url=chroma_server,
        collection_prefix=f"test-{uuid.uuid4().hex[:8]}",
        data_dir=root / "data",
        corpus_dir=root / "corpus",
    )
    shutil.copytree(ROOT / "corpus", settings.corpus_dir)
    service = IndexService(settings)
    report = service.ingest()
    return service, report


def test_ingest_and_search_through_the_server(server_index, tmp_path: Path) -> None:
    service, report = server_index
    settings = service.settings
    assert sorted(report.added) == sorted([MISSION, BROCHURE]) and not report.failed
    # the same chunks an embedded ingest of the folder stores
    expected = expected_chunk_ids(settings)
    assert report.chunks == len(expected)
    assert sorted(service.collection.get()["ids"]) == expected
    sentences = service.sentence_collection.get()["ids"]  # the companion collection too
    assert sorted(sentences) == expected_chunk_ids(settings, sentences=True)
    # vectors live in the server, not in the data folder
    assert not (settings.data_dir / "chroma").exists()
    top = service.search("Qui contacter à la Mission Bassin Minier ?", k=3)
    assert any("Catherine Bertram" in p.text for p in top)
    by_sentence = service.search("Qui contacter à la Mission Bassin Minier ?", 3, "sentences")
    assert any("Catherine Bertram" in p.text for p in by_sentence)
    assert all(p.similarity > 0 for p in top)

    # another process (a second server worker) sees the same collection
    other = IndexService(settings.model_copy(update={"data_dir": tmp_path / "elsewhere"}))
    assert other.collection.count() == len(expected)

    again = service.ingest()
    assert sorted(again.unchanged) == sorted([MISSION, BROCHURE]) and not again.added


def test_removal_through_the_server(chroma_server: str, tmp_path: Path) -> None:
    settings = Settings(
        chroma_url=chroma_server,
        collection_prefix=f"test-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path / "data",
        corpus_dir=tmp_path / "corpus",
    )
    settings.corpus_dir.mkdir()
    (settings.corpus_dir / "a.txt").write_text("Le terril 74 mesure 186 mètres.", encoding="utf-8")
    (settings.corpus_dir / "b.txt").write_text("La Deûle traverse Lille.", encoding="utf-8")
    service = IndexService(settings)
    assert service.ingest().chunks == 2
    (settings.corpus_dir / "b.txt").unlink()
    report = service.ingest()
    assert report.removed == ["b.txt"] and report.chunks == 1
    assert [m["source"] for m in service.collection.get()["metadatas"]] == ["a.txt"]
    assert [p.source for p in service.search("Deûle Lille", k=3)] == ["a.txt"]


def test_status_json_shows_the_server_url(server_index, tmp_path: Path) -> None:
    service, report = server_index
    env = {
        "PASSERELLE_CHROMA_URL": service.settings.chroma_url,
        "PASSERELLE_COLLECTION_PREFIX": service.settings.collection_prefix,
        "PASSERELLE_DATA_DIR": str(service.settings.data_dir),
        "PASSERELLE_CORPUS_DIR": str(service.settings.corpus_dir),
    }
    proc = run(["status", "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["store"] == service.settings.chroma_url
    assert status["chunks"] == report.chunks
    assert status["documents"] == 2
    assert status["collection"] == service.settings.collection_name


def test_dead_server_raises_store_unavailable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(chroma_url=url, data_dir=tmp_path / "data", corpus_dir=ROOT / "corpus")
    with pytest.raises(StoreUnavailable, match=url.replace(".", r"\.")):
        open_collection(settings)
    service = IndexService(settings)
    for call in (service.ingest, lambda: service.search("terrils"), service.status):
        with pytest.raises(StoreUnavailable) as info:
            call()
        assert url in str(info.value)


def test_dead_server_cli_exits_2_without_traceback(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {
        "PASSERELLE_CHROMA_URL": url,
        "PASSERELLE_DATA_DIR": str(tmp_path / "data"),
        "PASSERELLE_CORPUS_DIR": str(corpus),
    }
    for args in (["ingest", "--json"], ["search", "terrils"]):
        proc = run(args, env, tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, args
        assert proc.stderr.startswith("passerelle: "), proc.stderr
        assert url in proc.stderr
        assert proc.stdout == "", args


def test_server_that_stops_after_connecting(tmp_path: Path) -> None:
    """A server going away while the service runs gives StoreUnavailable, then recovers."""
    from conftest import wait_for_port

    port = free_port()
    command = [
        str(Path(sys.executable).parent / "chroma"),
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--path",
        str(tmp_path / "server"),
    ]
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60, proc=proc)
        folder = tmp_path / "corpus"
        folder.mkdir()
        (folder / "a.txt").write_text("Le terril 74 mesure 186 mètres.", encoding="utf-8")
        settings = Settings(
            chroma_url=f"http://127.0.0.1:{port}", data_dir=tmp_path / "data", corpus_dir=folder
        )
        service = IndexService(settings)
        assert service.ingest().chunks == 1
        assert service.search("terril", k=1)[0].source == "a.txt"
        proc.terminate()
        proc.wait(timeout=30)
        with pytest.raises(StoreUnavailable, match=str(port)):
            service.search("hauteur du terril", k=1)
        with pytest.raises(StoreUnavailable, match=str(port)):
            service.status()
        # the server comes back: the same service object works again
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(port, timeout=60, proc=proc)
        assert service.search("hauteur du terril", k=1)[0].source == "a.txt"
    finally:
        stop_process(proc)
        log.close()
