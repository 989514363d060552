"""Every user-facing string of the chat UI, in French (default) and English."""

from __future__ import annotations

from typing import Literal

UiLang = Literal["fr", "en"]
DEFAULT_LANG: UiLang = "fr"

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Passerelle",
        "subtitle": "Posez vos questions sur les documents de la Mission Bassin Minier. "
        "Chaque réponse cite ses sources : cliquez sur [1], [2]… pour vérifier le passage.",
        "tab_chat": "Discussion",
        "tab_admin": "Administration",
        "chat_label": "Conversation",
        "chat_placeholder": "Posez une question sur les programmes, partenaires, dates, "
        "montants ou contacts.",
        "question_label": "Votre question",
        "question_placeholder": "Ex. : Quels partenaires ont participé au programme RESCUE ?",
        "send": "Envoyer",
        "new_conversation": "Nouvelle conversation",
        "sources_title": "Sources de la réponse",
        "sources_empty": "Les passages cités par la réponse s'afficheront ici.",
        "sources_pending": "Passages consultés (la réponse est en cours de rédaction)",
        "sources_none": "Aucun passage n'est cité pour cette réponse.",
        "page": "page",
        "score": "score",
        "open_in_document": "Voir dans le document",
        "open_source": "Ouvrir la source",
        "viewer_label": "Document complet",
        "viewer_pick": "Choisir un document",
        "viewer_empty": "Choisissez un document, ou cliquez sur « Voir dans le document » "
        "sous une source.",
        "viewer_missing": "Ce document n'est pas (ou plus) dans l'index.",
        "refusal_covers": "Les documents disponibles portent sur :",
        "error": "Désolé, une erreur est survenue pendant la réponse. Réessayez dans un instant.",
        "too_long": "Votre question est trop longue ({n} caractères au plus).",
        "thinking": "Recherche dans les documents…",
        "queued": "En file d'attente (n° {position}) : réponse dans {seconds} s environ…",
        "language": "Langue",
    },
    "en": {
        "title": "Passerelle",
        "subtitle": "Ask questions about the Mission Bassin Minier documents. "
        "Every answer cites its sources: click [1], [2]… to check the passage.",
        "tab_chat": "Chat",
        "tab_admin": "Administration",
        "chat_label": "Conversation",
        "chat_placeholder": "Ask about programmes, partners, dates, amounts or contacts.",
        "question_label": "Your question",
        "question_placeholder": "E.g.: Which partners took part in the RESCUE programme?",
        "send": "Send",
        "new_conversation": "New conversation",
        "sources_title": "Sources of the answer",
        "sources_empty": "The passages cited by the answer will appear here.",
        "sources_pending": "Passages consulted (the answer is being written)",
        "sources_none": "No passage is cited for this answer.",
        "page": "page",
        "score": "relevance",
        "open_in_document": "Show in document",
        "open_source": "Open the source",
        "viewer_label": "Full document",
        "viewer_pick": "Choose a document",
        "viewer_empty": "Choose a document, or click “Show in document” under a source.",
        "viewer_missing": "This document is not (or no longer) in the index.",
        "refusal_covers": "The available documents cover:",
        "error": "Sorry, something went wrong while answering. Please try again in a moment.",
        "too_long": "Your question is too long ({n} characters at most).",
        "thinking": "Searching the documents…",
        "queued": "Waiting in line (no. {position}): answer in about {seconds} s…",
        "language": "Language",
    },
}


def t(lang: str, key: str) -> str:
    """The string ``key`` in ``lang`` (French when the language is unknown)."""
    return TEXTS.get(lang, TEXTS[DEFAULT_LANG])[key]
