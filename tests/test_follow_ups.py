"""Follow-up questions (answer/condense.py): which questions lean on the conversation, which
model rewrites are kept, and what retrieval gets when there is no usable rewrite.

The last test runs the real engine over the real seed index without a model: the
conversation's topic question, not the previous follow-up, is what the answer needs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import assert_cited_fact

from answer.condense import condense, is_follow_up, topic_question
from answer.engine import AnswerEngine
from answer.types import Message
from settings import Settings


class Rewriter:
    """A scripted model that answers every call with one fixed text, and records the
    prompts it was sent."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text
        self.prompts: list[list[dict]] = []

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        self.prompts.append(messages)
        yield self.text


def _conversation(*turns: str) -> list[Message]:
    return [Message("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(turns)]


@pytest.mark.parametrize(
    "question",
    ["dans quel but", "sur quels sujets ?", "en quelle année", "how many kilometres long is that "
     "border", "what does BMU mean in that list", "Et son numéro ?", "qui le préside"],
)  # fmt: skip
def test_short_or_pointing_questions_lean_on_the_conversation(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    ["Quel est le montant du FEDER pour les projets transfrontaliers ?", "What does BMU stand "
     "for?", "Qu'est-ce que le programme RESCUE ?", "Combien de sites brésiliens ont été "
     "identifiés ?", "Who coordinates the Mosaïques programme in France?"],
)  # fmt: skip
def test_questions_that_name_their_subject_stand_alone(question: str) -> None:
    assert not is_follow_up(question)


def test_a_rewrite_naming_what_an_earlier_turn_named_is_kept() -> None:
    # "RESCUE" was named two questions back and in an answer, not in the last question
    history = _conversation(
        "c'est quoi le programme rescue", "Un programme européen de recherche [1].",
        "et il a duré combien de temps", "Trois ans [2].",
    )  # fmt: skip
    model = Rewriter("Quel était le coordinateur du programme RESCUE ?")
    condensed = condense("qui en était le coordinateur", history, model)  # type: ignore[arg-type]
    assert condensed.by_model
    assert condensed.question == "Quel était le coordinateur du programme RESCUE ?"


def test_a_rewrite_that_brings_nothing_from_the_conversation_is_not_used() -> None:
    history = _conversation("Qui dirige la Mission Bassin Minier ?", "Catherine Bertram [1].")
    model = Rewriter("Quel est son numéro de téléphone ?")
    condensed = condense("et son numéro ?", history, model)  # type: ignore[arg-type]
    assert not condensed.by_model
    assert condensed.question == "Qui dirige la Mission Bassin Minier ? et son numéro ?"


@pytest.mark.parametrize(
    "text",
    [
        # what the small model wrote for follow-ups of the seed dev half: a refusal, and
        # an answer made up from the conversation, instead of a question
        "Les documents ne contiennent pas la réponse à cette question.",
        "According to the documents, Wallonia contributed 118.2 million euros [1].",
    ],
)
def test_a_rewrite_that_answers_instead_of_asking_is_not_used(text: str) -> None:
    history = _conversation(
        "c'est quoi le parc naturel transfrontalier du hainaut",
        "D'après les documents : un projet commun de gestion du territoire [1].",
    )  # fmt: skip
    condensed = condense("il a été récompensé ?", history, Rewriter(text))  # type: ignore[arg-type]
    assert not condensed.by_model
    assert condensed.question == (
        "c'est quoi le parc naturel transfrontalier du hainaut il a été récompensé ?"
    )


def test_the_rewrite_is_asked_in_the_question_s_language() -> None:
    history = _conversation("Which border does the programme work along?", "Franco-Belgian [1].")
    for language, name in (("fr", "French"), ("en", "English")):
        model = Rewriter("")
        condense("et il dure combien de temps", history, model, language)  # type: ignore[arg-type]
        assert f"Write it in {name}" in model.prompts[0][-1]["content"]


def test_a_second_follow_up_leans_on_the_topic_not_on_the_first_follow_up() -> None:
    history = _conversation(
        "qui est la directrice de la mission bassin minier", "Catherine Bertram [1].",
        "son mail ?", "cbertram(at)missionbassinminier(dot)org [1].",
    )  # fmt: skip
    assert topic_question(history) == "qui est la directrice de la mission bassin minier"
    condensed = condense("et son numéro", history, None)
    assert condensed.question == "qui est la directrice de la mission bassin minier et son numéro"


def test_the_engine_answers_a_second_follow_up_from_the_topic(
    seed_settings: Settings, index_service
) -> None:
    engine = AnswerEngine(seed_settings, index_service, None)  # no model: quoted answers
    history = _conversation(
        "Quel accord la Région Nord - Pas-de-Calais a-t-elle signé avec le Minas Gerais ?",
        "Un accord de coopération [1].", "Et il porte sur quoi ?", "L'après-mine [1].",
    )  # fmt: skip
    result = engine.ask("Et à quelle date a-t-il été signé ?", history)
    assert "Minas Gerais" in result.query
    assert_cited_fact(result, "23 avril 2009")


def test_a_reworded_follow_up_keeps_what_the_user_asked(
    seed_settings: Settings, index_service
) -> None:
    """ "qui en était le coordinateur" asks for a name with a position; the model's
    rewording "Quel était le coordinateur …" names no kind. The documents do not name
    RESCUE's coordinator: the reply says so instead of quoting RESCUE's partners."""
    model = Rewriter("Quel était le coordinateur du programme RESCUE ?")
    engine = AnswerEngine(seed_settings, index_service, model)  # type: ignore[arg-type]
    history = _conversation("c'est quoi le programme rescue", "Un programme européen [1].")
    result = engine.ask("qui en était le coordinateur", history)
    assert result.query == "Quel était le coordinateur du programme RESCUE ?"
    assert not result.answerable
    assert result.answer.startswith("Les documents ne donnent pas ce nom")
