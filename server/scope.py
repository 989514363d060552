"""Which collections a request may read, decided once per request for every surface.

- ``Authorization: Bearer <key>``: the key's collections (an unknown key is refused);
- else a browser ``Origin`` listed in ``PASSERELLE_ORIGIN_COLLECTIONS``: its collections;
- else (same-origin pages, the widget on an allowed site, scripts): the public ones.

A surface may then ask for fewer (the widget's ``data-collection``, a ``/v1`` model):
``narrow_to`` refuses anything outside the caller's scope, whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from index.collections import CollectionConfig, CollectionError, Scope, narrow, parse_scope
from server.admission import Refused
from server.keys import ApiKey, KeyStore, bearer_token
from server.security import normalise_origin


@dataclass(frozen=True)
class Caller:
    """Who asks: the collections they may read, and their key if they sent one."""

    scope: Scope
    key: ApiKey | None = None


def key_store(state) -> KeyStore:
    """The app's ``KeyStore`` (one per app, created on first use)."""
    store = getattr(state, "keys", None)
    if store is None:
        store = state.keys = KeyStore(state.settings.data_dir)
    return store


def collection_config(state) -> CollectionConfig:
    """The app's view of ``corpus/collections.toml`` (re-read when it changes)."""
    config = getattr(state, "collections", None)
    if config is None:
        config = state.collections = CollectionConfig(state.settings.corpus_dir)
    return config


def caller_of(request: Request) -> Caller:
    """The caller of ``request``; ``Refused`` (401) for a key that is not valid."""
    state = request.app.state
    config = collection_config(state)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        token = bearer_token(authorization)
        key = key_store(state).verify(token) if token else None
        if key is None:
            raise Refused(
                401,
                "invalid_api_key",
                "Clé d'API inconnue ou révoquée. / Invalid or revoked API key.",
            )
        return Caller(key.scope, key)
    origin = request.headers.get("origin")
    if origin:
        mapping = {normalise_origin(o): s for o, s in state.settings.origin_collection_map.items()}
        spec = mapping.get(normalise_origin(origin))
        if spec is not None:
            return Caller(parse_scope(spec, config))
    return Caller(config.public_scope())


def narrow_to(caller: Caller, wanted: str | None) -> Scope:
    """The caller's scope, or only collection ``wanted`` if the caller may read it."""
    if not wanted:
        return caller.scope
    try:
        return narrow(caller.scope, frozenset({wanted.strip().lower()}))
    except CollectionError:
        raise Refused(
            403,
            "collection_not_allowed",
            f"La collection « {wanted} » n'est pas accessible ici. / Collection "
            f"{wanted!r} is not available to this caller.",
        ) from None
