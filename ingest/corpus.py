"""The corpus folder: which files it holds, their hashes, titles and cleaned Documents."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from llama_index.core import Document

from index.collections import CONFIG_FILE, collection_of
from ingest.clean import CLEANER_VERSION, clean_text
from ingest.errors import DocumentError
from ingest.loaders import load_raw
from ingest.raw import RawDocument

METADATA_FILE = "metadata.toml"


class CorpusDocument(Document):
    """A llama-index Document whose hash is the content hash of its file and pipeline.

    The default hash covers every metadata value, so touching a file (new mtime) would
    re-embed it; ours changes only when the bytes, the title or the pipeline change.
    """

    @property
    def hash(self) -> str:
        return str(self.metadata["content_hash"])


@dataclass
class CorpusFile:
    """A file found in the corpus folder, identified by its path relative to the folder."""

    path: Path
    source: str
    size: int
    mtime: float


def scan(folder: Path) -> list[CorpusFile]:
    """Every candidate document under ``folder`` (hidden files, metadata.toml and
    collections.toml excluded)."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if rel.as_posix() in (METADATA_FILE, CONFIG_FILE):
            continue
        stat = path.stat()
        files.append(CorpusFile(path, rel.as_posix(), stat.st_size, stat.st_mtime))
    return files


def read_metadata(folder: Path) -> dict[str, dict[str, str]]:
    """Titles and URLs from ``metadata.toml`` (a broken file is reported, not fatal)."""
    meta_path = folder / METADATA_FILE
    if not meta_path.exists():
        return {}
    try:
        return tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{METADATA_FILE} is not valid TOML ({exc})") from exc


def content_hash(data: bytes, meta: dict[str, str], pipeline_key: str) -> str:
    """Hash of what makes a document's chunks: its bytes, its metadata, the pipeline."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(meta, sort_keys=True).encode())
    digest.update(f"{CLEANER_VERSION}:{pipeline_key}".encode())
    return digest.hexdigest()


def _default_title(source: str) -> str:
    stem = Path(source).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:]


def load_document(
    file: CorpusFile, meta: dict[str, str], doc_hash: str, max_bytes: int
) -> CorpusDocument:
    """Load, clean and wrap one file; raises DocumentError with a plain reason."""
    if file.size > max_bytes:
        raise DocumentError(
            f"file is {file.size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
            "(PASSERELLE_MAX_FILE_MB)"
        )
    if file.size == 0:
        raise DocumentError("empty file")
    return make_document(file.source, load_raw(file.path), meta, doc_hash, file.mtime)


def make_document(
    source: str,
    raw: RawDocument,
    meta: dict[str, str],
    doc_hash: str,
    mtime: float,
    extra: dict[str, str] | None = None,
) -> CorpusDocument:
    """Clean the pages of ``raw`` and wrap them as the Document of ``source`` (a path or a
    URL); raises DocumentError when no text is left."""
    texts = [clean_text(page) for page in raw.pages]
    page_starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page_text in texts:
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2
    text = "\n\n".join(parts)
    if len(text.strip()) < 2:
        raise DocumentError("no text found (empty, or a scanned image without text layer)")
    title = meta.get("title") or raw.title or _default_title(source)
    return CorpusDocument(
        id_=source,
        text=text,
        metadata={
            "source": source,
            "title": title,
            "url": meta.get("url", ""),
            "collection": collection_of(source, meta),
            "content_hash": doc_hash,
            "mtime": mtime,
            "page_starts": json.dumps(page_starts if raw.paginated else []),
            # its metadata.toml entry as indexed: kept if that file is broken later
            "corpus_meta": json.dumps(meta, sort_keys=True, ensure_ascii=False),
            **(extra or {}),
        },
    )
