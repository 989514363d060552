"""``passerelle eval``: format detection, metrics, and a real run with the extractive generator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from answer.engine import AnswerEngine
from answer.types import Message
from evaluation import commands, metrics
from evaluation.datasets import load
from evaluation.runner import evaluate
from index.service import IndexService

# Facts looked up in the seed corpus (004_e8f85599edcc36f1.txt), not in the eval files.
QUESTIONS = [
    {
        "id": "t-operators",
        "question": "Combien d'opérateurs du Nord-Pas de Calais se sont mobilisés de 2007 à 2013 ?",
        "lang": "fr",
        "keys": [["222"]],
        "source": "004_e8f85599edcc36f1.txt",
        "evidence": "222 opérateurs",
        "answerable": True,
    },
    {
        "id": "t-interreg",
        "question": "Depuis combien d'années le Programme Interreg France-Wallonie-Vlaanderen "
        "soutient-il des projets de coopération ?",
        "lang": "fr",
        "keys": [["20", "vingt"]],
        "source": "004_e8f85599edcc36f1.txt",
        "evidence": "Depuis plus de 20 ans",
        "answerable": True,
    },
    {
        # same question as t-operators, but a second key group no answer can satisfy
        "id": "t-operators-strict",
        "question": "Combien d'opérateurs du Nord-Pas de Calais se sont mobilisés de 2007 à 2013 ?",
        "lang": "fr",
        "keys": [["222"], ["Lille"]],
        "source": "004_e8f85599edcc36f1.txt",
        "evidence": None,
        "answerable": True,
    },
    {
        "id": "t-offtopic",
        "question": "Quelle est la recette de la tarte au sucre ?",
        "lang": "fr",
        "keys": [],
        "source": None,
        "evidence": None,
        "answerable": False,
    },
]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _args(file: Path, **kw) -> argparse.Namespace:
    return argparse.Namespace(
        file=file, generator=kw.get("generator"), json=kw.get("json", False), limit=kw.get("limit")
    )


# ---------------------------------------------------------------- without the engine


def test_formats_are_detected(tmp_path: Path) -> None:
    q = load(_write_jsonl(tmp_path / "q.jsonl", QUESTIONS))
    assert q.format == "questions" and len(q.cases) == 4
    assert q.cases[3].turns[0].answerable is False
    conv = {"id": "c", "turns": [{"question": "A ?", "keys": [["a"]]}, {"question": "B ?"}]}
    c = load(_write_jsonl(tmp_path / "c.jsonl", [conv]))
    assert c.format == "conversations" and len(c.cases[0].turns) == 2
    piaf = {"id": "p", "question": "Combien ?", "answers": ["100 000"], "source": "X.md"}
    p = load(_write_jsonl(tmp_path / "p.jsonl", [piaf]))
    assert p.format == "piaf" and p.cases[0].turns[0].spans == ["100 000"]
    assert (
        load(_write_jsonl(tmp_path / "q2.jsonl", QUESTIONS), limit=1).cases[0].id == "t-operators"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "not valid JSON"),
        ('{"foo": 1}\n', "unrecognised row"),
        ('{"question": "Q ?", "keys": "222"}\n', "'keys' must be"),
        ('{"id": "c", "turns": []}\n', "'turns' must be a non-empty list"),
        ("\n", "empty file"),
    ],
)
def test_bad_file_exits_non_zero_with_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    assert commands.run(_args(bad)) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.jsonl" in err


def test_missing_file_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.run(_args(tmp_path / "absent.jsonl")) == 2
    assert "no such file" in capsys.readouterr().err


def test_key_matching_ignores_accents_and_case() -> None:
    assert metrics.keys_found("La SILESIE et la Ruhr", [["Silésie"], ["ruhr"]])
    assert not metrics.keys_found("La Ruhr seulement", [["Silésie"], ["Ruhr"]])
    assert metrics.keys_found("Tél. : 321 08\u00a072 72", [["08 72 72"]])
    assert metrics.span_found("environ 14,2 milliards d'euros", ["14,2 milliards"])
    assert metrics.percentile([5, 1, 3, 2, 4], 50) == 3
    assert metrics.percentile([float(i) for i in range(1, 21)], 95) == 19


def test_feedback_export_counts_invented_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passage = {"n": 1, "source": "a.txt", "title": "A", "text": "Le parc gère 450 ha."}
    rows = [
        {
            "question": "Surface ?",
            "answer": "Le parc gère 450 ha [1].",
            "citations": [passage],
            "rating": 1,
        },
        {
            "question": "Surface ?",
            "answer": "Le parc gère 540 ha [1].",
            "citations": [passage],
            "rating": -1,
        },
    ]
    assert commands.run(_args(_write_jsonl(tmp_path / "fb.jsonl", rows), json=True)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "feedback"
    assert out["metrics"]["invented_numbers"] == 1
    assert out["metrics"]["ratings"] == {"1": 1, "-1": 1}
    assert out["metrics"]["positive_ratings"] == 0.5
    assert out["rows"][1]["invented_numbers"] == ["540"]


# ---------------------------------------------------------------- with the real index and engine


@pytest.fixture(scope="module")
def extractive_engine(index_service: IndexService) -> AnswerEngine:
    settings = index_service.settings.model_copy(update={"generator": "extractive"})
    return AnswerEngine(settings, index_service)


def test_questions_scored_with_extractive_engine(
    tmp_path: Path, extractive_engine: AnswerEngine, index_service: IndexService
) -> None:
    data = load(_write_jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    report = evaluate(data, extractive_engine, index_service, "extractive")
    rows = {r["id"]: r for r in report.rows}
    assert report.metrics["errors"] == 0
    for rid, key in (("t-operators", "222"), ("t-interreg", "20")):
        row = rows[rid]
        # the metric agrees with the answer text, and the extractive answer does contain the fact
        assert row["key_hit"] == (row["answered"] and key in row["answer"])
        assert row["key_hit"], row["answer"]
        assert row["evidence_retrieved"] and row["evidence_cited"]
        assert row["invented_numbers"] == []
    # every key group must be found: the strict row fails although its answer has "222"
    strict = rows["t-operators-strict"]
    assert "222" in strict["answer"] and strict["key_hit"] is False
    assert report.metrics["key_recall"] == pytest.approx(2 / 3)
    assert report.metrics["citation_precision"] == 1.0
    assert rows["t-offtopic"]["refusal_correct"] == (not rows["t-offtopic"]["answered"])
    assert report.metrics["refusal_accuracy"] == float(rows["t-offtopic"]["refusal_correct"])
    assert report.metrics["total_ms_p95"] >= report.metrics["total_ms_p50"] > 0
    assert report.metrics["first_token_ms_p50"] <= report.metrics["total_ms_p95"]


class _HistorySpy:
    """The real engine, recording the history each question was asked with."""

    def __init__(self, engine: AnswerEngine) -> None:
        self.engine = engine
        self.histories: list[list[Message]] = []

    def stream(self, question: str, history: list[Message] | None = None):
        self.histories.append(list(history or []))
        return self.engine.stream(question, history)


def test_conversation_turns_get_previous_answers_as_history(
    tmp_path: Path, extractive_engine: AnswerEngine, index_service: IndexService
) -> None:
    conv = {
        "id": "conv",
        "turns": [
            {
                "question": "Combien de projets de coopération transfrontalière sont soutenus "
                "dans le Nord-Pas de Calais ?",
                "keys": [["172"]],
            },
            {"question": "Et quel montant leur a été alloué ?", "keys": [["253"]]},
        ],
    }
    spy = _HistorySpy(extractive_engine)
    report = evaluate(load(_write_jsonl(tmp_path / "c.jsonl", [conv])), spy, index_service, "x")
    assert [r["id"] for r in report.rows] == ["conv#1", "conv#2"]
    assert spy.histories[0] == []
    first_answer = report.rows[0]["answer"]
    assert spy.histories[1] == [
        Message("user", conv["turns"][0]["question"]),
        Message("assistant", first_answer),
    ]
    assert report.rows[0]["key_hit"] == ("172" in first_answer)


def test_eval_command_json_on_the_configured_index(
    tmp_path: Path,
    index_service: IndexService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``passerelle eval FILE --generator extractive --json --limit 2`` end to end."""
    monkeypatch.setenv("PASSERELLE_DATA_DIR", str(index_service.settings.data_dir))
    monkeypatch.setenv("PASSERELLE_CORPUS_DIR", str(index_service.settings.corpus_dir))
    file = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    assert commands.run(_args(file, generator="extractive", json=True, limit=2)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "questions" and out["generator"] == "extractive"
    assert out["metrics"]["questions"] == 2 and len(out["rows"]) == 2
    assert out["metrics"]["key_recall"] == 1.0


def test_piaf_questions_get_their_own_corpus_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "corpus").mkdir()
    piaf = {"id": "p", "question": "Combien ?", "answers": ["100 000"], "source": "X.md"}
    data = load(_write_jsonl(tmp_path / "questions.jsonl", [piaf]))
    monkeypatch.setenv("PASSERELLE_DATA_DIR", str(tmp_path / "data"))
    settings = commands.eval_settings(data, "extractive")
    assert settings.corpus_dir == tmp_path / "corpus"
    assert settings.data_dir == tmp_path / "data" / "eval-piaf"
    assert settings.generator == "extractive"
    # already pointing at the PIAF corpus: the user's settings are kept
    monkeypatch.setenv("PASSERELLE_CORPUS_DIR", str(tmp_path / "corpus"))
    assert commands.eval_settings(data, None).data_dir == tmp_path / "data"
