"""Files that cannot be indexed are reported with a plain reason; the others are indexed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docfactory import (
    PNG_BYTES,
    expected_chunk_ids,
    write_corrupt_pdf,
    write_docx_bomb,
    write_encrypted_docx,
    write_encrypted_odt,
    write_encrypted_pdf,
    write_epub,
    write_pdf,
    write_pptx,
    write_xlsx,
)

from index.service import IndexService
from settings import Settings

GOOD = "Les terrils de Loos-en-Gohelle sont les plus hauts d'Europe, avec 186 mètres."
PASSERELLE = Path(sys.executable).parent / "passerelle"

# file name -> words the reason must contain
EXPECTED_REASONS = {
    "vide.txt": ["empty"],
    "blancs.md": ["no text"],
    "photo.txt": ["binary"],
    "tronque.pdf": ["corrupt", "PDF"],
    "protege.pdf": ["password"],
    "scan.pdf": ["no text"],
    "abime.docx": ["corrupt", "Word"],
    "enorme.txt": ["21.0 MB", "20 MB", "PASSERELLE_MAX_FILE_MB"],
    "keynote.key": ["unsupported", ".key"],
    "tableur.xlsx": ["corrupt", "Excel"],
    "vide.xlsx": ["no text"],
    "coupe.pptx": ["corrupt", "PowerPoint", "not a zip"],
    "protege.docx": ["password-protected Word file"],
    "protege.odt": ["password-protected OpenDocument text"],
    "ancien.docx": ["old binary Office document"],
    "abime.epub": ["corrupt", "EPUB"],
    "faux.rtf": ["corrupt", "RTF"],
    "bombe.docx": ["too large once decompressed", "301 MB", "PASSERELLE_MAX_UNZIPPED_MB"],
}


def make_bad_files(folder: Path) -> None:
    (folder / "vide.txt").write_bytes(b"")
    (folder / "blancs.md").write_text("   \n\n\t\n", encoding="utf-8")
    (folder / "photo.txt").write_bytes(PNG_BYTES * 20)
    write_corrupt_pdf(folder / "tronque.pdf")
    write_encrypted_pdf(folder / "protege.pdf", [["Document confidentiel du comité."]])
    write_pdf(folder / "scan.pdf", [[], []])  # pages without a text layer
    (folder / "abime.docx").write_bytes(b"PK\x03\x04 pas vraiment une archive zip")
    with open(folder / "enorme.txt", "wb") as handle:  # a real 21 MB file
        line = ("Ligne de texte répétée pour dépasser la limite. " * 20 + "\n").encode()
        while handle.tell() < 21_000_000:
            handle.write(line)
    (folder / "keynote.key").write_bytes(b"PK\x03\x04")
    (folder / "tableur.xlsx").write_bytes(b"PK\x03\x04")
    write_xlsx(folder / "vide.xlsx", {"Feuille1": []})
    pptx = write_pptx(folder / "coupe.pptx", [("Titre", ["Texte de la diapositive."])])
    pptx.write_bytes(pptx.read_bytes()[: pptx.stat().st_size // 2])  # a cut download
    write_encrypted_docx(folder / "protege.docx")
    write_encrypted_odt(folder / "protege.odt")
    # an OLE file (what Word 97 writes) under a .docx name, not encrypted
    (folder / "ancien.docx").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(2040))
    epub = write_epub(folder / "abime.epub", "Livre", [("Chapitre", "<p>Texte.</p>")])
    _drop_member(epub, "EPUB/content.opf")
    (folder / "faux.rtf").write_text("Ceci n'est pas du RTF.", encoding="utf-8")
    write_docx_bomb(folder / "bombe.docx")


def _drop_member(path: Path, name: str) -> None:
    """Rewrite the zip at ``path`` without member ``name``."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    assert name in [info.filename for info, _data in members]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in members:
            if info.filename != name:
                target.writestr(info, data)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    (folder / "sous-dossier").mkdir(parents=True)
    (folder / "terrils.txt").write_text(GOOD, encoding="utf-8")
    write_pdf(
        folder / "sous-dossier" / "bilan.pdf",
        [["Le bilan 2015 de la Mission Bassin Minier."], ["Les comptes sont équilibrés."]],
    )
    make_bad_files(folder)
    return folder


@pytest.fixture
def service(tmp_path: Path, corpus: Path) -> IndexService:
    return IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=corpus))


def test_default_size_limit_is_20_mb() -> None:
    assert Settings().max_file_mb == 20


def test_bad_files_reported_good_files_indexed(service: IndexService) -> None:
    report = service.ingest()
    failed = {f.path: f.error for f in report.failed}
    assert set(failed) == set(EXPECTED_REASONS)
    for name, words in EXPECTED_REASONS.items():
        for word in words:
            assert word in failed[name], (name, failed[name])
        assert "Traceback" not in failed[name] and len(failed[name]) < 200
    assert sorted(report.added) == ["sous-dossier/bilan.pdf", "terrils.txt"]
    assert report.chunks == len(expected_chunk_ids(service.settings))
    sources = {m["source"] for m in service.collection.get()["metadatas"]}
    assert sources == {"sous-dossier/bilan.pdf", "terrils.txt"}
    top = service.search("hauteur des terrils de Loos-en-Gohelle", k=1)[0]
    assert top.source == "terrils.txt" and "186 mètres" in top.text

    # failures are reported again on the next run, and nothing is re-indexed
    again = service.ingest()
    assert {f.path for f in again.failed} == set(EXPECTED_REASONS)
    assert sorted(again.unchanged) == ["sous-dossier/bilan.pdf", "terrils.txt"]
    assert again.added == again.updated == []

    # the command exits non-zero and tells the user which file and why
    env = {
        **os.environ,
        "PASSERELLE_DATA_DIR": str(service.settings.data_dir),
        "PASSERELLE_CORPUS_DIR": str(service.settings.corpus_dir),
    }
    proc = subprocess.run(
        [str(PASSERELLE), "ingest"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in EXPECTED_REASONS:
        assert f"! {name}: " in proc.stderr
    assert "password-protected PDF" in proc.stderr
    assert f"{len(EXPECTED_REASONS)} failed" in proc.stdout


def test_indexed_document_that_becomes_corrupt_keeps_its_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "terrils.txt").write_text(GOOD, encoding="utf-8")
    write_pdf(folder / "bilan.pdf", [["Le bilan 2015 de la Mission Bassin Minier."]])
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    assert not service.ingest().failed
    before = service.collection.get()["ids"]

    write_corrupt_pdf(folder / "bilan.pdf")  # a bad copy over the good file
    (folder / "terrils.txt").write_bytes(PNG_BYTES)
    report = service.ingest()
    assert {f.path for f in report.failed} == {"bilan.pdf", "terrils.txt"}
    assert report.updated == report.removed == report.added == []
    assert sorted(service.collection.get()["ids"]) == sorted(before)
    assert service.search("bilan 2015 Mission Bassin Minier", k=1)[0].source == "bilan.pdf"
    assert service.status()["documents"] == 2

    # once repaired, the new version replaces the old one
    write_pdf(folder / "bilan.pdf", [["Le bilan 2016 remplace celui de 2015."]])
    report = service.ingest()
    assert report.updated == ["bilan.pdf"]
    texts = service.collection.get(where={"source": "bilan.pdf"})["documents"]
    assert texts == ["Le bilan 2016 remplace celui de 2015."]


def test_file_growing_over_the_limit_keeps_its_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "terrils.txt").write_text(GOOD, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=folder, max_file_mb=0.001)
    service = IndexService(settings)
    assert not service.ingest().failed
    (folder / "terrils.txt").write_text(GOOD * 30, encoding="utf-8")  # 2.4 kB > 1 kB
    report = service.ingest()
    assert [f.path for f in report.failed] == ["terrils.txt"]
    assert "over the 0.001 MB limit" in report.failed[0].error
    assert report.removed == [] and service.collection.count() == 1


def test_pdf_with_owner_password_only_is_read(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    folder = tmp_path / "corpus"
    folder.mkdir()
    write_pdf(folder / "clair.pdf", [["Texte lisible sans mot de passe."]])
    writer = PdfWriter(clone_from=PdfReader(folder / "clair.pdf"))
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="RC4-128")
    with open(folder / "restreint.pdf", "wb") as handle:
        writer.write(handle)
    (folder / "clair.pdf").unlink()
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    report = service.ingest()
    assert report.added == ["restreint.pdf"] and not report.failed
    assert service.collection.get()["documents"] == ["Texte lisible sans mot de passe."]


def test_broken_metadata_toml_is_reported_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "terrils.txt").write_text(GOOD, encoding="utf-8")
    (folder / "metadata.toml").write_text('["terrils.txt"]\ntitle = "sans fin\n', encoding="utf-8")
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    report = service.ingest(dry_run=True)
    assert len(report.failed) == 1
    assert report.failed[0].path.endswith("metadata.toml")
    assert "not valid TOML" in report.failed[0].error
    assert report.added == ["terrils.txt"]


def test_broken_metadata_toml_keeps_indexed_titles_and_embeds_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "terrils.txt").write_text(GOOD, encoding="utf-8")
    toml = folder / "metadata.toml"
    toml.write_text('["terrils.txt"]\ntitle = "Les terrils"\nurl = "https://exemple.fr"\n',
                    encoding="utf-8")  # fmt: skip
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    assert service.ingest().added == ["terrils.txt"]
    before = service.collection.get(include=["metadatas"])

    toml.write_text('["terrils.txt"]\ntitle = "Les terrils\n', encoding="utf-8")  # typo
    (folder / "nouveau.txt").write_text(GOOD.replace("terril", "chevalement"), encoding="utf-8")
    report = service.ingest()
    assert [f.path for f in report.failed] == ["corpus/metadata.toml"]
    assert "stay as last indexed" in report.failed[0].error
    assert report.unchanged == ["terrils.txt"] and report.added == ["nouveau.txt"]
    after = service.collection.get(where={"source": "terrils.txt"}, include=["metadatas"])
    assert sorted(after["ids"]) == sorted(before["ids"])  # not re-embedded
    assert {m["title"] for m in after["metadatas"]} == {"Les terrils"}
    titles = {d["source"]: d["title"] for d in service.documents()}
    assert titles == {"terrils.txt": "Les terrils", "nouveau.txt": "Nouveau"}
