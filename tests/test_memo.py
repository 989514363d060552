"""The model's texts kept by prompt (answer/generators/memo.py), over real seed indexes.

A scripted model copies the passage sentence that answers, with its number, so that its
answer passes the checker like a good model answer; it counts its calls.
"""

from __future__ import annotations

import re
import threading

from helpers import assert_cited_fact
from test_scheduler import QUESTIONS, asking, model_busy_with_a, wait_until

from answer.engine import AnswerEngine
from index.service import IndexService
from server.scheduler import QuickAnswerEvent, Scheduler

ASKED = "Quand la Mission Bassin Minier a-t-elle été créée ?"
SOURCE = "mission-bassin-minier-international.txt"


class Copier:
    """Answers with the prompt's sentence about when the Mission was set up, cited."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def stream(self, messages, *, max_tokens=None):
        with self.lock:
            self.calls += 1
        prompt = messages[1]["content"]
        sentence = re.search(r"Dès sa mise en place en [^.]+", prompt)
        if sentence:  # cited with the number of the passage block it is in
            n = re.findall(r"^\[(\d+)\]", prompt[: sentence.start()], flags=re.MULTILINE)[-1]
            yield f"{sentence.group(0)} [{n}]."
            return
        yield "Les documents ne contiennent pas la réponse à cette question."


def test_the_same_question_gets_the_model_s_earlier_answer_without_the_model(
    index_service,
) -> None:
    model = Copier()
    engine = AnswerEngine(index_service.settings, index_service, generator=model)
    first = engine.ask(ASKED)
    assert model.calls == 1 and first.generator == "scripted"
    assert_cited_fact(first, "juin 2000")
    again = engine.ask(ASKED)
    assert model.calls == 1  # not asked again
    assert again.answer == first.answer and again.generator == "scripted"
    assert [c.n for c in again.citations] == [c.n for c in first.citations]
    assert engine.memo.stats()["reused"] == 1


def test_without_a_memo_the_model_is_asked_each_time(index_service) -> None:
    settings = index_service.settings.model_copy(update={"memo_size": 0})
    model = Copier()
    engine = AnswerEngine(settings, index_service, generator=model)
    engine.ask(ASKED)
    engine.ask(ASKED)
    assert model.calls == 2


def test_a_changed_document_is_never_answered_from_the_earlier_text(settings) -> None:
    index = IndexService(settings)
    assert not index.ingest().failed
    model = Copier()
    engine = AnswerEngine(settings, index, generator=model)
    assert_cited_fact(engine.ask(ASKED), "juin 2000")
    path = settings.corpus_dir / SOURCE
    path.write_text(path.read_text("utf-8").replace("juin 2000", "juillet 2000"), "utf-8")
    assert index.ingest().updated == [SOURCE]
    after = engine.ask(ASKED)
    assert model.calls == 2  # the passage changed, so the prompt did: the model is asked
    assert_cited_fact(after, "juillet 2000")
    assert "juin 2000" not in after.answer


def test_a_question_answered_before_does_not_wait_for_a_busy_model(index_service) -> None:
    scheduler = Scheduler(budget_s=600.0, initial_service_s=60.0)
    _model, _engine, gate, busy = model_busy_with_a(index_service, scheduler)  # a holds the turn
    try:
        copier = Copier()
        engine = AnswerEngine(index_service.settings, index_service, generator=copier)
        # answered once through a scheduler whose model is free (same engine, same memo)
        free = Scheduler(budget_s=600.0)
        first = free.ask(engine, ASKED, [], client="session:b").result
        assert copier.calls == 1 and first.generator == "scripted"
        # now the only turn is held by a's question: the same question is not queued
        thread, out = asking(scheduler, engine, ASKED, "session:c")
        thread.join(10)
        assert out, "the repeated question waited for the busy model"
        event = out[0]
        assert not isinstance(event, QuickAnswerEvent)  # the model's own text, no busy note
        assert event.result.answer == first.answer and copier.calls == 1
        assert engine.memo.stats()["reused"] == 1
        assert scheduler.health()["answers"]["direct"] == 1
        # a new question still queues behind a
        waiting, _ = asking(scheduler, engine, QUESTIONS[1], "session:d")
        wait_until(lambda: scheduler.health()["waiting"] == 1)
    finally:
        gate.set()
        busy.join(30)
    waiting.join(30)
