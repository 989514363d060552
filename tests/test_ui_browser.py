"""The chat UI in Debian's Chromium (Playwright): ask, click [1], check the passage; no XSS."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from server.services import Services
from settings import ROOT, Settings
from ui.devserver import serve_in_thread
from ui.feedback import FeedbackStore

pytestmark = pytest.mark.browser

OUT = ROOT / "test-output"
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
TRAP_DOC = (
    "Programme Balise des corons\n\n"
    f"Le programme Balise des corons rénove les façades des cités minières. {SCRIPT} "
    # the budget sentence names its programme: this test is about markup, and the engine
    # does not yet read "Son budget" as the budget of the programme named before
    f"Le budget de Balise des corons est de 3 millions d'euros. {IMG} "
    "Il est piloté par la ville de Lens.\n"
)
SEED_QUESTION = (
    "Avec quels partenaires la Mission Bassin Minier a-t-elle mené le programme RESCUE ?"
)


@pytest.fixture(scope="module")
def browser_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "corpus", root / "corpus")
    (root / "corpus" / "balise-des-corons.txt").write_text(TRAP_DOC, encoding="utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=root / "corpus", generator="extractive")
    services = Services.load(settings)
    report = services.index.ingest()
    assert not report.failed and len(report.added) == 3
    return services


@pytest.fixture(scope="module")
def base_url(browser_services: Services) -> Iterator[str]:
    import app

    with serve_in_thread(app.create_app(browser_services)) as url:
        yield url


@pytest.fixture
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#psl-question textarea", question)
    page.click("#psl-send")


def test_ask_click_citation_and_see_highlighted_passage(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    OUT.mkdir(exist_ok=True)
    page.goto(base_url + "/")
    page.wait_for_selector("#psl-question textarea")
    assert "Posez vos questions" in page.inner_text("#psl-header")
    ask(page, SEED_QUESTION)
    cite = page.locator("#psl-chat a.psl-cite").first
    cite.wait_for()
    assert "RESCUE" in page.inner_text("#psl-chat")
    cite.click()
    selected = page.locator("#psl-sources .psl-card.selected")
    selected.wait_for()
    assert page.url.rstrip("/") == base_url  # the click selected the source, no navigation
    assert "Mission Bassin Minier" in selected.locator(".psl-title").inner_text()
    mark = selected.locator("mark.psl-span")
    assert mark.is_visible() and len(mark.inner_text()) > 50
    evidence = mark.locator("strong.psl-evidence")  # the sentence the answer rests on
    assert evidence.is_visible() and "RESCUE" in evidence.inner_text()
    page.screenshot(path=str(OUT / "ui-answer-source.png"))

    selected.locator("button.psl-open").click()
    doc_mark = page.locator("#psl-doc mark.psl-span")
    doc_mark.wait_for()
    assert doc_mark.inner_text().strip() == mark.inner_text().strip()
    page.wait_for_timeout(600)
    page.screenshot(path=str(OUT / "ui-document-viewer.png"), full_page=True)


def test_unanswerable_question_shows_a_refusal_notice(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.wait_for_selector("#psl-question textarea")
    ask(page, "Quel est le score du dernier match de football entre le PSG et l'OM ?")
    notice = page.locator("#psl-chat .psl-refusal")
    notice.wait_for()
    assert "coopération transfrontalière" in notice.inner_text()
    assert page.locator("#psl-chat a.psl-cite").count() == 0
    page.screenshot(path=str(OUT / "ui-refusal.png"))


def test_markup_inside_documents_is_shown_never_run(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.wait_for_selector("#psl-question textarea")
    ask(page, "Quel est le budget du programme Balise des corons ?")
    page.locator("#psl-chat a.psl-cite").first.wait_for()
    page.locator("#psl-sources .psl-card").first.wait_for()
    cards = page.inner_text("#psl-sources")
    assert SCRIPT in cards and IMG in cards  # shown literally, as text
    page.locator("#psl-sources button.psl-open").first.click()
    page.locator("#psl-doc mark.psl-span").wait_for()
    assert SCRIPT in page.inner_text("#psl-doc")
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#psl-sources img, #psl-doc img, #psl-chat img[src='x']").count() == 0
    page.screenshot(path=str(OUT / "ui-markup-escaped.png"))


def test_source_link_opens_the_document_with_span_highlighted(  # type: ignore[no-untyped-def]
    page, base_url: str, browser_services: Services
) -> None:
    text = browser_services.index.document_text("balise-des-corons.txt")
    assert text is not None
    span = "Le budget de Balise des corons est de 3 millions d'euros."
    start = text.index(span)
    page.goto(f"{base_url}/?source=balise-des-corons.txt&start={start}&end={start + len(span)}")
    page.locator("#psl-doc mark.psl-span").wait_for()
    assert page.inner_text("#psl-doc mark.psl-span") == span
    assert SCRIPT in page.inner_text("#psl-doc")
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_thumbs_up_is_recorded(page, base_url: str, browser_services: Services) -> None:  # type: ignore[no-untyped-def]
    store = FeedbackStore.for_data_dir(browser_services.settings.data_dir)
    before = store.count()
    page.goto(base_url + "/")
    page.wait_for_selector("#psl-question textarea")
    ask(page, SEED_QUESTION)
    page.locator("#psl-chat a.psl-cite").first.wait_for()
    page.locator('#psl-chat button[aria-label="J\'aime"]').last.click()  # fr-FR browser
    page.wait_for_timeout(1500)
    rows = store.rows()
    assert store.count() == before + 1 and rows[-1]["rating"] == 1
    assert rows[-1]["question"] == SEED_QUESTION
