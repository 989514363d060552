"""The ``local`` model behind a ``llama-server`` that Passerelle starts itself.

``@pytest.mark.llm``: the real binary (``scripts/setup.sh`` builds it into .venv/bin) and
the bundled model, over the real seed index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import httpx
import pytest
from helpers import assert_cited_fact

from answer.engine import AnswerEngine
from answer.generators import make_generator
from answer.generators.llama_server import LlamaServerGenerator, server_binary
from answer.generators.memo import Recording
from answer.types import AnswerResult
from settings import Settings

QUESTIONS = [
    "Quel programme a été mis en place du côté brésilien ?",
    "Combien de sites brésiliens ont été identifiés ?",
]


@pytest.fixture(scope="module")
def server_settings(seed_settings: Settings) -> Settings:
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing (scripts/assemble_model.py)")
    if server_binary(seed_settings) is None:
        pytest.fail("llama-server is missing: scripts/setup.sh builds it into .venv/bin")
    return seed_settings.model_copy(
        update={"generator": "local", "llm_server": True, "llm_parallel": 2}
    )


@pytest.fixture(scope="module")
def served(server_settings: Settings) -> Iterator[LlamaServerGenerator]:
    generator = make_generator(server_settings)
    assert isinstance(generator, LlamaServerGenerator)
    generator.load()
    yield generator
    generator.close()


class Written:
    """Where a ``memo.Recording`` of the served model puts each text it completed: whether
    the model answered a question, whatever the checker then kept of it (the text depends
    on the build: on an AVX2 build the model copied the prompt's invented example into the
    first answer, which the checker rightly refused)."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def put(self, messages: list, max_tokens: int | None, name: str, text: str) -> None:
        with self._lock:
            self.texts.append(("\n".join(m["content"] for m in messages), text))

    def answered(self, question: str) -> bool:
        """The model wrote text for a prompt asking ``question``."""
        return any(question in prompt and text.strip() for prompt, text in self.texts)


@pytest.mark.llm
def test_the_server_serves_two_questions_at_once_with_checked_model_answers(
    served: LlamaServerGenerator, server_settings: Settings, index_service
) -> None:
    base = served.server.url().removesuffix("/v1")
    assert httpx.get(f"{base}/props", timeout=5).json()["total_slots"] == 2
    written = Written()
    engine = AnswerEngine(server_settings, index_service, Recording(served, written))
    results: dict[int, AnswerResult] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.update({i: engine.ask(QUESTIONS[i])}))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    # the model answered both (through its two slots), and both replies are checked and cited
    assert written.answered(QUESTIONS[0]) and written.answered(QUESTIONS[1]), written.texts
    assert results[0].answerable
    assert_cited_fact(results[0], "Mosaïques")
    assert results[1].answerable
    assert_cited_fact(results[1], "9")


@pytest.mark.llm
def test_a_server_that_died_is_started_again_at_the_next_question(
    served: LlamaServerGenerator, server_settings: Settings, index_service
) -> None:
    first = served.server._proc
    assert first is not None
    first.kill()
    first.wait()
    written = Written()
    engine = AnswerEngine(server_settings, index_service, Recording(served, written))
    result = engine.ask(QUESTIONS[0])
    assert written.answered(QUESTIONS[0]), written.texts  # the new server answered
    assert_cited_fact(result, "Mosaïques")
    assert served.server.running() and served.server._proc is not first


def test_without_the_binary_the_in_process_model_answers(
    seed_settings: Settings, tmp_path, caplog
) -> None:
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing (scripts/assemble_model.py)")
    settings = seed_settings.model_copy(
        update={
            "generator": "local", "llm_server": True, "llm_server_bin": tmp_path / "none"
        }
    )
    with caplog.at_level(logging.WARNING):
        generator = make_generator(settings)
    assert type(generator).__name__ == "LocalGenerator"
    assert "llama-server unavailable" in caplog.text


CHILD = """
import sys, time
from answer.generators.llama_server import LlamaServerGenerator
from settings import Settings
generator = LlamaServerGenerator(Settings(llm_server=True, llm_parallel=1))
generator.load()
print(generator.server._proc.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.llm
def test_the_server_dies_with_passerelle_even_when_it_is_killed(server_settings) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())  # the server, loaded and answering
        os.kill(parent.pid, signal.SIGKILL)  # no atexit, no cleanup in Passerelle
        parent.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        assert not _alive(pid), "llama-server outlived the process that started it"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.llm
def test_an_answer_continues_its_prefill_once(served: LlamaServerGenerator) -> None:
    prefill = "La capitale de la France est"
    messages = [
        {"role": "system", "content": "Réponds en une phrase."},
        {"role": "user", "content": "Quelle est la capitale de la France ?"},
        {"role": "assistant", "content": prefill},
    ]
    text = "".join(served.stream(messages, max_tokens=12))
    assert text.startswith(prefill) and text.count(prefill) == 1, text
    assert "Paris" in text


def test_the_prefill_is_given_once_whether_the_server_sends_it_back_or_not() -> None:
    from answer.generators.openai import _with_prefill

    prefill = "La capitale est"
    echoed = ["La cap", "itale est", " Paris", "."]  # llama-server sends it back first
    assert "".join(_with_prefill(iter(echoed), prefill)) == "La capitale est Paris."
    assert "".join(_with_prefill(iter([" Paris", "."]), prefill)) == "La capitale est Paris."
    assert "".join(_with_prefill(iter([" Paris."]), "")) == " Paris."
