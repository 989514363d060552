"""Measure the citation checker's overlap score on claims NOT supported by their passage.

    .venv/bin/python -m evaluation.calibrate_citations [FOLDER ...] [--sample N]

For sentences of real documents (default: the seed corpus and the PIAF corpus), scores

- ``other document``: the sentence against the passage of another document that it overlaps
  most (a claim from another document, the worst case among all passages);
- ``same document``: the sentence against the most overlapping *other* passage of its own
  document (a related but different claim);

and prints the overlap distribution and the share each threshold would wrongly accept, with and
without the facts check (numbers, names, URLs). ``OVERLAP_THRESHOLD`` in ``answer/citations.py``
is chosen from this table; faithful sentences score 1.0 against their own passage and
paraphrases are covered by ``tests/test_citations.py``.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from answer.citations import OVERLAP_THRESHOLD
from answer.facts import PassageFacts, content_words, missing_facts, overlap, sentence_facts
from evaluation.metrics import percentile
from ingest.chunk import split_document
from ingest.text import sentences, squash_spaces
from settings import ROOT, Settings

DEFAULT_FOLDERS = [ROOT / "corpus", ROOT.parent / "shared" / "eval" / "piaf" / "corpus"]
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def passages(text: str) -> list[str]:
    """The chunks the index makes of ``text`` (``ingest/chunk.py``, default settings)."""
    settings = Settings()
    chunks = split_document(text, settings.chunk_size, settings.chunk_overlap)
    return [text[span.start : span.end] for span, _heading in chunks]


def claims(passage: str) -> list[str]:
    """The sentences of ``passage`` (``ingest.text.sentences``) with at least 6 content
    words: claims worth checking."""
    found = (squash_spaces(passage[a:b]) for a, b in sentences(passage))
    return [s for s in found if len(content_words(s)) >= 6]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS)
    parser.add_argument("--sample", type=int, default=300, help="sentences scored")
    args = parser.parse_args(argv)
    docs = {
        f: passages(f.read_text(encoding="utf-8"))
        for folder in args.folders
        for f in sorted(folder.iterdir())
        if f.suffix in (".txt", ".md")
    }
    evidence = {(f, i): PassageFacts.of([p]) for f, ps in docs.items() for i, p in enumerate(ps)}
    pool = [(f, i, s) for f, ps in docs.items() for i, p in enumerate(ps) for s in claims(p)]
    random.seed(0)
    sample = random.sample(pool, min(args.sample, len(pool)))
    results: dict[str, list[tuple[float, bool]]] = {"other document": [], "same document": []}
    for f, i, s in sample:
        facts = sentence_facts(s)
        for kind in results:
            keys = [k for k in evidence if (k[0] != f if kind == "other document" else k[0] == f)]
            keys = [k for k in keys if k != (f, i)]
            if not keys:
                continue
            best = max(keys, key=lambda k: overlap(s, evidence[k]))
            score = overlap(s, evidence[best])
            results[kind].append((score, not missing_facts(facts, evidence[best])))
    print(f"{len(sample)} sentences from {len(docs)} documents; thresholds {OVERLAP_THRESHOLD}")
    for kind, scored in results.items():
        values = [v for v, _ in scored]
        p50, p90, p95 = (percentile(values, q) for q in (50, 90, 95))
        print(f"\n{kind}: n={len(values)} overlap p50={p50:.2f} p90={p90:.2f} p95={p95:.2f}")
        print("  threshold  accepted by overlap  accepted by overlap+facts")
        for t in THRESHOLDS:
            by_overlap = sum(v >= t for v in values) / len(values)
            both = sum(v >= t and ok for v, ok in scored) / len(values)
            print(f"  {t:9.1f}  {100 * by_overlap:18.1f} %  {100 * both:24.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
