"""API keys through the ``passerelle keys`` command: shown once, only a hash stored,
listed without the key, revoked; a revoked key is refused by a running app at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.keys import KEYS_FILE, KeyStore

PASSERELLE = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def keys(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PASSERELLE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        ["nice", "-n", "19", *PASSERELLE, "keys", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=60,
    )


def test_create_prints_the_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    made = keys(tmp_path, "create", "--name", "site-partenaire", "--collections", "public")
    assert made.returncode == 0, made.stderr
    key = made.stdout.splitlines()[0]
    assert key.startswith("psl_") and len(key) > 40
    stored = (tmp_path / KEYS_FILE).read_text()
    assert key not in stored and key[-20:] not in stored
    assert json.loads(stored)["keys"][0]["collections"] == ["public"]
    assert oct((tmp_path / KEYS_FILE).stat().st_mode & 0o777) == "0o600"
    listed = keys(tmp_path, "list")
    assert "site-partenaire" in listed.stdout and key not in listed.stdout
    assert json.loads(keys(tmp_path, "list", "--json").stdout)[0]["name"] == "site-partenaire"
    entry = KeyStore(tmp_path).verify(key)
    assert entry is not None and entry.scope == frozenset({"public"})
    assert KeyStore(tmp_path).verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


def test_bad_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    bad = keys(tmp_path, "create", "--name", "x", "--collections", "Pas Bon")
    assert bad.returncode == 2 and "invalid collection name" in bad.stdout
    keys(tmp_path, "create", "--name", "x", "--collections", "public")
    twice = keys(tmp_path, "create", "--name", "x", "--collections", "public")
    assert twice.returncode == 2 and "already exists" in twice.stdout
    assert keys(tmp_path, "revoke", "inconnue").returncode == 1


def test_a_revoked_key_is_refused_by_the_running_app(tmp_path: Path, index_service) -> None:
    from answer.engine import AnswerEngine
    from app import create_app
    from server.services import Services

    settings = index_service.settings.model_copy(update={"data_dir": tmp_path})
    services = Services(settings, index_service, AnswerEngine(settings, index_service))
    key = keys(tmp_path, "create", "--name", "temp", "--collections", "public").stdout.split()[0]
    body = {"question": "Quand la Mission Bassin Minier a-t-elle été créée ?"}
    with TestClient(create_app(services, mount_ui=False), base_url="http://127.0.0.1") as http:
        auth = {"Authorization": f"Bearer {key}"}
        assert http.post("/api/ask", json=body, headers=auth).status_code == 200
        assert keys(tmp_path, "revoke", "temp").returncode == 0
        refused = http.post("/api/ask", json=body, headers=auth)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_api_key"
        assert http.get("/v1/models", headers=auth).json()["error"]["code"] == "invalid_api_key"


def test_the_admin_tab_creates_lists_and_revokes_keys(tmp_path: Path, index_service) -> None:
    from answer.engine import AnswerEngine
    from server.services import Services
    from ui.admin import AdminError, AdminHandlers
    from ui.feedback import FeedbackStore

    settings = index_service.settings.model_copy(
        update={"data_dir": tmp_path, "admin_token": "jeton-admin-assez-long"}
    )
    services = Services(settings, index_service, AnswerEngine(settings, index_service))
    admin = AdminHandlers(services, FeedbackStore.for_data_dir(tmp_path))
    with pytest.raises(AdminError):
        admin.create_key("mauvais", "intranet", "*")
    shown, listed = admin.create_key("jeton-admin-assez-long", "intranet", "public, interne")
    key = shown.split("<pre>")[1].split("</pre>")[0]
    assert KeyStore(tmp_path).verify(key).scope == frozenset({"public", "interne"})
    assert "intranet" in listed and "interne, public" in listed and key not in listed
    assert "intranet" not in admin.revoke_key("jeton-admin-assez-long", "intranet")
    assert KeyStore(tmp_path).verify(key) is None
