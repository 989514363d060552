"""The fresh list questions (``evaluation.lists_fresh``): held-out test rows from odd pages
only, dev rows from even pages only, keys on their pages, two pools of phrasings new to
``lists_questions.TEMPLATES`` and sharing none, enough English, files up to date."""

from __future__ import annotations

import json

import pytest

from evaluation import lists_fresh
from evaluation.lists_questions import TEMPLATES, page, strip_accents


def _plain(text: str) -> str:
    return " ".join(strip_accents(text).lower().split())


def test_same_kinds_and_enough_phrasings():
    assert [k[:3] for k in lists_fresh.FRESH] == [k[:3] for k in TEMPLATES]
    for _, _, _, phrasings in lists_fresh.FRESH:
        french = phrasings["fr"] + phrasings["fr_plain"]
        assert len(french) >= 6 and len(phrasings["en"]) >= 4
        assert all("{p}" in t or "{t}" in t for t in french + phrasings["en"])


def test_rows_are_from_odd_pages_only():
    rows = lists_fresh.rows()
    assert len(rows) == 270
    assert {r["split"] for r in rows} == {"test"}
    assert all(int(r["source"][:2]) % 2 == 1 and int(r["id"][1:3]) % 2 == 1 for r in rows)
    assert len({r["source"] for r in rows}) == 30
    assert len({r["id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("split", ["test", "dev"])
def test_answerable_keys_are_written_on_their_page(split: str):
    for r in lists_fresh.rows(split):
        if not r["answerable"]:
            assert "keys" not in r
            continue
        name, text = page(int(r["source"][:2]))
        assert name == r["source"]
        assert all(group[0] in text for group in r["keys"])  # the page's own form first
        assert r["evidence"] in text


def test_no_fresh_phrasing_is_an_old_one():
    old = {_plain(t) for *_, phrasings in TEMPLATES for t in phrasings}
    fresh = [t for *_, ph in lists_fresh.FRESH for lst in ph.values() for t in lst]
    assert len({_plain(t) for t in fresh}) == len(fresh)  # no phrasing written twice
    assert not old & {_plain(t) for t in fresh}


def test_english_share_and_written_file():
    rows = lists_fresh.rows()
    assert sum(r["lang"] == "en" for r in rows) / len(rows) >= 0.35
    assert {r["lang"] for r in rows} == {"fr", "en"}
    written = lists_fresh.PATH.read_text("utf-8").splitlines()
    assert [json.loads(line) for line in written] == rows  # the file is up to date


def _phrasings(pool: list) -> list[str]:
    return [t for *_, ph in pool for lst in ph.values() for t in lst]


def test_dev_pool_has_the_same_kinds_and_enough_phrasings():
    assert [k[:3] for k in lists_fresh.DEV_PHRASINGS] == [k[:3] for k in TEMPLATES]
    for _, _, _, phrasings in lists_fresh.DEV_PHRASINGS:
        assert set(phrasings) == {"fr", "fr_plain", "en"}
        french = phrasings["fr"] + phrasings["fr_plain"]
        assert len(french) >= 6 and len(phrasings["en"]) >= 4
        assert len(french) + len(phrasings["en"]) >= 10
        assert all("{p}" in t or "{t}" in t for t in french + phrasings["en"])


def test_dev_rows_are_from_even_pages_only():
    rows = lists_fresh.rows("dev")
    assert len(rows) == 270
    assert {r["split"] for r in rows} == {"dev"}
    assert all(r["id"].startswith("g") for r in rows)
    assert all(int(r["source"][:2]) % 2 == 0 and int(r["id"][1:3]) % 2 == 0 for r in rows)
    assert len({r["source"] for r in rows}) == 30
    assert len({r["id"] for r in rows}) == len(rows)
    test_sources = {r["source"] for r in lists_fresh.rows("test")}
    assert not test_sources & {r["source"] for r in rows}  # no page on both sides


def test_dev_pool_shares_no_phrasing_with_templates_or_the_test_pool():
    old = {_plain(t) for *_, phrasings in TEMPLATES for t in phrasings}
    test_pool = {_plain(t) for t in _phrasings(lists_fresh.FRESH)}
    dev = [_plain(t) for t in _phrasings(lists_fresh.DEV_PHRASINGS)]
    assert len(set(dev)) == len(dev)  # no phrasing written twice
    assert not old & set(dev)
    assert not test_pool & set(dev)


def test_dev_english_share_and_written_file():
    rows = lists_fresh.rows("dev")
    assert sum(r["lang"] == "en" for r in rows) / len(rows) >= 0.35
    assert {r["lang"] for r in rows} == {"fr", "en"}
    for kind, asks, *_ in TEMPLATES:  # the same share for every kind
        of_kind = [r for r in rows if (r["kind"], r["asks"]) == (kind, asks)]
        assert sum(r["lang"] == "en" for r in of_kind) == 12
    written = lists_fresh.DEV_PATH.read_text("utf-8").splitlines()
    assert [json.loads(line) for line in written] == rows  # the file is up to date


def test_english_rows_also_accept_the_value_written_in_english():
    row = next(r for r in lists_fresh.rows() if r["lang"] == "en" and r["asks"] == "date")
    day, month, year = row["keys"][0][0].split()
    assert len(row["keys"][0]) == 3 and row["keys"][0][1].startswith(f"{day} ")
    assert not any(r["lang"] == "fr" and len(r["keys"][0]) > 1 for r in lists_fresh.rows()
                   if r["answerable"])  # fmt: skip
