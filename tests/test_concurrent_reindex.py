"""Another process re-indexes the embedded store while this one answers from it.

chromadb's embedded client keeps the store's segments in memory once per process: when a
separate ``passerelle ingest`` rewrites the folder, the serving process used to raise
``InternalError: Error finding id`` (HTTP 500) and to stay stale after the ingest ended.
Real model, real embedded Chroma, a real writer process; the seed corpus.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from answer.engine import AnswerEngine
from app import create_app
from index.service import IndexService
from index.store import StoreChanging
from server.services import Services
from settings import ROOT, Settings

CHANGED = "mission-bassin-minier-international.txt"
INGESTS = 3
QUESTIONS = [
    "Quand la Mission Bassin Minier a-t-elle été créée ?",
    "Qu'est-ce que le programme RESCUE ?",
    "Quelle lettre d'information est parue ?",
]

# The writer: one process, one IndexService, ingests of a changed document back to back
# (its model loads once, so the test stays short and the store keeps changing).
WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from index.service import IndexService
    from settings import Settings

    settings = Settings()
    service = IndexService(settings)
    path = Path(settings.corpus_dir) / sys.argv[1]
    original = path.read_text(encoding="utf-8")
    for n in range(int(sys.argv[2])):
        path.write_text(original + f"\\n\\nMise à jour {n} : la lettre n° {n} est parue.\\n",
                        encoding="utf-8")
        report = service.ingest()
        print(json.dumps({"updated": report.updated, "chunks": report.chunks}), flush=True)
    """
)


def test_answers_while_another_process_reindexes(settings: Settings) -> None:
    index = IndexService(settings)
    assert not index.ingest().failed
    (settings.corpus_dir / CHANGED).chmod(0o644)
    served = settings.model_copy(  # every question comes from this one address
        update={"rate_limit_per_minute": 100_000, "session_rate_limit_per_minute": 100_000}
    )
    services = Services(settings=served, index=index, engine=AnswerEngine(served, index))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    env |= {
        "PASSERELLE_DATA_DIR": str(settings.data_dir),
        "PASSERELLE_CORPUS_DIR": str(settings.corpus_dir),
        # at its everyday lower priority, the writer would mostly wait for this busy loop
        "PASSERELLE_INGEST_NICE": "0",
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, CHANGED, str(INGESTS)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    failures: list[str] = []
    reads = 0
    deadline = time.monotonic() + 150  # a stuck writer must not hang the suite
    with TestClient(create_app(services), base_url="http://127.0.0.1") as client:
        while writer.poll() is None and time.monotonic() < deadline:
            question = QUESTIONS[reads % len(QUESTIONS)]
            reads += 1
            try:
                index.search(question)
                index.status()
            except Exception as exc:  # what a 500 was made of
                failures.append(f"search: {type(exc).__name__}: {exc}"[:200])
            response = client.post("/api/ask", json={"question": question})
            if response.status_code != 200:
                failures.append(f"/api/ask {response.status_code}: {response.text[:200]}")
            time.sleep(0.1)  # visitors, not a spin: the writer needs a core too
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err[-2000:]
        reports = [json.loads(line) for line in out.splitlines()]
        assert len(reports) == INGESTS and all(r["updated"] for r in reports)
        assert reads >= INGESTS, reads  # the reads overlapped the ingests
        assert not failures, f"{len(failures)} of {reads} reads failed: {failures[:3]}"

        # after the last ingest: its version, once, with every chunk the writer stored
        assert index.status()["chunks"] == reports[-1]["chunks"]
        ids = index.collection.get()["ids"]
        assert len(ids) == len(set(ids)) == reports[-1]["chunks"]
        passages = index.search(f"Mise à jour {INGESTS - 1} : la lettre n° {INGESTS - 1}", k=10)
        assert len({p.id for p in passages}) == len(passages)
        assert any(f"Mise à jour {INGESTS - 1} :" in p.text for p in passages)
        assert not any(f"Mise à jour {INGESTS - 2} :" in p.text for p in passages)
        response = client.post("/api/ask", json={"question": QUESTIONS[0]})
        assert response.status_code == 200, response.text


def test_a_store_that_keeps_changing_gives_a_clear_503(
    index_service: IndexService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads are retried on a reopened store a bounded number of times, then the API says
    the index is being re-indexed (503, Retry-After), not a 500 traceback."""
    from chromadb.errors import InternalError

    import index.service as service_module

    index = IndexService(index_service.settings)  # the seed index, a process of its own
    failing = SimpleNamespace(calls=0)

    def retriever(*_args, **_kwargs) -> SimpleNamespace:
        def retrieve(_bundle):
            failing.calls += 1
            raise InternalError("Error executing plan: Internal error: Error finding id")

        return SimpleNamespace(retrieve=retrieve)

    monkeypatch.setattr(service_module, "STORE_RETRY_DELAY", 0.0)
    monkeypatch.setattr(index, "retriever", retriever)
    with pytest.raises(StoreChanging, match="re-indexing"):
        index.search(QUESTIONS[0])
    assert failing.calls == service_module.STORE_ATTEMPTS
    assert index._store_generation == service_module.STORE_ATTEMPTS - 1  # reopened between

    services = Services(
        settings=index.settings, index=index, engine=AnswerEngine(index.settings, index)
    )
    with TestClient(create_app(services), base_url="http://127.0.0.1") as client:
        response = client.post("/api/ask", json={"question": QUESTIONS[0]})
    assert response.status_code == 503
    assert response.json()["error"] == "index_busy"
    assert response.headers["retry-after"] == "5"
