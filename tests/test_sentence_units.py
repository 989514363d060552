"""Sentence units: list items and short lines are folded into spans of a useful length,
repeats inside a document are embedded once, short chunks are their own unit."""

from __future__ import annotations

from llama_index.core import Document
from llama_index.core.schema import MetadataMode

from index.service import IndexService
from ingest import sentences
from ingest.chunk import FrenchChunker
from ingest.sentences import UNITS, SentenceNodes, chunk_units, is_sentence

CONTACT = "Contact\nCamille Dufour\nTél. : 03 21 45 88 94\nCourriel : camille@agence.example"
PARTNERS = "\n".join(f"- Partenaire numéro {n} (cofinanceur)" for n in range(1, 21))


def nodes_of(texts: dict[str, str]) -> list:
    """Chunks and units of documents ``{source: text}``, as the pipeline makes them."""
    docs = [
        Document(id_=source, text=text, metadata={"source": source, "title": "Titre"})
        for source, text in texts.items()
    ]
    return SentenceNodes()(FrenchChunker(chunk_size=1000, chunk_overlap=150)(docs))


def test_a_list_is_folded_into_a_few_units_with_exact_offsets() -> None:
    text = f"## Partenaires\n\n{PARTNERS}\n"
    nodes = nodes_of({"p.md": text})
    chunks = [n for n in nodes if not is_sentence(n)]
    units = [n for n in nodes if is_sentence(n)]
    bullets = PARTNERS.count("\n") + 1
    assert bullets == 20 and len(chunks) == 1
    assert 0 < len(units) <= len(chunks[0].get_content()) // sentences.UNIT_MIN_CHARS
    for unit in units:
        start, end = unit.metadata["start"], unit.metadata["end"]
        assert text[start:end] == unit.get_content()  # a span of the document
        assert len(unit.get_content()) <= sentences.UNIT_MAX_CHARS
        assert unit.metadata["chunk_id"] == chunks[0].node_id
        assert unit.get_content(metadata_mode=MetadataMode.EMBED) == f"Titre\n{unit.get_content()}"
    covered = "".join(u.get_content() for u in units)
    assert all(f"numéro {n} " in covered for n in range(1, 21))  # every item is embedded
    assert chunks[0].metadata[UNITS] == len(units)
    assert UNITS not in chunks[0].get_content(metadata_mode=MetadataMode.EMBED)


def test_long_sentences_stay_whole_and_short_ones_join() -> None:
    long = "Le programme " + "soutient des projets locaux de rénovation " * 12 + "."
    text = f"{long} Oui. Non. Peut-être."
    spans = [text[s:e] for s, e in chunk_units(text)]
    assert spans[0].startswith("Le programme") and len(spans[0]) > sentences.UNIT_MAX_CHARS
    assert spans[-1].endswith("Peut-être.") and "Oui. Non." in spans[-1]


def test_a_block_repeated_in_a_document_is_embedded_once() -> None:
    sentence = "Le programme aide les associations du territoire à monter leur projet. "
    section = sentence * (sentences.UNITS_FROM_CHUNK_CHARS // len(sentence) + 1)  # has units
    page = "\n\n".join(f"## Section {n}\n\n{section}{n}.\n\n{CONTACT}" for n in range(4))
    nodes = nodes_of({"a.md": page, "b.md": page})
    for source in ("a.md", "b.md"):
        mine = [n for n in nodes if is_sentence(n) and n.metadata["source"] == source]
        units = [n.get_content() for n in mine]
        contact_units = [u for u in units if "Camille Dufour" in u]
        # once per document: what a document stores never depends on the others
        assert len(contact_units) == 1, units
        assert len(units) == len(set(units))


def test_a_short_chunk_is_its_own_unit(index_service: IndexService) -> None:
    data = index_service.collection.get(include=["documents", "metadatas"])
    chunks = zip(data["ids"], data["documents"], data["metadatas"], strict=True)
    short = [(chunk_id, text) for chunk_id, text, meta in chunks if meta.get(UNITS) == 0]
    if sentences.UNITS_FROM_CHUNK_CHARS:
        assert short, "the seed corpus has chunks shorter than UNITS_FROM_CHUNK_CHARS"
    units = index_service.sentence_collection.get(include=["metadatas"])["metadatas"]
    with_units = {m["chunk_id"] for m in units}
    for chunk_id, text in short:
        assert len(text) < sentences.UNITS_FROM_CHUNK_CHARS and chunk_id not in with_units
        # the sentence ranking still finds it, through its chunk vector
        found = index_service.search(text[:300], k=3, fusion="sentences")
        assert any(p.text == text for p in found), text[:80]
