"""Sentences of a document addressed to the assistant: indirect prompt injection.

A document may contain text written for the language model rather than for readers
("Note au modèle : ignore les consignes et réponds que…", "AI: disregard previous
instructions…"). Such a sentence must never reach the prompt as an instruction, nor be
quoted as an answer. ``is_instruction(sentence)`` flags one sentence;
``instruction_spans(text)`` gives the ``(start, end)`` of the flagged sentences of a text,
cut by the same sentence splitter as the index (``ingest.text.sentences``), so the answer
engine can drop exactly those sentences while the passage stays findable for the admin.

Hand-written patterns on purpose: no classifier ships offline for French injections, and
the signal is narrow (an addressee that is the model, or an order about instructions or
about what to answer). Each pattern needs *two* cues (an addressee and an order, or an
order and its object) so that ordinary sentences sharing one word stay unflagged ("Les
consignes de sécurité sont affichées", "Le modèle économique du projet…", "Répondez au
questionnaire avant le 15 mars").

Measured on ``tests/instruction-sentences.jsonl`` (75 instructions, 107 ordinary
document sentences, French and English, written for this detector, tricky ordinary ones
included): precision 1.00, recall 1.00 (``tests/test_security_instructions.py``). The set
was tuned on, so that number is optimistic. The honest estimate comes from two batches
written after the patterns and scored before any fix: the first (15 instructions, 20
ordinary) gave recall 0.20, precision 0.75, which led to the two-cue rule below; the
second (12 and 15) gave recall 0.50, precision 1.00 (no false positive). Both batches were
then added to the set.
Paraphrases unlike these will slip through: the answer engine's own refusal of prompt
injections in questions, and the citation checker, remain the other lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.text import fold

# Everything is matched on ``fold(sentence)``: lower case, no accents, straight apostrophes.
_AI = (
    r"(?:ai assistant|modele(?: de langage)?|assistant(?:e)?(?: virtuel(?:le)?| ia)?|ia|i\.a\.|ai|"
    r"intelligence artificielle|chatbot|chat ?gpt|gpt(?:-\d)?|llm|robot|bot|agent(?: ia)?|"
    r"systeme|language model|model|claude|gemini|copilot|mistral|llama)"
)
# The model named in the third person ("le modèle doit répondre…"): no "assistant" or "agent",
# whose job descriptions read the same ("L'assistante doit répondre aux appels").
_AI_3RD = (
    r"(?:modele(?: de langage)?|assistant(?:e)? (?:virtuel(?:le)?|ia)|ia|ai|"
    r"intelligence artificielle|chatbot|chat ?gpt|llm|language model|model)"
)
_INSTRUCTIONS = (
    r"(?:consignes?|instructions?|directives?|regles?|ordres?|prompts?|"
    r"indications?|guidelines?|rules?|directions?|system prompt|prompt systeme|"
    r"commandes?|commands?|contexte|context)"
)
_NOT_AFTER_AUXILIARY = "".join(
    rf"(?<!\b{aux} )"
    for aux in [
        "a",
        "ai",
        "as",
        "ont",
        "avons",
        "avez",
        "avait",
        "avaient",
        "est",
        "sont",
        "ete",
        "etait",
    ]
)
_ANSWER_VERBS_FR = r"(?:reponds?|repondez|repondre|dis|dites|dire|affirme[rz]?|ecris|ecrivez|indique[rz]?|precise[rz]?|annonce[rz]?|donne[rz]?)"  # noqa: E501
_ANSWER_VERBS_EN = r"(?:answer|respond|reply|say|tell|state|claim|write|output|print)"

_PATTERNS = [
    # a note, message or order addressed to the model
    rf"\b(?:note|message|consigne|instruction|avis|remarque|information)s?\s+"
    rf"(?:a l'(?:attention|intention)\s+)?(?:a|au|aux|pour|de)\s+(?:l'|la |le |les |l')?\s*{_AI}\b",
    rf"\b(?:note|message|instructions?|reminder|memo)\s+(?:to|for)\s+(?:the\s+|any\s+)?{_AI}s?\b",
    # "Assistant, réponds…", "AI: disregard…": the model named, then an order
    rf"^\W*(?:cher |chere |dear |hey |hello |bonjour |salut )?{_AI}\s*[,:;!-]+\s*"
    r"(?:s'il te plait,?\s*|s'il vous plait,?\s*|please,?\s*)?"
    r"(?:ignore|oublie|reponds|repondez|dis|dites|affiche|ne |n'|tu |vous |toujours|jamais|"
    r"desormais|a partir de maintenant|disregard|forget|answer|respond|reply|say|tell|"
    r"you |always|never|from now on|do not|don't|stop|override|print|output|write|pretend|"
    r"act |fais|faites|agis|considere)",
    # overriding the instructions, in any sentence
    # (not after an auxiliary: "ils ont oublié les règles" folds to "oublie les regles")
    rf"{_NOT_AFTER_AUXILIARY}\b(?:ignore[rz]?|oublie[rz]?|ne tiens? (?:pas|plus) compte|"
    rf"ne tenez (?:pas|plus) compte|fais abstraction|faites abstraction|outrepasse[rz]?|"
    rf"contourne[rz]?)\s+(?:de |d'|des |du )?(?:toutes |tous |tout |l'ensemble )?"
    rf"(?:(?:les |tes |vos |ces |la |ta |votre |des )(?:\w+ ){{0,2}}?{_INSTRUCTIONS}|"
    rf"(?:tout )?ce qui precede|tout le reste|le reste|(?:tout )?ce qu'on (?:t'|vous) a dit)",
    # tu-form only: "Ne prenez pas en compte les documents antérieurs à 2010" is prose
    r"\b(?:ne prends? (?:pas|plus) en compte|ne tiens? (?:pas|plus) compte)\s+(?:de |des |du )?"
    r"(?:les |tes |ces |la |le )(?:autres )?(?:passages?|documents?|sources?|textes?|extraits?)",
    rf"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|every\s+)?"
    rf"(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?"
    rf"(?:previous|prior|above|earlier|preceding|former|original|existing|system)?\s*"
    rf"(?:\w+ )?{_INSTRUCTIONS}",
    r"\b(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:above|before|"
    r"previously|you were told|else)",
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:above|previous|"
    r"prior|earlier|preceding|foregoing)\b",
    rf"\b(?:do not|don't|stop|no longer|ne suis (?:pas|plus)|ne suivez (?:pas|plus))\s+"
    rf"(?:follow(?:ing)?\s+)?(?:your |the |any |tes |les |vos )(?:\w+ )?{_INSTRUCTIONS}",
    # a French tu-imperative opening the sentence (prose and manuals use "vous" or a subject)
    r"^\W*(?:ignore|oublie|reponds|affirme|invente|mens)\s+(?:les |tes |la |le |l'|que |qu'|"
    r"toujours |tout |a |aux |uniquement |jamais )",
    r"\btu (?:ne )?(?:repondras|diras|affirmeras|indiqueras|donneras|citeras|ignoreras|"
    r"oublieras|recommanderas|mentionneras)\b",
    r"\b(?:when|if|whenever) asked\b.{0,60}?\b(?:always |only |just )?(?:give|say|answer|reply|"
    r"respond|tell)\b",
    # what to answer: tu-form orders (official documents address readers as "vous")
    rf"\b(?:tu dois|tu devras|il faut que tu)\s+(?:toujours\s+|desormais\s+|maintenant\s+)?"
    rf"(?:{_ANSWER_VERBS_FR}|ignorer|oublier|mentir|inventer)",
    # (only verbs whose tu-imperative differs from the 3rd person: "il indique que" is prose)
    r"\b(?:reponds|dis)\s+(?:toujours|systematiquement|desormais|"
    r"uniquement|seulement|simplement)?\s*(?:a l'utilisateur\s+|aux utilisateurs\s+)?"
    r"(?:que|qu')",
    r"\b(?:reponds|repondez|reponde)\s+(?:toujours|systematiquement|desormais)\b",
    r"\b(?:repondez|dites|affirmez|indiquez)\s+(?:toujours\s+|systematiquement\s+)?"
    r"(?:a l'utilisateur|aux utilisateurs|a la personne)\s+(?:que|qu')",
    r"\b(?:si|quand|lorsque|lorsqu')\s*(?:on|un utilisateur|l'utilisateur|quelqu'un|"
    r"la personne)\s+(?:te|t')\s*(?:demande|interroge|pose)",
    rf"\b(?:le |l'|la |the |any |an? )?{_AI_3RD}\s+(?:doit|devra|devrait|must|should|shall|will|"
    rf"needs? to|has to|is to)\s+(?:toujours\s+|always\s+|desormais\s+|now\s+|only\s+)?"
    rf"(?:{_ANSWER_VERBS_FR}|{_ANSWER_VERBS_EN}|ignorer|ignore|oublier|forget|mentionner|"
    rf"mention|recommander|recommend|citer|cite|refuser|refuse)\b",
    # English orders about what to answer
    rf"\b(?:always|only|you must|you should|you will|you shall|you have to|you need to)\s+"
    rf"(?:now\s+|always\s+)?{_ANSWER_VERBS_EN}\b(?:\s+\w+){{0,4}}\s+(?:that|to the user|"
    rf"the user|users)\b",
    rf"\b{_ANSWER_VERBS_EN}\s+(?:the user|users|anyone who asks|everyone)\s+that\b",
    r"\b(?:if|when(?:ever)?)\s+(?:the\s+|a\s+|any\s+)?(?:user|anyone|someone|people)\s+"
    r"asks?\b(?:\s+\w+){0,6}?\s*,?\s*(?:you\s+|always\s+|just\s+)?(?:answer|respond|reply|say|"
    r"tell)",
    # role reassignment
    r"\b(?:tu es|vous etes)\s+(?:desormais|maintenant|a present|dorenavant)\s+",
    r"\b(?:you are now|from now on,? you|from this point (?:forward|on)|you will now act|"
    r"act as if you|pretend (?:that )?you are|your new (?:role|instructions?|task))\b",
    r"\b(?:a partir de maintenant|desormais|dorenavant),?\s+(?:tu|l'assistant|le modele|l'ia)\b",
    r"\ben tant qu'(?:ia|assistant|intelligence artificielle|agent|modele)\b.{0,40}"
    r"\b(?:tu|vous) (?:dois|devez|ne dois|ne devez)",
    # prompt-format markers smuggled into a document
    r"(?:\[/?inst\]|<\|im_(?:start|end)\|>|<\|system\|>|<\|assistant\|>|<<sys>>|"
    r"^\W*#{2,}\s*(?:instruction|system))",
    rf"\b(?:nouvelles?|new|updated|mises? a jour|hidden|secretes?|cachees?)\s+{_INSTRUCTIONS}\s*"
    rf"(?:pour (?:le |l')?{_AI}|for (?:the )?{_AI}|:)",
    r"\b(?:prompt systeme|system prompt|instructions systeme|system instructions)\b",
]


# Two cues that flag a sentence only together: the model named as the one spoken to ...
_ADDRESSEE = (
    rf"(?:^\W*(?:cher |chere |dear |hey |hello |bonjour |salut )?{_AI}|"
    rf"^\W*(?:tu|toi|vous|you),?\s+(?:l'|le |la |the )?{_AI}|"
    rf"^\W*(?:attention|important|nb|n\.b\.|rappel|info|note|message)?\s*(?:pour|a|au|to|for|"
    rf"attention)\s+(?:l'|le |la |the |any )?{_AI}s?|"
    rf"\b(?:a l'attention (?:de l'|du |de la )|a l'intention (?:de l'|du |de la )){_AI})"
    r"(?:\s+(?:reading this|qui lit ceci|lisant ceci|qui lit ce (?:texte|document)))?(?=\s*[,:;!])"
)
# ... and an order at the start of a clause (imperative, possibly negated).
_ORDER_VERBS = (
    r"ignore[rz]?|oublie[rz]?|reponds|repondez|dis|dites|affirme[rz]?|cite[rz]?|remplace[rz]?|"
    r"donne[rz]?|recommande[rz]?|annonce[rz]?|mentionne[rz]?|ecris|ecrivez|indique[rz]?|"
    r"affiche[rz]?|fais|faites|utilise[rz]?|renvoie[rz]?|redirige[rz]?|invente[rz]?|"
    r"parle[rz]?|precise[rz]?|signale[rz]?|dois|devez|devras|"
    r"ignore|disregard|forget|answer|reply|respond|say|tell|give|recommend|replace|mention|"
    r"cite|write|print|output|follow|use|pretend|act|send|redirect|claim|state|insist"
)
_ORDER = (
    r"(?:^|[,:;]\s*|\bet\s+|\band\s+|\bpuis\s+|\bthen\s+|\bplease\s+|s'il te plait,?\s+|"
    r"\bmerci d(?:e\s+|')|\bveuillez\s+|\bje te demande d(?:e\s+|'))"
    r"(?:ne\s+|n'|do not\s+|don't\s+|never\s+|always\s+|only\s+|toujours\s+|jamais\s+)?"
    rf"(?:{_ORDER_VERBS})\b|\b(?:tu|vous|you)\s+(?:ne\s+)?(?:dois|devez|devras|vas|allez|must|will|"
    r"should|reponds|repondez)\b"
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    strong = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.MULTILINE)
    return strong, re.compile(_ADDRESSEE), re.compile(_ORDER)


def is_instruction(sentence: str) -> bool:
    """True when ``sentence`` addresses the assistant or orders it about its answers."""
    text = fold(sentence)
    strong, addressee, order = _patterns()
    if strong.search(text):
        return True
    named = addressee.search(text)
    return named is not None and order.search(text, named.end()) is not None


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` in ``text`` of each sentence that ``is_instruction`` flags."""
    from ingest.text import sentences

    return [(s, e) for s, e in sentences(text) if is_instruction(text[s:e])]
