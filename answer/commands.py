"""``passerelle ask``: one question from the command line, or a JSON-lines batch on stdin."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from answer.engine import AnswerEngine
from answer.errors import QuestionError
from answer.types import AnswerResult, Message
from ingest.text import sentences, squash_spaces, term_set
from settings import Settings, get_settings

QUOTE_CHARS = 160


def ask(args: argparse.Namespace) -> int:
    """Run ``passerelle ask``; returns the process exit code."""
    settings = get_settings()
    if args.generator:
        settings = settings.model_copy(update={"generator": args.generator})
    if args.jsonl:
        return ask_jsonl(_engine(settings), sys.stdin, sys.stdout)
    if not args.question:
        print('usage: passerelle ask "question" [--json] (or --jsonl on stdin)', file=sys.stderr)
        return 2
    engine = _engine(settings)
    try:
        if args.json:
            result = engine.ask(args.question)
            print(json.dumps(_with_links(result.to_dict()), ensure_ascii=False, indent=2))
        else:
            result = _ask_streaming(engine, args.question)
    except QuestionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if result.answerable else 1


def _engine(settings: Settings) -> AnswerEngine:
    from index.service import IndexService

    return AnswerEngine(settings, IndexService(settings))


def _ask_streaming(engine: AnswerEngine, question: str) -> AnswerResult:
    """Print the answer as it is written (on a terminal), then the checked answer and sources."""
    from answer.types import AnswerEvent, TokenEvent

    live = sys.stdout.isatty()
    result: AnswerResult | None = None
    for event in engine.stream(question):
        if isinstance(event, TokenEvent) and live:
            print(event.text, end="", flush=True)
        elif isinstance(event, AnswerEvent):
            result = event.result
    assert result is not None
    if live:
        print("\n" + "─" * 40)
    print(format_result(result))
    return result


def format_result(result: AnswerResult) -> str:
    """The answer, then its numbered sources (title, page, short quote)."""
    lines = [result.answer]
    if result.citations:
        lines += ["", "Sources :" if result.language == "fr" else "Sources:"]
    for c in result.citations:
        page = f", p. {c.page}" if c.page else ""
        quote = best_quote(c.text, result.answer)
        quote = quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1] + "…"
        lines.append(f"[{c.n}] {c.title}{page} — « {quote} »")
    return "\n".join(lines)


def best_quote(passage: str, answer: str) -> str:
    """The sentence of ``passage`` sharing most words with ``answer`` (what was cited)."""
    answer_terms = term_set(answer)
    best, best_shared = "", -1
    for start, end in sentences(passage):
        sentence = squash_spaces(passage[start:end])
        shared = len(term_set(sentence) & answer_terms)
        if shared > best_shared:
            best, best_shared = sentence, shared
    return best or squash_spaces(passage)


def ask_jsonl(engine: AnswerEngine, lines: TextIO, out: TextIO) -> int:
    """Answer each ``{"id", "question", "history"}`` line; one JSON line out per line in.

    A bad line gets ``{"id", "error"}`` and the batch goes on; the exit code is 1 if any
    line failed.
    """
    failed = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        item_id = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
            item_id = item.get("id", number)
            history = [
                Message(m["role"], m["content"])
                for m in item.get("history") or []
                if m.get("role") in ("user", "assistant")
            ]
            result = engine.ask(str(item.get("question") or ""), history)
            record = {"id": item_id, **_with_links(result.to_dict())}
        except (ValueError, KeyError, TypeError) as err:  # QuestionError is a ValueError
            failed = True
            record = {"id": item_id if item_id is not None else number, "error": str(err)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _with_links(result: dict) -> dict:
    """The JSON answer with each citation's ``url`` (its page URL or ``/documents/…``), as
    the API gives it."""
    from index.links import with_links

    with_links(result["citations"])
    return result
