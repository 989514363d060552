"""A seed corpus plus an internal canary document whose words appear nowhere else."""

from __future__ import annotations

from pathlib import Path

from conftest import copy_seed_corpus

from settings import Settings

CANARY_SOURCE = "interne/note-zorglubine.txt"
CANARY_TITLE = "Note interne Zorglubine"
CANARY_WORDS = ("Zorglubine", "Quetzalnord", "4 321 987")
CANARY_QUESTION = "Quel est le budget du projet Zorglubine de la cellule Quetzalnord ?"
CANARY_TEXT = """# Note interne Zorglubine

Le projet Zorglubine de la cellule Quetzalnord dispose d'un budget de 4 321 987 euros.
La cellule Quetzalnord pilote le projet Zorglubine depuis le puits Wimbledonnet.
"""
COLLECTIONS_TOML = """[public]
visibility = "public"

[interne]
visibility = "internal"
title = "Documents internes"
"""


def canary_corpus(root: Path) -> Path:
    """The seed corpus (default collection, public) and ``interne/`` (internal)."""
    corpus = copy_seed_corpus(root / "corpus")
    (corpus / "interne").mkdir()
    (corpus / CANARY_SOURCE).write_text(CANARY_TEXT, encoding="utf-8")
    (corpus / "collections.toml").write_text(COLLECTIONS_TOML, encoding="utf-8")
    return corpus


def canary_settings(root: Path, **overrides) -> Settings:
    return Settings(
        data_dir=root / "data",
        corpus_dir=canary_corpus(root),
        generator="extractive",
        **overrides,
    )


# what only the canary's text holds (its question names Zorglubine and Quetzalnord)
CANARY_SECRETS = ("4 321 987", "4321987", "Wimbledonnet", CANARY_TITLE, CANARY_SOURCE)


def mentions_canary(text: str) -> bool:
    """True if ``text`` holds the canary's budget, its other unique word, title or path."""
    folded = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return any(w.lower() in folded for w in CANARY_SECRETS)
