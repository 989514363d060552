"""Replaying a recorded answer-bench run: the model's answers are read back, not generated.

Everything after generation (the not-mentioned filter, the citation checker, the asked-kind
check, the quoting fallback, the gray-zone floor) can change without changing what the
model wrote for a given prompt: the model decodes greedily, and the prompt depends only on
retrieval. So a run recorded once (``bench/results/answers-local-…json``, whose rows keep
the streamed text) scores any later post-generation rule in minutes instead of the 40 of a
live run. Calls the recording lacks (the question's French rewrite, a follow-up's
rewrite, an answer the recorded run never asked the model for) go to the real model.

A live run keeps every model call by prompt in the calls file (``CallsFile``), and a
replay reads a call from there first: a recorded stream can hold more than one model text
(the answer, then its rewording of the quote).

A replay is only valid while retrieval and the prompt are unchanged: ``bench/answers.py
--replay`` says so in its result, and a live run is still the result that counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from answer.generators.memo import prompt_key

Key = tuple[str, int]  # (the user's question, its turn number in the conversation)

GENERATED = ("local", "openai")


def model_text(row: dict[str, Any]) -> str | None:
    """What the model streamed for a recorded row, None when it was not asked.

    The engine streams the model's text, then (when it falls back to quoting) a blank line
    and the final answer: that tail is cut off. A row whose stream is only its final
    quoted answer never reached the model (or the model wrote nothing)."""
    raw, answer = row.get("raw_answer", ""), row.get("answer", "")
    if row.get("error") is not None:
        return None
    if row.get("generator") in GENERATED and row.get("answered"):
        return raw  # the checked model answer: the stream is the model's text
    if raw == answer.strip():
        return None
    if raw.endswith(answer.strip()):
        return raw[: len(raw) - len(answer.strip())].strip()
    return raw


def turn_of(row_id: str) -> int:
    """The turn number of a row id ("cv03#2" is turn 2; a lone question is turn 1)."""
    return int(row_id.rsplit("#", 1)[1]) if "#" in row_id else 1


def recording(paths: list[Path]) -> dict[Key, str]:
    """The recorded model texts of every model run in the given bench results."""
    out: dict[Key, str] = {}
    for path in paths:
        data = json.loads(path.read_text("utf-8"))
        for name, run in data["runs"].items():
            if run.get("generator") not in GENERATED or name == "extractive":
                continue
            for row in run["rows"]:
                text = model_text(row)
                if text is not None:
                    out.setdefault((row["question"], turn_of(row["id"])), text)
    return out


class Replayed:
    """A generator that answers from a recording and asks the real model the rest.

    The rest (rewrites of English questions and follow-ups, answers to prompts the
    recording lacks) is kept in ``calls``, a JSON file, so a second replay needs no model
    at all. (Before session 15 the model's output
    also depended on what its prompt cache held before, and the file was what made two
    replays identical; ``local._settle_cache`` now makes it a function of the prompt.)"""

    def __init__(self, real: Any, recorded: dict[Key, str], calls: Path | None = None) -> None:
        self.real = real
        self.name = real.name
        self.recorded = recorded
        self.store = CallsFile(calls)
        self.calls = self.store.calls
        self.current: Key | None = None  # set by ``ReplayingEngine`` for each question
        self.replayed = 0
        self.generated = 0

    def stream(self, messages: list, max_tokens: int | None = None) -> Iterator[str]:
        key = prompt_key(messages, max_tokens)
        # the answer call is the one without a token cap (rewrites ask for 60 tokens); a
        # live run that kept its calls (``CallsFile``) gave its exact text by prompt
        if max_tokens is None and key not in self.calls and self.current in self.recorded:
            self.replayed += 1
            yield self.recorded[self.current]
            return
        # any other call (a rewrite, an answer the recording lacks) goes to the model once,
        # then comes from the file: greedy decoding makes it a function of the prompt
        if key not in self.calls:
            self.generated += max_tokens is None
            text = "".join(self.real.stream(messages, max_tokens=max_tokens))
            self.store.put(messages, max_tokens, self.name, text)
        yield self.calls[key]


class CallsFile:
    """Every text a live run's model completed, kept in the calls file by prompt (the
    store of a ``memo.Recording`` around the real model).

    A live run's rows keep what was streamed, and since the quote is also reworded by the
    model (session 20) the stream of one question can hold two model texts: the answer,
    then the rewording. Read back as the answer, that pair was checked as one answer in
    replays (a live turn quoted, its replay answered). With the calls kept, a replay of the
    run gives each call its own text."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: kept in memory only
        self.calls: dict[str, str] = (
            json.loads(path.read_text("utf-8")) if path is not None and path.is_file() else {}
        )

    def put(self, messages: list, max_tokens: int | None, name: str, text: str) -> None:
        self.calls[prompt_key(messages, max_tokens)] = text
        if self.path is not None:
            self.path.write_text(json.dumps(self.calls, ensure_ascii=False), "utf-8")


class ReplayingEngine:
    """The answer engine, telling its ``Replayed`` generator which question is asked."""

    def __init__(self, engine: Any, replayed: Replayed) -> None:
        self.engine = engine
        self.replayed = replayed

    def stream(self, question: str, history: list | None = None, **kwargs: Any) -> Iterator:
        self.replayed.current = (question, 1 + len(history or []) // 2)
        return self.engine.stream(question, history, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)
