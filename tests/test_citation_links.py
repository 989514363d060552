"""Citations that lead back (issue 13): each citation's ``url`` is the page URL of a web
document or ``/documents/<path>#page=N``, served only for indexed documents the caller
may read (collections as for ``/?source=``), never anything else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from answer.engine import AnswerEngine
from app import create_app
from index.links import document_link, with_links
from index.service import IndexService
from server.keys import KeyStore
from server.services import Services
from settings import Settings
from ui.render import render_source_card

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> IndexService:
    """A public text, a public HTML page with a script, and an internal note; one file
    of the folder is not indexed (unsupported type)."""
    root = tmp_path_factory.mktemp("links")
    corpus = root / "corpus"
    (corpus / "interne").mkdir(parents=True)
    (corpus / "terrils.txt").write_text(
        "# Les terrils\n\nLe terril de Loos-en-Gohelle culmine à 186 mètres.", encoding="utf-8"
    )
    (corpus / "page.html").write_text(
        "<html><head><title>Page</title><script>document.title='pwned'</script></head>"
        "<body><p>La base 11/19 accueille un centre de ressources.</p></body></html>",
        encoding="utf-8",
    )
    (corpus / "interne" / "budget.txt").write_text(
        "# Budget interne\n\nLe budget interne de 2026 est de 4,2 millions d'euros.",
        encoding="utf-8",
    )
    (corpus / "notes.bin").write_bytes(b"\x00\x01 not indexed")
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, generator="extractive")
    service = IndexService(settings)
    service.ingest()
    return service


def client_for(index: IndexService, **overrides) -> Iterator[TestClient]:
    settings = index.settings.model_copy(update=overrides)
    services = Services(settings=settings, index=index, engine=AnswerEngine(settings, index))
    with TestClient(create_app(services, mount_ui=False), base_url=LOCAL) as client:
        yield client


@pytest.fixture(scope="module")
def client(index: IndexService) -> Iterator[TestClient]:
    yield from client_for(index)


def test_links_of_files_and_web_pages() -> None:
    assert (
        document_link("rapports/bilan 2025.pdf", 3) == "/documents/rapports/bilan%202025.pdf#page=3"
    )
    assert document_link("terrils.txt", None) == "/documents/terrils.txt"
    url = "https://www.example.org/programmes/rescue.html"
    assert document_link(url, None) == url  # a web document's link is its page
    assert with_links([{"source": url, "page": None}])[0]["url"] == url


def test_api_citations_carry_a_link_that_serves_the_document(client: TestClient) -> None:
    response = client.post(
        "/api/ask", json={"question": "Quelle est la hauteur du terril de Loos ?"}
    )
    assert response.status_code == 200
    citations = response.json()["citations"]
    assert citations and citations[0]["source"] == "terrils.txt"
    assert citations[0]["url"] == "/documents/terrils.txt"
    document = client.get(citations[0]["url"])
    assert document.status_code == 200
    assert "186 mètres" in document.text
    assert document.headers["content-type"].startswith("text/plain")

    streamed = client.post("/api/chat", json={"question": "hauteur du terril de Loos ?"})
    assert '"url": "/documents/terrils.txt"' in streamed.text  # the sources event too


def test_html_documents_are_served_sandboxed(client: TestClient) -> None:
    response = client.get("/documents/page.html")
    assert response.status_code == 200 and "base 11/19" in response.text
    assert response.headers["content-security-policy"] == "sandbox"  # its script never runs


@pytest.mark.parametrize(
    "path",
    [
        "/documents/notes.bin",  # in the folder, not indexed
        "/documents/absent.txt",
        "/documents/%2e%2e/%2e%2e/settings.py",
        "/documents/..%2f..%2fsettings.py",
        "/documents//etc/passwd",
        "/documents/interne/budget.txt",  # internal: not in the chat UI's collections
    ],
)
def test_anything_else_is_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "4,2 millions" not in response.text and "root:" not in response.text


def test_collections_are_respected_as_for_the_chat_viewer(index: IndexService) -> None:
    for client in client_for(index, chat_collections="*"):  # an internal deployment
        assert client.get("/documents/interne/budget.txt").status_code == 200
    keys = KeyStore(index.settings.data_dir)
    _, secret = keys.create("intranet", "interne")
    for client in client_for(index):
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/documents/interne/budget.txt", headers=headers).status_code == 200
        assert client.get("/documents/terrils.txt", headers=headers).status_code == 404
        bad = {"Authorization": "Bearer psl_nope"}
        assert client.get("/documents/terrils.txt", headers=bad).status_code == 401


def test_the_chat_ui_source_card_shows_the_link() -> None:
    cite = {"n": 1, "source": "terrils.txt", "title": "Les terrils", "page": None,
            "text": "Le terril", "start": 0, "end": 9, "score": 0.5}  # fmt: skip
    card = render_source_card({**with_links([dict(cite)])[0]}, 0, "fr", lambda s: None)
    assert 'href="/documents/terrils.txt"' in card and "Ouvrir la source" in card
    web = {**cite, "source": "https://www.example.org/a.html"}
    assert 'href="https://www.example.org/a.html"' in render_source_card(
        with_links([web])[0], 0, "en", lambda s: None
    )
    hostile = {**cite, "url": "javascript:alert(1)"}
    assert "javascript:" not in render_source_card(hostile, 0, "fr", lambda s: None)


def test_settings_default_keeps_sources_toml_beside_the_corpus(tmp_path: Path) -> None:
    from sources.config import sources_path

    assert sources_path(tmp_path / "corpus", None) == tmp_path.resolve() / "sources.toml"
    assert sources_path(tmp_path / "corpus", tmp_path / "x.toml") == tmp_path / "x.toml"
