"""What a question asks for (answer/question.py): the kind decides which value an answer
must hold, so a misread kind refuses right answers ("the documents do not give this place")."""

from __future__ import annotations

import pytest

from answer.question import analyse, french_rewrite
from ingest.text import content_terms, detect_language, fold, in_no_language


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # "où" asks for a place; "ou" (or) and a relative "où" do not
        ("Où se trouve le Parc naturel régional Scarpe-Escaut ?", "place"),
        ("ou se trouve le parc", "place"),  # the accent forgotten, first word
        ("Le siège, c'est où ?", "place"),
        ("D'où viennent les partenaires du projet ?", "place"),
        ("Le programme a-t-il été lancé côté français ou côté brésilien ?", "other"),
        ("Cite un programme de la Région où la MBM joue un rôle clé", "other"),
        # "qu'est-ce qui" asks for a thing, not for a person
        ("Qu'est-ce qui a permis la reconversion des terrils ?", "other"),
        ("Qu’est-ce qui est sorti du forum ?", "other"),
        ("Qui a signé l'accord ?", "who"),
        # one typo from a keyword is that keyword; a real word two edits away is not
        ("quel est le budjet de RESCUE", "amount"),
        ("telephonne de la directrice", "phone"),
        ("Quelle bataille a eu lieu sur le front ?", "other"),
        ("Qui propose des animations aux visiteurs ?", "who"),
        ("Quand commence le programme ?", "date"),
        # "quelle" stays singular: not a list
        ("Quelle approche le programme a-t-il suivie ?", "other"),
        ("Quelles régions françaises appuient le programme ?", "place"),
        # a size is a count
        ("How big is the natural area managed by the park?", "count"),
        ("Quelle superficie couvre le parc ?", "count"),
        # "how many X" counts X, even when it says "funded"; money is an amount
        ("Combien de projets ont été financés par le FEDER ?", "count"),
        ("How many projects were funded?", "count"),
        ("Combien d'euros ont été financés ?", "amount"),
        ("How much funding did the projects get?", "amount"),
    ],
)
def test_the_kind_asked_for(question: str, kind: str) -> None:
    assert analyse(question).asked == kind


def test_a_question_about_a_duration_takes_durations_as_its_values() -> None:
    text = "Depuis plus de 20 ans, le programme soutient des projets créés en 2002."
    assert analyse("depuis quand existe le programme").new_values(text) == {"20 ans", "2002"}
    assert analyse("how long has the programme been running").new_values(text) == {"20 ans", "2002"}
    assert analyse("quand le programme a-t-il été créé").new_values(text) == {"2002"}


def test_a_name_typed_in_lower_case_is_given_by_the_question_not_an_answer() -> None:
    text = "Un forum des acteurs s'est tenu en octobre 2009 à Belo Horizonte, avec la Région."
    # "who paid for the forum": Belo Horizonte is where it was held, named by the user
    assert analyse("who paid for the belo horizonte forum").new_values(text) == {"region"}
    assert analyse("Who paid for the Belo Horizonte forum?").new_values(text) == {"region"}
    # a French rewrite names it too (an English question is matched with both texts)
    rewritten = analyse("who paid for the forum").with_french(
        "Qui a payé le forum de Belo Horizonte ?"
    )
    assert rewritten.new_values(text) == {"region"}
    assert analyse("who paid for the forum").new_values(text) == {"belo", "horizonte", "region"}


def test_the_french_rewrite_is_the_model_s_first_line_when_it_is_a_question() -> None:
    question = "Who coordinates the programme?"
    assert french_rewrite(question, "« Qui coordonne le programme ? »\nNote : …") == (
        "Qui coordonne le programme ?"
    )
    assert french_rewrite(question, "Le programme est coordonné par la Fédération [1].") is None
    assert french_rewrite(question, "  \n") is None


def test_a_question_typed_without_accents_has_the_same_terms() -> None:
    """Users type « ete » for « été »: the stop word must not become a term that no passage
    holds (it weighed as a missing word and lowered the answer's probability)."""
    typed = analyse("combien de sites au bresil ont ete retenus")
    written = analyse("combien de sites au Brésil ont été retenus")
    assert (
        [fold(t) for t in content_terms(typed.scoring_text)]
        == [fold(t) for t in content_terms(written.scoring_text)]
        == ["sites", "bresil", "retenus"]
    )
    assert content_terms("ce qui etait tres utile") == ["utile"]


def test_a_nationality_names_a_country_for_a_place_question() -> None:
    text = "Cet accord s'est décliné du côté brésilien par la mise en place du programme."
    assert "bresil" in analyse("which country set up the programme").new_values(text)
    partners = "Elle a participé aux côtés de ses partenaires allemands, britanniques et polonais."
    assert {"allemagne", "royaume-uni", "pologne"} <= analyse(
        "dans quels pays étaient les partenaires"
    ).new_values(partners)
    # the question's own nationality is given, not an answer
    assert "france" not in analyse("quelles régions françaises appuient le programme").new_values(
        "Le programme est appuyé par des régions françaises : Rhône-Alpes et Provence."
    )
    # a who question is not answered by a nationality
    assert analyse("qui a mis en place le programme").new_values(text) == set()


def test_an_address_is_in_no_language() -> None:
    # a French reply that is a contact line ("(at)" hides the e-mail from robots) is not
    # English: its "at" is no English word
    reply = "- Directrice cbertram(at)missionbassinminier(dot)org [2] - Tel : 03 21 08 72 72 [2]"
    assert in_no_language(reply)
    assert detect_language("Quel est le courriel ? contact@example.org") == "fr"
    assert detect_language("Write to me at john@example.com please") == "en"


def test_a_hidden_address_is_read_the_same_everywhere() -> None:
    # sites hide e-mail addresses from robots in several ways; folding, the language guess
    # and the e-mail question all read each of them as the plain address
    asked = analyse("Quelle est l'adresse e-mail de la Mission ?")
    for hidden in ("cbertram(at)mbm(dot)org", "cbertram [at] mbm [dot] org",
                   "cbertram (AT) mbm (DOT) org"):  # fmt: skip
        line = f"Courriel : {hidden}"
        assert fold(line) == "courriel : cbertram@mbm.org"
        assert asked.new_values(line) == {"cbertram@mbm.org"}
        assert in_no_language(hidden)
    # an "at" among words hides nothing
    assert fold("Meet us at the fair") == "meet us at the fair"
