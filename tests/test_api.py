"""The HTTP API over the real seed index and the extractive generator: answers, streaming,
origin allow-list, limits, rate limits, health, OpenAPI, widget assets and headers."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from answer.engine import AnswerEngine
from answer.types import Citation, SourcesEvent, TokenEvent
from app import create_app
from index.service import IndexService
from server.ratelimit import Limit, RateLimiter
from server.security import is_same_origin, normalise_origin
from server.services import Services
from server.snippet import widget_snippet
from settings import ROOT

PARTNER = "https://partenaire.example.org"
LOCAL = "http://127.0.0.1"  # a Host the server answers (PASSERELLE_ALLOWED_HOSTS default)
QUESTION = "Quand la Mission Bassin Minier a-t-elle été créée ?"


class CountingEngine:
    """The real engine, counting the calls that reach it."""

    def __init__(self, engine: AnswerEngine) -> None:
        self.engine = engine
        self.memo = engine.memo
        self.calls = 0

    def ask(self, question, history=None):
        self.calls += 1
        return self.engine.ask(question, history)

    def stream(self, question, history=None):
        self.calls += 1
        return self.engine.stream(question, history)


def make_services(index: IndexService, **overrides) -> Services:
    settings = index.settings.model_copy(update={"generator": "extractive", **overrides})
    engine = CountingEngine(AnswerEngine(settings, index))
    return Services(settings=settings, index=index, engine=engine)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def services(index_service: IndexService) -> Services:
    return make_services(
        index_service,
        allowed_origins=f"{PARTNER}/",
        rate_limit_per_minute=1000,
        session_rate_limit_per_minute=1000,
    )


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    """The whole app, chat UI included, as served by ``passerelle serve``."""
    with TestClient(create_app(services), base_url=LOCAL) as test_client:
        yield test_client


def sse_events(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent events body."""
    events = []
    for block in re.split(r"\r?\n\r?\n", text):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def assert_citations_resolve(result: dict) -> None:
    numbers = {c["n"] for c in result["citations"]}
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])}
    assert cited, result["answer"]
    assert cited <= numbers


# --- answers ---------------------------------------------------------------------------


def test_ask_answers_a_seed_question_with_resolvable_citations(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["answerable"] is True
    assert result["language"] == "fr"
    assert "2000" in result["answer"]
    assert_citations_resolve(result)
    cited = result["citations"][0]
    assert cited["source"].endswith(".txt") and cited["title"] and cited["text"]
    # the sentence the answer rests on, located inside the quoted passage
    start, end = cited["evidence"]
    assert 0 <= start < end <= len(cited["text"])
    assert "2000" in cited["text"][start:end]


def test_ask_accepts_history_for_a_follow_up(client: TestClient) -> None:
    first = client.post("/api/ask", json={"question": QUESTION}).json()
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first["answer"]},
    ]
    response = client.post(
        "/api/ask", json={"question": "Avec quelles régions a-t-elle coopéré ?", "history": history}
    )
    assert response.status_code == 200, response.text
    assert response.json()["answer"]


def test_chat_streams_sources_then_tokens_then_the_checked_answer(client: TestClient) -> None:
    with client.stream("POST", "/api/chat", json={"question": QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "answer"
    assert set(names[1:-1]) == {"token"}, names
    sources, answer = events[0][1], events[-1][1]
    assert sources["citations"] and all("text" in c for c in sources["citations"])
    assert "".join(data["text"] for name, data in events if name == "token").strip()
    assert answer["question"] == QUESTION and answer["answerable"] is True
    assert_citations_resolve(answer)


def test_a_failure_mid_stream_becomes_an_error_event_and_the_server_stays_up(
    index_service: IndexService,
) -> None:
    """SSE plumbing with a failing test double: the client learns why the answer stopped."""

    class BrokenEngine:
        def stream(self, question, history=None):
            yield SourcesEvent([Citation(1, "a.txt", "A", None, "texte", 0, 5, 1.0)])
            yield TokenEvent("Début")
            raise RuntimeError("model crashed")

    services = Services(index_service.settings, index_service, BrokenEngine())  # type: ignore[arg-type]
    with TestClient(create_app(services, mount_ui=False), base_url=LOCAL) as broken:
        response = broken.post("/api/chat", json={"question": QUESTION})
        assert [name for name, _ in sse_events(response.text)] == ["sources", "token", "error"]
        error = sse_events(response.text)[-1][1]
        assert error["error"] == "internal_error" and "model crashed" not in error["detail"]
        assert broken.get("/api/health").status_code == 200


def test_a_dead_chroma_server_gives_503_and_the_server_stays_up(index_service) -> None:
    """PASSERELLE_CHROMA_URL pointing at a server that died: a clear 503, not a crash."""
    from conftest import free_port

    dead = index_service.settings.model_copy(
        update={"chroma_url": f"http://127.0.0.1:{free_port()}", "generator": "extractive"}
    )
    index = IndexService(dead)
    services = Services(dead, index, AnswerEngine(dead, index))
    with TestClient(create_app(services, mount_ui=False), base_url=LOCAL) as app:
        response = app.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 503
        assert "unreachable" in response.json()["detail"]
        assert app.post("/api/ask", json={"question": QUESTION}).status_code == 503


# --- origins ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
def test_a_disallowed_origin_gets_403_and_never_reaches_the_engine(
    client: TestClient, services: Services, path: str
) -> None:
    before = services.engine.calls  # type: ignore[attr-defined]
    response = client.post(
        path, json={"question": QUESTION}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"
    assert "https://evil.example" in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers
    assert services.engine.calls == before  # type: ignore[attr-defined]


def test_an_allowed_origin_gets_cors_headers(client: TestClient) -> None:
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": PARTNER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-passerelle-session",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PARTNER
    response = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": PARTNER})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PARTNER
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()


def test_a_disallowed_origin_fails_the_cors_preflight(client: TestClient) -> None:
    preflight = client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_same_origin_and_non_browser_clients_are_allowed(client: TestClient) -> None:
    same = client.get("/api/health", headers={"Origin": LOCAL})
    assert same.status_code == 200
    assert client.get("/api/health").status_code == 200


def test_origin_comparison_ignores_case_default_ports_and_trailing_slash() -> None:
    assert normalise_origin("HTTPS://Partenaire.Example.org:443/") == PARTNER
    assert normalise_origin("javascript:alert(1)") is None
    assert is_same_origin("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert is_same_origin("https://passerelle.example", "passerelle.example")
    assert not is_same_origin("http://127.0.0.1:7861", "127.0.0.1:7860")


# --- limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/ask", "/api/chat"])
def test_a_100000_character_question_gets_413_quickly(
    client: TestClient, services: Services, path: str
) -> None:
    before = services.engine.calls  # type: ignore[attr-defined]
    started = time.perf_counter()
    response = client.post(path, json={"question": "mine " * 20_000})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "question_too_long" and body["max_chars"] == 2000
    assert "2000" in body["detail"]
    assert services.engine.calls == before  # type: ignore[attr-defined]


def test_a_huge_body_is_refused_without_being_parsed(client: TestClient) -> None:
    response = client.post(
        "/api/ask",
        content=b'{"question": "' + b"a" * 3_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_history_longer_than_the_limit_gets_413(client: TestClient) -> None:
    history = [{"role": "user", "content": "Bonjour"}] * 21
    response = client.post("/api/ask", json={"question": QUESTION, "history": history})
    assert response.status_code == 413
    assert response.json()["error"] == "history_too_long"
    assert response.json()["max_messages"] == 20


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"history": []}',
        b'{"question": 42}',
        b'{"question": "Bonjour", "history": [{"role": "system", "content": "x"}]}',
        b'{"question": "   "}',
    ],
    ids=["not-json", "no-question", "not-a-string", "bad-role", "blank"],
)
def test_malformed_or_empty_requests_get_422_with_a_message(
    client: TestClient, services: Services, body: bytes
) -> None:
    before = services.engine.calls  # type: ignore[attr-defined]
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] in ("invalid_request", "empty_question")
    assert response.json()["detail"]
    assert services.engine.calls == before  # type: ignore[attr-defined]


def test_rate_limits_per_ip_and_per_session_answer_429_with_retry_after(
    index_service: IndexService,
) -> None:
    services = make_services(
        index_service, rate_limit_per_minute=5, session_rate_limit_per_minute=2
    )
    blank = {"question": " "}  # counted by the limiter, then refused before the engine
    with TestClient(create_app(services, mount_ui=False), base_url=LOCAL) as limited:
        session = {"X-Passerelle-Session": "conversation-1"}
        assert limited.post("/api/ask", json=blank, headers=session).status_code == 422
        assert limited.post("/api/chat", json=blank, headers=session).status_code == 422
        refused = limited.post("/api/ask", json=blank, headers=session)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"] == "rate_limited"
        # Another session on the same address still has room, until the address limit.
        other = {**blank, "session": "conversation-2"}
        assert limited.post("/api/ask", json=other).status_code == 422
        assert limited.post("/api/ask", json=other).status_code == 422
        assert limited.post("/api/ask", json={"question": " "}).status_code == 422
        by_ip = limited.post("/api/ask", json={"question": QUESTION})
        assert by_ip.status_code == 429 and "Retry-After" in by_ip.headers
        assert services.engine.calls == 0  # type: ignore[attr-defined]
        assert limited.get("/api/health").status_code == 200  # health is never limited


def test_the_sliding_window_frees_slots_as_time_passes() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limit = Limit("ip", 2, window=60)
    assert limiter.hit([(limit, "a")]) is None
    now[0] = 30
    assert limiter.hit([(limit, "a")]) is None
    assert limiter.hit([(limit, "a")]) == (limit, 30)
    assert limiter.hit([(limit, "b")]) is None  # keys are independent
    now[0] = 60.5
    assert limiter.hit([(limit, "a")]) is None


# --- health, OpenAPI, admin ------------------------------------------------------------


def test_health_reports_the_loaded_index(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "documents": 2,
        "chunks": response.json()["chunks"],
        "generator": "extractive",
        "queue": response.json()["queue"],
        "memo": {"kept": 0, "reused": 0},  # extractive: no model text to keep
    }
    assert response.json()["chunks"] > 0
    queue = response.json()["queue"]  # the model's queue: empty (tests/test_scheduler.py)
    assert (queue["waiting"], queue["running"], queue["budget_s"]) == (0, 0, 10.0)


def test_health_is_503_loading_until_services_are_loaded(index_service: IndexService) -> None:
    app = create_app(settings=index_service.settings, mount_ui=False)
    # lifespan not entered: the background load never starts
    loading = TestClient(app, base_url=LOCAL)
    response = loading.get("/api/health")
    assert response.status_code == 503 and response.json()["status"] == "loading"
    ask = loading.post("/api/ask", json={"question": QUESTION})
    assert ask.status_code == 503 and ask.json()["error"] == "loading"
    assert "Retry-After" in ask.headers


def test_openapi_documents_the_three_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    api_paths = {p for p in spec["paths"] if p.startswith("/api/")}
    assert api_paths == {"/api/ask", "/api/chat", "/api/health"}
    ask = spec["paths"]["/api/ask"]["post"]
    assert "AskRequest" in json.dumps(ask["requestBody"])
    assert "AnswerModel" in json.dumps(ask["responses"]["200"])
    assert "text/event-stream" in spec["paths"]["/api/chat"]["post"]["responses"]["200"]["content"]
    assert client.get("/docs").status_code == 404  # Swagger UI loads from a CDN: off by default


ADMIN_LIKE = ["/api/admin", "/api/ingest", "/api/admin/ingest", "/api/feedback"]


@pytest.mark.parametrize("path", ADMIN_LIKE)
def test_no_admin_function_is_reachable_through_the_api(client: TestClient, path: str) -> None:
    assert client.post(path, json={"token": "x"}).status_code in (404, 405)
    assert client.get(path).status_code in (404, 405)


# --- widget, embed and the chat UI -----------------------------------------------------


def test_widget_script_is_served_as_cacheable_javascript(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in response.headers["cache-control"]
    assert "customElements.define('passerelle-chat'" in response.text
    assert ".innerHTML" not in response.text
    assert len(response.content) < 16_000


def test_embed_page_may_be_framed_only_by_allowed_origins(client: TestClient) -> None:
    response = client.get("/embed", params={"lang": "en", "title": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {PARTNER}" in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'data-mode="inline"' in response.text and 'data-lang="en"' in response.text
    assert "<script>alert" not in response.text


def test_other_pages_refuse_to_be_framed(client: TestClient) -> None:
    assert client.get("/").headers["x-frame-options"] == "SAMEORIGIN"


def test_the_chat_ui_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "gradio" in response.text.lower()


def test_widget_snippet_points_at_the_server() -> None:
    snippet = widget_snippet("https://passerelle.example/", title='Mission "Bassin"')
    assert snippet.startswith('<script src="https://passerelle.example/widget.js"')
    assert "&quot;Bassin&quot;" in snippet and snippet.endswith("defer></script>")


# --- passerelle serve ------------------------------------------------------------------


def test_serve_answers_at_once_then_reports_the_loaded_index(
    index_service: IndexService, tmp_path: Path
) -> None:
    """``passerelle serve`` opens its port before loading, then serves API and chat UI."""
    settings = index_service.settings
    data_dir = tmp_path / "data"
    shutil.copytree(settings.data_dir, data_dir)  # a private copy: two processes, one store
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PASSERELLE_DATA_DIR": str(data_dir),
        "PASSERELLE_CORPUS_DIR": str(settings.corpus_dir),
        "PASSERELLE_GENERATOR": "extractive",
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        statuses = []
        deadline = started + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                health = httpx.get(base + "/api/health", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            statuses.append((health.status_code, health.json().get("status", health.text)))
            if health.status_code == 200:
                break
            time.sleep(0.2)
        assert statuses and statuses[-1] == (200, "ok"), statuses
        assert set(statuses[:-1]) <= {(503, "loading")}, proc.terminate() or proc.communicate()[0]
        assert httpx.get(base + "/api/health").json()["chunks"] > 0
        assert httpx.get(base + "/").status_code == 200
        ask = httpx.post(base + "/api/ask", json={"question": QUESTION}, timeout=60)
        assert ask.status_code == 200 and ask.json()["citations"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    # uvicorn shuts down gracefully, then re-raises SIGTERM: the conventional exit status.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert f"http://127.0.0.1:{port}/" in output
