"""The model's scheduler (server/scheduler.py) over the real seed index and engine.

A scripted generator stands in for the model: it takes a known time (or waits for a gate)
and records which question it answered, so that turns, waits and quick answers can be
checked exactly. The last test runs the real local model (``llm``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from answer.engine import AnswerEngine
from answer.types import AnswerEvent, AnswerResult
from app import create_app
from server.scheduler import QUICK_NOTE, QueuedEvent, QuickAnswerEvent, Scheduler
from server.services import Services

LOCAL = "http://127.0.0.1"
# Seed-corpus questions that retrieval answers (the model is asked for each of them).
QUESTIONS = [
    "Quand la Mission Bassin Minier a-t-elle été créée ?",
    "Qu'est-ce que le programme RESCUE ?",
    "Qui coordonne le programme en France ?",
    "Quel accord la Région a-t-elle signé avec le Minas Gerais ?",
    "Que fait le programme Interreg France-Wallonie-Vlaanderen ?",
    "Qu'est-ce que le Parc Naturel Transfrontalier du Hainaut ?",
]


class ScriptedModel:
    """Answers after ``delay`` seconds, or once ``gate`` opens for the first call."""

    name = "scripted"

    def __init__(self, delay: float = 0.05, gate: threading.Event | None = None) -> None:
        self.delay = delay
        self.gate = gate
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def stream(self, messages, *, max_tokens=None) -> Iterator[str]:
        prompt = " ".join(m["content"] for m in messages)
        with self.lock:
            self.asked.append(next((q for q in QUESTIONS if q in prompt), prompt[:60]))
            first = len(self.asked) == 1
        if first and self.gate is not None:
            assert self.gate.wait(30)
        time.sleep(self.delay)
        yield "D'après les documents, voir le passage [1]."


def frozen() -> float:
    """A clock that never moves: waits are estimated exactly from the service time given
    (the shared test machine's load cannot shift them)."""
    return 0.0


def engine_with(
    index_service, model: ScriptedModel, memo: bool = True, reword: bool = False
) -> AnswerEngine:
    """The engine over ``model``; without ``memo`` a question asked again takes the model
    again (answer/generators/memo.py), as a new one would. One model call a question unless
    ``reword``: the scripted answers are refused, and the quote put in the model's words
    would be a second call (tested on its own below and in tests/test_answer_engine.py)."""
    update = {"reword_quotes": reword} | ({} if memo else {"memo_size": 0})
    return AnswerEngine(index_service.settings.model_copy(update=update), index_service, model)


def in_thread(target, *args) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(target(*args)), daemon=True)
    thread.start()
    return thread, out


def asking(scheduler: Scheduler, engine, question: str, client: str):
    """``scheduler.ask`` in a thread: (thread, [answer event once done])."""
    return in_thread(lambda: scheduler.ask(engine, question, [], client=client))


def queue_in_order(scheduler: Scheduler, engine, questions: list[str], client: str) -> list:
    """Each question asked once the previous one is waiting: a known order of arrival."""
    asks = []
    for question in questions:
        before = scheduler.health()["waiting"]
        asks.append(asking(scheduler, engine, question, client))
        wait_until(lambda b=before: scheduler.health()["waiting"] == b + 1)
    return asks


def wait_until(condition, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)


def assert_checked(result: AnswerResult) -> None:
    """Every [n] of the answer is one of its citations (answers), or no citation (refusals)."""
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    if result.answerable:
        assert numbers and numbers <= {c.n for c in result.citations}, result.answer
    else:
        assert not result.citations


def model_busy_with_a(index_service, scheduler: Scheduler):
    """The scripted model answering client a's question until ``gate`` is set:
    (model, engine, gate, thread of a's question)."""
    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    engine = engine_with(index_service, model)
    busy, _ = asking(scheduler, engine, QUESTIONS[0], "session:a")
    wait_until(lambda: model.asked)
    return model, engine, gate, busy


def test_over_budget_gets_a_quick_checked_answer_with_the_note(index_service) -> None:
    scheduler = Scheduler(budget_s=2.0, initial_service_s=6.0, clock=frozen)
    # the model is answering a's question: ~6 s left
    model, engine, gate, busy = model_busy_with_a(index_service, scheduler)

    started = time.monotonic()
    fr = scheduler.ask(engine, QUESTIONS[1], [], client="session:b")
    en = scheduler.ask(engine, "What is the RESCUE programme?", [], client="session:c")
    assert time.monotonic() - started < 10  # at once, not after a's answer
    for event, lang in ((fr, "fr"), (en, "en")):
        assert isinstance(event, QuickAnswerEvent)
        assert event.notice == QUICK_NOTE[lang]
        assert event.result.answer.endswith(QUICK_NOTE[lang])
        assert event.result.generator == "extractive"
        assert_checked(event.result)
    assert model.asked == [QUESTIONS[0]]  # the quick answers never reached the model
    gate.set()
    busy.join(30)
    assert scheduler.health()["answers"] == {"model": 1, "quick": 2, "direct": 0}


def test_a_question_answered_without_the_model_does_not_wait_for_its_turn(index_service) -> None:
    # the model is busy with a's answer for as long as the test likes, and the budget would
    # let anyone wait for it; an off-topic question needs no model: it is refused at once,
    # without the busy note, and takes no turn
    scheduler = Scheduler(budget_s=600.0, initial_service_s=30.0, clock=frozen)
    model, engine, gate, busy = model_busy_with_a(index_service, scheduler)

    off_topic, out = asking(
        scheduler, engine, "Quelle est la recette de la tarte aux pommes ?", "session:b"
    )
    off_topic.join(20)
    assert not off_topic.is_alive(), "the off-topic question waited for the model's turn"
    assert not isinstance(out[0], QuickAnswerEvent)
    assert not out[0].result.answerable and not out[0].result.citations
    assert scheduler.health()["waiting"] == 0
    gate.set()
    busy.join(30)
    assert model.asked == [QUESTIONS[0]]
    assert scheduler.health()["answers"] == {"model": 1, "quick": 0, "direct": 1}


def test_a_quote_is_put_in_the_models_words_only_when_no_one_else_waits(index_service) -> None:
    scheduler = Scheduler(budget_s=600.0, initial_service_s=1.0, clock=frozen)
    alone = ScriptedModel()
    scheduler.ask(engine_with(index_service, alone, reword=True), QUESTIONS[0], [], client="a")
    assert alone.asked == [QUESTIONS[0]] * 2  # the answer, then the answer from the quote

    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    engine = engine_with(index_service, model, reword=True)
    busy, out = asking(scheduler, engine, QUESTIONS[0], "session:a")
    wait_until(lambda: model.asked)
    waiting, _ = asking(scheduler, engine, QUESTIONS[1], "session:b")
    wait_until(lambda: scheduler.health()["waiting"] == 1)
    gate.set()
    busy.join(30)
    waiting.join(30)
    # b was in line when a's answer fell back to its quote: a's turn ended there (b, alone
    # by then, may have its own quote put in the model's words)
    assert model.asked[:2] == [QUESTIONS[0], QUESTIONS[1]]
    assert model.asked.count(QUESTIONS[0]) == 1
    assert out[0].result.generator == "extractive" and out[0].result.answerable
    assert_checked(out[0].result)


def test_clients_take_turns_and_waiting_streams_hear_their_place(index_service) -> None:
    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    engine = engine_with(index_service, model)
    scheduler = Scheduler(budget_s=600.0, initial_service_s=5.0, tick_s=0.05, clock=frozen)
    first, _ = asking(scheduler, engine, QUESTIONS[0], "session:x")
    wait_until(lambda: model.asked)
    greedy = queue_in_order(scheduler, engine, QUESTIONS[1:4], "session:greedy")
    # the latecomer's first event says it is second in line: after greedy's first question,
    # before greedy's two others
    polite = scheduler.stream(engine, QUESTIONS[4], [], client="session:polite")
    queued = next(polite)
    assert isinstance(queued, QueuedEvent)
    # x's answer (5 s estimated, just begun), then greedy's first
    assert (queued.position, queued.expected_s) == (2, 10.0)
    events = []
    polite_done = threading.Thread(target=lambda: events.extend(polite), daemon=True)
    polite_done.start()
    gate.set()
    for thread in [first, *(t for t, _ in greedy), polite_done]:
        thread.join(30)
    assert model.asked == [QUESTIONS[0], QUESTIONS[1], QUESTIONS[4], QUESTIONS[2], QUESTIONS[3]]
    assert isinstance(events[-1], AnswerEvent) and not isinstance(events[-1], QuickAnswerEvent)
    assert all(out and not isinstance(out[0], QuickAnswerEvent) for _, out in greedy)


def test_a_client_with_questions_waiting_gets_quick_answers_for_more(index_service) -> None:
    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    engine = engine_with(index_service, model)
    scheduler = Scheduler(budget_s=600.0, initial_service_s=1.0)
    first, _ = asking(scheduler, engine, QUESTIONS[0], "session:x")
    wait_until(lambda: model.asked)
    waiting = queue_in_order(scheduler, engine, QUESTIONS[1:4], "ip:10.0.0.9")
    extra = scheduler.ask(engine, QUESTIONS[4], [], client="ip:10.0.0.9")
    assert isinstance(extra, QuickAnswerEvent)  # its 4th question does not take a 4th place
    gate.set()
    for thread in [first, *(t for t, _ in waiting)]:
        thread.join(30)
    assert QUESTIONS[4] not in model.asked


def test_no_question_is_lost_under_a_burst(index_service) -> None:
    model = ScriptedModel(delay=0.3)
    engine = engine_with(index_service, model)
    scheduler = Scheduler(budget_s=1.5, initial_service_s=0.5)
    asks = [
        asking(scheduler, engine, QUESTIONS[i % len(QUESTIONS)], f"session:{i % 7}")
        for i in range(14)
    ]
    for thread, _ in asks:
        thread.join(60)
    answers = [out[0] for _, out in asks]
    assert len(answers) == 14
    quick = [a for a in answers if isinstance(a, QuickAnswerEvent)]
    assert quick and len(quick) < 14  # some waited for the model, the rest were quick
    for answer in answers:
        assert_checked(answer.result)
    health = scheduler.health()
    assert health["waiting"] == 0 and health["running"] == 0
    # each question is answered by the model, quickly, or (asked again) from the model's
    # earlier text for the same prompt, without a turn
    assert sum(health["answers"].values()) == 14
    assert health["answers"]["direct"] == engine.memo.stats()["reused"]
    assert health["answers"]["model"] == len(model.asked) == health["services_measured"]
    assert health["service_s_p50"] >= 0.3  # measured: the scripted model's delay at least


class FakeClock:
    """A clock that moves only when told (``advance``), e.g. by the model below."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TimedModel(ScriptedModel):
    """Takes ``durations[i]`` seconds of ``clock`` for its i-th answer; once the list is
    used up, waits for ``gate`` (an answer still running)."""

    def __init__(self, clock: FakeClock, durations: list[float], gate: threading.Event) -> None:
        super().__init__(delay=0.0, gate=None)
        self.clock = clock
        self.durations = list(durations)
        self.running_gate = gate

    def stream(self, messages, *, max_tokens=None) -> Iterator[str]:
        answer = list(super().stream(messages, max_tokens=max_tokens))  # records the question
        if self.durations:
            self.clock.advance(self.durations.pop(0))
        else:
            assert self.running_gate.wait(30)
        yield from answer


def measured(index_service, durations: list[float], budget_s: float):
    """A scheduler that has timed answers of ``durations`` seconds, now running one more
    (held): (scheduler, engine, clock, model, gate, thread of the running answer)."""
    clock, gate = FakeClock(), threading.Event()
    model = TimedModel(clock, durations, gate)
    engine = engine_with(index_service, model, memo=False)  # questions come back: all timed
    scheduler = Scheduler(budget_s=budget_s, initial_service_s=4.0, tick_s=0.02, clock=clock)
    for i in range(len(durations)):
        assert not isinstance(scheduler.ask(engine, QUESTIONS[i], [], client="s:0"),
                              QuickAnswerEvent)  # fmt: skip
    running, _ = asking(scheduler, engine, QUESTIONS[len(durations)], "session:running")
    wait_until(lambda: len(model.asked) == len(durations) + 1)
    return scheduler, engine, clock, model, gate, running


def test_an_answer_running_past_the_mean_is_not_expected_to_end_at_once(index_service) -> None:
    # answers took 12 s and 40 s (mean 26 s); the one running has taken 26 s: it is a long
    # one, about 14 s from its end, not "0 s left" (the mean minus the time taken)
    scheduler, engine, clock, model, gate, running = measured(index_service, [12, 40], 10.0)
    clock.advance(26)
    assert scheduler.health()["expected_wait_s"] == 14.0
    late = scheduler.ask(engine, QUESTIONS[3], [], client="session:late")
    assert isinstance(late, QuickAnswerEvent)  # 14 s > the 10 s budget: answered at once
    # past every measured answer: a quarter of the mean is still expected
    clock.advance(20)
    assert scheduler.health()["expected_wait_s"] == 6.5
    gate.set()
    running.join(30)
    assert QUESTIONS[3] not in model.asked


def test_before_any_answer_is_timed_a_long_first_answer_is_not_expected_to_end_soon(
    index_service,
) -> None:
    # the first guess (4 s here) came from another machine; the first answer has run 12 s:
    # it is expected to run about as long again, so a new question is answered quickly
    # (12 s > the 10 s budget) instead of queueing behind an answer "about to end"
    scheduler, engine, clock, model, gate, running = measured(index_service, [], 10.0)
    clock.advance(2)
    assert scheduler.health()["expected_wait_s"] == 2.0  # the 4 s guess, 2 s in
    clock.advance(10)
    assert scheduler.health()["expected_wait_s"] == 12.0
    assert isinstance(scheduler.ask(engine, QUESTIONS[1], [], client="s:late"), QuickAnswerEvent)
    gate.set()
    running.join(30)
    assert model.asked == [QUESTIONS[0]]


def test_a_waiting_question_leaves_the_line_once_its_total_wait_would_pass_two_budgets(
    index_service,
) -> None:
    # four 5 s answers and a 30 s one (mean 10 s): a new question is expected to wait
    # 10 s, within the budget, and waits; 6 s later the answer ahead has outlived the short
    # ones (24 s left, as long answers go): 6 + 24 s > 2 budgets, so it is answered
    # quickly now, not after 20 s in line
    scheduler, engine, clock, model, gate, running = measured(index_service, [5, 5, 5, 5, 30], 10.0)
    events: list = []
    waiting = threading.Thread(
        target=lambda: events.extend(
            scheduler.stream(engine, QUESTIONS[0], [], client="session:waiting")
        ),
        daemon=True,
    )
    waiting.start()
    wait_until(lambda: events and isinstance(events[0], QueuedEvent))
    assert (events[0].position, events[0].expected_s) == (1, 10.0)
    clock.advance(6)
    waiting.join(30)
    assert not waiting.is_alive()
    assert isinstance(events[-1], QuickAnswerEvent)
    assert clock() == 6 + 5 * 4 + 30  # left when the clock said 6 s of waiting
    gate.set()
    running.join(30)
    health = scheduler.health()
    assert health["waiting"] == 0 and health["answers"]["quick"] == 1


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], lines.get("data", "")))
    return events


def test_api_streams_the_wait_reports_the_queue_and_answers_quickly_past_budget(
    index_service,
) -> None:
    import json

    gate = threading.Event()
    model = ScriptedModel(gate=gate)
    engine = engine_with(index_service, model)
    # a's answer is estimated at 10 s: the chat question waits (10 s < 15 s), a third one
    # would wait 20 s and is answered at once
    scheduler = Scheduler(budget_s=15.0, initial_service_s=10.0, tick_s=0.05, clock=frozen)
    services = Services(index_service.settings, index_service, engine, scheduler)
    with TestClient(create_app(services, mount_ui=False), base_url=LOCAL) as client:
        body = {"question": QUESTIONS[0]}
        running, _ = in_thread(lambda: client.post("/api/ask", json=body))
        wait_until(lambda: model.asked)
        chat = {"question": QUESTIONS[1], "session": "waiting"}
        waiting, streamed = in_thread(lambda: client.post("/api/chat", json=chat).text)
        wait_until(lambda: scheduler.health()["waiting"] == 1)

        started = time.monotonic()
        health = client.get("/api/health")
        assert time.monotonic() - started < 1.0
        queue = health.json()["queue"]
        assert (queue["waiting"], queue["running"], queue["slots"]) == (1, 1, 1)
        assert queue["expected_wait_s"] == 20.0  # a's answer, then the waiting one

        quick = client.post("/api/ask", json={"question": QUESTIONS[2], "session": "late"})
        assert quick.status_code == 200
        data = quick.json()
        assert data["notice"] == QUICK_NOTE["fr"] and data["generator"] == "extractive"
        assert data["answer"].endswith(QUICK_NOTE["fr"])

        gate.set()
        running.join(30)
        waiting.join(30)
    names = [name for name, _ in sse_events(streamed[0])]
    assert names[0] == "queued" and names[-1] == "answer"
    queued = json.loads(sse_events(streamed[0])[0][1])
    assert queued == {"position": 1, "expected_s": 10.0}
    assert "notice" not in json.loads(sse_events(streamed[0])[-1][1])


@pytest.mark.llm
def test_two_simultaneous_questions_both_get_checked_answers_from_the_real_model(
    seed_settings, index_service
) -> None:
    if not seed_settings.llm_path.is_file():
        pytest.skip(f"model file {seed_settings.llm_path} missing (scripts/assemble_model.py)")
    from answer.generators.local import LocalGenerator

    generator = LocalGenerator(seed_settings)
    generator.load()
    engine = AnswerEngine(seed_settings, index_service, generator)
    scheduler = Scheduler(budget_s=60.0)  # both wait for the model: none is degraded
    asks = [
        asking(scheduler, engine, question, f"session:{i}")
        for i, question in enumerate(
            [
                "Dans quelle ville s'est tenu le forum des acteurs en octobre 2009 ?",
                "Combien de sites brésiliens ont été identifiés ?",
            ]
        )
    ]
    for thread, _ in asks:
        thread.join(300)
    results = [out[0].result for _, out in asks]
    assert all(not isinstance(out[0], QuickAnswerEvent) for _, out in asks)
    assert any(r.generator == "local" for r in results), [r.answer for r in results]
    for result in results:
        assert result.answerable, result.answer
        assert_checked(result)
    assert scheduler.health()["services_measured"] == 2
