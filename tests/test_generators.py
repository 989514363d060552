"""The three generators behind one interface, over the real seed index.

``@pytest.mark.llm`` tests run the bundled Qwen GGUF in-process (``local``) and behind
llama-cpp-python's own OpenAI-compatible server (``openai``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import free_port, wait_for_port
from helpers import assert_cited_fact

from answer import fallback
from answer.condense import REWRITE_TOKENS
from answer.engine import AnswerEngine
from answer.evidence import gather
from answer.generators import make_generator
from answer.generators.openai import OpenAIGenerator
from answer.prompts import translate_messages
from answer.question import analyse
from answer.types import Citation, Message
from ingest.text import fold
from settings import Settings


def citations_for(index_service, question: str) -> list[Citation]:
    return [Citation.from_passage(i + 1, p) for i, p in enumerate(index_service.search(question))]


# -- extractive ------------------------------------------------------------------------


def test_extractive_quotes_the_supporting_sentence_with_its_number(index_service) -> None:
    question = "Qui coordonne le programme en France ?"
    citations = citations_for(index_service, question)
    reply = fallback.answer(gather(analyse(question), citations), analyse(question))
    text = reply.text
    assert reply.answerable
    quoted = re.findall(r"([^\[\]]+?)\s*\[(\d+)\]", text.removeprefix("D'après les documents : "))
    assert quoted
    for sentence, n in quoted:
        passage = next(c for c in citations if c.n == int(n))
        assert fold(sentence.strip(" .")) in fold(passage.text)  # a verbatim quote
    assert "Fédération Nationale des Parcs" in text


def test_extractive_says_what_is_not_given(index_service) -> None:
    question = "Quel est le budget annuel de la Mission Bassin Minier ?"
    citations = citations_for(index_service, question)
    reply = fallback.answer(gather(analyse(question), citations), analyse(question))
    assert not reply.answerable
    assert reply.text.startswith("Les documents ne donnent pas ce montant.")
    assert not re.search(r"\d+\s*(?:millions|€)", reply.text)  # no amount passed as the budget


def test_missing_model_file_falls_back_to_extractive(seed_settings: Settings, tmp_path) -> None:
    settings = seed_settings.model_copy(
        update={"generator": "local", "llm_path": tmp_path / "absent.gguf"}
    )
    assert make_generator(settings) is None  # answers are quoted from the passages


def test_unreachable_server_falls_back_to_extractive_answer(
    seed_settings: Settings, index_service
) -> None:
    settings = seed_settings.model_copy(
        update={"generator": "openai", "openai_url": f"http://127.0.0.1:{free_port()}/v1"}
    )
    engine = AnswerEngine(settings, index_service)
    assert engine.generator.name == "openai"
    result = engine.ask("Combien de projets de coopération transfrontalière ?")
    assert result.generator == "extractive"
    assert_cited_fact(result, "172 projets")


# -- local model (llama.cpp in-process) -----------------------------------------------


@pytest.fixture(scope="module")
def local_engine(seed_settings: Settings, index_service) -> AnswerEngine:
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing (scripts/assemble_model.py)")
    from answer.generators.local import LocalGenerator

    generator = LocalGenerator(seed_settings)
    generator.load()
    return AnswerEngine(seed_settings, index_service, generator)


@pytest.mark.llm
def test_local_model_answers_french_question_with_citation(local_engine: AnswerEngine) -> None:
    # (a model answer putting the question's own verb on the passage, "le forum s'est tenu
    # à …" when the passage says "a donné lieu à un forum", is quoted over: citations.py)
    result = local_engine.ask("Quel programme a été mis en place du côté brésilien ?")
    assert result.generator == "local", result.answer  # the model's own checked answer
    assert_cited_fact(result, "Mosaïques")
    assert result.timings_ms["first_token"] <= result.timings_ms["total"]


@pytest.mark.llm
def test_the_local_model_s_answer_is_reused_for_the_same_question(
    local_engine: AnswerEngine, seed_settings: Settings, index_service, monkeypatch
) -> None:
    # an engine of its own (an empty memo) over the loaded model
    engine = AnswerEngine(seed_settings, index_service, local_engine.generator.inner)
    question = "How many Brazilian sites were identified in the programme?"
    first = engine.ask(question)
    assert first.generator == "local", first.answer  # the model wrote it
    calls: list[object] = []
    model = engine.generator
    real = model.stream
    monkeypatch.setattr(model, "stream", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = engine.ask(question)
    assert calls == []  # neither the French rewrite nor the answer is asked again
    assert (again.answer, again.generator) == (first.answer, "local")
    assert engine.memo.stats()["reused"] >= 2


class OffFirst:
    """The real model, except that its first answer is the true count of something else
    (what the small model wrote for such questions): the engine then quotes."""

    def __init__(self, real) -> None:
        self.real, self.name, self.calls = real, real.name, 0

    def stream(self, messages, *, max_tokens=None):
        self.calls += 1
        if self.calls == 1:
            yield "222 opérateurs du Nord-Pas de Calais se sont mobilisés [1]."
            return
        yield from self.real.stream(messages, max_tokens=max_tokens)


@pytest.mark.llm
def test_the_local_model_answers_from_the_quote_in_its_own_words(
    local_engine: AnswerEngine, seed_settings: Settings, index_service
) -> None:
    model = OffFirst(local_engine.generator.inner)
    engine = AnswerEngine(seed_settings, index_service, model)
    result = engine.ask("Quand la Mission Bassin Minier a-t-elle été créée ?")
    assert model.calls == 2  # the refused answer, then the answer from the quote
    assert result.generator == "local", result.answer  # the model's words, checked
    assert not result.answer.startswith("D'après les documents"), result.answer
    assert_cited_fact(result, "juin 2000")


@pytest.mark.llm
def test_the_model_writes_the_same_text_whatever_was_asked_before(
    local_engine: AnswerEngine,
) -> None:
    # llama.cpp reused the longest prefix a prompt shared with the one before, so the rest
    # was read in other batches and now and then written otherwise: the same question got
    # another French rewrite, and so other passages, depending on the previous question
    model = local_engine.generator.inner  # the model itself, not the memo
    questions = [
        "Who was in charge of the Brazil cooperation at the Mission?",
        "what did the european union pay for the border projects",
        "When did the slag heap biodiversity project start?",
        "Which regions took part in the RESCUE programme with the Mission?",
        "What is the aim of the joint park on the Belgian border?",
        "how many cross border projects got funding",
        "Who signed the agreement with Minas Gerais and when?",
        "What can visitors do on the slag heaps today?",
    ]

    def rewrites(order: list[str]) -> dict[str, str]:
        return {
            q: "".join(model.stream(translate_messages(q), max_tokens=REWRITE_TOKENS))
            for q in order
        }

    first = rewrites(questions)
    assert all(first.values()), first
    assert rewrites(questions[::-1]) == first
    assert rewrites(questions[1::2] + questions[::2]) == first


@pytest.mark.llm
def test_local_model_answers_in_english_from_french_documents(local_engine: AnswerEngine) -> None:
    result = local_engine.ask("How many Brazilian sites were identified in the programme?")
    assert result.language == "en" and result.generator == "local", result.answer
    assert_cited_fact(result, "9")
    english = {"the", "were", "identified", "sites", "in"}
    assert len(english & set(re.findall(r"\w+", result.answer.lower()))) >= 2, result.answer


@pytest.mark.llm
def test_local_engine_refuses_a_near_miss_without_asking_the_model(
    local_engine: AnswerEngine, monkeypatch
) -> None:
    # answer/decision.py: no sentence is likely to give the annual budget, so the engine
    # says so itself; a 1.5B model asked anyway writes a confident amount of something else
    calls: list[object] = []
    model = local_engine.generator
    real = model.stream
    monkeypatch.setattr(model, "stream", lambda *a, **k: calls.append(a) or real(*a, **k))
    result = local_engine.ask("Quel est le budget annuel de la Mission Bassin Minier ?")
    assert not result.answerable, result.answer
    assert calls == [] and result.generator == "extractive"
    assert result.answer.startswith("Les documents ne"), result.answer
    assert not re.search(r"\d+\s*(?:millions|€)", result.answer)  # no amount passed as the budget


@pytest.mark.llm
def test_local_model_rewrites_a_follow_up(local_engine: AnswerEngine) -> None:
    history = [
        Message(
            "user",
            "Quel accord la Région Nord - Pas-de-Calais a-t-elle signé avec le Minas Gerais ?",
        ),
        Message("assistant", "Un accord de coopération [1]."),
    ]
    result = local_engine.ask("Et à quelle date a-t-il été signé ?", history)
    # rewritten by the model, or (rewrite unusable) prefixed with the previous question
    assert "minas" in result.query.lower() or "accord" in result.query.lower(), result.query
    assert_cited_fact(result, "23 avril 2009")


@pytest.mark.llm
def test_prompt_lookup_reads_a_prompt_longer_than_one_batch(seed_settings: Settings) -> None:
    # llama-cpp-python 0.3.36 sized its logits array by n_batch when a draft model (prompt
    # lookup) needs one row per token: any prompt past a batch failed to broadcast
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing")
    from answer.generators.local import LocalGenerator

    settings = seed_settings.model_copy(update={"llm_prompt_lookup": 10, "llm_batch": 64})
    passage = "Le programme RESCUE a réuni des régions minières d'Europe. " * 12
    messages = [
        {"role": "system", "content": "Réponds d'après le passage, en une phrase."},
        {"role": "user", "content": f"[1] {passage}\nQuestion : qu'a réuni RESCUE ?"},
    ]
    generator = LocalGenerator(settings)
    assert generator.count_tokens(passage) > 64
    assert "".join(generator.stream(messages, max_tokens=24)).strip()


# -- OpenAI-compatible server (llama-cpp-python's own) ---------------------------------


@pytest.fixture(scope="module")
def llama_server(seed_settings: Settings) -> Iterator[str]:
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(seed_settings.llm_path),
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2",
         "--n_ctx", str(seed_settings.llm_context)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=180, proc=proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.llm
def test_openai_generator_streams_a_cited_answer_from_a_server(
    seed_settings: Settings, index_service, llama_server: str
) -> None:
    settings = seed_settings.model_copy(
        update={"generator": "openai", "openai_url": llama_server, "openai_key": "unused"}
    )
    generator = make_generator(settings)
    assert isinstance(generator, OpenAIGenerator)
    pieces = list(generator.stream([{"role": "user", "content": "Dis bonjour."}], max_tokens=8))
    assert len(pieces) >= 2  # streamed, not one block
    started = time.perf_counter()
    result = AnswerEngine(settings, index_service, generator).ask("Qui est Christian Chocquet ?")
    assert result.generator == "openai"
    assert_cited_fact(result, "Préfet")
    assert result.timings_ms["total"] <= (time.perf_counter() - started) * 1000 + 1
