"""API keys: ``Authorization: Bearer <key>``, each scoped to collections, with its own
rate limit. Only a SHA-256 of each key is stored, in ``DATA_DIR/api_keys.json``.

A key is ``psl_<id>_<secret>``: the id finds the entry, the hash of the whole key is
compared in constant time. Keys are 192-bit random, so a fast hash is enough (no
password stretching needed). The file is re-read when it changes: a key created or
revoked with ``passerelle keys`` applies to a running server at its next request.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from index.collections import ALL, CollectionError, Scope, check_name

KEYS_FILE = "api_keys.json"
PREFIX = "psl_"


@dataclass
class ApiKey:
    """One key as stored (never the key itself)."""

    id: str
    name: str
    collections: list[str]  # names, or ["*"] for every collection
    hash: str
    created: str
    rate_limit_per_minute: int | None = None  # None: settings.key_rate_limit_per_minute

    @property
    def scope(self) -> Scope:
        return None if ALL in self.collections else frozenset(self.collections)

    def public(self) -> dict:
        """What ``keys list`` and the admin tab show."""
        return {
            "id": self.id,
            "name": self.name,
            "collections": self.collections,
            "created": self.created,
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_collections(text: str | list[str]) -> list[str]:
    """``"public,interne"`` (or a list) as checked names; ``*`` alone means every one."""
    items = text if isinstance(text, list) else text.replace("|", ",").split(",")
    names = [n.strip() for n in items if n.strip()]
    if not names:
        raise CollectionError("a key needs at least one collection (or * for all)")
    if ALL in names:
        return [ALL]
    return sorted({check_name(n) for n in names})


class KeyStore:
    """The keys of one data dir; safe to share between threads."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / KEYS_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, ApiKey] = {}

    def _load(self) -> dict[str, ApiKey]:
        try:
            st = self.path.stat()
        except OSError:
            self._keys, self._stamp = {}, None
            return self._keys
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            rows = json.loads(self.path.read_text(encoding="utf-8")).get("keys", [])
            self._keys = {row["id"]: ApiKey(**row) for row in rows}
            self._stamp = stamp
        return self._keys

    def _save(self, keys: dict[str, ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"keys": [asdict(k) for k in keys.values()]}, handle, indent=1)
        os.replace(tmp, self.path)
        self._stamp = None  # re-read (and re-stamp) on next use

    def create(
        self, name: str, collections: str | list[str], rate_limit: int | None = None
    ) -> tuple[ApiKey, str]:
        """A new key: its stored entry and the key itself (shown once, never stored)."""
        name = name.strip()
        if not name or len(name) > 80:
            raise ValueError("a key needs a name of 1 to 80 characters")
        scope = parse_collections(collections)
        with self._lock:
            keys = dict(self._load())
            if any(k.name == name for k in keys.values()):
                raise ValueError(f"a key named {name!r} already exists (revoke it first)")
            key_id = secrets.token_hex(4)
            while key_id in keys:
                key_id = secrets.token_hex(4)
            secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
            entry = ApiKey(
                id=key_id,
                name=name,
                collections=scope,
                hash=_digest(secret),
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                rate_limit_per_minute=rate_limit,
            )
            keys[key_id] = entry
            self._save(keys)
        return entry, secret

    def list(self) -> list[ApiKey]:
        """Keys in use (a revoked key is deleted from the file)."""
        with self._lock:
            return sorted(self._load().values(), key=lambda k: (k.created, k.name))

    def revoke(self, id_or_name: str) -> ApiKey | None:
        """Delete a key by id or name; the revoked entry, or None if there is none."""
        with self._lock:
            keys = dict(self._load())
            found = next(
                (k for k in keys.values() if id_or_name in (k.id, k.name)),
                None,
            )
            if found is not None:
                del keys[found.id]
                self._save(keys)
            return found

    def verify(self, presented: str) -> ApiKey | None:
        """The key's entry if ``presented`` is a valid key, else None."""
        presented = presented.strip()
        if not presented.startswith(PREFIX):
            return None
        key_id = presented[len(PREFIX) :].split("_", 1)[0]
        with self._lock:
            entry = self._load().get(key_id)
        if entry is None or not hmac.compare_digest(entry.hash, _digest(presented)):
            return None
        return entry


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


# -- passerelle keys ----------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:
    """``passerelle keys create|list|revoke``."""
    p = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys = p.add_subparsers(dest="keys_command", required=True)
    c = keys.add_parser("create", help="create a key (printed once)")
    c.add_argument("--name", required=True, help="who uses it, e.g. site-partenaire")
    c.add_argument("--collections", required=True, help="comma-separated, or * for all")
    c.add_argument("--rate-limit", type=int, default=None, help="questions per minute")
    c.add_argument("--json", action="store_true")
    ls = keys.add_parser("list", help="keys in use (names, collections; never the keys)")
    ls.add_argument("--json", action="store_true")
    r = keys.add_parser("revoke", help="delete a key by id or name")
    r.add_argument("key", help="id or name")


def command(args: argparse.Namespace) -> int:
    """Run ``passerelle keys …``: 0 done, 1 nothing to revoke, 2 bad input."""
    from settings import get_settings

    store = KeyStore(get_settings().data_dir)
    if args.keys_command == "create":
        try:
            entry, secret = store.create(args.name, args.collections, args.rate_limit)
        except ValueError as exc:  # CollectionError included
            print(f"passerelle keys: {exc}")
            return 2
        if args.json:
            print(json.dumps({**entry.public(), "key": secret}, ensure_ascii=False))
        else:
            print(secret)
            print(
                f"Clé « {entry.name} » ({entry.id}), collections : "
                f"{', '.join(entry.collections)}. Elle ne sera plus jamais affichée : "
                "copiez-la maintenant. / Shown once: copy it now."
            )
        return 0
    if args.keys_command == "list":
        rows = [k.public() for k in store.list()]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        elif not rows:
            print("Aucune clé. / No keys.")
        for row in [] if args.json else rows:
            limit = row["rate_limit_per_minute"] or "défaut"
            print(
                f"{row['id']}  {row['name']:<24} {','.join(row['collections']):<20} "
                f"{row['created']}  {limit}/min"
            )
        return 0
    revoked = store.revoke(args.key)
    if revoked is None:
        print(f"passerelle keys: no key named or numbered {args.key!r}")
        return 1
    print(f"Clé « {revoked.name} » ({revoked.id}) révoquée. / Revoked.")
    return 0
