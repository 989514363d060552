"""AnswerEngine: condense → retrieve → prompt → generate → check citations → result."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator as Generator_
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace

from answer import acronyms, decision, fallback, translation
from answer.citations import answers_asked, check_answer, model_claims, supporting_span
from answer.condense import REWRITE_TOKENS, condense, leans_on_history
from answer.errors import EmptyQuestion, GeneratorUnavailable, QuestionTooLong
from answer.evidence import Evidence, gather, window
from answer.generators import Generator, make_generator
from answer.generators.memo import Memo, Recording
from answer.prompts import (
    CORPUS_COVERS,
    EMPTY_INDEX,
    EXTRACTIVE_LEAD,
    NEAREST_FACTS,
    NEAREST_TWO,
    NOT_IN_DOCUMENTS,
    REFUSAL_INJECTION,
    REFUSAL_OFF_TOPIC,
    answer_messages,
    condense_messages,
    translate_messages,
)
from answer.question import Question, analyse, asks_its_own, french_rewrite
from answer.relevance import is_injection, retrieval_found_something
from answer.types import (
    AnswerEvent,
    AnswerResult,
    Citation,
    Language,
    Message,
    ModelTurn,
    SourcesEvent,
    StreamEvent,
    TokenEvent,
)
from index.priority import answering
from index.service import IndexService
from ingest.text import detect_language, in_no_language
from settings import Settings

log = logging.getLogger(__name__)

# Prompt budget (``settings.prompt_chars``): ~4 passages cut to their best sentences, the
# first passage getting 40 % of the budget and each other one a quarter (1,500 characters:
# 600 / 375, about 430 tokens).
PROMPT_PASSAGES = 4
FIRST_PASSAGE_SHARE = 0.4
OTHER_PASSAGE_SHARE = 0.25
_UNSET = object()


class AnswerEngine:
    """Answers questions from the index with checked citations.

    ``generator`` overrides the one named by ``settings.generator`` (tests, benchmarks).
    Safe to share between threads: the local model serialises its own calls. What the
    model writes is kept by prompt (``memo``, answer/generators/memo.py): an identical
    prompt is answered from it without the model's turn.
    """

    def __init__(
        self, settings: Settings, index: IndexService, generator: Generator | None | object = _UNSET
    ) -> None:
        self.settings = settings
        self.index = index
        self.memo = Memo(settings.memo_size)
        self._generator = self._recorded(generator) if generator is not _UNSET else _UNSET

    @property
    def generator(self) -> Generator | None:
        """The language model in use, None when answers are quoted (``extractive``);
        created on first use: loading a model takes seconds."""
        if self._generator is _UNSET:
            self._generator = self._recorded(make_generator(self.settings))
        return self._generator  # type: ignore[return-value]

    def _recorded(self, generator: Generator | None | object) -> Generator | None:
        """``generator`` keeping what it writes in ``memo``."""
        if generator is None or isinstance(generator, Recording):
            return generator  # type: ignore[return-value]
        return self.memo.recording(generator)  # type: ignore[arg-type]

    def ask(
        self, question: str, history: list[Message] | None = None, *, quick: bool = False
    ) -> AnswerResult:
        """The full checked answer."""
        for event in self.stream(question, history, quick=quick):
            if isinstance(event, AnswerEvent):
                return event.result
        raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover

    def stream(
        self,
        question: str,
        history: list[Message] | None = None,
        *,
        quick: bool = False,
        turn: ModelTurn | None = None,
    ) -> Iterator[StreamEvent]:
        """SourcesEvent, then TokenEvent*, then one AnswerEvent with the checked result.

        ``quick`` answers without the language model (same retrieval, checker and
        citations; ``generator: "extractive"``): what a busy server gives instead of a wait.
        ``turn``: the model is used only once this turn is granted, asked for when the
        model is first needed (QueuedEvents while in line); a question answered or refused
        without the model never waits. Refused: answered as ``quick``.
        Raises ``EmptyQuestion`` / ``QuestionTooLong`` before yielding anything.
        """
        question = self.validate(question)
        history = _as_messages(history or [])[-self.settings.max_history_messages :]
        return self._answering(question, history, quick, turn)

    def _answering(
        self, text: str, history: list[Message], quick: bool, turn: ModelTurn | None
    ) -> Iterator[StreamEvent]:
        """``_run`` while an ingest of this process pauses its embedding (index/priority.py)."""
        with answering():
            yield from self._run(text, history, quick, turn)

    def validate(self, question: str) -> str:
        """The question stripped of surrounding blanks, or a ``QuestionError``."""
        question = (question or "").strip()
        if not question:
            raise EmptyQuestion()
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLong(len(question), self.settings.max_question_chars)
        return question

    # -- the pipeline -------------------------------------------------------------------

    def _run(
        self, text: str, history: list[Message], quick: bool, turn: ModelTurn | None
    ) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        asked = analyse(text)
        language = asked.language
        timings: dict[str, float] = {}
        generator = None if quick else self.generator
        name = generator.name if generator is not None else fallback.NAME
        pending = turn if generator is not None else None  # the model's turn, not asked yet

        def ms() -> float:
            return round((time.perf_counter() - t0) * 1000, 1)

        def model() -> Generator_[StreamEvent, None, Generator | None]:
            """The generator once this question holds the model's turn (asked for at the
            first call); None when the model is too busy: the rest is answered without."""
            nonlocal pending, generator, name
            if pending is not None:
                waiting, pending = pending, None
                granted = yield from waiting.wait()
                timings["turn"] = ms()
                if not granted:
                    generator, name = None, fallback.NAME
            return generator

        def writer(
            messages: list, max_tokens: int | None = None
        ) -> Generator_[StreamEvent, None, Generator | None]:
            """The model's text kept for this prompt (answer/generators/memo.py), with no
            turn to wait for; else the model, as ``model``."""
            kept = self.memo.replay(messages, max_tokens)
            if kept is not None:
                return kept
            return (yield from model())

        def refusal(reply: str, query: str) -> Iterator[StreamEvent]:
            timings.setdefault("retrieval", ms())
            timings.setdefault("first_token", ms())
            yield SourcesEvent([])
            yield TokenEvent(reply)
            timings["total"] = ms()
            yield AnswerEvent(
                AnswerResult(text, reply, False, language, [], dict(timings), name, query)
            )

        if is_injection(text):
            yield from refusal(REFUSAL_INJECTION[language], text)
            return

        rewriter = None
        if leans_on_history(text, history):  # the model rewrites the follow-up
            rewriter = yield from writer(condense_messages(text, history, language), REWRITE_TOKENS)
        condensed = condense(text, history, rewriter, language)
        if condensed.by_model:
            timings["condense"] = ms()
        question = analyse(condensed.question, language)
        if condensed.rewritten and (
            asked.asked != "other" or (not condensed.by_model and asks_its_own(text))
        ):
            # What is asked is the follow-up's own ("et quand ?", "qui en était le
            # coordinateur"): not the first kind the joined "previous question + follow-up"
            # names, nor the model's rewording ("Quel était le coordinateur … ?" reads as
            # no kind at all, and loses the check of who holds the position). Whether it
            # asks who is read from its own words too (``Question.asking``): "qui est la
            # directrice … et son numéro" asks a number. Session 28, seed dev (179 turns):
            # 1 follow-up refused -> right (local, replayed), 2 (extractive); held out,
            # seed test (175 turns): no answer changed.
            question = replace(question, asked=asked.asked, asking=text)
        if language == "en":
            # the French rewrite made earlier (kept even for a quick answer), else the model's
            # the documents' acronyms typed in lower case ("rescue") written as they are
            cased = acronyms.written(question.text, self.index.acronyms())
            translator = yield from writer(translate_messages(cased), REWRITE_TOKENS)
            if translator is not None:
                question = question.with_french(self._french(cased, translator))
                timings["translate"] = ms()
        query = question.text
        # what the model answers and the checks read: the French rewrite of an English
        # question, when there is one (``_in_french``), else the question
        posed = self._in_french(question)
        passages = self.index.search(question.match_text, self.settings.top_k)
        timings["retrieval"] = ms()
        if not passages and not self._titles():
            yield from refusal(EMPTY_INDEX[language], query)
            return
        if not retrieval_found_something(self.settings, question, passages):
            yield from refusal(self._off_topic(language), query)
            return

        citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
        citations = citations[:PROMPT_PASSAGES] if generator is not None else citations
        evidence = gather(question, citations, passages)
        similarity = max((p.similarity for p in passages), default=0.0)
        ranked = decision.rank(evidence, question, similarity)
        # what the engine would quote (answer/fallback.py), chosen once
        picked = fallback.pick(evidence, question, ranked)
        # no sentence likely to answer (answer/decision.py): say what is not given without
        # asking the model, which would write a confident answer to a near-miss
        confidence = ranked[0][0] if ranked else None
        unanswered = (
            decision.model() is not None and not picked and not decision.worth_asking(confidence)
        )
        author: Generator | None = None
        # an English question over French passages: the engine quotes and the model
        # translates the quote (step 12), unless asked to answer (``english_model_answers``)
        # or to answer the French rewrite (``english_via_french``)
        quoting = (
            question.language == "en"
            and not evidence.native
            and not (self.settings.english_model_answers or self.settings.english_via_french)
        )
        if generator is not None and not unanswered and not quoting:  # the model writes
            messages = self._messages(posed, evidence, citations, ranked)
            author = yield from writer(messages)
        yield SourcesEvent(citations)

        used = name
        result: AnswerResult | None = None
        if author is not None:
            pieces: list[str] = []
            try:
                with closing(author.stream(messages)) as tokens:
                    for piece in tokens:
                        if not pieces:
                            timings["first_token"] = ms()
                        pieces.append(piece)
                        yield TokenEvent(piece)
                result = self._checked(model_claims("".join(pieces)), posed, citations)
            except GeneratorUnavailable as err:
                log.warning("%s generator failed (%s); quoting the passages", used, err)
        timings.setdefault("first_token", ms())
        # No model, a failed model, a refusal, claims the checker removed, an answer without
        # the asked value (a true count of something else, a name that is not the one asked
        # for), or one drawn from passages the decision ranks low: quote the passages that
        # answer, or say what is not given.
        if result is None:
            unused = "no model answer"
        elif not result.answerable:
            unused = "refused, or nothing supported"
        elif not answers_asked(posed, result.answer, evidence, citations):
            unused = "not the asked value"
        elif not decision.agrees(ranked, [c.n for c in result.citations]):
            unused = "cites no passage the decision ranks high"
        else:
            unused = None
        if unused is not None:
            if result is not None:
                log.info("model answer not used (%s); quoting the passages", unused)
            reply = fallback.answer(evidence, question, ranked, picked)
            quoted = self._checked(reply.text, question, citations)
            refused = result is not None and not result.answerable
            if not reply.answerable:
                quoted.answerable = False
            # a model refusal that the passages confirm stays the model's verdict; the
            # engine only adds the nearest passage
            used = used if refused and not reply.answerable else fallback.NAME
            result = quoted
            # the streamed text (if any) is replaced by the final answer; mark the switch
            switch = ("\n\n" if generator is not None else "") + quoted.answer
        else:
            switch = None  # the model's checked answer, already streamed
        if (
            switch is not None
            and self._rewords(generator, posed, result, evidence)
            and not (turn is not None and turn.others_waiting())
        ):
            # the quote answered: the model answers again from the quoted sentences alone
            prompt = self._quote_messages(posed, picked, citations)
            # a token cap of its own: the memo and the replays tell it from the answer call
            worder = yield from writer(prompt, self.settings.max_answer_tokens)
            if worder is not None:
                yield TokenEvent("\n\n")  # after the model's first text
                own = yield from self._in_own_words(
                    posed, prompt, picked, evidence, citations, worder
                )
                if own is not None:
                    result, used, switch = own, worder.name, None
                    timings["reword"] = ms()
                else:
                    switch = "\n\n" + quoted.answer
        translator = None
        if self._translates(generator, question, result):
            # an English question answered in French (a quote, or the model copying the
            # passages), or refused with the nearest French passage: the quote put into
            # English, checked against it
            request = translation.english_request(_quoted_part(result)[1])
            translator = yield from writer(*request)
        if translator is not None:
            english = yield from self._in_english(result, translator, question)
            if english:
                timings["translate_answer"] = ms()
                result.answer = english
                used = translator.name if result.answerable else used
        elif switch is not None:
            yield TokenEvent(switch)
        result.timings_ms = {**timings, "total": ms()}
        result.question, result.language = question.text, language  # not the French rewrite
        result.generator = used
        result.query = query
        result.confidence = None if confidence is None else round(confidence, 3)
        yield AnswerEvent(result)

    def _in_french(self, question: Question) -> Question:
        """The question the model answers and the checks read. An English question with
        a French rewrite is answered in French over the French passages, then the answer
        is translated and checked against it (``settings.english_via_french``): the
        citation checker then compares the model's words with the passages' own, where
        across languages it can compare only names, numbers and shared stems."""
        if not (self.settings.english_via_french and question.language == "en" and question.french):
            return question
        return replace(analyse(question.french, "fr"), asked=question.asked)

    def _rewords(
        self,
        generator: Generator | None,
        question: Question,
        quoted: AnswerResult,
        evidence: Evidence,
    ) -> bool:
        """A checked quote that answers, passages in the question's language, and a model
        to answer from the quoted sentences in its own words (``settings.reword_quotes``).
        Across languages the checker cannot tell who did what (an English answer on dev
        placed a French park "in Belgium and France"): the quote is translated instead;
        only a value, which reads the same in both, lets an English question's French
        quote be reworded. What the model's answer must keep: ``fallback.keeps_quote``
        (for a question asking no value, the quoted sentence's words: one language)."""
        return (
            generator is not None
            and self.settings.reword_quotes
            and quoted.answerable
            and evidence.same_language
            and (question.wants_item or evidence.native)
        )

    def _quote_messages(self, question: Question, picked: list, citations: list[Citation]):
        """The answer prompt over the quoted sentences alone, under their passage numbers
        (a few dozen tokens instead of the four passages' hundreds)."""
        titles = {c.n: c.title for c in citations}
        texts: dict[int, list[str]] = {}
        for s in picked:
            texts.setdefault(s.n, []).append(s.text.strip())
        blocks = [(n, titles.get(n, ""), "\n".join(lines)) for n, lines in texts.items()]
        return answer_messages(question.text, blocks, question.language)

    def _in_own_words(
        self,
        question: Question,
        prompt: list,
        picked: list,
        evidence: Evidence,
        citations: list[Citation],
        generator: Generator,
    ) -> Generator_[StreamEvent, None, AnswerResult | None]:
        """Stream the model's answer to ``prompt`` (``_quote_messages``); returns it when it
        passes the checker, cites only the quoted passages, holds the asked value and keeps
        what the quote gives (``fallback.keeps_quote``), else None."""
        pieces: list[str] = []
        try:
            cap = self.settings.max_answer_tokens
            with closing(generator.stream(prompt, max_tokens=cap)) as tokens:
                for piece in tokens:
                    pieces.append(piece)
                    yield TokenEvent(piece)
        except GeneratorUnavailable as err:
            log.warning("%s generator failed (%s); the quote stays", generator.name, err)
            return None
        own = self._checked(model_claims("".join(pieces)), question, citations)
        if (
            own.answerable
            and {c.n for c in own.citations} <= {s.n for s in picked}
            and answers_asked(question, own.answer, evidence, citations)
            and fallback.keeps_quote(question, picked, own.answer)
        ):
            return own
        log.info("the model's answer from the quote was not kept; the quote stays")
        return None

    def _translates(
        self, generator: Generator | None, question: Question, result: AnswerResult
    ) -> bool:
        """An English question's reply quoting passages of another language (an answer, or
        a refusal's nearest passage with ``settings.translate_refusals``), and a model to
        put the quote into English (``settings.translate_answers``)."""
        if generator is None or not self.settings.translate_answers:
            return False
        if not result.answerable and not self.settings.translate_refusals:
            return False  # a refusal's nearest passage is quoted as written
        _kept, quote = _quoted_part(result)
        # a reply in no language ("2009 [1]", "Catherine Bertram [1]") needs no translation
        return (
            question.language == "en"
            and bool(quote)
            and detect_language(quote) != "en"
            and not in_no_language(quote)
        )

    def _in_english(
        self, answer: AnswerResult, generator: Generator, question: Question
    ) -> Generator_[StreamEvent, None, str | None]:
        """Stream the model's English version of a reply's quote; returns the reply with it
        when it passes (``answer/translation.py``), else streams the reply as it was and
        returns None."""
        kept, body = _quoted_part(answer)
        yield TokenEvent("\n\n" + kept)  # after the text streamed so far, if any
        pieces = []
        for piece in translation.english_pieces(body, generator):
            pieces.append(piece)
            yield TokenEvent(piece)
        english = translation.with_source_citations("".join(pieces).strip(), body)
        shown = translation.checked(english, body, self.index.embed_model, question.acronyms)
        if shown == english:
            return kept + english
        if shown is not None:  # some sentences kept in French: the reply as it will be
            log.info("translation partly refused; those sentences stay as written")
            yield TokenEvent("\n\n" + kept + shown)
            return kept + shown
        log.info("translation of the answer refused; it stays in the passages' language")
        yield TokenEvent("\n\n" + answer.answer)
        return None

    def _french(self, question: str, generator: Generator) -> str | None:
        """The French rewrite of an English question (asked of the model once: the memo
        keeps it): the lexical rankings and the evidence scorer then match the French
        documents."""
        try:
            raw = "".join(generator.stream(translate_messages(question), max_tokens=REWRITE_TOKENS))
        except GeneratorUnavailable as err:
            log.warning("could not translate the question: %s", err)
            return None
        line = french_rewrite(question, raw)
        if line is None:
            log.info("French rewrite not used: %r", raw[:200])
        return line

    def _messages(
        self,
        question: Question,
        evidence: Evidence,
        citations: list[Citation],
        ranked: decision.Ranked,
    ):
        """The prompt: the question and each passage cut to its best sentences (the
        sentences most likely to answer always kept)."""
        first = {(s.n, s.index) for _p, s in ranked[:2]}
        blocks = []
        left = self.settings.prompt_chars
        for c in citations:
            share = FIRST_PASSAGE_SHARE if c.n == 1 else OTHER_PASSAGE_SHARE
            budget = min(int(share * self.settings.prompt_chars), left)
            if budget < 120:
                break
            passage = window(evidence, c, budget, first)
            left -= len(passage)
            blocks.append((c.n, c.title, passage))
        return answer_messages(question.text, blocks, question.language)

    def _checked(self, raw: str, question: Question, citations: list[Citation]) -> AnswerResult:
        """The answer after the citation checker, or a refusal when nothing is supported."""
        language = question.language
        text = raw.strip()
        # the model's fixed refusal, or its own words for one, is dropped by the checker
        # (prompts.says_not_given), which leaves nothing supported
        check = check_answer(text, citations, language, question.text)
        if not check.answerable or not check.cited:
            return AnswerResult(question.text, self._not_found(language), False, language, [])
        cited = [
            replace(c, evidence=supporting_span(check.answer, c.n, c.text))
            for c in citations
            if c.n in set(check.cited)
        ]
        return AnswerResult(question.text, check.answer, True, language, cited)

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


def _quoted_part(result: AnswerResult) -> tuple[str, str]:
    """(the engine's own English words, the quoted text after them) of an English reply:
    an answer after its lead, a refusal after "The closest passage(s) say(s):" (a refusal
    without a nearest passage quotes nothing)."""
    text = result.answer
    if result.answerable:
        lead = EXTRACTIVE_LEAD["en"]
        return (lead, text.removeprefix(lead)) if text.startswith(lead) else ("", text)
    for says in (NEAREST_FACTS["en"], NEAREST_TWO["en"]):
        head, said, quote = text.partition(says)
        if said:
            return head + said + " ", quote.strip()
    return text, ""


def _as_messages(history: list) -> list[Message]:
    """History items as ``Message`` (dicts ``{"role", "content"}`` accepted)."""
    out = []
    for m in history:
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            out.append(Message(m["role"], str(m.get("content", ""))))
    return out
