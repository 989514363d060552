"""One queue for all language-model work: fair turns, measured waits, quick answers when busy.

Every door asks through ``Scheduler.stream`` / ``Scheduler.ask`` (``/api/ask``,
``/api/chat``, the Gradio chat). The engine asks for a turn only when it is about to use
the model (a follow-up to rewrite, an English question to put into French, an answer to
write): a question refused or quoted without the model is answered at once, and the
measured service time is the model's work. A question needing the model waits for one of
``slots`` turns; conversations take turns round-robin, so one client cannot starve the
others. The expected wait is the queue ahead times the measured service time (the mean of
the last answers that held a turn). A question whose expected wait exceeds ``budget_s``, or
whose client already has ``MAX_QUEUED_PER_CLIENT`` questions waiting, is answered at once
without the model (``quick``: same retrieval, checker and citations) with a visible note.
Nothing is refused: every question gets an answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from answer.types import (
    AnswerEvent,
    AnswerResult,
    Message,
    ModelTurn,
    QueuedEvent,
    StreamEvent,
)
from evaluation.metrics import percentile
from settings import Settings

QUICK_NOTE = {
    "fr": "Réponse rapide : le service est très sollicité.",
    "en": "Quick answer: the service is very busy.",
}
# A conversation asks one question at a time, but a client without a session is keyed by
# its address, which a few people behind one router share; past 3 questions waiting from
# one client (a script), the next ones get quick answers instead of more places in line.
MAX_QUEUED_PER_CLIENT = 3
# Single-user full answer p50 measured with the local model on the seed questions (README,
# 6.2 s): the estimate until real answers have been timed.
INITIAL_SERVICE_S = 6.0
RECENT_SERVICES = 20  # answers in the moving average (a minute of work at full load)
TICK_S = 1.0  # how often a waiting stream hears its place in line
# An admitted question that has waited, or is now expected to wait in all, this many
# budgets (the estimate was wrong: a long answer ahead) stops waiting and is answered quickly.
MAX_WAIT_BUDGETS = 2.0


class Answerer(Protocol):
    """What the scheduler drives: ``answer.engine.AnswerEngine``."""

    @property
    def generator(self) -> Any: ...

    def validate(self, question: str) -> str: ...

    def stream(
        self,
        question: str,
        history: list[Message] | None = None,
        *,
        quick: bool = False,
        turn: ModelTurn | None = None,
    ) -> Iterator[StreamEvent]: ...


@dataclass
class QuickAnswerEvent(AnswerEvent):
    """The checked answer given without the model because the queue was too long."""

    notice: str = ""


@dataclass
class _Ticket:
    client: str
    arrived: float
    granted: threading.Event = field(default_factory=threading.Event)
    started: float | None = None


def with_note(result: AnswerResult) -> tuple[AnswerResult, str]:
    """``result`` with the busy note after its answer text, and the note."""
    note = QUICK_NOTE.get(result.language, QUICK_NOTE["fr"])
    return replace(result, answer=f"{result.answer}\n\n{note}"), note


class Scheduler:
    """Admission and turns for the language model of one process (thread-safe)."""

    def __init__(
        self,
        *,
        slots: int = 1,
        budget_s: float = 10.0,
        initial_service_s: float = INITIAL_SERVICE_S,
        tick_s: float = TICK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots = max(1, slots)
        self.budget_s = budget_s
        self.tick_s = tick_s
        self._clock = clock
        self._lock = threading.Lock()
        self._queues: OrderedDict[str, deque[_Ticket]] = OrderedDict()  # round-robin order
        self._running: list[_Ticket] = []
        self._services: deque[float] = deque(maxlen=RECENT_SERVICES)
        self._initial_s = initial_service_s
        self.counts = {"model": 0, "quick": 0, "direct": 0}

    @classmethod
    def from_settings(cls, settings: Settings) -> Scheduler:
        return cls(slots=settings.llm_parallel, budget_s=settings.queue_budget_s)

    # -- the doors --------------------------------------------------------------------

    def stream(
        self,
        engine: Answerer,
        question: str,
        history: list[Message] | None = None,
        *,
        client: str,
    ) -> Iterator[StreamEvent | QueuedEvent]:
        """The engine's events, preceded by ``QueuedEvent``s while waiting for a turn.

        Raises the engine's ``QuestionError``s at once, before any event."""
        validate = getattr(engine, "validate", None)  # stand-ins in tests may lack it
        question = validate(question) if validate is not None else question
        if getattr(engine, "generator", None) is None:  # extractive: no turn to wait for
            with self._lock:
                self.counts["direct"] += 1
            return engine.stream(question, history)
        return self._scheduled(engine, question, history, client)

    def ask(
        self,
        engine: Answerer,
        question: str,
        history: list[Message] | None = None,
        *,
        client: str,
    ) -> AnswerEvent:
        """The final answer event (a ``QuickAnswerEvent`` carries the busy note)."""
        for event in self.stream(engine, question, history, client=client):
            if isinstance(event, AnswerEvent):
                return event
        raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover

    def health(self) -> dict[str, Any]:
        """Queue length, turns in use and recent service times (no engine work)."""
        with self._lock:
            services = list(self._services)
            return {
                "waiting": sum(len(q) for q in self._queues.values()),
                "running": len(self._running),
                "slots": self.slots,
                "budget_s": self.budget_s,
                "expected_wait_s": round(self._wait_before(None), 1),
                "service_s_avg": round(self._service_s(), 2),
                "service_s_p50": round(percentile(services, 50) or 0.0, 2),
                "service_s_p95": round(percentile(services, 95) or 0.0, 2),
                "services_measured": len(services),
                "answers": dict(self.counts),
            }

    # -- queueing ---------------------------------------------------------------------

    def _scheduled(
        self, engine: Answerer, question: str, history: list[Message] | None, client: str
    ) -> Iterator[StreamEvent | QueuedEvent]:
        """The engine's events; the model's turn is taken only when the engine needs the
        model (a question refused or quoted without it never waits, nor holds a turn)."""
        turn = _Turn(self, client)
        try:
            for event in engine.stream(question, history, turn=turn):
                if isinstance(event, AnswerEvent) and turn.quick:
                    result, note = with_note(event.result)
                    event = QuickAnswerEvent(result, notice=note)
                elif isinstance(event, AnswerEvent) and not turn.asked:
                    with self._lock:
                        self.counts["direct"] += 1
                yield event
        finally:
            turn.release()

    def _enter(self, client: str) -> _Ticket | None:
        """A place in line, or None when the question should be answered quickly."""
        with self._lock:
            queued = self._queues.get(client)
            if queued is not None and len(queued) >= MAX_QUEUED_PER_CLIENT:
                self.counts["quick"] += 1
                return None
            ticket = _Ticket(client, self._clock())
            self._queues.setdefault(client, deque()).append(ticket)
            if self._wait_before(ticket) > self.budget_s:
                self._remove(ticket)
                self.counts["quick"] += 1
                return None
            self._dispatch()
            return ticket

    def _withdraw(self, ticket: _Ticket) -> bool:
        """Take a waiting ticket out of line (False if it was granted meanwhile)."""
        with self._lock:
            if ticket.granted.is_set():
                return False
            self._remove(ticket)
            self.counts["quick"] += 1
            return True

    def _leave(self, ticket: _Ticket) -> None:
        """The question is done (or its client went away): free its turn or its place."""
        with self._lock:
            if ticket in self._running:
                self._running.remove(ticket)
                assert ticket.started is not None
                self._services.append(self._clock() - ticket.started)
            else:
                self._remove(ticket)
            self._dispatch()

    def _dispatch(self) -> None:
        """Give free turns to the next clients, round-robin (lock held)."""
        while len(self._running) < self.slots and self._queues:
            client, queued = next(iter(self._queues.items()))
            ticket = queued.popleft()
            del self._queues[client]
            if queued:  # the client's next question goes behind every other client
                self._queues[client] = queued
            ticket.started = self._clock()
            self._running.append(ticket)
            ticket.granted.set()

    def _remove(self, ticket: _Ticket) -> None:
        queued = self._queues.get(ticket.client)
        if queued is not None and ticket in queued:
            queued.remove(ticket)
            if not queued:
                del self._queues[ticket.client]

    # -- estimates (lock held) --------------------------------------------------------

    def _service_s(self) -> float:
        return sum(self._services) / len(self._services) if self._services else self._initial_s

    def _remaining(self, elapsed: float) -> float:
        """Expected seconds left of an answer that has run ``elapsed`` s: the mean overrun
        of the recent answers that took longer than that (an answer past the mean is a long
        one, not one about to end), else at least a quarter of the mean service time.
        Before any answer is measured, one that outlives half the initial guess is expected
        to run as long again: the guess came from another machine."""
        if not self._services:
            return max(self._initial_s - elapsed, elapsed)
        longer = [s - elapsed for s in self._services if s > elapsed]
        if longer:
            return sum(longer) / len(longer)
        service = self._service_s()
        return max(service - elapsed, service / 4)

    def _order(self) -> list[_Ticket]:
        """Waiting tickets in the order they will be served (round-robin over clients)."""
        queues = list(self._queues.values())
        order: list[_Ticket] = []
        for depth in range(max((len(q) for q in queues), default=0)):
            order.extend(q[depth] for q in queues if len(q) > depth)
        return order

    def _wait_before(self, ticket: _Ticket | None) -> float:
        """Expected seconds until ``ticket`` gets a turn (None: a new client's question)."""
        order = self._order()
        ahead = order.index(ticket) if ticket in order else len(order)
        service = self._service_s()
        now = self._clock()
        # (a turn is given a start time when granted; 0.0 is a valid time for a test clock)
        ran = [now - t.started if t.started is not None else 0.0 for t in self._running]
        left = sorted(self._remaining(r) for r in ran) + [0.0] * (self.slots - len(self._running))
        # the ahead-th turn to free up: running answers end first, then each queued one
        # takes a full service time on whichever turn frees next
        for _ in range(ahead):
            left[0] += service
            left.sort()
        return left[0]

    def _place(self, ticket: _Ticket) -> tuple[int, float]:
        """(position from 1, expected wait) of a waiting ticket; (0, 0) once granted."""
        with self._lock:
            order = self._order()
            if ticket not in order:
                return 0, 0.0
            return order.index(ticket) + 1, self._wait_before(ticket)


class _Turn:
    """One question's turn at the model (``answer.types.ModelTurn``), asked for by the
    engine when it first needs the model."""

    def __init__(self, scheduler: Scheduler, client: str) -> None:
        self.scheduler = scheduler
        self.client = client
        self.ticket: _Ticket | None = None
        self.asked = False  # the engine needed the model
        self.quick = False  # ... and it was too busy: answered without it

    def wait(self) -> Generator[QueuedEvent, None, bool]:
        """Yields the place in line until the turn is granted (returns True), or returns
        False when the expected wait passes the budget (at once, or while waiting)."""
        self.asked = True
        sched = self.scheduler
        ticket = sched._enter(self.client)
        if ticket is None:
            self.quick = True
            return False
        self.ticket = ticket
        while not ticket.granted.is_set():
            position, expected = sched._place(ticket)
            # waited too long, or will: the answer ahead runs longer than estimated at
            # admission; answering quickly now beats answering quickly later
            waited = sched._clock() - ticket.arrived
            if position and waited + expected >= MAX_WAIT_BUDGETS * sched.budget_s:
                if sched._withdraw(ticket):
                    self.ticket, self.quick = None, True
                    return False
                continue  # granted meanwhile
            if position:
                yield QueuedEvent(position, round(expected, 1))
            ticket.granted.wait(sched.tick_s)
        with sched._lock:
            sched.counts["model"] += 1
        return True

    def others_waiting(self) -> bool:
        """Other questions are in line for the model (``ModelTurn.others_waiting``)."""
        with self.scheduler._lock:
            return bool(self.scheduler._queues)  # a client's queue is dropped once empty

    def release(self) -> None:
        """The question is done (or its client went away): free the turn or the place."""
        if self.ticket is not None:
            self.scheduler._leave(self.ticket)
            self.ticket = None
