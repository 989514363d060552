"""Example questions shown in the empty chat, kept only when the corpus can answer them.

The questions were written from reading the seed documents (programmes, partners,
amounts, contacts). Each has a keyword; a question is offered only if its keyword occurs
in an indexed document, so a different corpus does not get irrelevant examples.
Documents whose subject no written question covers get a question built from their title.
"""

from __future__ import annotations

from collections.abc import Callable

# (keyword that must occur in the corpus, French question, English question)
WRITTEN: list[tuple[str, str, str]] = [
    (
        "RESCUE",
        "Avec quels partenaires la Mission Bassin Minier a-t-elle mené le programme RESCUE ?",
        "Which partners worked with the Mission Bassin Minier on the RESCUE programme?",
    ),
    (
        "Mosaïques",
        "En quoi consiste le programme « Mosaïques d'Aires Protégées » ?",
        "What is the “Mosaïques d'Aires Protégées” programme about?",
    ),
    (
        "Interreg",
        "Quels montants ont soutenu les projets Interreg dans le Nord-Pas de Calais ?",
        "How much funding supported Interreg projects in Nord-Pas de Calais?",
    ),
    (
        "Contact",
        "Qui contacter pour la coopération avec le Brésil ?",
        "Who is the contact for the cooperation with Brazil?",
    ),
]
MAX_EXAMPLES = 4


def example_questions(
    documents: list[dict], document_text: Callable[[str], str | None], lang: str
) -> list[str]:
    """Up to four questions this corpus can answer, in ``lang``."""
    texts = {d["source"]: (document_text(d["source"]) or "") for d in documents}
    corpus = "\n".join(texts.values()).casefold()
    chosen = [fr if lang == "fr" else en for kw, fr, en in WRITTEN if kw.casefold() in corpus]
    for d in documents:
        if len(chosen) >= MAX_EXAMPLES:
            break
        text = texts[d["source"]].casefold()
        if not any(kw.casefold() in text for kw, _, _ in WRITTEN):
            title = d.get("title") or d["source"]
            fr, en = f"Que dit le document « {title} » ?", f"What does “{title}” say?"
            chosen.append(fr if lang == "fr" else en)
    return chosen[:MAX_EXAMPLES]
