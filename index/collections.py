"""Collections: which collection a document belongs to, and who may read each one.

Every document belongs to one collection: the ``collection`` key of its
``corpus/metadata.toml`` entry, else its first folder under ``corpus/``, else
``DEFAULT_COLLECTION`` (files at the top level: the seed documents). The collection name
is stored on every chunk and sentence; visibility is read at query time from
``corpus/collections.toml``, so changing it never re-indexes anything:

```toml
[public]
visibility = "public"

[interne]
visibility = "internal"
title = "Documents internes"
```

A collection missing from that file is ``internal`` (safe by default), except the default
collection, which is ``public`` unless the file says otherwise.

A *scope* is the set of collections one surface may read: a ``frozenset`` of names, or
``None`` for every collection (the internal chat, an admin key).
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_COLLECTION = "public"
CONFIG_FILE = "collections.toml"
METADATA_KEY = "collection"  # chunk and sentence metadata key in Chroma and the BM25 copy
ALL = "*"  # in settings and keys: every collection

Visibility = Literal["public", "internal"]
Scope = frozenset[str] | None
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class CollectionError(ValueError):
    """A collection name or scope that cannot be used; the message says why."""


def check_name(name: str) -> str:
    """``name`` lower-cased if it is a valid collection name (it becomes a model name)."""
    name = name.strip().lower()
    if not NAME.match(name):
        raise CollectionError(
            f"invalid collection name {name!r}: lower-case letters, digits, '-' and '_' "
            "(at most 63 characters)"
        )
    return name


def collection_of(source: str, meta: dict[str, str]) -> str:
    """The collection of the document at ``source`` (path relative to the corpus)."""
    if meta.get(METADATA_KEY):
        return check_name(meta[METADATA_KEY])
    parts = source.split("/")
    if len(parts) > 1:
        try:
            return check_name(parts[0])
        except CollectionError:
            return DEFAULT_COLLECTION  # a folder name that cannot be a collection name
    return DEFAULT_COLLECTION


@dataclass(frozen=True)
class Collection:
    """One collection as configured."""

    name: str
    visibility: Visibility
    title: str = ""


class CollectionConfig:
    """``collections.toml`` of a corpus folder, re-read when the file changes."""

    def __init__(self, corpus_dir: Path) -> None:
        self.path = Path(corpus_dir) / CONFIG_FILE
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, Collection] = {}
        self._lock = threading.Lock()

    def entries(self) -> dict[str, Collection]:
        """Configured collections by name (a broken file keeps the last good reading)."""
        with self._lock:
            try:
                st = self.path.stat()
                stamp = (st.st_mtime_ns, st.st_size)
            except OSError:
                self._entries, self._stamp = {}, None
                return {}
            if stamp != self._stamp:
                self._entries = parse_config(self.path.read_text(encoding="utf-8"))
                self._stamp = stamp
            return self._entries

    def visibility(self, name: str) -> Visibility:
        entry = self.entries().get(name)
        if entry is not None:
            return entry.visibility
        return "public" if name == DEFAULT_COLLECTION else "internal"

    def public_scope(self) -> frozenset[str]:
        """Every public collection: what browsers and keyless API calls may read."""
        names = {n for n, c in self.entries().items() if c.visibility == "public"}
        if DEFAULT_COLLECTION not in self.entries():
            names.add(DEFAULT_COLLECTION)
        return frozenset(names)

    def describe(self, present: dict[str, int]) -> list[dict]:
        """``[{"name", "visibility", "title", "chunks"}]`` for configured and indexed ones."""
        names = sorted(set(self.entries()) | set(present))
        return [
            {
                "name": n,
                "visibility": self.visibility(n),
                "title": (self.entries().get(n) or Collection(n, "internal")).title or n,
                "chunks": present.get(n, 0),
            }
            for n in names
        ]


def parse_config(text: str) -> dict[str, Collection]:
    """Collections of a ``collections.toml`` text; raises ``CollectionError``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CollectionError(f"{CONFIG_FILE} is not valid TOML ({exc})") from exc
    out = {}
    for raw_name, entry in data.items():
        name = check_name(raw_name)
        if not isinstance(entry, dict):
            raise CollectionError(f"{CONFIG_FILE}: [{name}] must be a table")
        visibility = str(entry.get("visibility", "internal")).strip().lower()
        if visibility not in ("public", "internal"):
            raise CollectionError(
                f"{CONFIG_FILE}: [{name}] visibility must be public or internal, not {visibility!r}"
            )
        out[name] = Collection(name, visibility, str(entry.get("title", "")))  # type: ignore[arg-type]
    return out


def parse_scope(text: str, config: CollectionConfig) -> Scope:
    """A scope from a setting: ``*`` every collection, empty the public ones, else names."""
    text = text.strip()
    if text == ALL:
        return None
    if not text:
        return config.public_scope()
    return frozenset(check_name(n) for n in re.split(r"[|,+\s]+", text) if n)


def narrow(scope: Scope, wanted: Scope) -> Scope:
    """The part of ``wanted`` inside ``scope``; ``CollectionError`` if any is outside."""
    if wanted is None:
        return scope
    if scope is not None and not wanted <= scope:
        raise CollectionError(", ".join(sorted(wanted - scope)))
    return wanted


def allows(scope: Scope, collection: str | None) -> bool:
    """True if a chunk of ``collection`` may be shown under ``scope``."""
    return scope is None or (collection or "") in scope


def chroma_where(scope: Scope) -> dict | None:
    """The Chroma ``where`` filter of ``scope`` (None: no filter)."""
    if scope is None:
        return None
    return {METADATA_KEY: {"$in": sorted(scope) or [""]}}


class ScopedIndex:
    """An ``IndexService`` seen through a scope: what the answer engine, the chat UI and
    the document viewer of one surface may read. Nothing else of the index is exposed."""

    def __init__(self, index, scope: Scope) -> None:  # index: IndexService (no import cycle)
        self.index = index
        self.scope = scope
        self.settings = index.settings

    def search(self, question: str, k: int | None = None, fusion: str | None = None) -> list:
        return self.index.search(question, k, fusion, collections=self.scope)

    def documents(self) -> list[dict]:
        return self.index.documents(self.scope)

    def document_text(self, source: str) -> str | None:
        return self.index.document_text(source, self.scope)

    def status(self) -> dict:
        return self.index.status()

    def acronyms(self) -> dict[str, str]:
        return self.index.acronyms(self.scope)

    @property
    def embed_model(self):
        """The index's embedding model: it reads no documents (the translation check
        compares an English sentence with its French source through it)."""
        return self.index.embed_model
