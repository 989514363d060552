"""The fitted answer decision (answer/decision.py) over the real seed index: it answers
what the documents say, says what they do not give, and its model file is honest."""

from __future__ import annotations

import json

import pytest

from answer import decision, fallback
from answer.acronyms import spelt_out
from answer.citations import cited_numbers
from answer.engine import AnswerEngine
from answer.evidence import Evidence, gather
from answer.facts import items
from answer.prompts import NEAREST_FACTS, NEAREST_TWO, NOT_GIVEN, NOT_IN_DOCUMENTS, NOT_SURE
from answer.question import Question, analyse
from answer.types import Citation
from settings import Settings


@pytest.fixture(scope="module")
def engine(seed_settings: Settings, index_service) -> AnswerEngine:
    return AnswerEngine(seed_settings, index_service, None)  # no model: quoted answers


def test_the_fitted_model_is_shipped_with_its_data_and_held_out_score() -> None:
    raw = json.loads(decision.MODEL_FILE.read_text("utf-8"))
    assert raw["features"] == list(decision.FEATURES)
    assert len(raw["weights"]) == len(decision.FEATURES)
    assert 0.0 < raw["threshold"] < 1.0
    assert "dev" in raw["fitted_on"]
    assert raw["held_out"]["outcomes"]  # the test halves were scored, not tuned on
    assert decision.model() is not None


def test_a_model_fitted_for_other_features_is_not_used(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "decision.json"
    stale.write_text(json.dumps({"features": ["coverage"], "weights": [1.0], "bias": 0.0,
                                 "threshold": 0.5}))  # fmt: skip
    monkeypatch.setattr(decision, "MODEL_FILE", stale)
    decision.model.cache_clear()
    try:
        assert decision.model() is None
    finally:
        monkeypatch.undo()
        decision.model.cache_clear()


def _ranked(index_service, text: str) -> tuple[Question, Evidence, decision.Ranked]:
    """The question, the evidence of its 5 best passages and the decision's ranking."""
    question = analyse(text)
    passages = index_service.search(question.text, 5)
    citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
    evidence = gather(question, citations, passages)
    ranked = decision.rank(evidence, question, max(p.similarity for p in passages))
    return question, evidence, ranked


def test_the_sentence_holding_the_asked_value_ranks_first(index_service) -> None:
    text = "En quelle année a été signé l'accord de coopération avec le Minas Gerais ?"
    _question, evidence, ranked = _ranked(index_service, text)
    assert len(ranked) == len(evidence.sentences)
    probability, best = ranked[0]
    assert "2009" in best.text
    assert probability >= decision.model().threshold
    assert all(a >= b for (a, _), (b, _) in zip(ranked, ranked[1:], strict=False))


def test_each_sentence_gets_the_cosine_of_the_unit_that_holds_it(index_service) -> None:
    question = analyse("Quels milieux trouve-t-on sur les terrils ?")
    passages = index_service.search(question.text, 5)
    assert all(p.units for p in passages), "every retrieved chunk has its stored units"
    for p in passages:
        assert all(p.start <= a < b <= p.end and -1.0 <= cos <= 1.0 for a, b, cos in p.units)
    citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)]
    evidence = gather(question, citations, passages)
    cosines = {cos for p in passages for *_, cos in p.units}
    assert {s.semantic for s in evidence.sentences} <= cosines | {p.similarity for p in passages}
    # sentences of one passage are told apart when its units differ
    first = passages[0]
    if len({cos for *_, cos in first.units}) > 1:
        assert len({s.semantic for s in evidence.of_passage(1)}) > 1


@pytest.mark.parametrize(
    "question",
    ["Quel est le budget du programme RESCUE ?", "What was the budget of the RESCUE programme?"],
)
def test_an_absent_value_is_said_not_given_not_quoted_as_an_answer(
    engine: AnswerEngine, question: str
) -> None:
    result = engine.ask(question)
    assert not result.answerable
    first = result.answer.split(".")[0]
    assert "budget" in first.lower() or "amount" in first.lower() or "montant" in first.lower()


def test_a_refusal_never_says_not_given_while_quoting_such_a_value(index_service) -> None:
    question, evidence, _ranking = _ranked(index_service, "mail de la directrice de la mbm")
    reply = fallback.not_given(evidence, question)
    assert not reply.answerable
    # the nearest line is a name heading the e-mail line: both are shown, and since the
    # e-mail is then in the reply, it says it is unsure instead of "not given"
    assert "Catherine Bertram" in reply.text and items(reply.text, "email")
    assert reply.text.startswith(NOT_SURE["fr"])
    assert NOT_GIVEN["fr"]["email"] not in reply.text


def _refusal(index_service, text: str) -> tuple[fallback.Quoted, decision.Ranked]:
    question, evidence, ranked = _ranked(index_service, text)
    assert decision.first_answering(ranked, evidence, question) is None, "refused"
    return fallback.answer(evidence, question, ranked), ranked


def test_a_refusal_shows_the_most_probable_sentence_and_says_it_is_unsure(index_service) -> None:
    # the decision stays below its threshold, but its most probable sentence answers: the
    # refusal must not claim the documents lack the answer, and must show that sentence
    reply, ranked = _refusal(
        index_service, "Quel est le rôle de la MBM dans la coopération avec le Brésil ?"
    )
    assert not reply.answerable
    assert ranked[0][0] >= fallback.UNSURE_P
    assert reply.text.startswith(NOT_SURE["fr"])
    assert "appui technique" in reply.text
    assert NOT_IN_DOCUMENTS["fr"] not in reply.text
    # unsure: the next most probable sentence is shown too, each with its own citation
    assert NEAREST_TWO["fr"] in reply.text
    assert len(cited_numbers(reply.text)) >= 1 and reply.text.count(" [") == 2


def test_a_refusal_far_from_any_answer_says_the_documents_lack_it(index_service) -> None:
    reply, ranked = _refusal(index_service, "Quelle est la couleur préférée de la directrice ?")
    assert ranked[0][0] < fallback.UNSURE_P
    assert reply.text.startswith(NOT_IN_DOCUMENTS["fr"])
    assert NEAREST_FACTS["fr"] in reply.text and reply.text.count(" [") == 1


class CopiesPassage:
    """A scripted model that answers with a true sentence of one given passage."""

    name = "scripted"

    def __init__(self, sentence: str, n: int) -> None:
        self.text = f"{sentence.rstrip(' .')} [{n}]."

    def stream(self, messages, max_tokens=None):
        yield self.text


def test_a_model_answer_drawn_from_a_passage_the_decision_ranks_low_is_not_trusted(
    seed_settings: Settings, index_service
) -> None:
    asked = "À quoi sert le programme Mosaïques d'Aires Protégées ?"
    question = analyse(asked)
    passages = index_service.search(question.match_text, seed_settings.top_k)
    citations = [Citation.from_passage(i + 1, p) for i, p in enumerate(passages)][:4]
    evidence = gather(question, citations, passages)
    ranked = decision.rank(evidence, question, max(p.similarity for p in passages))
    top = {s.n for _p, s in ranked[: decision.AGREE_TOP]}
    low = [s for s in evidence.sentences if s.n not in top and len(s.text.split()) >= 8]
    assert low, "every prompt passage holds a top sentence: pick another question"
    # true (the checker passes it: copied from its passage) but not what the decision
    # found answering: the engine quotes the passages that answer instead
    copied = low[0]
    engine = AnswerEngine(seed_settings, index_service, CopiesPassage(copied.text, copied.n))
    result = engine.ask(asked)
    assert result.answerable and result.generator == "extractive"
    assert {c.n for c in result.citations} & top
    # the same model copying the decision's best sentence is trusted
    best = ranked[0][1]
    trusted = AnswerEngine(seed_settings, index_service, CopiesPassage(best.text, best.n))
    assert trusted.ask(asked).generator == "scripted"


def test_agreement_needs_a_top_passage_among_the_cited_ones() -> None:
    from answer.evidence import Sentence

    ranked = [(0.9 - 0.1 * i, Sentence(n, 0, "s", 0.5, 0.5)) for i, n in enumerate([2, 1, 2, 3])]
    assert decision.agrees(ranked, [1]) and decision.agrees(ranked, [4, 2])
    assert not decision.agrees(ranked, [4])  # passage 3's sentence ranks 4th
    assert decision.agrees([], [4]) and decision.agrees(ranked, [])


def test_who_holds_a_position_is_not_answered_by_a_quote_naming_no_such_position(
    engine: AnswerEngine,
) -> None:
    # the brief's own example: the documents name no director of this park; a quote
    # about the park (its joint project) was given as the answer, answerable
    result = engine.ask("Qui dirige le Parc naturel des Plaines de l'Escaut ?")
    assert not result.answerable, result.answer
    assert result.answer.startswith("Les documents ne"), result.answer
    # a position the documents do give is still answered, with the name and its source
    coordinator = engine.ask("Qui coordonne le programme en France ?")
    assert coordinator.answerable, coordinator.answer
    assert "Fédération Nationale des Parcs" in coordinator.answer


def test_a_model_answer_giving_someone_another_position_is_not_trusted(
    seed_settings: Settings, index_service
) -> None:
    # the passage makes Catherine Bertram the director: the model calling her the one
    # who runs it answers "qui dirige", not "qui préside"
    line = "La Mission Bassin Minier est dirigée par Catherine Bertram"
    question = analyse("Qui préside la Mission Bassin Minier ?")
    assert question.positions and not question.names_position(line)
    assert analyse("Who runs the Mission Bassin Minier?").names_position(line)
    assert analyse("Qui organise les RegioStars ?").names_position(line)  # no position asked
    passages = index_service.search("directrice Mission Bassin Minier Catherine Bertram", 5)
    n = next(i + 1 for i, p in enumerate(passages) if "Catherine Bertram" in p.text)
    engine = AnswerEngine(seed_settings, index_service, CopiesPassage(line, n))
    result = engine.ask(question.text)
    assert result.generator != "scripted", result.answer
    assert "dirigée par Catherine Bertram" not in result.answer


@pytest.mark.parametrize(
    "asked", ["BMU c'est quoi ?", "What does BMU stand for?", "que veut dire BMU"]
)
def test_the_sentence_spelling_out_an_acronym_answers_what_it_means(engine, asked) -> None:
    # the brochure's list line « Bassin Minier Uni (BMU) » shares one word with the question
    result = engine.ask(asked)
    assert result.answerable and "Bassin Minier Uni" in result.answer, result.answer


def test_an_acronym_is_spelt_out_only_by_its_own_initials() -> None:
    from answer.acronyms import asked, expands

    assert expands("La Mission Bassin Minier (MBM) a été créée en 2000.", "mbm")
    assert expands("le projet « APBM » - Agir pour la connaissance, l’évaluation et la gestion "
                   "du Patrimoine naturel et culturel du Bassin Minier", "apbm")  # fmt: skip
    # the acronym near other words, or words that do not start with its letters
    assert not expands("Le projet APBM finance des actions pour les Bassins Miniers.", "apbm")
    assert not expands("La MBM joue un rôle d'appui technique auprès de la Région.", "mbm")
    assert not expands("La Mission Bassin Minier (MBM) a été créée en 2000.", "bmu")
    # only a question asking what something means looks for an expansion
    assert asked("Qui dirige la MBM ?") == []
    assert "bmu" in asked("What does BMU stand for?")


def test_the_decision_data_reads_english_questions_with_their_french_rewrite() -> None:
    """The engine matches an English question with the model's French rewrite; the
    calibration data must too, or the decision is fitted on features it never sees."""
    from answer.condense import REWRITE_TOKENS
    from answer.generators.memo import prompt_key
    from answer.prompts import translate_messages
    from evaluation import calibrate_decision

    question = "Who coordinates the programme in France?"
    kept = {
        prompt_key(
            translate_messages(question), REWRITE_TOKENS
        ): "Qui coordonne le programme en France ?\n"
    }
    french = calibrate_decision._french(question, kept)
    assert french == "Qui coordonne le programme en France ?"
    row = {"question": question, "french": french}
    assert "coordonne" in calibrate_decision._question(row).match_text
    assert calibrate_decision._french("Who else?", kept) is None  # never asked: no rewrite


def test_a_contact_line_answers_the_contact_question_about_its_section(engine) -> None:
    """The e-mail line under the brochure's "Contact" heading answers a question for the
    Mission's e-mail address; it does not answer for a partner listed just above the
    heading, and a phone line does not answer a question asking for a fax."""
    result = engine.ask("Quel est le courriel de la directrice de la Mission Bassin Minier ?")
    assert result.answerable, result.answer
    assert items(result.answer, "email") == {"cbertram@missionbassinminier.org"}
    partner = engine.ask("Quel est le numéro de téléphone du Centre Historique Minier de Lewarde ?")
    assert not partner.answerable and partner.answer.startswith(("Les documents", "Je ne"))
    fax = engine.ask("Quel est le numéro de fax de la Mission Bassin Minier ?")
    assert not fax.answerable, fax.answer
    assert engine.ask("numero de telephone de la mission bassin minier").answerable


def test_a_fax_question_is_a_phone_question_on_the_fax_line() -> None:
    fax = analyse("Quel est le numéro de fax du programme ?")
    assert fax.asked == "phone" and fax.asks_fax
    assert fax.new_values("Tél. : 03 21 08 72 72") == set()
    assert fax.new_values("Fax : 03 21 08 72 70") == {"0321087270"}
    phone = analyse("Quel est le numéro de téléphone du programme ?")
    assert phone.new_values("Fax : 03 21 08 72 70") == set()
    assert phone.new_values("Tél. : 03 21 08 72 72 - Fax : 03 21 08 72 70") == {
        "0321087272", "0321087270"
    }
    # "qui faut-il appeler" asks for a person, not for the number
    assert analyse("Qui faut-il appeler pour le programme ?").asks_person


def test_a_contact_question_typed_with_an_acronym_or_a_typo_finds_the_contact_block(
    engine,
) -> None:
    """"mbm" is spelt out by the document's « Mission Bassin Minier »; "telephonne" is an
    asked word typed wrong, not a subject word the contact block lacks."""
    mail = engine.ask("mail de la directrice de la mbm")
    assert mail.answerable, mail.answer
    assert items(mail.answer, "email") == {"cbertram@missionbassinminier.org"}
    phone = engine.ask("telephonne de catherine bertram")
    assert phone.answerable, phone.answer
    assert "321 08 72 72" in phone.answer
    assert spelt_out("La Mission Bassin Minier à l'international", "mbm")
    assert not spelt_out("La Mission du Bassin de la Sambre", "mbm")
