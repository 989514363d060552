"""AnswerEngine: condense → retrieve → prompt → generate → check citations → result."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace

from answer.citations import misses_asked_count, supporting_span
from answer.condense import condense
from answer.errors import EmptyQuestion, GeneratorUnavailable, QuestionTooLong
from answer.evidence import gather, window
from answer.generators import ExtractiveGenerator, Generator, Grounding, make_generator
from answer.generators.extractive import extract
from answer.prompts import (
    CORPUS_COVERS,
    EMPTY_INDEX,
    NOT_IN_DOCUMENTS,
    REFUSAL_INJECTION,
    REFUSAL_OFF_TOPIC,
    answer_messages,
    is_refusal_sentence,
)
from answer.relevance import is_injection, retrieval_found_something
from answer.text import detect_language
from answer.types import (
    AnswerEvent,
    AnswerResult,
    Citation,
    Language,
    Message,
    SourcesEvent,
    StreamEvent,
    TokenEvent,
)
from index.service import IndexService
from settings import Settings

log = logging.getLogger(__name__)

# Prompt budget: ~4 passages cut to their best sentences keep the prompt near 450
# tokens (French ≈ 3.5 characters per token); every prompt token costs ~7 ms on 2 cores.
PROMPT_PASSAGES = 4
CONTEXT_CHARS = 1500
FIRST_PASSAGE_CHARS = 600
OTHER_PASSAGE_CHARS = 380
# Weighted share of the question's terms a sentence must hold to overrule a model refusal.
STRONG_COVERAGE = 0.5  # seed questions: answerable 0.51-1.0, "annual budget" 0.33


class AnswerEngine:
    """Answers questions from the index with checked citations.

    ``generator`` overrides the one named by ``settings.generator`` (tests, benchmarks).
    Safe to share between threads: the local model serialises its own calls.
    """

    def __init__(
        self, settings: Settings, index: IndexService, generator: Generator | None = None
    ) -> None:
        self.settings = settings
        self.index = index
        self._generator = generator
        self._extractive = ExtractiveGenerator()

    @property
    def generator(self) -> Generator:
        """The generator in use (created on first use: loading a model takes seconds)."""
        if self._generator is None:
            self._generator = make_generator(self.settings)
        return self._generator

    def ask(self, question: str, history: list[Message] | None = None) -> AnswerResult:
        """The full checked answer."""
        for event in self.stream(question, history):
            if isinstance(event, AnswerEvent):
                return event.result
        raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover

    def stream(self, question: str, history: list[Message] | None = None) -> Iterator[StreamEvent]:
        """SourcesEvent, then TokenEvent*, then one AnswerEvent with the checked result.

        Raises ``EmptyQuestion`` / ``QuestionTooLong`` before yielding anything.
        """
        question = self.validate(question)
        history = _as_messages(history or [])[-self.settings.max_history_messages :]
        return self._run(question, history)

    def validate(self, question: str) -> str:
        """The question stripped of surrounding blanks, or a ``QuestionError``."""
        question = (question or "").strip()
        if not question:
            raise EmptyQuestion()
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLong(len(question), self.settings.max_question_chars)
        return question

    # -- the pipeline -------------------------------------------------------------------

    def _run(self, question: str, history: list[Message]) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        language = detect_language(question)
        timings: dict[str, float] = {}

        def ms() -> float:
            return round((time.perf_counter() - t0) * 1000, 1)

        def refusal(text: str, query: str, generator: str = "") -> Iterator[StreamEvent]:
            timings.setdefault("retrieval", ms())
            timings.setdefault("first_token", ms())
            yield SourcesEvent([])
            yield TokenEvent(text)
            timings["total"] = ms()
            yield AnswerEvent(
                AnswerResult(question, text, False, language, [], dict(timings), generator, query)
            )

        if is_injection(question):
            yield from refusal(REFUSAL_INJECTION[language], question)
            return

        generator = self.generator
        condensed = condense(question, history, generator)
        if condensed.by_model:
            timings["condense"] = ms()
        query = condensed.question
        passages = self.index.search(query, self.settings.top_k)
        timings["retrieval"] = ms()
        if not passages and not self._titles():
            yield from refusal(EMPTY_INDEX[language], query, generator.name)
            return
        if not retrieval_found_something(self.settings, query, language, passages):
            yield from refusal(self._off_topic(language), query, generator.name)
            return

        citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
        citations = citations[:PROMPT_PASSAGES] if generator.uses_llm else citations
        yield SourcesEvent(citations)

        grounding = Grounding(query, citations, language)
        pieces: list[str] = []
        used = generator.name
        try:
            with closing(
                generator.stream(self._messages(query, citations, language), grounding=grounding)
            ) as tokens:
                for piece in tokens:
                    if not pieces:
                        timings["first_token"] = ms()
                    pieces.append(piece)
                    yield TokenEvent(piece)
        except GeneratorUnavailable as err:
            log.warning("%s generator failed (%s); answering extractively", generator.name, err)
            used = self._extractive.name
            pieces = list(self._extractive.stream([], grounding=grounding))
            timings.setdefault("first_token", ms())
            # The streamed text is replaced by the final answer; mark the switch.
            yield TokenEvent("\n\n" + "".join(pieces))
        timings.setdefault("first_token", ms())

        result = self._checked("".join(pieces), question, citations, language)
        unanswered = not result.answerable or misses_asked_count(query, result.answer, citations)
        if unanswered and used != self._extractive.name:
            # Small models refuse too readily, write claims the checker removes, or give a
            # true count of something else than what was asked: when a sentence of the
            # passages clearly answers (strong term coverage), quote it.
            quoted = self._strong_extract(grounding)
            if quoted:
                log.info("model answer refused or unsupported; quoting the passages")
                result, used = self._checked(quoted, question, citations, language), "extractive"
        result.timings_ms = {**timings, "total": ms()}
        result.generator = used
        result.query = query
        yield AnswerEvent(result)

    def _strong_extract(self, grounding: Grounding) -> str | None:
        """An extractive answer if some sentence covers most of the question, else None."""
        evidence = gather(grounding.question, grounding.citations, grounding.language)
        best = evidence.best()
        if best is None or not evidence.same_language or best.coverage < STRONG_COVERAGE:
            return None
        return extract(evidence, grounding.language)

    def _messages(self, question: str, citations: list[Citation], language: Language):
        """The prompt: the question and each passage cut to its best sentences."""
        evidence = gather(question, citations, language)
        blocks = []
        left = CONTEXT_CHARS
        for c in citations:
            budget = min(FIRST_PASSAGE_CHARS if c.n == 1 else OTHER_PASSAGE_CHARS, left)
            if budget < 120:
                break
            text = window(evidence, c, budget)
            left -= len(text)
            blocks.append((c.n, c.title, text))
        return answer_messages(question, blocks, language)

    def _checked(
        self, raw: str, question: str, citations: list[Citation], language: Language
    ) -> AnswerResult:
        """The answer after the citation checker, or a refusal when nothing is supported."""
        from answer.citations import check_answer

        text = raw.strip()
        if not text or is_refusal_sentence(text):
            return AnswerResult(question, self._not_found(language), False, language, [])
        check = check_answer(text, citations, language, question)
        if not check.answerable or not check.cited:
            return AnswerResult(question, self._not_found(language), False, language, [])
        cited = [
            replace(c, evidence=supporting_span(check.answer, c.n, c.text))
            for c in citations
            if c.n in set(check.cited)
        ]
        return AnswerResult(question, check.answer, True, language, cited)

    def _not_found(self, language: Language) -> str:
        return f"{NOT_IN_DOCUMENTS[language]} {self._corpus_summary(language)}".strip()

    def _off_topic(self, language: Language) -> str:
        return f"{REFUSAL_OFF_TOPIC[language]} {self._corpus_summary(language)}".strip()

    def _titles(self) -> list[str]:
        """Titles of the indexed documents (empty if they cannot be listed)."""
        try:
            return [d.get("title") or d["source"] for d in self.index.documents()]
        except Exception as err:  # a refusal must not fail because of the summary
            log.warning("cannot list the indexed documents: %s", err)
            return []

    def _corpus_summary(self, language: Language) -> str:
        """ "The available documents cover: …" from the indexed titles ("" if none)."""
        titles = self._titles()
        if not titles:
            return ""
        shown = "; ".join(titles[:5]) + (" …" if len(titles) > 5 else "")
        return CORPUS_COVERS[language].format(titles=shown)


def _as_messages(history: list) -> list[Message]:
    """History items as ``Message`` (dicts ``{"role", "content"}`` accepted)."""
    out = []
    for m in history:
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            out.append(Message(m["role"], str(m.get("content", ""))))
    return out
