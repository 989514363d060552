"""``passerelle eval`` and the benchmark sets: formats, splits, metrics on scripted results,
the PIAF sets, the swap checker, targets, and real runs with the extractive generator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from answer.engine import AnswerEngine
from answer.types import AnswerResult, Citation, Message
from evaluation import commands, metrics, piaf_sets, swaps, targets
from evaluation.datasets import EvalFileError, Turn, load
from evaluation.runner import Row, evaluate, score_turn, summarise
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
        file=file,
        generator=kw.get("generator"),
        json=kw.get("json", False),
        limit=kw.get("limit"),
        split=kw.get("split"),
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


def test_an_evidence_quote_cut_by_a_line_break_is_found_in_the_joined_passage() -> None:
    """Seed evidence quotes copied from the PDF end with a word cut at the line («la col-»);
    the indexed passage holds the joined word. A right citation must count as right."""
    passage = "Des plans d'urgence sont établis afin d'améliorer la réactivité et la collaboration."
    quote = "afin\td’améliorer\tla\tréactivité\tet\tla\tcol-"
    assert metrics.evidence_in(quote, passage)
    citations = [Citation(1, "a.txt", "a", None, passage, 0, len(passage), 1.0)]
    assert metrics.evidence_cited("Pour la réactivité [1].", citations, quote)
    assert not metrics.evidence_cited("Pour la réactivité.", citations, quote)  # not cited
    assert metrics.evidence_in("« COSANTRAN, RENCOSAN-", "« COSANTRAN, RENCOSAN-TRAN »")
    assert not metrics.evidence_in("afin d'améliorer la col-", "la collaboration")


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
    assert report.metrics["citation_correct"] == 1.0
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
    assert settings.data_dir == tmp_path / "data" / f"eval-{tmp_path.name}"
    assert settings.generator == "extractive"
    # already pointing at the PIAF corpus: the user's settings are kept
    monkeypatch.setenv("PASSERELLE_CORPUS_DIR", str(tmp_path / "corpus"))
    assert commands.eval_settings(data, None).data_dir == tmp_path / "data"


# ---------------------------------------------------------------- scripted results

PASSAGE = Citation(
    1, "a.txt", "A", None, "De 2007 à 2013, 222 opérateurs du Nord-Pas de Calais se sont "
    "mobilisés pour 172 projets.", 0, 80, 0.9,
)  # fmt: skip


def _scored(turn: Turn, answer: str, answerable: bool, generator: str = "local", **kw) -> Row:
    """The row of ``turn`` answered with ``answer`` (citing PASSAGE when answerable)."""
    row = Row("r", turn.question, expected_answerable=turn.answerable, lang=turn.lang or "fr",
              kind=turn.kind, **kw)  # fmt: skip
    result = AnswerResult(turn.question, answer, answerable, "fr",
                          [PASSAGE] if answerable else [], generator=generator)  # fmt: skip
    score_turn(row, turn, result, [PASSAGE])
    return row


def test_scripted_results_are_scored_as_the_user_would_judge_them() -> None:
    asked = Turn("Combien de projets ?", keys=[["172"]], evidence="172 projets", lang="fr")
    right = _scored(asked, "Il y a 172 projets [1].", True)
    assert right.correct and not right.answered_wrongly and right.evidence_cited
    refused = _scored(asked, "Les documents ne le disent pas.", False, "extractive")
    assert refused.key_hit is False and refused.correct is False
    wrong = _scored(asked, "Il y a 222 opérateurs [1].", True)  # confident, without the fact
    assert wrong.answered_wrongly and wrong.key_hit is False
    english = Turn("How many projects are there?", keys=[["172"]], lang="en")
    in_french = _scored(english, "Il y a 172 projets dans le Nord-Pas de Calais [1].", True)
    assert in_french.key_hit and in_french.language_ok is False
    in_english = _scored(english, "There are 172 projects [1].", True, "extractive")
    assert in_english.language_ok is True
    # a bare value is in no language: it answers in the question's, whichever it is
    for value in ("172 [1].", "April 23, 2009 [1]."):
        assert _scored(english, value, True).language_ok is True
    assert _scored(english, "Le 23 avril 2009 [1].", True).language_ok is False
    trap = Turn("Quel est le budget de 2030 ?", answerable=False, kind="near-miss")
    fooled = _scored(trap, "Le budget est de 222 opérateurs [1].", True)
    assert fooled.refusal_correct is False and fooled.answered_wrongly
    kept_out = _scored(trap, "Les documents ne le disent pas.", False)
    assert kept_out.refusal_correct and kept_out.answered_wrongly is False
    invented = _scored(asked, "Il y a 173 projets [1].", True)
    assert invented.invented_numbers == ["173"]
    follow = _scored(asked, "Il y a 172 projets [1].", True, follow_up=True)

    rows = [right, refused, wrong, in_french, in_english, fooled, kept_out, invented, follow]
    m = summarise(rows)
    assert m["questions"] == 9
    assert m["wrongly_refused"] == pytest.approx(1 / 7)  # of the 7 answerable questions
    # answered wrongly: the 222 answer, the fooled near-miss, and the invented 173
    assert m["answered_wrongly"] == pytest.approx(3 / 9)
    assert m["confident_precision"] == pytest.approx(4 / 7)  # 7 answered, 3 of them wrong
    assert m["refusal_accuracy"] == 0.5
    assert m["invented_numbers"] == 1
    assert m["language_ok"] == pytest.approx(6 / 7)  # the English question answered in French
    assert m["model_written"] == pytest.approx(6 / 7)  # one extractive answer
    assert list(m["by_kind"]) == ["answerable", "near-miss", "follow-up"]
    assert m["by_kind"]["near-miss"]["questions"] == 2
    assert m["by_kind"]["near-miss"]["refusal_accuracy"] == 0.5
    assert m["by_kind"]["follow-up"]["correct"] == 1.0
    assert m["by_language"]["en"]["questions"] == 2
    assert m["by_language"]["en"]["language_ok"] == 0.5


def test_piaf_citation_of_the_gold_paragraph() -> None:
    turn = Turn("Combien ?", spans=["172"], source="a.txt", paragraphs=[(60, 120)])
    row = _scored(turn, "Il y a 172 projets [1].", True)
    assert row.span_hit and row.evidence_cited and row.paragraph_cited  # [0, 80] overlaps
    elsewhere = Turn("Combien ?", spans=["172"], source="a.txt", paragraphs=[(80, 200)])
    assert _scored(elsewhere, "Il y a 172 projets [1].", True).paragraph_cited is False
    assert metrics.overlaps((0, 10), [(9, 12)]) and not metrics.overlaps((0, 10), [(10, 12)])


# ---------------------------------------------------------------- splits


def test_seed_rows_filtered_by_split_and_legacy_kinds_mapped(tmp_path: Path) -> None:
    rows = [{**q, "split": "dev" if i % 2 else "test", "kind": "fact"}
            for i, q in enumerate(QUESTIONS)]  # fmt: skip
    file = _write_jsonl(tmp_path / "q.jsonl", rows)
    assert [c.id for c in load(file, split="dev").cases] == ["t-interreg", "t-offtopic"]
    assert {c.split for c in load(file, split="test").cases} == {"test"}
    assert load(file).cases[0].turns[0].kind == "answerable"  # legacy "fact"
    shared = load(_write_jsonl(tmp_path / "shared.jsonl", QUESTIONS))
    assert {c.split for c in shared.cases} == {"test"}  # rows without a split: test data
    assert shared.cases[3].turns[0].kind == "off-topic"
    with pytest.raises(EvalFileError, match="no row of the dev split"):
        load(_write_jsonl(tmp_path / "only-test.jsonl", QUESTIONS), split="dev")


def _article(title: str, paragraphs: list[str]) -> str:
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def test_near_miss_corpus_removes_the_gold_paragraph_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {
        f"a{i}.md": [
            f"La ville {i} compte 1{i}0 000 habitants selon le recensement.",
            f"Le maire de la ville {i} est Jeanne Durand{i}, élue en 20{i}0.",
            f"Le fleuve qui traverse la ville {i} mesure 4{i}5 kilomètres de long.",
        ]
        for i in range(1, 5)
    }
    for name, paras in texts.items():
        (corpus / name).write_text(_article(name, paras), "utf-8")
    rows = []
    for name in texts:
        i = name[1]
        rows += [
            {"id": f"{name}-pop", "question": "Combien d'habitants ?",
             "answers": [f"1{i}0 000"], "source": name},
            {"id": f"{name}-maire", "question": "Qui est le maire ?",
             "answers": [f"Jeanne Durand{i}"], "source": name},
            {"id": f"{name}-fleuve", "question": "Quelle longueur ?",
             "answers": [f"4{i}5 kilomètres"], "source": name},
            # in two paragraphs: never picked as a near-miss
            {"id": f"{name}-ville", "question": "Quelle ville ?",
             "answers": [f"ville {i}"], "source": name},
        ]  # fmt: skip
    questions = _write_jsonl(tmp_path / "questions.jsonl", rows)
    out = piaf_sets.write_near_miss_corpus(corpus, questions, tmp_path / "nm")
    data = load(out)
    near = {c.turns[0].source: c for c in data.cases if c.turns[0].kind == "near-miss"}
    assert sorted(near) == sorted(texts)  # one per article
    for source, case in near.items():
        turn = case.turns[0]
        assert turn.answerable is False and not case.id.endswith("-ville")
        written = (tmp_path / "nm" / "corpus" / source).read_text("utf-8")
        removed = [p for p in texts[source] if metrics.span_found(p, turn.spans)]
        assert len(removed) == 1 and removed[0] not in written
        assert not metrics.span_found(written, turn.spans)
        for kept in texts[source]:  # every other paragraph is there, verbatim
            assert kept == removed[0] or kept in written
        assert written.startswith(f"# {source}")
    controls = [c for c in data.cases if c.turns[0].kind == "answerable"]
    assert controls and all(c.turns[0].answerable for c in controls)
    for case in controls:  # their gold paragraph is intact in the near-miss document
        turn = case.turns[0]
        written = (tmp_path / "nm" / "corpus" / turn.source).read_text("utf-8")
        assert all(metrics.span_found(written[a:b], turn.spans) for a, b in turn.paragraphs)
        assert case.id not in {c.id for c in near.values()}
    # a second build changes nothing (no re-index of the near-miss store)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "nm").rglob("*") if p.is_file()}
    piaf_sets.write_near_miss_corpus(corpus, questions, tmp_path / "nm")
    assert before == {p: p.stat().st_mtime_ns for p in before}


PIAF = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "piaf"


@pytest.mark.skipif(not PIAF.is_dir(), reason="no shared PIAF set")
def test_piaf_sample_is_fixed_and_split_by_article() -> None:
    corpus, questions = PIAF / "corpus", PIAF / "questions.jsonl"
    splits = piaf_sets.article_splits([p.name for p in corpus.glob("*.md")])
    assert splits == piaf_sets.article_splits(sorted(splits, reverse=True))
    assert sorted(splits.values()).count("dev") == len(splits) // 2
    dev = piaf_sets.answer_cases(corpus, questions, "dev")
    test = piaf_sets.answer_cases(corpus, questions, "test")
    assert len(dev) == len(test) == 150
    assert [c.id for c in dev] == [c.id for c in piaf_sets.answer_cases(corpus, questions, "dev")]
    dev_articles = {c.turns[0].source for c in dev}
    test_articles = {c.turns[0].source for c in test}
    assert not dev_articles & test_articles
    assert all(splits[a] == "dev" for a in dev_articles)
    # ``passerelle eval piaf/questions.jsonl --split dev --limit 3`` asks the same questions
    (cli_file,) = commands.load_files(questions, "dev", 3)
    assert [c.id for c in cli_file.cases] == [c.id for c in dev[:3]]
    assert cli_file.corpus_dir == corpus
    article = piaf_sets.load_articles(corpus)[dev[0].turns[0].source]
    for a, b in dev[0].turns[0].paragraphs:  # offsets of paragraphs holding a gold span
        assert metrics.span_found(article.text[a:b], dev[0].turns[0].spans)


# ---------------------------------------------------------------- subject swaps and targets


def test_swap_checker_accepts_paraphrases_and_rejects_swapped_subjects(tmp_path: Path) -> None:
    passage = "De 2007 à 2013, 222 opérateurs du Nord-Pas de Calais se sont mobilisés."
    rows = [
        {"id": "p", "lang": "fr", "passage": passage, "kind": "paraphrase", "supported": True,
         "claim": "Entre 2007 et 2013, 222 opérateurs du Nord-Pas de Calais se sont mobilisés."},
        {"id": "s", "lang": "fr", "passage": passage, "kind": "swap", "supported": False,
         "claim": "De 2007 à 2013, 222 opérateurs de Wallonie se sont mobilisés."},
        {"id": "d", "lang": "fr", "passage": passage, "kind": "swap", "supported": False,
         "claim": "Le programme compte 222 projets.", "split": "dev"},
    ]  # fmt: skip
    file = _write_jsonl(tmp_path / "swaps.jsonl", rows)
    report = swaps.evaluate_swaps(file, split="test")
    verdicts = {r["id"]: r["accepted"] for r in report["rows"]}
    assert verdicts == {"p": True, "s": False}
    assert report["metrics"]["precision"] == 1.0 and report["metrics"]["recall"] == 1.0
    assert report["metrics"]["by_kind"] == {"paraphrase": 1.0, "swap": 1.0}
    assert [r["id"] for r in swaps.evaluate_swaps(file, split="dev")["rows"]] == ["d"]
    assert swaps.with_marker("Une phrase.") == "Une phrase [1]."
    assert "recall" in swaps.format_swaps(report)


def test_targets_are_met_missed_or_not_measured() -> None:
    reports = {
        "seed": {"by_language": {"fr": {"key_recall": 0.96}, "en": {"key_recall": 0.5}},
                 "invented_numbers": 0, "answered_wrongly": 0.02, "model_written": 0.1},
        "piaf": {"invented_numbers": 2, "span_recall": 0.81},
    }  # fmt: skip
    got = {r["target"]: r["met"] for r in targets.measure_all(reports, "local")}
    assert got["seed key recall, French"] is True
    assert got["seed key recall, English"] is False
    assert got["seed answered wrongly"] is True
    assert got["invented numbers (every run)"] is False  # 2 in the PIAF run
    assert got["answers written by the model"] is False
    assert got["PIAF near-misses refused"] is None  # not run
    extractive = {r["target"]: r["met"] for r in targets.measure_all(reports, "extractive")}
    assert extractive["answers written by the model"] is None
    assert "MISS" in targets.format_targets(targets.measure_all(reports, "local"))
    # a run of the conversations alone (``--only conversations``) measures the follow-ups
    alone = {"conversations": {"by_kind": {"follow-up": {"correct": 0.5}}}}
    got = {r["target"]: r["value"] for r in targets.measure_all(alone, "local")}
    assert got["seed follow-ups correct"] == 0.5
    assert got["seed key recall, French"] is None


# ---------------------------------------------------------------- end to end


def test_eval_folder_split_end_to_end_with_extractive_engine(
    tmp_path: Path,
    index_service: IndexService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``passerelle eval FOLDER --split dev --generator extractive --json`` on the seed corpus:
    the dev questions and conversations are asked, the test rows are not."""
    monkeypatch.setenv("PASSERELLE_DATA_DIR", str(index_service.settings.data_dir))
    monkeypatch.setenv("PASSERELLE_CORPUS_DIR", str(index_service.settings.corpus_dir))
    folder = tmp_path / "data"
    folder.mkdir()
    dev = [{**QUESTIONS[0], "split": "dev", "kind": "answerable", "asks": "count"},
           {**QUESTIONS[3], "split": "dev", "kind": "off-topic", "asks": "other"}]  # fmt: skip
    _write_jsonl(folder / "seed-dev.jsonl", dev)
    _write_jsonl(folder / "seed-test.jsonl", [{**QUESTIONS[1], "split": "test"}])
    conv = {"id": "c", "split": "dev", "lang": "fr", "turns": [
        {"question": "Combien de projets de coopération transfrontalière sont soutenus dans "
         "le Nord-Pas de Calais ?", "keys": [["172"]], "kind": "answerable"},
        {"question": "Et combien d'opérateurs se sont mobilisés de 2007 à 2013 ?",
         "keys": [["222"]], "kind": "answerable"},
    ]}  # fmt: skip
    _write_jsonl(folder / "seed-conversations-dev.jsonl", [conv])
    assert commands.run(_args(folder, generator="extractive", json=True, split="dev")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "seed" and out["generator"] == "extractive"
    assert [r["id"] for r in out["rows"]] == ["t-operators", "t-offtopic", "c#1", "c#2"]
    m = out["metrics"]
    assert set(m["by_kind"]) == {"answerable", "off-topic", "follow-up"}
    rows = {r["id"]: r for r in out["rows"]}
    for rid, key in (("t-operators", "222"), ("c#1", "172"), ("c#2", "222")):
        assert rows[rid]["key_hit"] == (rows[rid]["answered"] and key in rows[rid]["answer"])
    assert m["by_kind"]["follow-up"]["correct"] == float(rows["c#2"]["key_hit"])
    assert m["model_written"] == 0.0  # the extractive generator quotes passages
    assert m["invented_numbers"] == 0
    assert m["total_ms_p50"] > 0
    table = commands.format_table(commands.evaluate_file(folder, "extractive", 1, True, "dev"))
    assert "follow-up" in table and "wrongly refused" in table


def test_the_list_page_questions_are_those_the_pages_give(tmp_path) -> None:
    """``evaluation/data/lists-*.jsonl`` are written from the invented pages' own text:
    written again, they are the same, and each answerable question's evidence line and key
    are on its page."""
    from bench.lists_corpus import page
    from evaluation import lists_questions

    written = lists_questions.write(tmp_path)
    for split, path in written.items():
        shipped = lists_questions.OUT / f"lists-{split}.jsonl"
        assert path.read_text("utf-8") == shipped.read_text("utf-8")
    rows = [json.loads(line) for line in written["dev"].read_text("utf-8").splitlines()]
    assert len(rows) >= 100 and {r["split"] for r in rows} == {"dev"}
    for row in rows:
        if row["answerable"]:
            text = page(int(row["id"][1:3]))[1]
            assert row["evidence"] in text and row["keys"][0][0] in text
