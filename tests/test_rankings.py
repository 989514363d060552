"""The four rankings behind hybrid search: chunk vectors, sentence vectors (small-to-big),
BM25 and character n-grams, on the seed corpus indexed with the real model."""

from __future__ import annotations

from llama_index.core.schema import MetadataMode
from test_chunking import SEED, chunk, cleaned

from index.service import IndexService
from ingest.sentences import UNITS, SentenceNodes, is_sentence
from ingest.text import sentences as sentence_spans

MISSION = "mission-bassin-minier-international.txt"


def test_sentence_nodes_point_into_the_document_and_their_chunk() -> None:
    for path in SEED:
        text = cleaned(path)
        chunks = chunk(text, size=1000, source=path.name)
        nodes = SentenceNodes()(chunks)
        sentences = [n for n in nodes if is_sentence(n)]
        assert [n for n in nodes if not is_sentence(n)] == chunks  # chunks pass through
        assert sentences
        by_id = {c.node_id: c for c in chunks}
        for c in chunks:  # each chunk records how many units it has
            assert c.metadata[UNITS] == sum(s.metadata["chunk_id"] == c.node_id for s in sentences)
        for node in sentences:
            parent = by_id[node.metadata["chunk_id"]]
            start, end = node.metadata["start"], node.metadata["end"]
            assert text[start:end] == node.get_content()  # exact document offsets
            assert parent.metadata["start"] <= start < end <= parent.metadata["end"]
            assert node.ref_doc_id == parent.ref_doc_id == path.name
            embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
            assert embedded == f"Titre\n{node.get_content()}"  # title, then the sentence


def test_sentences_are_french_sentences() -> None:
    text = "M. Dupont est arrivé à 10 h. Il a signé l'accord de 2,5 M€. « Bravo ! » dit-elle."
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["M. Dupont est arrivé à 10 h.", "Il a signé l'accord de 2,5 M€.",
                     "« Bravo ! » dit-elle."]  # fmt: skip


def test_sentence_ranking_returns_whole_chunks(index_service: IndexService) -> None:
    chunk_ids = set(index_service.collection.get()["ids"])
    passages = index_service.search(
        "Quand l'accord de coopération avec le Minas Gerais a-t-il été signé ?",
        k=3,
        fusion="sentences",
    )
    assert passages[0].source == MISSION and "23 avril 2009" in passages[0].text
    assert all(p.id in chunk_ids for p in passages)  # chunks, never bare sentences
    assert len({p.id for p in passages}) == len(passages)
    assert passages[0].end - passages[0].start > len("le 23 avril 2009") * 5


def test_ngrams_forgive_typos_that_bm25_cannot(index_service: IndexService) -> None:
    question = "Catrine Bertrem"  # the director's name, misspelt twice
    assert index_service.search(question, k=3, fusion="bm25") == []  # no word matches
    ngrams = index_service.search(question, k=1, fusion="ngrams")
    assert "Catherine Bertram" in ngrams[0].text
    fused = index_service.search(question, k=3)
    assert any("Catherine Bertram" in p.text for p in fused)


def test_every_ranking_finds_the_contact(index_service: IndexService) -> None:
    for fusion in ("dense", "sentences", "bm25", "ngrams", "rrf", "relative", "dist"):
        passages = index_service.search("Qui est la directrice de la Mission ?", k=5, fusion=fusion)
        assert any("Catherine Bertram" in p.text for p in passages), fusion
        assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_status_counts_sentences(index_service: IndexService) -> None:
    status = index_service.status()
    assert status["sentences"] == index_service.sentence_collection.count() > status["chunks"]
