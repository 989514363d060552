"""Issue 10 probes, replayed over raw HTTP against a real ``passerelle serve`` process.

One server for the module (admin token, a partner origin, small limits, extractive
generator, its own Gradio temp folder). Tests run in file order: the ones that spend the
rate limits or trip the admin-token throttle come last.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import free_port, stop_process

from index.service import IndexService
from settings import ROOT

TOKEN = "jeton-securite-7c1e"
PARTNER = "https://partenaire.example.org"
RATE_LIMIT = 4  # questions per minute per client address, for the rate-limit probes
MAX_FILE_MB = 0.05  # 50,000 bytes: uploads of 60,000 bytes must be refused
QUESTION = "Quand la Mission Bassin Minier a-t-elle été créée ?"


@dataclass
class Server:
    base: str
    port: int
    temp: Path  # GRADIO_TEMP_DIR of the server
    corpus: Path
    log: Path

    def files_in_temp(self) -> set[Path]:
        return {p for p in self.temp.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def server(
    index_service: IndexService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("security-http")
    data_dir = root / "data"
    shutil.copytree(index_service.settings.data_dir, data_dir)  # one store per process
    temp = root / "gradio-temp"
    temp.mkdir()
    port = free_port()
    log = root / "server.log"
    env = {
        **os.environ,
        "PASSERELLE_DATA_DIR": str(data_dir),
        "PASSERELLE_CORPUS_DIR": str(index_service.settings.corpus_dir),
        "PASSERELLE_GENERATOR": "extractive",
        "PASSERELLE_ADMIN_TOKEN": TOKEN,
        "PASSERELLE_ALLOWED_ORIGINS": PARTNER,
        "PASSERELLE_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
        "PASSERELLE_MAX_FILE_MB": str(MAX_FILE_MB),
        "GRADIO_TEMP_DIR": str(temp),
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "cli.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(base + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        yield Server(base, port, temp, Path(index_service.settings.corpus_dir), log)
    finally:
        stop_process(proc)


def fd(path: str) -> dict:
    """A Gradio FileData naming a path on the server, as the probe sent it."""
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def gradio_call(server: Server, api: str, data: list, headers: dict | None = None) -> str:
    """Call a Gradio event over its HTTP API; the raw server-sent events of the result."""
    started = httpx.post(
        f"{server.base}/gradio_api/call/{api}", json={"data": data}, headers=headers, timeout=30
    )
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    result = httpx.get(f"{server.base}/gradio_api/call/{api}/{event_id}", timeout=120)
    return result.text


# --- item 9: a lone surrogate -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
def test_a_lone_surrogate_in_a_question_gets_422(server: Server, path: str) -> None:
    for body in (
        '{"question": "Qui \\ud800 ?"}',
        '{"question": "Qui ?", "history": [{"role": "user", "content": "\\udfff"}]}',
    ):
        response = httpx.post(
            server.base + path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_request"


# --- item 10: DNS rebinding --------------------------------------------------------------


def test_a_foreign_host_header_is_refused_even_with_a_matching_origin(server: Server) -> None:
    evil = {"Host": "evil.example", "Origin": "http://evil.example"}
    assert httpx.get(server.base + "/api/health", headers=evil).status_code == 400
    ask = httpx.post(server.base + "/api/ask", json={"question": QUESTION}, headers=evil)
    assert ask.status_code == 400
    assert httpx.get(server.base + "/", headers={"Host": "evil.example"}).status_code == 400
    local = {"Host": f"localhost:{server.port}", "Origin": f"http://localhost:{server.port}"}
    assert httpx.get(server.base + "/api/health", headers=local).status_code == 200


# --- item 12: headers -------------------------------------------------------------------


def test_the_chat_page_has_a_content_security_policy_and_docs_are_off(server: Server) -> None:
    page = httpx.get(server.base + "/")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "img-src 'self' data: blob:" in csp and "connect-src 'self'" in csp
    assert httpx.get(server.base + "/docs").status_code == 404  # Swagger UI needs a CDN
    assert httpx.get(server.base + "/openapi.json").status_code == 200


# --- item 11: small leaks ---------------------------------------------------------------


def test_without_the_token_no_corpus_file_name_is_published(server: Server) -> None:
    names = [p.name for p in server.corpus.iterdir() if p.suffix == ".txt"]
    assert names
    for path in ("/config", "/gradio_api/info", "/"):
        body = httpx.get(server.base + path).text
        assert not [n for n in names if n in body], path
    config = httpx.get(server.base + "/config").json()
    # the chat messages are HTML we escaped, never Markdown (item 7)
    chatbot = next(
        c for c in config["components"] if c.get("props", {}).get("elem_id") == "psl-chat"
    )
    assert chatbot["props"]["render_markdown"] is False


def test_exported_feedback_has_no_public_url(server: Server) -> None:
    result = gradio_call(server, "admin_export_feedback", [TOKEN])
    assert "avis" in result and "/gradio_api/file=" not in result
    assert not [p for p in server.files_in_temp() if p.suffix == ".jsonl"]
    assert httpx.get(server.base + "/admin/feedback.jsonl").status_code == 403
    wrong_cookie = {"passerelle_admin": "0" * 64}
    assert httpx.get(server.base + "/admin/feedback.jsonl", cookies=wrong_cookie).status_code == 403
    session = httpx.post(server.base + "/admin/session", json={"token": TOKEN})
    assert session.status_code == 204 and "httponly" in session.headers["set-cookie"].lower()
    export = httpx.get(server.base + "/admin/feedback.jsonl", cookies=session.cookies)
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"


# --- item 6: uploads --------------------------------------------------------------------


def test_uploads_need_the_token_and_respect_the_ingest_size_limit(server: Server) -> None:
    before = server.files_in_temp()
    small = {"files": ("petit.txt", b"x" * 1_000)}
    big = {"files": ("gros.txt", b"x" * 60_000)}  # over 0.05 MB = 50,000 bytes
    assert httpx.post(server.base + "/gradio_api/upload", files=small).status_code == 403
    assert httpx.post(server.base + "/gradio_api/upload", files=big).status_code == 403
    assert server.files_in_temp() == before  # nothing of an anonymous upload reaches the disk
    admin = {"X-Passerelle-Admin": TOKEN}
    too_big = httpx.post(server.base + "/gradio_api/upload", files=big, headers=admin)
    assert too_big.status_code == 413
    assert server.files_in_temp() == before  # no partial or empty temp file is left
    assert httpx.get(server.base + "/config").json()["max_file_size"] == 50_000


# --- item 1: the admin upload takes only uploaded files ---------------------------------


def test_admin_upload_refuses_paths_on_the_server(server: Server) -> None:
    readme = str(ROOT / "README.md")  # readable, of a supported type
    before = server.files_in_temp()
    corpus_before = sorted(p.name for p in server.corpus.iterdir())
    replies = {}
    for token in ("", TOKEN):
        for path in (readme, "/nope.txt"):
            reply = gradio_call(server, "admin_upload", [token, [fd(path)]])
            assert "event: error" in reply, reply
            assert "FileNotFoundError" not in reply and "No such file" not in reply
            replies[token, path] = reply.replace(path, "PATH")
        # no file-existence oracle: an existing and a missing file get the same answer
        assert replies[token, readme] == replies[token, "/nope.txt"]
    assert server.files_in_temp() == before  # nothing was copied into Gradio's temp folder
    assert sorted(p.name for p in server.corpus.iterdir()) == corpus_before
    # a file the admin really uploads still lands in the corpus, and its temp copy goes
    admin = {"X-Passerelle-Admin": TOKEN}
    doc = {"files": ("securite-test.txt", "Le programme Test sécurité existe.".encode())}
    uploaded = httpx.post(server.base + "/gradio_api/upload", files=doc, headers=admin).json()
    reply = gradio_call(server, "admin_upload", [TOKEN, [fd(uploaded[0])]])
    assert "event: complete" in reply and "securite-test.txt" in reply
    try:
        assert (server.corpus / "securite-test.txt").exists()
        assert not Path(uploaded[0]).exists()
    finally:
        (server.corpus / "securite-test.txt").unlink(missing_ok=True)


# --- items 2 and 3: one set of rate limits, not fooled by X-Forwarded-For --------------


def test_forwarded_for_does_not_reset_the_limit_and_gradio_shares_it(server: Server) -> None:
    blank = {"question": " "}  # counted by the limiter, refused before the engine
    statuses = [httpx.post(server.base + "/api/ask", json=blank).status_code for _ in range(6)]
    assert statuses.count(422) == RATE_LIMIT and statuses[-1] == 429, statuses
    for i in range(1, 6):
        spoofed = {"X-Forwarded-For": f"10.0.0.{i}"}
        response = httpx.post(server.base + "/api/ask", json=blank, headers=spoofed)
        assert response.status_code == 429, response.text
    # the Gradio chat's /ask, its own door into the engine, is over the same limit
    for _ in range(3):
        reply = gradio_call(server, "ask", [QUESTION, "fr"])
        assert "Trop de questions" in reply and "psl-cite" not in reply, reply[-500:]


# --- item 4: admin token guessing -------------------------------------------------------


def test_admin_token_guesses_are_throttled_with_one_log_line_each(server: Server) -> None:
    log_before = server.log.read_text()
    replies = [gradio_call(server, "admin_status", [f"essai-{i}"]) for i in range(7)]
    # 5 failures per client per 5 minutes (an earlier test spent one with a wrong cookie)
    refused = [r for r in replies if "invalide" in r]
    assert 4 <= len(refused) <= 5 and replies[: len(refused)] == refused, replies
    assert all("Trop d'essais" in r for r in replies[len(refused) :]), replies
    # now even the right token is refused from this client, on every admin door
    assert "Trop d'essais" in gradio_call(server, "admin_status", [TOKEN])
    throttled = httpx.post(server.base + "/admin/session", json={"token": TOKEN})
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    time.sleep(0.5)
    new_log = server.log.read_text()[len(log_before) :]
    assert new_log.count("admin credential refused") == len(refused), new_log
    assert "Traceback" not in new_log, new_log
    assert "Jeton" not in new_log and TOKEN not in new_log, new_log
