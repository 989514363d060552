"""``kill -9`` during ``passerelle ingest``: search still answers, the next ingest completes
the index exactly (no duplicate, nothing missing).

The first, interrupted run is ``passerelle ingest --json`` (``cli.main``) with
``BATCH_CHARS`` lowered so that 12 short PIAF articles span several batches (the real
60,000 would need a corpus too slow to embed in a test). The resuming run is the real
``passerelle`` command, unmodified.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docfactory import expected_chunk_ids

from index.pipeline import load_docstore
from index.service import IndexService
from settings import ROOT, Settings

PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "corpus"
PASSERELLE = Path(sys.executable).parent / "passerelle"
ARTICLES = 12
BATCH_CHARS = 1_500

# cli.main with small batches; with PAUSE_AT=n, the n-th docstore save waits (after the
# batch's chunks are in Chroma, before the docstore records them) so a kill lands there.
INTERRUPTED = """
import os, sys, time
import index.pipeline as pipeline
pipeline.BATCH_CHARS = int(os.environ["TEST_BATCH_CHARS"])
pause_at = int(os.environ.get("TEST_PAUSE_AT", "0"))
original = pipeline.save_docstore
saves = 0
def save_docstore(docstore, path):
    global saves
    saves += 1
    if saves == pause_at:
        print("PAUSED", file=sys.stderr, flush=True)
        time.sleep(120)
    original(docstore, path)
pipeline.save_docstore = save_docstore
from cli import main
sys.exit(main(["ingest", "--json"]))
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles = sorted(PIAF.glob("*.md"), key=lambda p: (p.stat().st_size, p.name))[:ARTICLES]
    for article in articles:
        shutil.copy(article, corpus / article.name)
    assert sum(p.stat().st_size for p in articles) > 4 * BATCH_CHARS  # several batches
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus)


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PASSERELLE_DATA_DIR": str(settings.data_dir),
        "PASSERELLE_CORPUS_DIR": str(settings.corpus_dir),
        "TEST_BATCH_CHARS": str(BATCH_CHARS),
        **extra,
    }


def start_interrupted(settings: Settings, tmp_path: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED],
        env=environment(settings, **extra),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"ingest ended before the kill: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("ingest did not reach the kill point in time")
        time.sleep(0.05)


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def assert_resumes(settings: Settings, tmp_path: Path) -> None:
    """After the kill: search answers, and a real ingest completes the index exactly."""
    docstore = settings.index_dir / "docstore.json"
    if docstore.exists():
        json.loads(docstore.read_text(encoding="utf-8"))  # never a torn file
    interrupted = IndexService(settings)
    partial = interrupted.collection.count()
    assert partial > 0
    passages = interrupted.search("Quelle est la hauteur du terril ?", k=3)
    assert passages and all((settings.corpus_dir / p.source).exists() for p in passages)

    proc = subprocess.run(
        [str(PASSERELLE), "ingest", "--json"],
        env=environment(settings),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["failed"] == [] and report["removed"] == 0
    assert report["added"] + report["unchanged"] == ARTICLES
    assert report["added"] > 0

    expected = expected_chunk_ids(settings)  # what a clean ingest of this folder stores
    service = IndexService(settings)
    data = service.collection.get(include=["documents"])
    assert sorted(data["ids"]) == expected
    assert len(set(data["documents"])) == len(data["documents"])
    assert report["chunks"] == len(expected) > partial
    assert sorted(service.keyword_index().ids) == expected
    sentences = service.sentence_collection.get()["ids"]
    assert sorted(sentences) == expected_chunk_ids(settings, sentences=True)
    assert service.status()["documents"] == ARTICLES
    # and the next run has nothing left to do
    again = service.ingest()
    assert len(again.unchanged) == ARTICLES and not again.added and not again.updated


def test_kill_after_first_batch_saved(settings: Settings, tmp_path: Path) -> None:
    proc = start_interrupted(settings, tmp_path)
    docstore = settings.index_dir / "docstore.json"
    wait_for(docstore.exists, proc)
    kill(proc)
    saved = json.loads(docstore.read_text(encoding="utf-8"))
    assert saved  # the first batch is recorded
    assert_resumes(settings, tmp_path)


def test_kill_between_store_write_and_docstore_save(settings: Settings, tmp_path: Path) -> None:
    """Chunks of the batch are in Chroma but not in the docstore: resume must not duplicate."""
    proc = start_interrupted(settings, tmp_path, TEST_PAUSE_AT="2")
    assert proc.stderr is not None
    lines: list[str] = []

    def paused() -> bool:
        line = proc.stderr.readline()
        lines.append(line)
        return "PAUSED" in line

    wait_for(paused, proc)
    kill(proc)
    recorded = IndexService(settings)
    docs = len(load_docstore(recorded.docstore_path).get_all_document_hashes())
    chunk_sources = {m["source"] for m in recorded.collection.get()["metadatas"]}
    assert 0 < docs < len(chunk_sources)  # Chroma is ahead of the docstore
    assert_resumes(settings, tmp_path)
