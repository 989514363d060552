"""Answer benchmark: every target of issue 9 for one generator on one half of the sets.

    .venv/bin/python bench/answers.py [--generator local|openai|extractive]
        [--split dev|test] [--only seed|conversations|piaf|nearmiss|swaps|lists ...] [--limit N]

- ``seed``: ``evaluation/data/seed-<split>.jsonl`` and ``seed-conversations-<split>.jsonl``
  through the engine over ``corpus/`` (mirrored into ``bench/cache/seed-index``); with a model
  generator, the seed questions once more with the extractive generator (latency floor);
- ``conversations``: only the seed conversations (part of ``seed``; alone, a quick check);
- ``piaf``: the fixed 150 PIAF questions of the half (300 in all), through the engine over
  the 96 articles indexed in ``bench/cache/piaf-index``;
- ``nearmiss``: the PIAF near-miss questions of the half (their paragraph removed, in
  ``bench/cache/piaf-nearmiss/corpus``, indexed in ``bench/cache/piaf-nearmiss-index``) and
  their controls;
- ``swaps``: the citation checker on ``evaluation/data/subject-swaps.jsonl``;
- ``lists``: ``evaluation/data/lists-<split>.jsonl`` (contact, amount and date questions and
  near-misses, ``evaluation/lists_questions.py``) over the 60 invented list-heavy pages of
  ``bench/lists_corpus.py``, indexed in ``bench/cache/lists-index``.

``--limit N`` keeps the first N items of each kind (answerable, near-miss, ..., swap,
paraphrase) of each file: a quick check of the whole table, not a result to report.

Prints each run's table, then the targets table, and writes everything to
``bench/results/answers-<generator>-<split>.json``. Progress lines go to stderr. The
default split is test: tune on dev, report test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from answer import decision  # noqa: E402
from answer.engine import AnswerEngine  # noqa: E402
from answer.generators.memo import Recording  # noqa: E402
from bench.common import PIAF_CORPUS, PIAF_QUESTIONS, cache_dir, write_result  # noqa: E402
from evaluation import piaf_sets  # noqa: E402
from evaluation.commands import format_table, progress_line  # noqa: E402
from evaluation.datasets import (  # noqa: E402
    Case,
    EvalFile,
    EvalFileError,
    first_per_kind,
    load,
    split_files,
)
from evaluation.replay import CallsFile, Replayed, ReplayingEngine, recording  # noqa: E402
from evaluation.runner import Report, evaluate  # noqa: E402
from evaluation.swaps import evaluate_swaps, format_swaps  # noqa: E402
from evaluation.targets import format_targets, measure_all  # noqa: E402
from settings import Settings  # noqa: E402

SEED_DATA = ROOT / "evaluation" / "data"
SWAPS = SEED_DATA / "subject-swaps.jsonl"
PARTS = ("seed", "conversations", "piaf", "nearmiss", "swaps", "lists")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _limit_by_kind(cases: list[Case], limit: int | None) -> list[Case]:
    """The first ``limit`` cases of each kind (of their first turn)."""
    return first_per_kind(cases, lambda c: c.turns[0].kind, limit)


class Bench:
    """One run: the generator, the split, and one model shared by every engine."""

    def __init__(
        self, generator: str, split: str, limit: int | None, replay: list[Path] | None = None
    ) -> None:
        self.generator_name, self.split, self.limit = generator, split, limit
        self.model = None  # the first engine's generator, reused (one model in memory)
        self.replay = replay  # recorded runs whose model answers are read back
        self.replayed: Replayed | None = None

    def engine(self, settings: Settings, corpus: Path) -> tuple[Any, Any]:
        """(engine, index) over ``settings``, ``corpus`` mirrored into its index first (a
        no-op when nothing changed)."""
        from server.services import Services

        services = Services.load(settings)
        started = time.perf_counter()
        report = services.index.ingest(corpus)
        _say(f"indexed {corpus} in {time.perf_counter() - started:.1f} s: "
             f"{json.dumps(report.to_dict())[:200]}")  # fmt: skip
        if self.model is None:
            self.model = services.engine.generator
            if self.replay and self.model is not None:
                calls = cache_dir("replay") / "calls.json"  # the model's rewrites, kept
                self.replayed = Replayed(self.model, recording(self.replay), calls)
        if self.replayed is not None:
            engine = AnswerEngine(settings, services.index, generator=self.replayed)
            return ReplayingEngine(engine, self.replayed), services.index
        # a live run keeps every model call by prompt: its replays are then exact
        model = self.model
        if model is not None and self.generator_name == "local":
            model = Recording(model, CallsFile(cache_dir("replay") / "calls.json"))
        return AnswerEngine(settings, services.index, generator=model), services.index

    def run(self, name: str, files: list[EvalFile], engine: Any, index: Any) -> Report:
        _say(f"== {name} ({self.split}, {self.generator_name})")
        report = evaluate(files, engine, index, self.generator_name, progress_line)
        print(f"\n[{name}] " + format_table(report), flush=True)
        return report

    def _seed_files(self) -> tuple[list[EvalFile], Settings, Any, Any]:
        """The half's seed files (each kind limited), the settings and the engine over
        ``corpus/``."""
        files = [load(f, split=self.split) for f in split_files(SEED_DATA, self.split)]
        for data in files:
            data.cases = _limit_by_kind(data.cases, self.limit)
        settings = Settings(generator=self.generator_name, data_dir=cache_dir("seed-index"))
        engine, index = self.engine(settings, settings.corpus_dir)
        return files, settings, engine, index

    def seed(self) -> dict[str, Report]:
        files, settings, engine, index = self._seed_files()
        runs = {"seed": self.run("seed", files, engine, index)}
        if self.generator_name != "extractive":  # the floor the model's latency compares to
            questions = [f for f in files if f.format == "questions"]
            floor = settings.model_copy(update={"generator": "extractive"})
            extractive = AnswerEngine(floor, index)
            runs["extractive"] = self.run("extractive", questions, extractive, index)
        return runs

    def conversations(self) -> dict[str, Report]:
        """The seed conversations of the half alone (a check of follow-ups in minutes)."""
        files, _settings, engine, index = self._seed_files()
        talks = [f for f in files if f.format != "questions"]
        return {"conversations": self.run("conversations", talks, engine, index)}

    def piaf(self) -> dict[str, Report]:
        settings = Settings(
            generator=self.generator_name, corpus_dir=PIAF_CORPUS,
            data_dir=cache_dir("piaf-index"),
        )  # fmt: skip
        engine, index = self.engine(settings, PIAF_CORPUS)
        cases = piaf_sets.answer_cases(PIAF_CORPUS, PIAF_QUESTIONS, self.split)
        cases = cases[: self.limit] if self.limit else cases
        return {"piaf": self.run("piaf", [piaf_sets.as_eval_file(PIAF_QUESTIONS, cases)],
                                 engine, index)}  # fmt: skip

    def nearmiss(self) -> dict[str, Report]:
        target = cache_dir("piaf-nearmiss")
        questions = piaf_sets.write_near_miss_corpus(PIAF_CORPUS, PIAF_QUESTIONS, target)
        corpus = questions.parent / "corpus"
        settings = Settings(
            generator=self.generator_name, corpus_dir=corpus,
            data_dir=cache_dir("piaf-nearmiss-index"),
        )  # fmt: skip
        engine, index = self.engine(settings, corpus)
        data = load(questions, split=self.split)
        data.cases = _limit_by_kind(data.cases, self.limit)
        return {"nearmiss": self.run("nearmiss", [data], engine, index)}

    def lists(self) -> dict[str, Report]:
        """The questions over the invented list-heavy pages (contact lines, amounts, dates)."""
        from bench import lists_corpus

        corpus = lists_corpus.write()
        settings = Settings(
            generator=self.generator_name, corpus_dir=corpus, data_dir=cache_dir("lists-index")
        )
        engine, index = self.engine(settings, corpus)
        data = load(SEED_DATA / f"lists-{self.split}.jsonl", split=self.split)
        data.cases = _limit_by_kind(data.cases, self.limit)
        return {"lists": self.run("lists", [data], engine, index)}


def _result_name(args: argparse.Namespace) -> str:
    """``answers-<generator>-<split>``, plus the parts of a partial run and its limit (a
    partial run never overwrites the full result)."""
    name = f"answers-{args.generator}-{args.split}"
    if set(args.only) != set(PARTS):
        name += "-" + "-".join(p for p in PARTS if p in args.only)
    name += f"-floor{args.model_floor:g}" if args.model_floor is not None else ""
    name += "-replay" if args.replay else ""
    return name + (f"-limit{args.limit}" if args.limit else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=["local", "openai", "extractive"], default="local")
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--only", choices=PARTS, nargs="+", default=list(PARTS))
    parser.add_argument(
        "--limit", type=int, default=None, help="only the first N items of each kind per file"
    )
    parser.add_argument(
        "--model-floor", type=float, default=None,
        help="ask the model down to this decision probability (answer/decision.MODEL_FLOOR; "
        "a calibration run: results are named -floorX)",
    )  # fmt: skip
    parser.add_argument(
        "--replay", type=Path, nargs="+", default=None,
        help="read the model's answers back from these recorded results (evaluation/replay.py); "
        "valid while retrieval and the prompt are unchanged",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.model_floor is not None:
        decision.MODEL_FLOOR = args.model_floor

    bench = Bench(args.generator, args.split, args.limit, args.replay)
    started = time.perf_counter()
    runs: dict[str, Report] = {}
    swaps = None
    if "swaps" in args.only:  # no engine: first, so a later crash keeps it
        if SWAPS.is_file():
            swaps = evaluate_swaps(SWAPS, args.split, args.limit, by_kind=True)
            print("\n" + format_swaps(swaps), flush=True)
        else:
            _say(f"no {SWAPS.relative_to(ROOT)}: swaps skipped")

    def save(complete: bool) -> Path:
        """Write what has run so far (after every part: a long run that dies keeps it)."""
        payload = {
            "generator": args.generator,
            "split": args.split,
            "limit": args.limit,
            "complete": complete,
            "targets": measure_all({n: r.metrics for n, r in runs.items()}, args.generator),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "seconds": round(time.perf_counter() - started, 1),
            "runs": {name: r.to_dict() for name, r in runs.items()},
            "swaps": swaps,
            "model_floor": args.model_floor,
            "replay": None
            if bench.replayed is None
            else {
                "of": [str(p) for p in args.replay],
                "answers_replayed": bench.replayed.replayed,
                "answers_generated": bench.replayed.generated,
            },
        }
        return write_result(_result_name(args), payload)

    for part in ("seed", "conversations", "piaf", "nearmiss", "lists"):
        if part in args.only and not (part == "conversations" and "seed" in args.only):
            try:
                runs |= getattr(bench, part)()
            except EvalFileError as exc:  # e.g. the seed files of the split are not there yet
                _say(f"{part} skipped: {exc}")
            save(complete=False)

    print(f"\ntargets ({args.split} split, generator {args.generator}):")
    print(format_targets(measure_all({n: r.metrics for n, r in runs.items()}, args.generator)))
    if swaps:
        m = swaps["metrics"]
        kinds = ", ".join(f"{k} {_pct(v)}" for k, v in m["by_kind"].items())
        print(f"  subject swaps ({m['claims']} claims): precision of 'supported' "
              f"{_pct(m['precision'])}, recall {_pct(m['recall'])}; accuracy: {kinds}")  # fmt: skip
    out = save(complete=True)
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
