"""Replaying recorded answer-bench runs (evaluation/replay.py) and choosing the model floor
from them (evaluation/calibrate_floor.py): small recorded rows, no model."""

from __future__ import annotations

import json
from pathlib import Path

from answer.generators.memo import Recording
from evaluation.calibrate_floor import choose, replay, utility
from evaluation.replay import CallsFile, Replayed, model_text, recording


def row(rid: str, raw: str, answer: str, generator: str, answered: bool, **kw) -> dict:
    return {"id": rid, "question": kw.pop("question", rid), "raw_answer": raw,
            "answer": answer, "generator": generator, "answered": answered,
            "error": None, **kw}  # fmt: skip


def test_the_model_text_is_what_it_streamed_without_the_quoted_fallback() -> None:
    # accepted model answer: the stream is the model's text (the checker may reword it)
    assert model_text(row("a", "Le parc [1] .", "Le parc [1].", "local", True)) == "Le parc [1] ."
    # refused, then quoted: the stream is the model's text, a blank line, the quote
    quoted = "D'après les documents : 9 sites [2]."
    streamed = "Je ne sais pas.\n\n" + quoted
    assert model_text(row("b", streamed, quoted, "extractive", True)) == "Je ne sais pas."
    # never asked: the stream is the final answer alone
    assert model_text(row("c", quoted, quoted, "extractive", True)) is None


class Counting:
    name = "local"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, messages, max_tokens=None):
        self.calls += 1
        yield f"live {max_tokens}"


def test_a_replay_reads_recorded_answers_and_keeps_the_model_s_rewrites(tmp_path: Path) -> None:
    result = tmp_path / "answers-local-dev.json"
    rows = [row("s1", "Réponse [1].", "Réponse [1].", "local", True, question="q1"),
            row("cv1#2", "Suite [2].", "Suite [2].", "local", True, question="et ?")]  # fmt: skip
    result.write_text(json.dumps({"runs": {"seed": {"generator": "local", "rows": rows}}}))
    recorded = recording([result])
    assert recorded == {("q1", 1): "Réponse [1].", ("et ?", 2): "Suite [2]."}
    real, calls = Counting(), tmp_path / "calls.json"
    replayed = Replayed(real, recorded, calls)
    replayed.current = ("q1", 1)
    assert "".join(replayed.stream([{"role": "user", "content": "q1"}])) == "Réponse [1]."
    assert real.calls == 0
    # a rewrite (capped call) goes to the model once, then comes from the file
    rewrite = [{"role": "user", "content": "translate q1"}]
    assert "".join(replayed.stream(rewrite, max_tokens=60)) == "live 60"
    again = Replayed(real, recorded, calls)
    assert "".join(again.stream(rewrite, max_tokens=60)) == "live 60"
    assert real.calls == 1
    # an answer the recording lacks is generated once, then read from the file too
    replayed.current = ("q2", 1)
    assert "".join(replayed.stream(rewrite)) == "live None" and replayed.generated == 1
    third = Replayed(real, recorded, calls)
    third.current = ("q2", 1)
    assert "".join(third.stream(rewrite)) == "live None" and real.calls == 2


def test_a_floor_refuses_what_lies_under_it_and_none_wins_a_tie() -> None:
    rows = [
        {"confidence": 0.9, "answered": True, "correct": True, "expected_answerable": True},
        # below the threshold, answered by the model: one right, two wrong
        {"confidence": 0.4, "answered": True, "correct": True, "expected_answerable": True},
        {"confidence": 0.3, "answered": True, "correct": False, "expected_answerable": True},
        {"confidence": 0.2, "answered": True, "correct": False, "expected_answerable": False},
        {"confidence": None, "answered": False, "correct": True, "expected_answerable": False},
    ]
    assert replay(rows[3], None, 0.5) == (False, True)  # a near-miss refused: right
    assert replay(rows[3], 0.1, 0.5) == (True, False)
    assert utility(rows, None, 0.5) == (1 + 0 + 0 + 1 + 1) / 5
    assert utility(rows, 0.0, 0.5) == (1 + 1 - 2 - 2 + 1) / 5
    # only the 0.4 answer is worth asking for, and it beats no floor by 1/5
    assert choose(rows, 0.5) == 0.4
    assert choose(rows[:1] + rows[2:], 0.5) is None


def test_a_live_run_s_calls_are_replayed_by_prompt_not_by_its_stream(tmp_path: Path) -> None:
    """A live turn streamed the model's answer, then its rewording of the quote: read back
    from the stream, both were the answer. The calls a live run kept are replayed each by
    its own prompt instead."""
    calls = tmp_path / "calls.json"
    live = Recording(Counting(), CallsFile(calls))
    prompt = [{"role": "user", "content": "q1"}]
    assert "".join(live.stream(prompt)) == "live None"
    assert "".join(live.stream(prompt, max_tokens=256)) == "live 256"  # the rewording
    # the recording's stream holds both texts; the calls file holds each under its prompt
    recorded = {("q1", 1): "live None\n\nlive 256"}
    real = Counting()
    replayed = Replayed(real, recorded, calls)
    replayed.current = ("q1", 1)
    assert "".join(replayed.stream(prompt)) == "live None"
    assert "".join(replayed.stream(prompt, max_tokens=256)) == "live 256"
    assert real.calls == 0
