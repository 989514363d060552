"""Zip bomb guard: every zip-based document (docx, odt, xlsx, epub…) is checked before parsing.

The parsing libraries inflate members whole into memory, so a 342 KB file whose XML
inflates to 300 MB would cost gigabytes before any of them complains. Python's zipfile
reads the central directory without inflating anything; the checks below use it, then
inflate each member through a bounded stream, counting real bytes, so that a header
that under-declares a member's size cannot slip through either.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import DocumentError

_MB = 1_000_000
_READ = 1 << 16
# Members smaller than this are not checked for ratio: tiny, very regular XML parts
# (styles, empty sheets) reach ratios of several hundred and cannot hurt.
_RATIO_FLOOR = _MB


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zip-based document may inflate to (``PASSERELLE_MAX_UNZIPPED_MB`` etc.)."""

    max_unzipped_mb: float = 100.0
    max_ratio: float = 200.0
    max_members: int = 10_000


def check_archive(path: Path, limits: ArchiveLimits, kind: str) -> None:
    """Refuse ``path`` with a plain reason if it is not a zip or may be a decompression bomb.

    ``kind`` names the format in messages ("Word file", "EPUB"…).
    """
    _refuse_ole(path, kind)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"corrupt or unreadable {kind} (not a zip archive)") from exc
    try:
        with archive:
            members = archive.infolist()
            _check_declared(members, limits)
            _inflate_bounded(archive, members, limits)
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"corrupt or unreadable {kind} (damaged zip archive: {exc})") from exc
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        if "encrypted" in str(exc) or "password" in str(exc):
            raise DocumentError(f"password-protected {kind}") from exc
        raise DocumentError(f"corrupt or unreadable {kind} ({exc})") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable {kind} ({exc})") from exc


_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _refuse_ole(path: Path, kind: str) -> None:
    """Office encrypts a password-protected file into an OLE container, not a zip.

    Its directory names the stream "EncryptedPackage" (UTF-16); without it the OLE file
    is an old binary document (.doc, .xls, .ppt) under a new extension.
    """
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if not head.startswith(_OLE_MAGIC):
        return
    with open(path, "rb") as handle:
        data = handle.read()
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise DocumentError(f"password-protected {kind}")
    raise DocumentError(
        f"not a {kind}: an old binary Office document (.doc, .xls, .ppt); "
        "save it in the newer format first"
    )


def _too_large(size: int, limits: ArchiveLimits, what: str) -> DocumentError:
    return DocumentError(
        f"archive too large once decompressed: {what} {size / _MB:,.0f} MB, over the "
        f"{limits.max_unzipped_mb:g} MB limit (PASSERELLE_MAX_UNZIPPED_MB)"
    )


def _check_declared(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Checks on the sizes the archive declares, before inflating a byte."""
    if len(members) > limits.max_members:
        raise DocumentError(
            f"archive has {len(members):,} members, over the {limits.max_members:,} limit "
            "(PASSERELLE_MAX_ZIP_MEMBERS)"
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_unzipped_mb * _MB:
        raise _too_large(total, limits, "declares")
    for member in members:
        if member.file_size < _RATIO_FLOOR:
            continue
        ratio = member.file_size / max(1, member.compress_size)
        if ratio > limits.max_ratio:
            raise DocumentError(
                f"archive member {member.filename} inflates {ratio:,.0f} times "
                f"({member.compress_size / 1000:,.0f} KB to {member.file_size / _MB:,.0f} MB), "
                f"over the ratio limit of {limits.max_ratio:g} (PASSERELLE_MAX_ZIP_RATIO): "
                "a decompression bomb"
            )


def _inflate_bounded(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: ArchiveLimits
) -> None:
    """Inflate every member in small reads, counting the bytes really produced.

    zipfile stops a member at the size its header declares and then checks the CRC, so
    a header that under-declares a member ends here as a damaged archive (BadZipFile),
    before any parser reads it; the running total is a second, independent bound.
    """
    budget = int(limits.max_unzipped_mb * _MB)
    total = 0
    for member in members:
        if member.is_dir():
            continue
        with archive.open(member) as stream:
            while chunk := stream.read(_READ):
                total += len(chunk)
                if total > budget:
                    raise _too_large(total, limits, "inflates to more than")
