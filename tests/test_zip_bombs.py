"""Decompression bombs: zip-based documents are refused before any parser inflates them.

Issue 10, item 5: a 342 KB .docx whose XML inflates to 300 MB took the server from 346 MB
to 932 MB of memory; split into 5 MB text nodes it was even indexed.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from docfactory import (
    ZIP_BOMB_MB,
    inflate_member,
    write_docx,
    write_docx_bomb,
    write_epub,
    write_lying_docx,
    write_odp,
    write_ods,
    write_odt,
    write_pptx,
    write_xlsx,
)

from index.service import IndexService
from ingest.archive_guard import ArchiveLimits
from ingest.errors import DocumentError
from ingest.loaders import load_raw, options_from_settings
from ingest.raw import LoadOptions
from settings import Settings


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "one text node": write_docx_bomb(folder / "bombe.docx"),
        "5 MB text nodes": write_docx_bomb(folder / "bombe-5mo.docx", node_mb=5),
    }


def refuse(path: Path, options: LoadOptions | None = None) -> tuple[str, float, float]:
    """The reason ``path`` is refused, the seconds it took and the peak Python memory (MB)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DocumentError) as refused:
            load_raw(path, options)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return str(refused.value), seconds, peak


@pytest.mark.parametrize("variant", ["one text node", "5 MB text nodes"])
def test_docx_bomb_is_refused_quickly_with_little_memory(
    bombs: dict[str, Path], variant: str
) -> None:
    path = bombs[variant]
    import zipfile

    declared = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    assert path.stat().st_size < 600_000 and declared > ZIP_BOMB_MB * 1_000_000  # a real bomb
    load_raw(write_docx(path.with_name("petit.docx"), [("p", "Échauffement.")]))  # imports
    reason, seconds, peak_mb = refuse(path)
    assert reason == (
        "archive too large once decompressed: declares 301 MB, over the 100 MB limit "
        "(PASSERELLE_MAX_UNZIPPED_MB)"
    )
    assert seconds < 0.5, seconds
    assert peak_mb < 5, peak_mb  # nothing was inflated


def test_bomb_refused_and_everything_else_indexed(bombs: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bombe.docx").write_bytes(bombs["5 MB text nodes"].read_bytes())
    write_docx(folder / "note.docx", [("h1", "Les terrils"), ("p", "Le terril 74 culmine.")])
    service = IndexService(Settings(data_dir=tmp_path / "data", corpus_dir=folder))
    report = service.ingest()
    assert report.added == ["note.docx"]
    assert [(f.path, f.error.split(":")[0]) for f in report.failed] == [
        ("bombe.docx", "archive too large once decompressed")
    ]
    assert service.search("terril 74", k=1)[0].source == "note.docx"


def test_high_ratio_member_under_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = write_docx_bomb(tmp_path / "compacte.docx", total_mb=60)  # 60 MB < 100 MB
    reason, seconds, peak_mb = refuse(path)
    assert reason.startswith("archive member word/document.xml inflates ")
    assert "over the ratio limit of 200 (PASSERELLE_MAX_ZIP_RATIO)" in reason
    assert seconds < 0.5 and peak_mb < 5


def test_lying_header_is_caught_by_the_bounded_read(tmp_path: Path) -> None:
    # the headers declare a 1 KB document.xml that really inflates to 50 MB
    path = write_lying_docx(tmp_path / "menteur.docx", real_mb=50)
    reason, seconds, peak_mb = refuse(path)
    assert reason.startswith("corrupt or unreadable Word file (damaged zip archive: Bad CRC-32")
    assert seconds < 0.5 and peak_mb < 5  # the read stopped at the declared 1 KB


def test_member_count_limit(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "note.docx", [("p", "Un paragraphe.")])
    options = LoadOptions(archive=ArchiveLimits(max_members=5))
    reason, _seconds, _peak = refuse(path, options)
    assert reason.startswith("archive has ")
    assert reason.endswith("members, over the 5 limit (PASSERELLE_MAX_ZIP_MEMBERS)")


def test_normal_documents_pass_the_guard(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "note.docx", [("h1", "Titre"), ("p", "Texte ordinaire.")])
    assert load_raw(path).pages == ["# Titre\n\nTexte ordinaire."]


def test_limits_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_docx(tmp_path / "note.docx", [("p", "Texte ordinaire.")])
    monkeypatch.setenv("PASSERELLE_MAX_UNZIPPED_MB", "0.01")  # 10 kB: a docx is ~36 kB
    monkeypatch.setenv("PASSERELLE_MAX_ZIP_RATIO", "50")
    monkeypatch.setenv("PASSERELLE_MAX_ZIP_MEMBERS", "50")
    options = options_from_settings(Settings())
    assert options.archive == ArchiveLimits(max_unzipped_mb=0.01, max_ratio=50, max_members=50)
    reason, _seconds, _peak = refuse(path, options)
    assert "over the 0.01 MB limit (PASSERELLE_MAX_UNZIPPED_MB)" in reason


MAIN_PARTS = {
    ".odt": "content.xml",
    ".ods": "content.xml",
    ".odp": "content.xml",
    ".pptx": "ppt/slides/slide1.xml",
    ".xlsx": "xl/worksheets/sheet1.xml",
    ".epub": "EPUB/chap1.xhtml",
}


@pytest.mark.parametrize("suffix", sorted(MAIN_PARTS))
def test_every_zip_based_format_is_guarded(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bombe{suffix}"
    writers = {
        ".odt": lambda: write_odt(path, [("p", "Texte.")]),
        ".ods": lambda: write_ods(path, {"Feuille": [["Texte"]]}),
        ".odp": lambda: write_odp(path, [("Titre", ["Texte."])]),
        ".pptx": lambda: write_pptx(path, [("Titre", ["Texte."])]),
        ".xlsx": lambda: write_xlsx(path, {"Feuille": [["Texte"]]}),
        ".epub": lambda: write_epub(path, "Livre", [("Chapitre", "<p>Texte.</p>")]),
    }
    writers[suffix]()
    load_raw(path)  # the sample itself is read
    inflate_member(path, MAIN_PARTS[suffix], total_mb=150, node_mb=5)
    reason, seconds, peak_mb = refuse(path)
    assert reason.startswith("archive too large once decompressed: declares 150 MB")
    assert seconds < 0.5 and peak_mb < 5
