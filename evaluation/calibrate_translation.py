"""Calibrate the translation check (``answer/translation.py``): how close, in the embedding
model's space, an English sentence must be to the French sentence it translates.

    .venv/bin/python -m evaluation.calibrate_translation [--quotes 65]

The local model translates quotes drawn from the **dev** PIAF articles (1 to 3 consecutive
sentences of one paragraph, each ending with its ``[1]``), as the engine asks it to. Each
English sentence is then compared with its French source (a faithful pair) and with the
French sentence that follows the quote in its paragraph (same topic, another claim: what an
unfaithful translation looks like). The threshold is the highest cosine that keeps
``KEEP`` of the faithful pairs on dev; the test PIAF articles are scored the same way. It
also prints the share of faithful pairs the facts and names rules (``keeps_facts``) reject
and how many whole translations ``faithful`` accepts.
Translations are cached in ``bench/cache/translation-<split>.json`` (a run resumes).
"""

from __future__ import annotations

import argparse
import json
import random
import sys

from answer.prompts import translate_answer_messages
from answer.translation import aligned
from evaluation import piaf_sets
from ingest.text import sentences, squash_spaces

KEEP = 0.95  # share of faithful pairs the threshold keeps on dev


def _quotes(split: str, n: int) -> list[dict]:
    """``n`` quotes of the ``split`` articles, each with the sentence that follows it."""
    from bench.common import PIAF_CORPUS

    articles = piaf_sets.load_articles(PIAF_CORPUS)
    splits = piaf_sets.article_splits(list(articles))
    rng = random.Random(f"translation-{split}")
    names = sorted(a for a in articles if splits[a] == split)
    out: list[dict] = []
    while len(out) < n:
        article = articles[rng.choice(names)]
        a, b = rng.choice(article.paragraphs)
        text = article.text[a:b]
        sents = [squash_spaces(text[s:e]).rstrip(" .") for s, e in sentences(text)]
        sents = [s for s in sents if 40 <= len(s) <= 300]
        k = rng.randint(1, 3)
        if len(sents) < k + 1:
            continue
        at = rng.randrange(len(sents) - k)
        out.append({"french": [f"{s} [1]." for s in sents[at : at + k]], "next": sents[at + k]})
    return out


def _translated(split: str, n: int) -> list[dict]:
    """The quotes with the local model's translation (cached)."""
    from answer.generators.local import LocalGenerator
    from bench.common import cache_dir
    from settings import Settings

    path = cache_dir(".") / f"translation-{split}.json"
    cached = json.loads(path.read_text("utf-8")) if path.is_file() else []
    quotes = _quotes(split, n)
    done = [c for c, q in zip(cached, quotes, strict=False) if c["french"] == q["french"]]
    model = LocalGenerator(Settings()) if len(done) < n else None
    for i, q in enumerate(quotes):
        if i < len(done):
            q["english"] = done[i]["english"]
            continue
        body = " ".join(q["french"])
        q["english"] = "".join(model.stream(translate_answer_messages(body), max_tokens=400))
        path.write_text(json.dumps(quotes[: i + 1], ensure_ascii=False, indent=1), "utf-8")
        print(f"{split}: {i + 1}/{n}", file=sys.stderr, flush=True)
    return quotes


def pairs(quotes: list[dict]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(English, French) faithful pairs of the quotes whose sentences align one to one, and
    (English, next French sentence) unfaithful ones."""
    good, bad = [], []
    for q in quotes:
        found = aligned(q["english"].strip(), " ".join(q["french"]))
        if found is None:
            continue
        good += found
        bad += [(e, q["next"]) for e, _f in found]
    return good, bad


def cosines(pairs_: list[tuple[str, str]]) -> list[float]:
    """The embedding model's cosine of each pair (vectors are normalised)."""
    from answer.translation import similarities
    from index.embeddings import make_embedding
    from settings import Settings

    return similarities(make_embedding(Settings()), pairs_)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=65)  # the shipped calibration
    args = parser.parse_args(argv)
    from answer.translation import faithful, keeps_facts
    from index.embeddings import make_embedding
    from settings import Settings

    scored, quotes = {}, {}
    for split in ("dev", "test"):
        quotes[split] = _translated(split, args.quotes)
        good, bad = pairs(quotes[split])
        scored[split] = (good, cosines(good), cosines(bad))
    _good, dev_cosines, _bad = scored["dev"]
    threshold = sorted(dev_cosines)[int((1 - KEEP) * len(dev_cosines))]
    embed = make_embedding(Settings())
    for split in ("test", "dev"):
        good, good_cos, bad_cos = scored[split]
        kept = sum(c >= threshold for c in good_cos) / len(good_cos)
        passed = sum(c >= threshold for c in bad_cos) / len(bad_cos)
        facts_lost = sum(not keeps_facts(e, f) for e, f in good) / len(good)
        accepted = sum(faithful(q["english"].strip(), " ".join(q["french"]), embed)
                       for q in quotes[split])  # fmt: skip
        print(f"{split.upper()}: {len(good)} faithful pairs kept {kept:.1%}; "
              f"{len(bad_cos)} unfaithful pairs passed {passed:.1%}; faithful pairs the "
              f"facts and names rules reject {facts_lost:.1%}; whole translations accepted "
              f"(shipped MIN_COSINE) {accepted}/{len(quotes[split])}")  # fmt: skip
    print(f"threshold (dev, keeps {KEEP:.0%} of faithful pairs): {threshold:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
