"""The widget in Debian's Chromium: a partner page on another origin embeds it, asks a seed
question, reads the streamed answer and a quoted source; an origin not allowed gets a clear
refusal. Screenshots go to ``test-output/``."""

from __future__ import annotations

import functools
import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from answer.engine import AnswerEngine
from app import create_app
from index.service import IndexService
from server.pages import DEMO_BASE, WIDGET_DIR
from server.services import Services
from settings import ROOT

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

SHOTS = ROOT / "test-output"
QUESTION = "Quand la Mission Bassin Minier a-t-elle été créée ?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing on 127.0.0.1:{port}")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, app_url_port: tuple[str, int]) -> Path:
    """``widget/demo.html`` rewritten to load the widget from the test app."""
    folder = tmp_path_factory.mktemp("partner-site")
    page = (WIDGET_DIR / "demo.html").read_text("utf-8").replace(DEMO_BASE, app_url_port[0])
    (folder / "index.html").write_text(page, "utf-8")
    return folder


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"app": free_port(), "partner": free_port(), "stranger": free_port()}


@pytest.fixture(scope="module")
def app_url_port(ports: dict[str, int]) -> tuple[str, int]:
    return f"http://127.0.0.1:{ports['app']}", ports["app"]


def serve_folder(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def sites(
    index_service: IndexService, ports: dict[str, int], demo_site: Path
) -> Iterator[dict[str, str]]:
    """The real app (partner origin allowed) and two host sites: allowed and not."""
    partner = f"http://127.0.0.1:{ports['partner']}"
    settings = index_service.settings.model_copy(
        update={"generator": "extractive", "allowed_origins": partner}
    )
    services = Services(settings, index_service, AnswerEngine(settings, index_service))
    config = uvicorn.Config(
        create_app(services, mount_ui=False),
        host="127.0.0.1",
        port=ports["app"],
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    hosts = [serve_folder(demo_site, ports[name]) for name in ("partner", "stranger")]
    wait_for(ports["app"])
    try:
        yield {
            "app": f"http://127.0.0.1:{ports['app']}",
            "partner": partner,
            "stranger": f"http://127.0.0.1:{ports['stranger']}",
        }
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for host in hosts:
            host.shutdown()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1100, "height": 780}, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"widget-{name}.png"))


def ask(page, question: str) -> None:
    box = page.get_by_role("textbox", name=re.compile("question", re.I))
    box.fill(question)
    box.press("Enter")


def test_a_partner_page_gets_a_streamed_answer_with_quoted_sources(page, sites) -> None:
    expect = playwright_api.expect
    page.goto(sites["partner"] + "/index.html")
    launcher = page.get_by_role("button", name="Ouvrir l’assistant")
    expect(launcher).to_be_visible()
    shot(page, "1-closed")
    launcher.click()
    dialog = page.get_by_role("dialog", name="Mission Bassin Minier")
    expect(dialog).to_be_visible()
    box = dialog.get_by_role("textbox", name="Votre question")
    expect(box).to_be_focused()
    # Record what the answer bubble shows while the answer streams in.
    page.evaluate(
        """() => {
          const log = document.querySelector('passerelle-chat').shadowRoot.querySelector('.log');
          window.__states = [];
          new MutationObserver(() => {
            const last = log.lastElementChild;
            if (last && last.classList.contains('b'))
              window.__states.push([last.textContent, !!last.querySelector('.cite')]);
          }).observe(log, {subtree: true, childList: true, characterData: true});
        }"""
    )
    ask(page, QUESTION)
    citation = dialog.locator("button.cite").first
    expect(citation).to_be_visible(timeout=30_000)
    answer = dialog.locator(".m.b").last
    expect(answer).to_contain_text("2000")
    states = page.evaluate("window.__states")
    streamed = [text for text, has_buttons in states if not has_buttons and "2000" in text]
    assert streamed, f"no streamed text before the checked answer: {states}"
    citation.click()
    expect(citation).to_have_attribute("aria-expanded", "true")
    quote = answer.locator("blockquote").first
    expect(quote).to_be_visible()
    assert len(quote.inner_text()) > 40
    expect(quote.locator("strong")).to_contain_text("2000")  # the supporting sentence
    link = answer.get_by_role("link", name="Ouvrir le document").first
    assert link.get_attribute("href").startswith(sites["app"] + "/?source=")
    source = answer.get_by_role("link", name="Source ↗").first  # where the passage comes from
    assert source.get_attribute("href").startswith(sites["app"] + "/documents/")
    shot(page, "2-answer-with-source")

    # The conversation survives a reload; Escape closes and gives focus back.
    page.reload()
    dialog = page.get_by_role("dialog", name="Mission Bassin Minier")
    expect(dialog.locator("button.cite").first).to_be_visible()
    dialog.get_by_role("textbox", name="Votre question").focus()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Ouvrir l’assistant")).to_be_focused()


def test_a_page_from_an_origin_not_allowed_shows_a_clear_refusal(page, sites) -> None:
    expect = playwright_api.expect
    page.goto(sites["stranger"] + "/index.html")
    page.get_by_role("button", name="Ouvrir l’assistant").click()
    dialog = page.get_by_role("dialog")
    ask(page, QUESTION)
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("n’est pas autorisé", timeout=15_000)
    expect(dialog.locator("button.cite")).to_have_count(0)
    expect(dialog.locator(".m.u")).to_have_count(0)  # the failed exchange is withdrawn...
    expect(dialog.get_by_role("textbox", name="Votre question")).to_have_value(QUESTION)  # ...kept
    shot(page, "3-origin-refused")


def test_the_embed_page_chats_inline_in_english(page, sites) -> None:
    expect = playwright_api.expect
    page.goto(sites["app"] + "/embed?lang=en&title=Passerelle&color=%230b6e4f")
    region = page.get_by_role("region", name="Passerelle")
    expect(region).to_be_visible()
    expect(page.get_by_role("button", name="Open the assistant")).to_have_count(0)
    page.get_by_role("textbox", name="Your question").fill(
        "When was the Mission Bassin Minier set up?"
    )
    page.get_by_role("button", name="Send").click()
    expect(region.locator("button.cite").first).to_be_visible(timeout=30_000)
    shot(page, "4-embed-en")
