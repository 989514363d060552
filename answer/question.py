"""The question, analysed once: language, content terms, what it asks for, names, numbers.

Every later step (condense, relevance gate, evidence scoring, checker, fallback) reads this
typed object instead of re-tokenising the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from answer import acronyms
from answer.facts import MARKER, PLAIN_WORD_RE, WORD_RE, items, word_stems
from ingest.text import Language, content_terms, detect_language, fold, stems, words

Asked = Literal[
    "amount", "count", "date", "who", "place", "url", "email", "phone", "contact", "list",
    "reason", "definition", "other",
]  # fmt: skip
"""What a question asks for. ``who`` is a person or an organisation; ``contact`` any of
phone, e-mail, web site or a named contact."""

# Patterns on the folded question, tried in this order; the first that matches decides.
# Written from the kinds of questions users ask (French and English); their accuracy is
# measured on the seed dev set (``asks`` labels, evaluation/data/seed-dev.jsonl).
_ASKED_PATTERNS: list[tuple[Asked, re.Pattern[str]]] = [
    ("email", re.compile(r"\b(?:e-?mail|mail|courriel|adresse (?:electronique|mail)|mel)\b")),
    (
        "phone",
        re.compile(
            r"\b(?:telephone|telephoniques?|tel|phone|numero(?! de projet)|appeler|dial|"
            r"composer|fax|telecopie|"
            # "call for projects" is no phone call
            r"call(?! for (?:projects?|proposals?|applications?|tenders?|bids?)\b))\b"
        ),
    ),
    (
        "url",
        re.compile(
            r"\b(?:site(?: web| internet)?|website|url|lien|link|web ?page|"
            r"(?:adresse|page) (?:web|internet)|en ligne|online)\b"
        ),
    ),
    ("contact", re.compile(r"\b(?:contact(?:er)?|joindre|reach|get in touch|coordonnees)\b")),
    (
        "amount",
        re.compile(
            r"\b(?:budget|montant|cout|coute|combien d'(?:argent|euros)|how much|funding|"
            r"financement|finance[sd]?|subvention|amount|cost|money|argent|euros?|fonds|"
            r"enveloppe|grant|"
            # "combien peut-on toucher ?": how much money one receives
            r"combien (?!d'|de |des )(?:\S+ ){0,3}(?:toucher|percevoir|recevoir|obtenir|gagner|"
            r"verse\w*|donne\w*|apporte\w*|investi\w*|alloue\w*|paye\w*))\b"
        ),
    ),
    (
        "count",
        re.compile(
            r"\b(?:combien|how many|nombre d[e']|number of|"
            r"how (?:big|large|tall|high|far|wide|deep|heavy)|"
            r"quel(?:le)? (?:superficie|surface|taille|hauteur|longueur|distance|altitude))\b"
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(?:quand|when|en quelle annee|quelle annee|what year|which year|deadline|"
            r"date (?:limite|butoir)|dernier delai|last day|closing date|due date|"
            r"(?:quelle|what|which) (?:date|period|periode)|depuis quand|since when|"
            r"date|annees?|years?|duree|how long|periode|period)\b"
        ),
    ),
    (
        "place",
        re.compile(
            r"\b(?:where|dans quel(?:le)? (?:ville|pays|region|lieu|endroit)|"
            r"(?:quel(?:le)?|which|what) (?:ville|pays|region|lieu|city|country|region|place)|"
            r"in which (?:city|country|region|town))\b"
        ),
    ),
    (
        "reason",
        re.compile(
            r"\b(?:pourquoi|why|dans quel but|a quoi (?:sert|servent)|(?:sert|servent) a quoi|"
            r"what (?:for|is the purpose)|"
            r"purpose|objectifs?|but|aim|goal|comment|how (?:does|do|did|is|are|can)|"
            r"what (?:does|do|did) .{0,40} do)\b"
        ),
    ),
    (
        "definition",
        re.compile(
            r"\b(?:qu'est-ce qu|c'est quoi|que (?:signifie|veut dire)|veut dire quoi|"
            r"what (?:is|are|was) (?:a |an |the )?[a-z]|stand for|definition)"
        ),
    ),
    (
        "who",
        re.compile(
            r"\b(?:qui|who|quelle? (?:personne|organisation|structure|association|entreprise|"
            r"organisme|collectivite|institution)|(?:nom|name) (?:du|de la|de l'|des|of)|"
            r"which (?:organisation|organization|"
            r"institution|body|person|company))\b"
        ),
    ),
    (
        "list",
        re.compile(
            r"\b(?:quel(?:le)?s (?:sont|etaient)|lesquel(?:le)?s|liste|what are the|which are|"
            r"list|name the|quels|quelles|which \w+s\b)"
        ),
    ),
]
# "Où" asks for a place; folded, it is "ou" ("or"), and after a noun it is a relative
# pronoun ("la région où la MBM joue un rôle", "au moment où"): only an interrogative one
# is read as "where": first in the question (or after "d'", "par", "jusqu'", "et"…),
# last ("c'est où ?"), or before "se trouve", "est", "a lieu"… An unaccented "ou" (a
# user's typo) only first.
_WHERE = re.compile(
    r"^\W*(?:(?:et|mais|alors|donc|d'|d’|par|jusqu'|jusqu’)\s*)?o[uù]\b"
    r"|\b(?:d'|d’|par |jusqu'|jusqu’)où\b|\boù\s*\??\s*$"
    r"|\boù\s+(?:se (?:trouve|trouvent|situe|situent)|est|sont|était|étaient|a eu lieu|"
    r"ont eu lieu|a lieu|ont lieu|habite|vit|vivent)\b",
    re.IGNORECASE,
)
# "qu'est-ce qui a permis …", "ce qui …": "qui" there is a thing, not a person.
# Both rules (and the typo fixer below) are rules of the language, not fitted. Question-kind
# accuracy against the hand labels, session 12: seed dev (141 questions) 73.0 -> 78.7 %;
# held out, seed test (141) 66.7 -> 67.4 %.
_WHAT_WHICH = re.compile(r"\b(?:qu'est[- ]ce |ce )qui\b")

# "Qui est Christian Chocquet ?" / "Who is X?" asks for a description, not for a name:
# the name is already given.
_WHO_IS = re.compile(r"^\s*(?:qui|who)\s+(?:est|etait|était|is|was)\s+(\S)", re.IGNORECASE)

# "quel fonds", "which agency", "dans quel pays": the noun after the interrogative says
# what is asked, before any keyword elsewhere in the question.
_HEAD_NOUNS: dict[Asked, str] = {
    "who": (
        "personne|organisation|organisme|structure|association|entreprise|collectivite|"
        "institution|ministere|service|agence|fonds|acteur|operateur|person|organi[sz]ation|"
        "company|ministry|agency|fund|body|operator"
    ),
    "place": "ville|pays|region|lieu|endroit|departement|commune|city|country|state|place|town",
    "date": "annee|date|periode|mois|year|period|month",
    "amount": "montant|budget|somme|cout|amount|sum|cost",
    "count": "nombre|number",
}
_HEAD = re.compile(
    r"\b(?:quel(?:le)?s?|which|what)\s+(?:\w+\s+)?(" + "|".join(_HEAD_NOUNS.values()) + r")\b"
)

# Words that name the asked kind rather than the subject ("le budget de RESCUE": the
# subject is RESCUE): they do not count in the subject coverage of a sentence.
_ASKED_WORDS = {
    fold(w)
    for w in [
        "budget",
        "montant",
        "coût",
        "coute",
        "argent",
        "euros",
        "euro",
        "financement",
        "financé",
        "subvention",
        "amount",
        "cost",
        "money",
        "funding",
        "much",
        "many",
        "combien",
        "nombre",
        "number",
        "date",
        "année",
        "year",
        "quand",
        "when",
        "durée",
        "période",
        "period",
        "long",
        "où",
        "where",
        "ville",
        "pays",
        "région",
        "city",
        "country",
        "place",
        "lieu",
        "site",
        "web",
        "internet",
        "website",
        "url",
        "adresse",
        "address",
        "lien",
        "link",
        "téléphone",
        "téléphonique",
        "téléphoniques",
        "coordonnées",
        "dial",
        "tel",
        "phone",
        "numéro",
        "contact",
        "contacter",
        "courriel",
        "mail",
        "email",
        "e-mail",
        "mél",
        "qui",
        "who",
        "nom",
        "name",
        "personne",
        "person",
        "pourquoi",
        "why",
        "but",
        "objectif",
        "purpose",
        "aim",
        "goal",
        "quoi",
        "what",
        "liste",
        "list",
        "sert",
    ]
}

# The words of the patterns (5 letters or more): the vocabulary typos are mapped onto.
_KEYWORDS = sorted({w for _, p in _ASKED_PATTERNS for w in re.findall(r"[a-z]{5,}", p.pattern)})

# Positions a person or a body holds. "Qui préside la Mission ?", "who is the governor of
# Minas Gerais?": a question naming one asks who holds it, and a sentence that names
# someone without naming that position does not answer it (the passage's director given
# as its president, the Region given as the governor). Families of both languages' words,
# written from the positions users ask about, not fitted; the stems of a family are one
# position. Measured with replays (session 6 recordings, everything else unchanged): dev
# (seed dev 179 + PIAF dev 150 turns) utility 0.195 -> 0.249, seed near-misses refused 64
# -> 82 %, no answer lost; held out (seed test 175 + PIAF test 150) 0.218 -> 0.246,
# near-misses refused 75.0 -> 85.7 %, answered wrongly 10.9 -> 9.1 %, no answer lost.
_POSITIONS = [
    "dirige diriger dirigé dirigée dirigent dirigeant dirigeante directeur directrice "
    "direction director directs head heads headed runs leads leader chef chief",
    "préside présider présidé présidée président présidente présidence president presides "
    "presided chair chairs chairman chairwoman",
    "gouverneur gouverneure governor",
    "maire mayor",
    "coordonne coordonner coordonné coordonnée coordonnent coordinateur coordinatrice "
    "coordination coordinates coordinated coordinator",
    "ministre ministère minister ministry",
    # an EU programme's managing, certifying or audit authority ("autorité de gestion")
    "autorité autorités authority authorities",
]
_POSITION_STEMS = tuple(frozenset(s for w in f.split() for s in stems(w)) for f in _POSITIONS)
# The names of positions only a person or a body holds: a keyword query naming one
# ("presidence jury programme …", "chair of the … jury") asks who holds it.
_PERSON_POSITIONS = frozenset(
    s
    for w in [
        "président", "présidente", "présidence", "chair", "chairman", "chairwoman",
        "directeur", "directrice", "director", "dirigeant", "dirigeante", "maire", "mayor",
        "gouverneur", "governor", "coordinateur", "coordinatrice", "coordinator",
    ]
    for s in stems(w)
)  # fmt: skip


# Words naming a fax line or a phone line (a lexicon, not fitted): a fax is asked and
# answered as a fax ("Tél. : 03 21 …" does not give the fax number).
_FAX = frozenset({"fax", "faxer", "telecopie", "telecopieur"})
_PHONE = frozenset({"tel", "telephone", "phone", "portable", "mobile", "standard"})
# Words of getting in touch (a lexicon, not fitted): "Qui contacter ?", "Who is the contact
# person?", "À qui m'adresser ?", "Qui faut-il appeler ?" ask for the person a contact block
# names, and a name or that person's phone or e-mail answers them.
_CONTACTING = frozenset(
    {"contact", "contacter", "joindre", "interlocuteur", "interlocutrice", "referent",
     "referente", "adresser", "appeler", "ecrire", "parler", "renseigner", "occupe",
     "occuper", "gere", "gerer", "anime", "animer", "responsable", "reach", "touch", "call",
     "write", "speak", "talk", "handles", "handle", "responsible", "go-to", "envoyer",
     "send"}
)  # fmt: skip

# A date question asking when something ends ("Jusqu'à quand peut-on candidater ?", "date
# limite", "Quand se clôturent les candidatures ?"), and the words that mark a line's date
# as an end or as a start. Lexicons of both languages, not fitted: an end-date question is
# answered by a line marked as an end ("Clôture des candidatures : 26 octobre 2023"), never
# by one marked only as a start (« depuis 2020 », "Ouverture : 26 juillet").
_ASKS_END = re.compile(
    r"\b(?:jusqu'(?:a|au|en) quand|date (?:limite|butoir|de fin)|dernier delai|"
    r"avant quelle date|clotur\w*|deadline|until when|closing date|last day|due date|"
    r"close[sd]?|termine\w*|finit|finissent|ferme\w*|ends?|expire\w*)\b"
)
# A date question asking when something starts ("Quand ouvre l'appel à projets ?", "date
# d'ouverture", "À partir de quand … ?"); in a follow-up's own words ("et quand ouvre-t-il
# ?") it overrides an end asked before. A lexicon of both languages, not fitted. "depuis
# quand" asks a duration or a start alike (« depuis plus de 20 ans »): not here.
# Checked (session 30, nothing chosen on it): the decision data (2,771 seed and PIAF
# questions, dev and held-out test) and the list sets (540 templated, 540 blind-worded):
# no answer changed; start questions on the 60 list pages, 3 wordings written for the
# rule: 0 -> 90 of 90 answered with the opening line on each half.
_ASKS_START = re.compile(
    r"\b(?:commenc\w*|debut(?:e|er|ent|era|ait|ant)?|demarr\w*|ouvr(?:e|ent|ira|ir|ait)|"
    r"ouverte?s?|ouverture|lance[rs]?|lancent|lancee?s?|lancement|a partir de quand|"
    r"start(?:s|ed|ing)?|begin(?:s|ning)?|began|begun|opens?|opening|opened|"
    r"launch(?:es|ed|ing)?|from when)\b"
)
_END_WORDS = re.compile(
    r"\b(?:clotur\w*|limite|butoir|jusqu'(?:a|au)|au plus tard|avant le|deadline|closing|"
    r"close[sd]?|until|due|fin|termin\w*|ferm\w*|ends?|expir\w*)\b"
)
_START_WORDS = re.compile(
    r"\b(?:depuis|a partir d\w*|ouverture|lancement|lance|since|opening|opens?|launch\w*)\b"
)
# An amount question asking for a ceiling ("Jusqu'à combien … ?", "le montant maximal",
# "au maximum"), and the words marking a line's amount as one (« Jusqu'à 20 000 € par
# projet », "plafonné à"). Lexicons of both languages, not fitted.
_ASKS_MAX = re.compile(
    r"\b(?:jusqu'(?:a|au) combien|maximum|maximal\w*|max|plafond\w*|at most|up to|ceiling|"
    r"cap|biggest|largest|highest|le plus (?:eleve|gros|important))\b"
)
_MAX_WORDS = re.compile(
    r"\b(?:jusqu'(?:a|au)|maximum|maximal\w*|max|plafon\w*|au plus|up to|at most|ceiling|"
    r"capped)\b"
)
# the words of the line rules: not what a labelled line's section must be about
_RULE_WORDS = (_ASKS_END, _END_WORDS, _ASKS_START, _MAX_WORDS)
# An amount question naming money ("combien d'euros", "le montant", "how much money",
# "combien peut-on toucher") or asking a ceiling, and not a rate: a share (« 60 % des
# dépenses ») does not answer it.
_ASKS_MONEY = re.compile(
    r"\b(?:euros?|eur|argent|money|dollars?|montants?|sommes?|sum|toucher|percevoir)\b|€"
)
_ASKS_RATE = re.compile(r"\b(?:taux|pourcentage|part|proportion|rate|percentage|share)\b|%")
_DIALS = re.compile(r"\b(?:dial|composer|appeler|call|joindre|reach)\b")
_TO_WHOM = re.compile(r"\b(?:qui|who|whom|nom|name|personne|person)\b")
_NAME = re.compile(r"(?<![\w])[A-ZÀ-ÖØ-Þ][\w’'-]*[A-Za-zÀ-ÿ0-9]|(?<![\w])[A-Z]{2,}(?![\w])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Question:
    """A question and everything the engine needs to know about it."""

    text: str
    language: Language
    asked: Asked
    terms: tuple[str, ...]  # content words, in order
    names: tuple[str, ...] = ()  # folded capitalised words and acronyms (not the first word)
    numbers: tuple[str, ...] = ()
    french: str | None = None  # French rewrite of an English question (lexical matching)
    # a follow-up's own words, when ``text`` is its standalone form (the topic question
    # joined to it, or the model's rewording): what it asks is read from them
    asking: str | None = None

    @cached_property
    def stems(self) -> frozenset[str]:
        """Stems of every content term."""
        return frozenset(s for t in self.terms for s in stems(t))

    @cached_property
    def scoring_terms(self) -> tuple[str, ...]:
        """Content terms of ``scoring_text``, in order: what sentences are scored against
        (the question's own ``terms`` unless it has a French rewrite)."""
        return tuple(content_terms(self.french)) if self.french else self.terms

    @cached_property
    def subject_terms(self) -> tuple[str, ...]:
        """Content terms that name the subject (asked-kind words left out)."""
        terms = self.scoring_terms
        # an asked-kind word typed with a typo ("telephonne", "adress") is one too
        kept = tuple(
            t
            for t in terms
            if fold(t) not in _ASKED_WORDS and _keyword_typos_fixed(fold(t)) not in _ASKED_WORDS
        )
        return kept or terms

    @property
    def wants_item(self) -> bool:
        """True when a right answer must hold a value of the asked kind (a number, a date,
        a name, an address…): reasons, definitions and lists are judged otherwise."""
        return self.asked in _ITEM_KINDS

    def new_values(self, text: str) -> set[str]:
        """The values of the asked kind written in ``text`` that the question does not
        already give (asking "le numéro du 03 21 …" is not answered by that number)."""
        return self._values(text) - self._given_values

    def _values(self, text: str) -> set[str]:
        if self.asked == "phone" and not self.on_channel(text):
            return set()  # a phone number on a fax line does not answer, nor the other way
        if self.asks_contact_person:  # a name, or the person's phone or e-mail
            return items(text, "who") | items(text, "contact")
        found = items(text, self.asked)
        if self._asks_money:  # « 60 % » is no sum of money
            found = {v for v in found if not v.endswith(("%", "cent"))}
        if self._asks_duration:
            found |= items(text, "duration")  # "depuis quand": "depuis plus de 20 ans"
        return found

    @cached_property
    def asks_fax(self) -> bool:
        """The question asks for a fax number, not a phone number."""
        return bool(_FAX & set(words(fold(self.match_text))))

    @property
    def asking_text(self) -> str:
        """The words that say what is asked: a follow-up's own ("et son numéro ?", not the
        joined "qui est la directrice … et son numéro ?"), else the question."""
        return self.asking or self.text

    @cached_property
    def asks_person(self) -> bool:
        """The question opens on "qui"/"who": a person or a body is asked for, even when it
        names a channel ("Qui faut-il appeler ?")."""
        return bool(re.match(r"\W*(?:qui|who)\b", fold(self.asking_text)))

    @cached_property
    def asks_contact_person(self) -> bool:
        """The question asks whom to contact ("Qui contacter pour … ?", "Who is the contact
        person?"): it asks who and names getting in touch (``_CONTACTING``)."""
        if not _CONTACTING & set(words(fold(self.match_text))):
            return False
        return self.asked == "who" or (
            self.asked in ("contact", "phone", "email")
            and bool(_TO_WHOM.search(fold(self.asking_text)))
        )

    def _says(self, pattern: re.Pattern[str], unless: re.Pattern[str] | None = None) -> bool:
        """Whether the question says ``pattern``: a follow-up's own words decide when they
        say it, or say ``unless`` (its opposite); else the standalone text, which inherits
        from the question before ("et pour le second appel, quand ?" after "date limite"
        still asks an end; "et quand ouvre-t-il ?" does not). A rule of reading, not
        fitted; session 30, seed test (175 turns, held out) and dev (179): no answer
        changed, `local` replayed and `extractive`."""
        if self.asking is not None:
            own = fold(self.asking)
            if pattern.search(own):
                return True
            if unless is not None and unless.search(own):
                return False
        return bool(pattern.search(fold(self.text)))

    @cached_property
    def asks_end(self) -> bool:
        """A date question asking when something ends (``_ASKS_END``), not when it
        starts (``_ASKS_START``)."""
        return self.asked == "date" and self._says(_ASKS_END, _ASKS_START)

    @cached_property
    def asks_start(self) -> bool:
        """A date question asking when something starts (``_ASKS_START``), not when it
        ends."""
        return self.asked == "date" and not self.asks_end and self._says(_ASKS_START, _ASKS_END)

    @cached_property
    def asks_max(self) -> bool:
        """An amount question asking for a ceiling (``_ASKS_MAX``)."""
        return self.asked == "amount" and self._says(_ASKS_MAX)

    def marks_max(self, text: str) -> bool:
        """``text`` marks its amount as a ceiling ("Jusqu'à 20 000 €", "plafonné à")."""
        return bool(_MAX_WORDS.search(fold(text)))

    def marks_end(self, text: str) -> bool:
        """``text`` marks its date as an end ("Clôture …", "jusqu'au …")."""
        return bool(_END_WORDS.search(fold(text)))

    def starts_only(self, text: str) -> bool:
        """``text`` marks its date only as a start (« depuis 2020 », "Ouverture : …"): it
        does not answer a question asking when something ends."""
        folded = fold(text)
        return bool(_START_WORDS.search(folded)) and not _END_WORDS.search(folded)

    @cached_property
    def line_subject(self) -> tuple[str, ...]:
        """The subject terms but the words of getting in touch ("appeler", "joindre"), of an
        end ("limite", "clôture"), a start ("ouvre") or a ceiling ("maximal"): what a
        labelled line's section must be about."""
        kept = tuple(
            t
            for t in self.subject_terms
            if fold(t) not in _CONTACTING
            and not any(p.search(fold(t)) for p in _RULE_WORDS)
        )
        return kept or self.subject_terms

    def on_channel(self, text: str) -> bool:
        """``text`` gives a number on the channel asked: a fax line for a fax question; a
        line that is not a fax line alone for a phone question."""
        said = set(words(fold(text)))
        if self.asks_fax:
            return bool(_FAX & said)
        return not _FAX & said or bool(_PHONE & said)

    @cached_property
    def _asks_money(self) -> bool:
        """An amount question about a sum of money, not a rate: it names money
        (``_ASKS_MONEY``) or asks a ceiling, and asks no rate (``_ASKS_RATE``)."""
        return (
            self.asked == "amount"
            and not self._says(_ASKS_RATE, _ASKS_MONEY)
            and (self._says(_ASKS_MONEY, _ASKS_RATE) or self.asks_max)
        )

    @cached_property
    def _asks_duration(self) -> bool:
        """A date question that a duration answers (read once: every retrieved sentence's
        values are asked for)."""
        return self.asked == "date" and self._says(_ASKS_DURATION)

    @cached_property
    def acronyms(self) -> tuple[str, ...]:
        """The words whose meaning the question asks (``acronyms.asked``)."""
        return tuple(acronyms.asked(self.text))

    @cached_property
    def _given_values(self) -> set[str]:
        """The values of the asked kind the question itself writes (computed once: every
        retrieved sentence is compared with them). A name is given even when the user
        typed it in lower case ("le forum de belo horizonte"), or only in the question's
        French rewrite: a sentence naming it again names no one new."""
        given = self._values(self.text)
        if self.asked in ("who", "place"):
            text = self.match_text
            given |= {fold(w) for w in (*WORD_RE.findall(text), *PLAIN_WORD_RE.findall(text))}
        return given

    @cached_property
    def positions(self) -> tuple[frozenset[str], ...]:
        """The positions a "who" question asks about (the stems of each), else none."""
        if self.asked != "who":
            return ()
        asked = word_stems(fold(self.match_text))
        return tuple(family for family in _POSITION_STEMS if asked & family)

    def names_position(self, text: str) -> bool:
        """``text`` names a position the question asks about (True when it asks none)."""
        if not self.positions:
            return True
        written = word_stems(fold(text))
        return any(written & family for family in self.positions)

    def with_french(self, french: str) -> Question:
        """The same question with the French rewrite used for lexical matching."""
        return replace(self, french=french)

    @cached_property
    def scoring_names(self) -> tuple[str, ...]:
        """The names of ``scoring_text`` (those of the French rewrite, if any)."""
        return names_in(self.scoring_text) if self.french else self.names

    @property
    def scoring_text(self) -> str:
        """The text sentences are scored against: the French rewrite of an English
        question when there is one (the passages are French; half of the terms of both
        texts together would be absent from every passage), else the question."""
        return self.french or self.text

    @property
    def match_text(self) -> str:
        """The text lexical matching uses: the question, plus its French rewrite if any."""
        return f"{self.text} {self.french}" if self.french else self.text


# A date question that a duration answers ("depuis quand existe …": « depuis plus de 20
# ans »; "how long did it last": « 3 ans »): its values include durations. Words of the
# question, not fitted. Decision data (2,771 questions, shipped weights): it touches the
# 32 worded so, dev +1 right, held-out test +1 right, no wrong answer added; seed test
# replayed (175 turns): 1 refused -> right, nothing else changed.
_ASKS_DURATION = re.compile(
    r"\b(?:depuis quand|depuis combien|since when|duree|how long|combien de temps|"
    r"pendant combien)\b"
)

# "How many …" in a folded question; what it counts follows the match.
HOW_MANY = re.compile(r"\b(?:combien (?:de |d')|how many )")
# "How many X" where X is no money word: a count, even when the question also says
# "financés" or "budget" (read before the amount words). A lexicon, not fitted; session 24:
# no outcome changed on the decision data (2,771 questions), the replays or the list sets.
_COUNT_OF = re.compile(
    HOW_MANY.pattern + r"(?!(?:argent|euros?|fonds|financements?|subventions?|"
    r"credits?|dollars?|money|funds?)\b)"
)

_ITEM_KINDS = {"amount", "count", "date", "who", "place", "url", "email", "phone", "contact"}


# Shorter words are too often other real words one letter away ("found" / "fonds").
TYPO_MIN_LETTERS = 6


def _keyword_typos_fixed(folded: str) -> str:
    """Question words one typo away from a pattern keyword ("budjet", "telephonne") are
    read as that keyword: one edit (a letter added, dropped, changed or two swapped), the
    first letter kept. A looser likeness (difflib's ratio 0.8, used before) read real words
    as keywords: "bataille" as "taille", "propose" as "purpose", "commence" as "comment",
    "religion" as "region" (seen on the PIAF questions). "quelle" is a keyword itself, so
    it is not read as the list pattern's "quelles"."""
    out = []
    for word in folded.split(" "):
        if len(word) >= TYPO_MIN_LETTERS and word not in _KEYWORDS:
            close = process.extractOne(
                word, _KEYWORDS, scorer=DamerauLevenshtein.distance, score_cutoff=1
            )
            if close and close[0][0] == word[0]:
                word = close[0]
        out.append(word)
    return " ".join(out)


# An interrogative word: a follow-up holding one asks its own question ("what came out of
# it"), one without repeats the previous question about something else ("et RESCUE ?").
# Written from the question words of both languages, not fitted; follow-ups right with it:
# seed dev 44.0 % of 25 (extractive, unchanged), seed test half 38.1 % of 21 (held out).
_INTERROGATIVE = re.compile(
    r"\b(?:quoi|que|qu'|quel(?:le)?s?|lequel|comment|pourquoi|qui|ou|quand|combien|what|"
    r"which|how|why|who|where|when)\b"
)


def asks_its_own(text: str) -> bool:
    """Whether ``text`` holds an interrogative word of its own."""
    return bool(_INTERROGATIVE.search(fold(text)))


def asked_kind(text: str) -> Asked:
    """What ``text`` asks for, from French and English question patterns."""
    folded = _keyword_typos_fixed(fold(_WHERE.sub(" where ", text)))
    folded = _WHAT_WHICH.sub("quoi", folded)
    who_is = _WHO_IS.match(text)
    if who_is:  # "Qui est Christian Chocquet ?" asks for a description; "qui est le …" a name
        return "definition" if who_is.group(1).isupper() else "who"
    head = _HEAD.search(folded)
    if head:
        kind = next(k for k, nouns in _HEAD_NOUNS.items() if re.fullmatch(nouns, head.group(1)))
        if kind == "count" and _DIALS.search(folded):  # "what number do I dial?"
            return "phone"
        return kind
    for kind, pattern in _ASKED_PATTERNS:
        if pattern.search(folded):
            # "combien de projets ont été financés" counts projects: not a sum
            return "count" if kind == "amount" and _COUNT_OF.search(folded) else kind
    if not _INTERROGATIVE.search(folded) and word_stems(folded) & _PERSON_POSITIONS:
        return "who"  # "président du jury ?", "chair of the board": a keyword query
    return "other"


def names_in(text: str) -> tuple[str, ...]:
    """Folded capitalised words and acronyms of ``text``, but its first word."""
    tokens = list(_NAME.finditer(text))
    return tuple(
        dict.fromkeys(fold(m.group()) for m in tokens if m.start() > 0 and len(m.group()) >= 2)
    )


def analyse(text: str, language: Language | None = None) -> Question:
    """The analysed question (``language`` guessed when not given)."""
    return Question(
        text=text,
        language=language or detect_language(text),
        asked=asked_kind(text),
        terms=tuple(content_terms(text)),
        names=names_in(text),
        numbers=tuple(_NUMBER.findall(text)),
    )


# What the small model writes instead of rewriting a question (an English question's
# French rewrite, a follow-up made to stand alone), seen on the seed dev half: an answer
# ("BMU est l'acronyme pour …", "According to the documents, Wallonia contributed …"), a
# remark on the task ("La question est déjà en français.", « Les documents ne contiennent
# pas la réponse à cette question. »), a citation ("La réponse est dans le passage [2].").
# Structural, not fitted: such a rewrite would steer retrieval and scoring away. On English
# questions' French rewrites it refuses 3 of the seed dev half's 72 (all three of these
# kinds) and none of the test half's 74 (session 18); on follow-ups, see docs/answer.md.
_ABOUT_THE_TASK = re.compile(
    r"\b(?:la question|la reponse|les documents|passages?|traduction|the question|"
    r"the answer|the documents|according to|translat\w*)\b"
)
_ASKS_ABOUT_THE_TASK = re.compile(
    r"\b(?:question|reponse|answer|documents?|passages?|traduction|translat\w*|according)\b"
)


def french_rewrite(question: str, raw: str) -> str | None:
    """The French rewrite of ``question`` in the model's text ``raw`` (its first line,
    without quotation marks), or None when it cannot stand for the question."""
    line = next((ln.strip() for ln in raw.strip().splitlines() if ln.strip()), "")
    line = line.strip(" \"'«»")
    return line if line and usable_rewrite(question, line) else None


def usable_rewrite(question: str, rewrite: str) -> bool:
    """The model's ``rewrite`` can stand for ``question``: it cites nothing, is no statement
    ending in "." when the question asks ("?"), keeps the question's numbers and acronyms,
    and does not talk about the task or the documents (unless the question itself does)."""
    if MARKER.search(rewrite):
        return False
    if question.rstrip().endswith("?") and rewrite.rstrip().endswith("."):
        return False  # a statement for a question: an answer
    if _loses_a_token(question, rewrite):
        return False  # "what does BMU mean" rewritten "What does the MBU stand for"
    return not (
        _ABOUT_THE_TASK.search(fold(rewrite)) and not _ASKS_ABOUT_THE_TASK.search(fold(question))
    )


# Numbers read the same in any rewording, acronyms in any rewording of the same language
# (across languages "EU" is rightly « UE »): a rewrite that loses one ("BMU" written "MBU",
# a year dropped) asks about something else. A rule, not fitted; replayed on seed dev (179
# turns): 1 follow-up refused -> right, nothing else changed (the first try, acronyms kept
# across languages too, also made 1 refused -> wrong: "EU" rightly became « UE »). Held
# out, seed test (175 turns): no answer changed.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]+\b")


def _loses_a_token(question: str, rewrite: str) -> bool:
    """``rewrite`` lacks a number that ``question`` writes (``_NUMBER``, as ``analyse``
    reads them), or an acronym of it when both are in the same language (a question typed
    in capitals has no acronyms to keep)."""
    patterns = [_NUMBER]
    if question.upper() != question and detect_language(question) == detect_language(rewrite):
        patterns.append(_ACRONYM)
    for pattern in patterns:
        kept = {fold(t).replace(",", ".") for t in pattern.findall(rewrite)}
        if any(fold(t).replace(",", ".") not in kept for t in pattern.findall(question)):
            return True
    return False
