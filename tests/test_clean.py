"""Cleaning: extraction damage in the seed brochures is repaired, compounds are kept."""

from __future__ import annotations

import re

import pytest

from ingest.clean import clean_text
from settings import ROOT

BROCHURE = ROOT / "corpus" / "cooperation-transfrontaliere-nord-pas-de-calais.txt"
MISSION = ROOT / "corpus" / "mission-bassin-minier-international.txt"


@pytest.fixture(scope="module")
def raw() -> str:
    return BROCHURE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def brochure(raw: str) -> str:
    return clean_text(raw)


@pytest.fixture(scope="module")
def mission() -> str:
    return clean_text(MISSION.read_text(encoding="utf-8"))


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_no_tabs_double_spaces_or_replacement_chars(raw: str, brochure: str) -> None:
    assert "\t" in raw and "\t" not in brochure
    assert "  " not in brochure
    assert "\ufffd" not in brochure
    assert "\n\n\n" not in brochure
    assert all(line == line.strip() for line in brochure.split("\n"))


def test_hyphenated_line_breaks_rejoined(raw: str, brochure: str) -> None:
    # the PDF export broke words at the end of lines, with blank lines between halves
    assert re.search(r"trans-\s*\n\s*\n\s*frontalière", raw)
    assert re.search(r"fran-\s*\n\s*\n\s*co-wallons", raw)
    assert re.search(r"his-\s*\n\s*toire", raw)
    assert "coopération transfrontalière et vise à effacer" in brochure
    assert "sur nos terrils franco-wallons." in brochure
    assert "d’une histoire partagée" in brochure
    for broken in ("trans-\n", "fran-\n", "his-\n", "trans- ", "fran- ", "ges- "):
        assert broken not in brochure
    assert "la gestion du Patrimoine naturel" in brochure


def test_compounds_kept(brochure: str, mission: str) -> None:
    assert "Nord-Pas de Calais" in brochure
    assert "France-Wallonie-Vlaanderen" in brochure
    assert "franco-belge" in brochure and "petit-à-petit" in brochure
    assert "NordPas" not in brochure and "francobelge" not in brochure
    assert "Nord – Pas-de-Calais" in mission and "Provence-Alpes-Côte d’Azur" in mission


def test_sentence_broken_across_blocks_joined(raw: str, brochure: str) -> None:
    assert "Calais, \n\n253 millions" in raw.replace("\t", " ")
    [paragraph] = [p for p in paragraphs(brochure) if "253 millions €" in p]
    assert paragraph.startswith("Afin de soutenir les 172 projets")
    assert paragraph.endswith("leur ont été alloués.")
    assert "Calais, 253 millions €, dont près de 118,2 millions €" in paragraph


def test_sentence_broken_after_a_quoted_word_joined(brochure: str) -> None:
    # « noire » is a quoted word inside the sentence, not the end of it
    [paragraph] = [p for p in paragraphs(brochure) if "« noire »" in p]
    assert paragraph.endswith("comme aussi « noire » que son charbon.")


def test_bullets_normalised(raw: str, brochure: str) -> None:
    assert "•" in raw and "•" not in brochure
    assert "- pour soutenir la recherche dans des filières d’avenir ;" in paragraphs(brochure)


def test_layout_tokens_removed(mission: str) -> None:
    raw = MISSION.read_text(encoding="utf-8")
    assert "band_international.jpg" in raw and "int_titre_sur_ce_projet" in raw
    assert "band_international" not in mission and ".jpg" not in mission
    assert "int_titre_sur_ce_projet" not in mission
    assert mission.startswith("Introduction\n\nDès sa mise en place en juin 2000")
    # an e-mail address and a URL are text, not layout
    assert "cbertram(at)missionbassinminier(dot)org" in mission


def test_control_and_soft_hyphen_characters() -> None:
    text = "Coopé\u00adration\x07 trans-\nfrontalière\r\nSuite\u00a0: fin\ufffd."
    assert clean_text(text) == "Coopération transfrontalière\nSuite : fin."


def test_idempotent(brochure: str, mission: str) -> None:
    assert clean_text(brochure) == brochure
    assert clean_text(mission) == mission
