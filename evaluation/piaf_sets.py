"""Fixed PIAF sets for the answer engine, split by article into a dev and a test half.

- **answer level**: 300 questions (150 per half) whose gold span lies in a paragraph of
  their article, each carrying the offsets of its gold paragraphs;
- **near-misses**: per article, one question whose gold span occurs in exactly one
  paragraph; a copy of the corpus with that paragraph removed makes it unanswerable, and
  the engine must refuse it there. **Controls**: 150 other questions whose gold paragraph is
  intact in that copy, which must still be answered.

Every draw uses a fixed seed, so the sets never change between runs; the article split
means tuning on dev never sees a test article.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.datasets import SPLITS, Case, EvalFile, Turn
from evaluation.metrics import span_found
from ingest.clean import clean_text
from ingest.loaders import SUPPORTED_SUFFIXES, load_raw

try:  # paragraphs as the chunker sees them
    from ingest.text import paragraphs
except ImportError:  # pragma: no cover - before the helper moved to ingest/text.py
    from ingest.chunk import paragraphs  # type: ignore[no-redef]

SEED = 20240609
ANSWER_SAMPLE = 300  # split evenly between the halves
CONTROL_SAMPLE = 150


@dataclass
class Article:
    """A corpus document as the ingest sees it: cleaned text and its paragraph spans."""

    source: str
    text: str
    paragraphs: list[tuple[int, int]]

    def holding(self, spans: list[str]) -> list[tuple[int, int]]:
        """The paragraphs that contain one of the gold ``spans``."""
        return [(a, b) for a, b in self.paragraphs if span_found(self.text[a:b], spans)]


def load_articles(corpus: Path) -> dict[str, Article]:
    """Every supported document of ``corpus``, cleaned like the ingest does."""
    out = {}
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            text = "\n\n".join(clean_text(page) for page in load_raw(path).pages)
            spans = [(s.start, s.end) for s in paragraphs(text)]
            source = path.relative_to(corpus).as_posix()
            out[source] = Article(source, text, spans)
    return out


def load_questions(path: Path) -> list[dict[str, Any]]:
    """PIAF rows ``{"id", "question", "answers", "source"}``, sorted by id."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda r: str(r["id"]))


def article_splits(sources: list[str]) -> dict[str, str]:
    """Each article's half: a fixed shuffle of the sorted names, first half dev."""
    names = sorted(sources)
    random.Random(SEED).shuffle(names)
    half = len(names) // 2
    return {name: "dev" if i < half else "test" for i, name in enumerate(names)}


def _case(row: dict[str, Any], split: str, held: list[tuple[int, int]], **kw: Any) -> Case:
    turn = Turn(
        row["question"], spans=list(row["answers"]), source=row["source"], lang="fr",
        paragraphs=held, **kw,
    )  # fmt: skip
    return Case(str(row["id"]), [turn], split)


def _draw(rows: list[Any], n: int, salt: str) -> list[Any]:
    """A fixed sample of ``n`` rows (all of them when fewer)."""
    return random.Random(f"{SEED}-{salt}").sample(rows, min(n, len(rows)))


def answer_cases(corpus: Path, questions: Path, split: str) -> list[Case]:
    """The answer-level half ``split`` of the 300-question sample."""
    articles = load_articles(corpus)
    splits = article_splits(list(articles))
    pool = []
    for row in load_questions(questions):
        article = articles.get(row["source"])
        if article is not None and splits[row["source"]] == split:
            held = article.holding(row["answers"])
            if held:
                pool.append(_case(row, split, held))
    return sorted(_draw(pool, ANSWER_SAMPLE // len(SPLITS), f"answer-{split}"), key=_by_id)


def _by_id(case: Case) -> str:
    return case.id


def near_miss_picks(articles: dict[str, Article], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per article, the question to make unanswerable and the paragraph to remove."""
    by_article: dict[str, list[tuple[dict[str, Any], tuple[int, int]]]] = {}
    for row in rows:
        article = articles.get(row["source"])
        if article is None:
            continue
        held = article.holding(row["answers"])
        if len(held) == 1:
            by_article.setdefault(row["source"], []).append((row, held[0]))
    picks = {}
    for source in sorted(by_article):
        row, paragraph = random.Random(f"{SEED}-near-miss-{source}").choice(by_article[source])
        picks[source] = {"row": row, "paragraph": paragraph}
    return picks


def write_near_miss_corpus(corpus: Path, questions: Path, target: Path) -> Path:
    """Write the near-miss corpus (each picked paragraph removed) to ``target/corpus`` and
    the near-miss and control questions to ``target/questions.jsonl``; returns that file.

    Idempotent: files are rewritten only when their content changes (no re-index)."""
    articles = load_articles(corpus)
    rows = load_questions(questions)
    picks = near_miss_picks(articles, rows)
    out = target / "corpus"
    out.mkdir(parents=True, exist_ok=True)
    for source, article in articles.items():
        removed = picks.get(source, {}).get("paragraph")
        kept = [article.text[a:b] for a, b in article.paragraphs if (a, b) != removed]
        _write_if_changed(out / source, "\n\n".join(kept) + "\n")
    for extra in ("metadata.toml",):
        if (corpus / extra).is_file():
            shutil.copyfile(corpus / extra, out / extra)
    lines = [json.dumps(r, ensure_ascii=False) for r in _near_miss_rows(out, rows, picks)]
    path = target / "questions.jsonl"
    _write_if_changed(path, "\n".join(lines) + "\n")
    return path


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text("utf-8") != text:
        path.write_text(text, "utf-8")


def _near_miss_rows(
    corpus: Path, rows: list[dict[str, Any]], picks: dict[str, Any]
) -> list[dict[str, Any]]:
    """Near-miss rows (must be refused) and a fixed sample of controls (must be answered),
    with offsets in the near-miss documents."""
    articles = load_articles(corpus)
    splits = article_splits(list(articles))
    picked = {str(p["row"]["id"]) for p in picks.values()}
    out: list[dict[str, Any]] = []
    for source, pick in sorted(picks.items()):
        row = pick["row"]
        out.append({**row, "answerable": False, "kind": "near-miss", "split": splits[source]})
    for split in SPLITS:
        pool = []
        for row in rows:
            article = articles.get(row["source"])
            if str(row["id"]) in picked or article is None or splits[row["source"]] != split:
                continue
            held = article.holding(row["answers"])
            if held:
                pool.append({**row, "answerable": True, "kind": "answerable", "split": split,
                             "paragraphs": held})  # fmt: skip
        out += sorted(_draw(pool, CONTROL_SAMPLE // len(SPLITS), f"control-{split}"),
                      key=lambda r: str(r["id"]))  # fmt: skip
    return out


def as_eval_file(questions: Path, cases: list[Case]) -> EvalFile:
    """Cases wrapped as a PIAF evaluation file (its corpus is ``corpus/`` beside the file)."""
    return EvalFile(questions, "piaf", cases)
