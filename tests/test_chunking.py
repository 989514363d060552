"""Chunking: exact offsets, bounded sizes, headings carried, French sentences respected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llama_index.core import Document

from ingest.chunk import FrenchChunker, split_document
from ingest.clean import clean_text
from settings import ROOT

SEED = sorted((ROOT / "corpus").glob("*.txt"))
PIAF = sorted((ROOT.parent / "shared" / "eval" / "piaf" / "corpus").glob("*.md"))
SIZE, OVERLAP = 900, 150
CLOSERS = "»)]\"'’.,;:!?…"


def make_doc(text: str, source: str = "doc.txt", page_starts: list[int] | None = None):
    return Document(
        id_=source,
        text=text,
        metadata={
            "source": source,
            "title": "Titre",
            "page_starts": json.dumps(page_starts or []),
        },
    )


def chunk(text: str, size: int = SIZE, overlap: int = OVERLAP, **kw):
    return FrenchChunker(chunk_size=size, chunk_overlap=overlap)([make_doc(text, **kw)])


def cleaned(path: Path) -> str:
    return clean_text(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    files = SEED + PIAF[:40]
    assert len(files) >= 10
    return {path.name: cleaned(path) for path in files}


def test_offsets_are_exact(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        nodes = chunk(text, source=name)
        assert nodes, name
        for node in nodes:
            start, end = node.metadata["start"], node.metadata["end"]
            assert (node.start_char_idx, node.end_char_idx) == (start, end)
            assert node.text == text[start:end], name
            assert node.text == node.text.strip() and node.text


def test_chunks_cover_the_whole_text_in_order(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        spans = [(n.metadata["start"], n.metadata["end"]) for n in chunk(text, source=name)]
        assert spans == sorted(spans)
        covered = set()
        for start, end in spans:
            covered.update(range(start, end))
        missing = [i for i in range(len(text)) if i not in covered and not text[i].isspace()]
        assert not missing, (name, text[missing[0] : missing[0] + 40])


def test_chunk_size_bounded(texts: dict[str, str]) -> None:
    for size in (300, SIZE):
        for name, text in texts.items():
            for node in chunk(text, size=size, overlap=size // 6, source=name):
                assert len(node.text) <= size, (name, len(node.text))


def test_no_chunk_starts_mid_word_or_with_closing_punctuation(texts: dict[str, str]) -> None:
    for size in (300, SIZE):
        for name, text in texts.items():
            for node in chunk(text, size=size, overlap=size // 6, source=name):
                start = node.metadata["start"]
                if start > 0:
                    assert not (text[start - 1].isalnum() and text[start].isalnum()), (
                        name,
                        text[start - 20 : start] + "|" + node.text[:30],
                    )
                # "» et à ce titre…" would cite a dangling quote from the previous sentence
                assert node.text[0] not in CLOSERS, (name, text[start - 30 : start + 30])


def test_long_sentence_cut_between_words() -> None:
    words = [f"mot{i:03d}" for i in range(600)]  # 4,200 characters, no punctuation
    text = " ".join(words)
    nodes = chunk(text, size=500, overlap=0)
    assert len(nodes) >= 9
    for node in nodes:
        assert len(node.text) <= 500
        assert all(len(word) == 6 for word in node.text.split()), node.text[:20]
    assert " ".join(" ".join(n.text for n in nodes).split()) == text


def test_contact_chunk_carries_its_heading() -> None:
    path = ROOT / "corpus" / "mission-bassin-minier-international.txt"
    nodes = chunk(cleaned(path), source=path.name)
    [contact] = [n for n in nodes if "Catherine Bertram" in n.text]
    assert contact.metadata["heading"] == "Contact"
    first = nodes[0]
    assert first.metadata["heading"] == "Introduction"
    assert first.text.startswith("Introduction")


def test_markdown_headings_start_sections() -> None:
    text = (
        "# Les canaux\n\nLe canal de la Deûle relie Lille à la Scarpe. " + "Il est ancien. " * 20
    ).strip()
    text += "\n\n## Les écluses\n\nLes écluses de Don ont été restaurées en 2015. " * 1
    nodes = chunk(text.strip(), size=400, overlap=100)
    by_heading = {}
    for node in nodes:
        by_heading.setdefault(node.metadata["heading"], []).append(node.text)
    assert set(by_heading) == {"Les canaux", "Les écluses"}
    assert any("restaurées en 2015" in t for t in by_heading["Les écluses"])
    assert not any("restaurées" in t for t in by_heading["Les canaux"])
    # overlap never carries text of another section
    assert not any("Il est ancien" in t for t in by_heading["Les écluses"])


def test_french_abbreviations_do_not_end_sentences() -> None:
    sentences = [
        "M. Dupont, maire de Lens, a reçu Mme Martin et le Dr Lefèvre à la mairie.",
        "Voir p. 12 et cf. art. 3 du règlement, etc. pour le détail des aides.",
        "La salle accueille env. 300 personnes selon M. le Préfet du Nord.",
    ]
    text = " ".join(sentences * 6)
    for node in chunk(text, size=160, overlap=0):
        assert node.text in sentences or node.text.count(". ") >= 1
        assert not node.text.startswith(
            ("Dupont", "Martin", "12", "3 du", "pour le", "300", "le Préfet")
        )
    spans = [text[s.start : s.end] for s, _ in split_document(text, 80, 0)]
    assert sentences[0] in spans and sentences[1] in spans and sentences[2] in spans


def test_numbers_and_quotes_stay_in_their_sentence() -> None:
    text = (
        "Le budget atteint 118,2 millions €. Il a dit : « Nous continuerons. » "
        "Puis il est parti. Le 3.5 % restant est réservé."
    )
    spans = [text[s.start : s.end] for s, _ in split_document(text, 40, 0)]
    assert "Il a dit : « Nous continuerons. »" in spans
    assert "Le budget atteint 118,2 millions €." in spans
    assert spans[-1] == "Le 3.5 % restant est réservé."


def test_overlap_repeats_whole_sentences() -> None:
    sentences = [f"Phrase numéro {i} du rapport annuel de la mission." for i in range(40)]
    text = " ".join(sentences)
    nodes = chunk(text, size=300, overlap=120)
    assert len(nodes) > 3
    for prev, nxt in zip(nodes, nodes[1:], strict=False):
        assert nxt.metadata["start"] < prev.metadata["end"]  # overlapping
        shared = text[nxt.metadata["start"] : prev.metadata["end"]]
        assert len(shared) <= 120
        assert shared.startswith("Phrase") and shared.endswith(".")


def test_chunk_ids_stable_and_unique(texts: dict[str, str]) -> None:
    for name, text in texts.items():
        first = [n.id_ for n in chunk(text, source=name)]
        assert first == [n.id_ for n in chunk(text, source=name)]
        assert len(set(first)) == len(first)
        assert all(i.startswith(f"{name}#") for i in first)


def test_embedding_text_holds_title_and_heading_not_offsets() -> None:
    from llama_index.core.schema import MetadataMode

    [node] = chunk("# Contact\n\nCatherine Bertram, directrice.")
    embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
    assert "Titre" in embedded and "Contact" in embedded and "Catherine Bertram" in embedded
    assert "doc.txt" not in embedded and "start" not in embedded
