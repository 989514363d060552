"""Loaders: each supported file type gives the text a user would read, with title and pages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from docfactory import write_docx, write_html, write_pdf, write_toml_metadata
from llama_index.core.storage.docstore import SimpleDocumentStore

from index.pipeline import make_plan
from index.service import IndexService
from ingest.chunk import FrenchChunker
from ingest.corpus import load_document
from ingest.errors import DocumentError
from ingest.loaders import load_raw
from settings import Settings

PAGE_1 = [
    "Le canal de la Deûle relie Lille à la Scarpe depuis le Moyen Âge.",
    "Il servait au commerce des grains et du charbon.",
]
PAGE_2 = [
    "Les écluses de Don ont été restaurées en 2015 par les Voies navigables.",
    "Les péniches de plaisance y passent chaque été.",
]
PAGE_3 = ["Annexe financière : le chantier a coûté 4,2 millions d'euros."]


def documents(folder: Path, **overrides) -> dict[str, object]:
    """Cleaned corpus Documents of ``folder`` keyed by source, as ingest builds them."""
    settings = Settings(data_dir=folder.parent / "data", corpus_dir=folder, **overrides)
    plan = make_plan(settings, folder, SimpleDocumentStore())
    assert not plan.report.failed, plan.report.failed
    return {
        file.source: load_document(file, meta, doc_hash, 10_000_000)
        for file, doc_hash, meta in plan.todo
    }


def chunks(doc, size: int = 900, overlap: int = 150):
    return FrenchChunker(chunk_size=size, chunk_overlap=overlap)([doc])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path


def test_txt_plain_text_and_title_from_file_name(folder: Path) -> None:
    (folder / "compte-rendu_reunion.txt").write_text(
        "Réunion du 3 mars.\n\nLe budget a été voté à l'unanimité.\n", encoding="utf-8"
    )
    doc = documents(folder)["compte-rendu_reunion.txt"]
    assert doc.text == "Réunion du 3 mars.\n\nLe budget a été voté à l'unanimité."
    assert doc.metadata["title"] == "Compte rendu reunion"


def test_txt_in_windows_1252_is_decoded(folder: Path) -> None:
    (folder / "ancien.txt").write_bytes("Café à Lillé, coût élevé.".encode("cp1252"))
    assert documents(folder)["ancien.txt"].text == "Café à Lillé, coût élevé."


def test_markdown_title_from_heading(folder: Path) -> None:
    (folder / "abeille.md").write_text(
        "# Les abeilles du terril\n\nUne ruche a été installée sur le terril 74.\n",
        encoding="utf-8",
    )
    doc = documents(folder)["abeille.md"]
    assert doc.metadata["title"] == "Les abeilles du terril"
    assert "Une ruche a été installée sur le terril 74." in doc.text
    [chunk] = chunks(doc)
    assert chunk.metadata["heading"] == "Les abeilles du terril"


def test_html_visible_text_title_and_headings(folder: Path) -> None:
    write_html(
        folder / "page.html",
        "Parc naturel Scarpe-Escaut",
        "<h1>Le parc</h1><p>Créé en 1968, c'est le <b>premier</b> parc naturel régional.</p>"
        "<h2>Les étangs</h2><p>Les étangs d'affaissement minier accueillent des oiseaux.</p>"
        "<script>document.write('publicité')</script><style>p { color: red }</style>",
    )
    raw = load_raw(folder / "page.html")
    assert raw.title == "Parc naturel Scarpe-Escaut"
    doc = documents(folder)["page.html"]
    text = doc.text
    assert "Créé en 1968, c'est le premier parc naturel régional." in text
    assert "# Le parc" in text and "## Les étangs" in text
    for hidden in ("codeDeSuiviPublicitaire", "console.log", "publicité", "font-family", "color"):
        assert hidden not in text
    # the <title> is the document's title, not body text
    assert "Parc naturel Scarpe-Escaut" not in text
    assert doc.metadata["title"] == "Parc naturel Scarpe-Escaut"
    by_heading = {c.metadata["heading"]: c.text for c in chunks(doc, size=120, overlap=0)}
    assert "oiseaux" in by_heading["Les étangs"]


def test_pdf_pages_text_and_page_numbers(folder: Path) -> None:
    write_pdf(folder / "rapport.pdf", [PAGE_1, PAGE_2, PAGE_3], title="Titre interne du PDF")
    doc = documents(folder)["rapport.pdf"]
    assert doc.metadata["title"] == "Titre interne du PDF"
    for line in PAGE_1 + PAGE_2 + PAGE_3:
        assert line in doc.text  # accents and apostrophes survive extraction
    # small chunks so that each page gets its own; every chunk names its page
    pieces = chunks(doc, size=200, overlap=0)
    assert len(pieces) >= 3
    for piece in pieces:
        for number, page in enumerate([PAGE_1, PAGE_2, PAGE_3], start=1):
            if any(line[:30] in piece.text for line in page):
                assert piece.metadata["page"] == number, (piece.metadata["page"], piece.text)


def test_pdf_page_numbers_survive_ingest(folder: Path, tmp_path: Path) -> None:
    write_pdf(folder / "rapport.pdf", [PAGE_1, PAGE_2, PAGE_3])
    settings = Settings(
        data_dir=tmp_path / "data", corpus_dir=folder, chunk_size=200, chunk_overlap=0
    )
    service = IndexService(settings)
    report = service.ingest()
    assert report.added == ["rapport.pdf"] and not report.failed
    passages = service.search("restauration des écluses de Don", k=1)
    assert passages[0].page == 2
    assert "écluses de Don" in passages[0].text
    passages = service.search("coût du chantier annexe financière", k=1)
    assert passages[0].page == 3
    stored = service.collection.get(include=["metadatas"])["metadatas"]
    assert {m["page"] for m in stored} == {1, 2, 3}


def test_docx_heading_styles_become_headings(folder: Path) -> None:
    write_docx(
        folder / "note.docx",
        [
            ("h1", "Présentation"),
            ("p", "La Mission Bassin Minier accompagne les communes depuis 2000."),
            ("h2", "Financement"),
            ("p", "Le Conseil régional finance la moitié des actions."),
        ],
        title="Note de présentation",
    )
    doc = documents(folder)["note.docx"]
    assert doc.metadata["title"] == "Note de présentation"
    assert "# Présentation" in doc.text and "## Financement" in doc.text
    by_heading = {c.metadata["heading"]: c.text for c in chunks(doc, size=80, overlap=0)}
    assert "Conseil régional" in by_heading["Financement"]
    assert "2000" in by_heading["Présentation"]


def test_docx_without_title_falls_back_to_file_name(folder: Path) -> None:
    write_docx(folder / "plan_de_gestion.docx", [("p", "Un seul paragraphe.")])
    assert documents(folder)["plan_de_gestion.docx"].metadata["title"] == "Plan de gestion"


def test_metadata_toml_title_wins_and_document_fields(folder: Path) -> None:
    sub = folder / "rapports" / "2015"
    sub.mkdir(parents=True)
    write_pdf(sub / "bilan.pdf", [PAGE_1], title="Titre interne")
    (folder / "notes.md").write_text("# Titre du fichier\n\nDu texte.\n", encoding="utf-8")
    write_toml_metadata(
        folder,
        {
            "rapports/2015/bilan.pdf": {"title": "Bilan 2015 des canaux", "url": "https://ex.fr"},
            "notes.md": {"title": "Notes de terrain"},
        },
    )
    os.utime(folder / "notes.md", (1_600_000_000, 1_600_000_000))
    docs = documents(folder)
    assert set(docs) == {"rapports/2015/bilan.pdf", "notes.md"}  # relative, POSIX, no toml
    bilan, notes = docs["rapports/2015/bilan.pdf"], docs["notes.md"]
    assert bilan.metadata["title"] == "Bilan 2015 des canaux"
    assert bilan.metadata["url"] == "https://ex.fr"
    assert bilan.metadata["source"] == "rapports/2015/bilan.pdf"
    assert notes.metadata["title"] == "Notes de terrain"
    assert notes.metadata["mtime"] == 1_600_000_000
    assert len(bilan.metadata["content_hash"]) == 64
    assert bilan.metadata["content_hash"] != notes.metadata["content_hash"]
    assert bilan.hash == bilan.metadata["content_hash"]
    [piece] = chunks(bilan)
    assert piece.metadata["page"] == 1
    assert piece.metadata["title"] == "Bilan 2015 des canaux"
    assert piece.metadata["source"] == "rapports/2015/bilan.pdf"
    assert chunks(notes)[0].metadata["page"] == 0  # not paginated


def test_content_hash_depends_on_bytes_and_title_not_mtime(folder: Path) -> None:
    path = folder / "a.txt"
    path.write_text("Premier texte.", encoding="utf-8")
    first = documents(folder)["a.txt"].metadata["content_hash"]
    os.utime(path, (1_500_000_000, 1_500_000_000))
    assert documents(folder)["a.txt"].metadata["content_hash"] == first
    write_toml_metadata(folder, {"a.txt": {"title": "Un titre"}})
    titled = documents(folder)["a.txt"].metadata["content_hash"]
    assert titled != first
    path.write_text("Premier texte modifié.", encoding="utf-8")
    assert documents(folder)["a.txt"].metadata["content_hash"] not in (first, titled)
    assert documents(folder, chunk_size=500)["a.txt"].metadata["content_hash"] != first


def test_hidden_files_and_unknown_types(folder: Path) -> None:
    (folder / ".brouillon.txt").write_text("caché", encoding="utf-8")
    (folder / ".git").mkdir()
    (folder / ".git" / "config.txt").write_text("caché", encoding="utf-8")
    (folder / "keynote.key").write_bytes(b"PK\x03\x04")
    (folder / "vrai.txt").write_text("Visible.", encoding="utf-8")
    settings = Settings(data_dir=folder.parent / "data", corpus_dir=folder)
    plan = make_plan(settings, folder, SimpleDocumentStore())
    assert plan.report.added == ["keynote.key", "vrai.txt"]
    with pytest.raises(DocumentError, match=r"unsupported file type \.key; supported: .*\.xlsx"):
        load_raw(folder / "keynote.key")


def test_html_title_without_head_element(folder: Path) -> None:
    # <head> is optional in HTML: simple exports start right with <title>
    (folder / "simple.html").write_text(
        "<title>Les étangs</title><p>Sans html ni head.</p>"
        "<svg><title>icône</title></svg><p>Fin.</p>",
        encoding="utf-8",
    )
    raw = load_raw(folder / "simple.html")
    assert raw.title == "Les étangs"
    doc = documents(folder)["simple.html"]
    assert doc.text == "Sans html ni head.\n\nFin."
    assert doc.metadata["title"] == "Les étangs"
