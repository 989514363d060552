"""The character n-gram ranking computes scikit-learn's TF-IDF numbers without importing
scikit-learn (a second of every command-line search)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from index.keyword import CharNgramTfidf, _ngram_text
from settings import ROOT

PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "corpus"


def test_same_scores_as_scikit_learn() -> None:
    texts = [_ngram_text(p.read_text(encoding="utf-8")) for p in sorted(PIAF.glob("*.md"))[:30]]
    texts += ["a", "", "  ab  cd\t\tef ", _ngram_text("l'été à Hénin-Beaumont : 2 000 €")]
    ours = CharNgramTfidf(texts)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = reference.fit_transform(texts)
    assert set(ours.vocabulary) == set(reference.vocabulary_)
    for query in ["Catrine Bertrem", "hongre cheval castré", "été 2009", "x", "zzzz"]:
        expected = (matrix @ reference.transform([_ngram_text(query)]).T).toarray().ravel()
        assert np.allclose(ours.scores(_ngram_text(query)), expected, atol=1e-12), query


def test_searching_does_not_import_scikit_learn(index_service) -> None:
    code = (
        "import sys; from index.keyword import KeywordIndex;"
        "i = KeywordIndex(['a', 'b'], ['Catherine Bertram', 'terrils'], [{}, {}]);"
        "assert i.search_ngrams('Catrine', 1)[0][0] == 0;"
        "print(sorted(m for m in ('sklearn', 'torch', 'gradio', 'llama_cpp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
