"""Chroma: an embedded ``PersistentClient`` by default, a ``chroma run`` server when configured.

Only chromadb here (no llama-index), so inspecting the index stays fast; the llama-index
adapters over these collections are in ``index/chunk_store.py``.
"""

from __future__ import annotations

from urllib.parse import urlparse

import chromadb
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from settings import Settings

SENTENCES_SUFFIX = "-sentences"


class StoreUnavailable(RuntimeError):
    """The vector store cannot be reached or opened; the message says where and why."""


class StoreChanging(StoreUnavailable):
    """The embedded store kept failing while another process rewrote it (retry later)."""


def open_client(settings: Settings) -> chromadb.api.ClientAPI:
    """A Chroma client for ``settings`` (server URL or embedded folder)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
            return client
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # connection errors differ between transports
        raise StoreUnavailable(
            f"cannot reach the Chroma store at {settings.store_location}: {exc}"
        ) from exc


def forget_embedded_store(settings: Settings) -> None:
    """Make the next embedded client read the store from disk again.

    chromadb keeps one ``System`` per folder for the whole process
    (``SharedSystemClient``), HNSW segments included, and a new ``PersistentClient``
    gets that same one: after another process rewrote the folder it stays stale
    ("Error finding id", missing vectors) until its cache is cleared. The cache is
    dropped, not stopped: objects still holding the old system (a search in another
    thread) finish with it and it is freed with them. Nothing in Passerelle closes its
    clients, so the old system's reference counts are never released into the new one.
    """
    if not settings.chroma_url:
        SharedSystemClient.clear_system_cache()


def rewritten_meanwhile(exc: Exception) -> bool:
    """True for the errors an embedded store raises while another process rewrites it.

    Its in-memory segments no longer match the files: "Error finding id", "Error
    executing plan" (``InternalError``), a collection dropped and created again
    (``NotFoundError``).
    """
    from chromadb.errors import InternalError, NotFoundError

    return isinstance(exc, InternalError | NotFoundError)


def open_collection(settings: Settings, suffix: str = "") -> chromadb.Collection:
    """The collection of this embedding model (cosine distance), created when missing.

    ``suffix`` names a companion collection (``SENTENCES_SUFFIX``: the sentence vectors).
    """
    client = open_client(settings)
    try:
        return client.get_or_create_collection(
            settings.collection_name + suffix,
            metadata={"hnsw:space": "cosine", "embedding_model": settings.embed_slug},
            embedding_function=None,
        )
    except Exception as exc:
        raise StoreUnavailable(
            f"cannot open collection {settings.collection_name} at {settings.store_location}: {exc}"
        ) from exc


def drop_collection(settings: Settings, suffix: str) -> None:
    """Delete a companion collection if it exists (sentence vectors switched off)."""
    client = open_client(settings)
    name = settings.collection_name + suffix
    if name in {collection.name for collection in client.list_collections()}:
        client.delete_collection(name)
