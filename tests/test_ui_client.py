"""The chat UI driven through ``gradio_client`` against the real app over the seed index."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client
from helpers import text_of

from answer.engine import AnswerEngine
from index.service import IndexService
from server.services import Services
from settings import ROOT, Settings
from ui import render
from ui.chat import ChatHandlers
from ui.devserver import serve_in_thread
from ui.feedback import FeedbackStore

SEED_QUESTION = (
    "Avec quels partenaires la Mission Bassin Minier a-t-elle mené le programme RESCUE ?"
)
UNANSWERABLE = "Quel est le score du dernier match de football entre le PSG et l'OM ?"


@pytest.fixture(scope="module")
def services(seed_settings: Settings, index_service: IndexService) -> Services:
    return Services(seed_settings, index_service, AnswerEngine(seed_settings, index_service))


@pytest.fixture(scope="module")
def base_url(services: Services) -> Iterator[str]:
    import app

    with serve_in_thread(app.create_app(services)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Client:
    """A fresh browser-like session (its own conversation state)."""
    return Client(base_url + "/", verbose=False)


# -- pure rendering ---------------------------------------------------------------------
def test_answer_citations_become_links_and_text_is_escaped() -> None:
    out = render.format_answer("Voir <script>x()</script> [1] et [2, 3].", turn=4, valid=[1, 2, 3])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert '<a class="psl-cite" href="#src-4-1"' in out
    assert 'href="#src-4-2"' in out and 'href="#src-4-3"' in out
    # a number the engine did not give as a source stays plain text
    assert "psl-cite" not in render.format_answer("Selon [9].", turn=0, valid=[1])


def test_source_card_highlights_span_in_context_and_escapes_document() -> None:
    doc = "A" * 400 + " <img src=x onerror=alert(1)> passage cité ici " + "B" * 400
    start = doc.index("passage")
    cite = {
        "n": 1,
        "source": "d.txt",
        "title": "T <b>",
        "page": 2,
        "text": "passage cité ici",
        "start": start,
        "end": start + len("passage cité ici"),
        "score": 0.5,
    }
    card = render.render_source_card(cite, 0, "fr", {"d.txt": doc}.get)
    assert '<mark class="psl-span">passage cité ici</mark>' in card
    assert "&lt;img src=x onerror=alert(1)&gt;" in card and "<img" not in card
    assert "T &lt;b&gt;" in card and "page 2" in card and 'id="src-0-1"' in card
    assert "… " in card  # context cut before the span, not the whole document


def test_source_card_singles_out_the_supporting_sentence() -> None:
    doc = "Intro. Le programme a reçu <b>253 millions €</b>. Autre phrase ici."
    start, end = 0, len(doc)
    evidence = [doc.index("Le programme"), doc.index(". Autre") + 1]
    cite = {"n": 1, "source": "d.txt", "title": "T", "page": None, "text": doc,
            "start": start, "end": end, "score": 0.5, "evidence": evidence}  # fmt: skip
    card = render.render_source_card(cite, 0, "fr", {"d.txt": doc}.get)
    assert (
        '<mark class="psl-span">Intro. <strong class="psl-evidence">Le programme a reçu '
        "&lt;b&gt;253 millions €&lt;/b&gt;.</strong> Autre phrase ici.</mark>"
    ) in card
    # an evidence span outside the passage is ignored, never mis-highlighted
    card = render.render_source_card({**cite, "evidence": [0, 999]}, 0, "fr", {"d.txt": doc}.get)
    assert "psl-evidence" not in card


def test_refusal_is_a_notice_listing_documents() -> None:
    out = render.format_refusal("Je ne sais pas.", ["Doc <1>", "Doc 2"], "fr")
    assert 'class="psl-refusal"' in out and "Doc &lt;1&gt;" in out and "psl-cite" not in out


# -- handlers in process ----------------------------------------------------------------
class SpyEngine:
    """The real engine, recording the history each question was asked with."""

    def __init__(self, engine: AnswerEngine) -> None:
        self.engine = engine
        self.histories: list[list] = []

    def stream(self, question, history=None):
        self.histories.append(list(history or []))
        return self.engine.stream(question, history)


def test_follow_up_is_asked_with_the_conversation(services: Services, tmp_path: Path) -> None:
    spy = SpyEngine(services.engine)
    h = ChatHandlers(
        Services(services.settings, services.index, spy), FeedbackStore(tmp_path / "f")
    )
    *_, (chat, _, _, turns) = h.ask(SEED_QUESTION, [], "fr")
    *_, (chat, _, _, turns) = h.ask("Quelles régions y ont participé ?", turns, "fr")
    assert spy.histories[0] == []
    assert [m.role for m in spy.histories[1]] == ["user", "assistant"]
    assert spy.histories[1][0].content == SEED_QUESTION
    assert spy.histories[1][1].content == turns[0]["answer"]
    assert len(chat) == 4


def test_thumbs_are_stored_and_exported_as_jsonl(services: Services, tmp_path: Path) -> None:
    import gradio as gr

    data_dir = tmp_path / "data"
    store = FeedbackStore.for_data_dir(data_dir)
    h = ChatHandlers(services, store)
    *_, (chat, _, _, turns) = h.ask(SEED_QUESTION, [], "fr")
    h.like(gr.LikeData(None, {"index": 1, "value": chat[1], "liked": False}), turns, None)
    h.like(gr.LikeData(None, {"index": 1, "value": chat[1], "liked": True}), turns, None)
    h.like(gr.LikeData(None, {"index": 0, "value": chat[0], "liked": True}), turns, None)
    assert store.count() == 1  # re-rating replaces; user messages are not rated

    out = tmp_path / "avis.jsonl"
    env = {**os.environ, "PASSERELLE_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "ui.feedback", "export", str(out)], cwd=ROOT, env=env, check=True
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"question", "answer", "citations", "rating", "time"}
    assert row["question"] == SEED_QUESTION and row["rating"] == 1
    assert row["answer"] == turns[0]["answer"] and row["citations"][0]["source"].endswith(".txt")


# -- the running app --------------------------------------------------------------------
def test_seed_question_streams_an_answer_with_citation(client: Client) -> None:
    job = client.submit(SEED_QUESTION, api_name="/ask")
    updates = list(job)
    chat, sources, _ = job.result()
    assert len(updates) >= 3  # question shown, sources, tokens…, checked answer
    assert updates[0][2] == ""  # the question box is emptied as soon as it is sent
    assert [m["role"] for m in chat] == ["user", "assistant"]
    answer = text_of(chat[1])
    assert '<a class="psl-cite" href="#src-0-1"' in answer
    assert "RESCUE" in html.unescape(answer)
    assert 'id="src-0-1"' in sources and '<mark class="psl-span">' in sources
    assert "Mission Bassin Minier à l&#x27;international" in sources  # human title
    # inside the passage, the sentence that supports the answer is singled out
    evidence = re.findall(r'<strong class="psl-evidence">(.*?)</strong>', sources, re.S)
    assert evidence and "RESCUE" in evidence[0]


def test_follow_up_keeps_the_conversation(client: Client) -> None:
    client.predict(
        "Quel montant a été alloué aux projets de coopération transfrontalière ?", api_name="/ask"
    )
    chat, sources, _ = client.predict("Et combien venait de l'Union européenne ?", api_name="/ask")
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    answer = html.unescape(text_of(chat[3]))
    assert "psl-refusal" not in answer and "src-1-" in answer  # cites, in turn 1
    assert "118,2" in answer
    chat, sources, _ = client.predict(api_name="/new_conversation")
    assert chat == [] and "psl-card" not in sources


def test_unanswerable_question_is_refused(client: Client) -> None:
    chat, sources, _ = client.predict(UNANSWERABLE, api_name="/ask")
    answer = text_of(chat[-1])
    assert 'class="psl-refusal"' in answer and "psl-cite" not in answer
    assert "coopération transfrontalière" in html.unescape(answer)  # says what is covered
    assert "psl-card" not in sources


def test_english_interface(client: Client) -> None:
    header, *_ = client.predict("en", api_name="/set_language")
    assert "Ask questions" in header
