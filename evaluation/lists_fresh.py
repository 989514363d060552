"""Fresh question sets over the invented list-heavy pages (``bench/lists_corpus``).

    .venv/bin/python -m evaluation.lists_fresh   # writes lists-fresh-{dev,test}.jsonl

``evaluation.lists_questions`` asks its nine kinds of question (phone, e-mail address,
contact person, maximal aid, closing date; near-misses: web site, fax number, jury chair,
the town mayor's e-mail address) in three fixed French phrasings a kind. These sets ask the
same nine kinds in many other wordings, French and English, the way users of a development
agency's chat type them: keyword queries, full questions, polite and informal forms, a few
typos, some typed in lower case without accents. English questions keep the programme's
French name.

There are two halves, each with its own pool of phrasings, and no phrasing is in both pools
nor in ``lists_questions.TEMPLATES``:

- the dev half (``lists-fresh-dev.jsonl``, even page numbers, pool ``DEV_PHRASINGS``) is
  for tuning: look at its failures, change rules, word lists or thresholds against it;
- the test half (``lists-fresh-test.jsonl``, odd page numbers, pool ``FRESH``) is held out:
  never tune anything on it; when it is used to choose anything it stops measuring
  generalisation and a new pool must be written.

Both pools were written blind to the answer engine (without reading its word lists or
patterns), and separately from each other, so the test half shows whether what was tuned on
the dev half holds for wordings nobody tuned for.

Each page gets one phrasing per kind, drawn with a fixed seed (``lists-fresh-{n}`` for test
pages, ``lists-fresh-dev-{n}`` for dev pages). The language takes turns: on each page two
kinds in five are asked in English, shifted from page to page, so 40 % of the rows (12 of
the 30 rows of every kind) are English in each half. Rows have the format of
``lists-{dev,test}.jsonl``; facts, keys and evidence come from ``evaluation.lists_questions``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from answer.facts import MONTHS
from evaluation.lists_questions import OUT, PAGES, _answer, page_facts, strip_accents

PATH = OUT / "lists-fresh-test.jsonl"
DEV_PATH = OUT / "lists-fresh-dev.jsonl"

# (kind, asks, answerable, phrasings) in the order of lists_questions.TEMPLATES. "fr" is
# written as typed; "fr_plain" is typed in lower case without accents (the whole question,
# programme name included, is lowered and stripped of accents); "en" keeps {p} in French.
# {p} is the programme ("programme … à Town"), {t} the town. This is the held-out test pool.
FRESH = [
    ("answerable", "phone", True, {
        "fr": [
            "Je voudrais le numéro de téléphone du {p}, s'il vous plaît.",
            "À quel numéro appeler pour le {p} ?",
            "Bonjour, on peut joindre quelqu'un par téléphone pour le {p} ?",
            "{p} : téléphone du contact",
            "Pouvez-vous me donner le numéro à composer pour le {p} ?",
            "Quel numéro faut-il appeler pour se renseigner sur le {p} ?",
        ],
        "fr_plain": [
            "tel du {p}",
            "numero de telephonne pour joindre le {p}",
        ],
        "en": [
            "What is the phone number for the {p}?",
            "How can I reach the {p} by phone?",
            "phone number {p}",
            "Could you give me a telephone number to call about the {p}?",
            "Which number should I ring for the {p}?",
        ],
    }),
    ("answerable", "email", True, {
        "fr": [
            "Je voudrais l'adresse e-mail du {p}.",
            "À quel e-mail envoyer ma question sur le {p} ?",
            "Quelle adresse mail utiliser pour contacter le {p} ?",
            "Pour le {p}, quel est le courriel du référent ?",
            "Comment contacter le {p} par e-mail ?",
            "{p} : adresse courriel de contact",
        ],
        "fr_plain": [
            "adresse mail {p}",
            "email pour ecrire au {p} svp",
            "adrese mail du {p}",
        ],
        "en": [
            "What is the contact email for the {p}?",
            "How can I reach the {p} by email?",
            "email address {p}",
            "Which address should I email about the {p}?",
            "Can I have the e-mail of the person in charge of the {p}?",
        ],
    }),
    ("answerable", "who", True, {
        "fr": [
            "Qui est l'interlocuteur du {p} ?",
            "Je voudrais connaître le nom du référent du {p}.",
            "Qui est le responsable à contacter pour le {p} ?",
            "À qui dois-je m'adresser pour le {p} ?",
            "Le {p}, c'est qui le contact ?",
            "Quel est le nom de la personne qui suit le {p} ?",
        ],
        "fr_plain": [
            "interlocuteur {p}",
            "a qui s'adresser pour le {p}",
            "qui est le referent du {p} ?",
        ],
        "en": [
            "Who is the contact person for the {p}?",
            "Who should I talk to about the {p}?",
            "contact person {p}",
            "Who is in charge of the {p}?",
            "What's the name of the person to get in touch with for the {p}?",
        ],
    }),
    ("answerable", "amount", True, {
        "fr": [
            "Quel est le montant maximum de la subvention du {p} ?",
            "Je voudrais savoir combien d'argent on peut obtenir avec le {p}.",
            "Combien le {p} peut-il financer au plus par projet ?",
            "Quelle est l'enveloppe maximale par projet pour le {p} ?",
            "Le {p} accorde une aide de combien au maximum ?",
            "Plafond de l'aide en euros du {p} ?",
        ],
        "fr_plain": [
            "montant max subvention {p}",
            "combien on peut avoir comme aide avec le {p}",
            "montant maxi de la subvantion du {p}",
        ],
        "en": [
            "How much funding can a project get from the {p}?",
            "What is the maximum grant amount for the {p}?",
            "max funding {p}",
            "Up to how many euros does the {p} pay per project?",
            "What's the ceiling on the aid from the {p}?",
        ],
    }),
    ("answerable", "date", True, {
        "fr": [
            "Quelle est la date limite de dépôt des dossiers pour le {p} ?",
            "Je voudrais savoir jusqu'à quelle date on peut déposer un dossier au {p}.",
            "Quand faut-il avoir envoyé sa candidature au {p} ?",
            "Avant quelle date dois-je déposer mon dossier pour le {p} ?",
            "Le {p} : clôture de l'appel à projets, c'est quand ?",
            "À quelle date se termine le dépôt des candidatures du {p} ?",
        ],
        "fr_plain": [
            "date limite depot dossier {p}",
            "cloture candidatures {p}",
            "c'est quand la date limte pour candidater au {p} ?",
        ],
        "en": [
            "What's the deadline to apply to the {p}?",
            "When do applications close for the {p}?",
            "application deadline {p}",
            "By what date must I submit my application to the {p}?",
            "Until when can we apply for the {p}?",
        ],
    }),
    ("near-miss", "url", False, {
        "fr": [
            "Le {p} a-t-il un site internet ?",
            "Je voudrais l'adresse web du {p}.",
            "Quelle est l'URL de la page du {p} ?",
            "Où trouver le site officiel du {p} ?",
            "Donnez-moi le lien internet du {p}, merci.",
            "Le {p} dispose-t-il d'une page web dédiée, et à quelle adresse ?",
        ],
        "fr_plain": [
            "url {p}",
            "lien du site du {p}",
            "site internet officiel {p}",
        ],
        "en": [
            "What is the website of the {p}?",
            "Is there a web page for the {p}? What's the URL?",
            "website {p}",
            "Where can I find the {p} online? I need the link.",
            "Could you send me the web address of the {p}?",
        ],
    }),
    ("near-miss", "phone", False, {
        "fr": [
            "Je voudrais envoyer un fax au {p}, quel est le numéro ?",
            "Le {p} a-t-il un numéro de télécopie ?",
            "Numéro de télécopieur du {p} ?",
            "Peut-on faxer son dossier au {p}, et à quel numéro ?",
            "Quel est le fax de l'interlocuteur du {p} ?",
            "À quel numéro de fax joindre le {p} ?",
        ],
        "fr_plain": [
            "numero fax {p}",
            "telecopie du {p}",
            "num de fax pour le {p} ?",
        ],
        "en": [
            "What is the fax number for the {p}?",
            "fax number {p}",
            "Can I fax my application to the {p}? Which number?",
            "Does the {p} have a fax line?",
            "Which fax number should I use to send documents to the {p}?",
        ],
    }),
    ("near-miss", "who", False, {
        "fr": [
            "Qui est à la tête du jury du {p} ?",
            "Je voudrais savoir qui préside le comité de sélection du {p}.",
            "Le jury du {p} est présidé par qui ?",
            "Nom de la présidente ou du président du jury du {p} ?",
            "Qui dirige le jury de sélection du {p} ?",
            "Quelle personne assure la présidence du jury du {p} ?",
        ],
        "fr_plain": [
            "president jury {p}",
            "qui preside le jury pour le {p}",
            "c'est qui le presiden du jury du {p} ?",
        ],
        "en": [
            "Who chairs the jury of the {p}?",
            "Who is the chair of the selection panel for the {p}?",
            "jury president {p}",
            "Who heads the jury that selects projects for the {p}?",
            "What is the name of the person presiding over the {p} jury?",
        ],
    }),
    ("near-miss", "email", False, {
        "fr": [
            "Je voudrais écrire au maire de {t}, quelle est son adresse e-mail ?",
            "Quel est le courriel du maire de {t} ?",
            "Comment contacter par mail le maire de {t} ?",
            "Adresse électronique de monsieur ou madame le maire de {t} ?",
            "Le maire de {t} a-t-il une adresse mail publique ?",
            "Pour le {p}, je dois écrire au maire de {t} : quel est son e-mail ?",
        ],
        "fr_plain": [
            "email maire {t}",
            "mail du cabinet du maire de {t}",
            "courriel du mair de {t} svp",
        ],
        "en": [
            "What is the email address of the mayor of {t}?",
            "How can I email the mayor of {t}?",
            "mayor of {t} email",
            "I'd like to write to the mayor of {t}. What's their e-mail?",
            "Could you give me the e-mail of {t}'s mayor?",
        ],
    }),
]  # fmt: skip


# The dev pool: same layout as FRESH, written separately (no phrasing shared with FRESH or
# with lists_questions.TEMPLATES). Tune on the rows it gives; never on FRESH's.
DEV_PHRASINGS = [
    ("answerable", "phone", True, {
        "fr": [
            "Bonjour, auriez-vous un numéro de téléphone pour le {p} ?",
            "Je cherche les coordonnées téléphoniques du {p}.",
            "Quel numéro dois-je faire pour parler à quelqu'un du {p} ?",
            "{p}, un numéro pour appeler ?",
            "Y a-t-il une ligne directe pour le {p} ?",
            "Comment téléphoner au {p} ?",
            "Vous avez un numéro où je peux appeler pour le {p} ?",
        ],
        "fr_plain": [
            "numero du {p}",
            "coordonees telephoniques {p}",
            "je peux avoir le tel du {p} stp",
            "a quel numero telephoner pour le {p}",
        ],
        "en": [
            "phone no. for the {p}",
            "Is there a number I can call about the {p}?",
            "Hi, I need to call someone about the {p}. What number?",
            "What number do I dial to reach the {p}?",
            "telephone contact {p}",
        ],
    }),
    ("answerable", "email", True, {
        "fr": [
            "Bonjour, quelle est l'adresse mail pour le {p} ?",
            "Je souhaite envoyer un mail concernant le {p}, à quelle adresse ?",
            "Auriez-vous le courriel de contact du {p} ?",
            "Quelle est l'adresse de messagerie du {p} ?",
            "{p} : où envoyer un e-mail ?",
            "Peut-on écrire par mail au {p} ? Si oui, à quelle adresse ?",
            "Le mél du {p}, s'il vous plaît.",
        ],
        "fr_plain": [
            "mail {p}",
            "adresse email du contact {p}",
            "c quoi le mail du {p}",
            "courriel referent {p} merci",
        ],
        "en": [
            "email for the {p}",
            "What e-mail address do I write to about the {p}?",
            "I want to send an email about the {p}, what's the address?",
            "Does the {p} have a contact e-mail?",
            "e-mail contact {p} please",
        ],
    }),
    ("answerable", "who", True, {
        "fr": [
            "Qui s'occupe du {p} ?",
            "Qui gère le {p} à l'agence ?",
            "Avec qui dois-je prendre contact pour le {p} ?",
            "Bonjour, qui est en charge du {p} ?",
            "Je cherche le nom de la personne qui anime le {p}.",
            "Pour le {p}, qui est mon contact ?",
            "Qui peut me renseigner sur le {p} ?",
        ],
        "fr_plain": [
            "nom du contact {p}",
            "qui soccupe du {p}",
            "personne a contacter {p} svp",
            "responsable du {p} c'est qui",
        ],
        "en": [
            "Who handles the {p}?",
            "name of the contact for the {p}",
            "Who is the go-to person for the {p}?",
            "Who can I speak to about the {p}?",
            "I need a contact name for the {p}, who is it?",
        ],
    }),
    ("answerable", "amount", True, {
        "fr": [
            "Combien d'euros au maximum peut-on recevoir du {p} ?",
            "Quelle somme maximale le {p} peut-il verser à un projet ?",
            "Bonjour, quel est le plafond de subvention du {p} ?",
            "Le {p} finance jusqu'à combien ?",
            "Quel financement maximum attendre du {p} pour mon projet ?",
            "À combien d'euros s'élève au plus l'aide du {p} ?",
            "{p} : montant plafond de l'aide par projet ?",
        ],
        "fr_plain": [
            "subvention max {p}",
            "combien max on peut toucher au {p}",
            "montan maximum aide {p}",
            "plafond financement {p} en euros",
        ],
        "en": [
            "How much money can I get from the {p} at most?",
            "maximum amount of aid {p}",
            "What's the biggest grant the {p} gives per project?",
            "Is there a cap on funding from the {p}? How much?",
            "how much does the {p} fund max",
        ],
    }),
    ("answerable", "date", True, {
        "fr": [
            "Jusqu'à quelle date peut-on postuler au {p} ?",
            "Quelle est la date butoir pour le {p} ?",
            "Bonjour, quand se termine l'appel à projets du {p} ?",
            "Il me reste jusqu'à quand pour envoyer mon dossier au {p} ?",
            "{p} : dernier délai pour candidater ?",
            "Quelle est la date de fin des candidatures pour le {p} ?",
            "Les inscriptions au {p} ferment quand ?",
        ],
        "fr_plain": [
            "date butoir {p}",
            "deadline du {p} c'est quand",
            "jusqua quand postuler au {p}",
            "date de cloture de l'apel a projets {p}",
        ],
        "en": [
            "deadline for the {p}",
            "When is the closing date for the {p}?",
            "What is the last day to send an application to the {p}?",
            "I want to apply to the {p}: when is the cut-off date?",
            "closing date {p} applications",
        ],
    }),
    ("near-miss", "url", False, {
        "fr": [
            "Bonjour, le {p} a-t-il son propre site ?",
            "Pouvez-vous m'envoyer le lien vers la page du {p} ?",
            "Quelle est l'adresse internet du {p} ?",
            "Sur quelle page web peut-on consulter le {p} ?",
            "{p} : lien vers le site",
            "Existe-t-il un site dédié au {p} ? Si oui, lequel ?",
            "J'aimerais consulter le {p} en ligne, vous avez l'adresse du site ?",
        ],
        "fr_plain": [
            "lien {p}",
            "site du {p} svp",
            "adresse du sitte web {p}",
            "ya un site pour le {p} ?",
        ],
        "en": [
            "link to the {p} website",
            "Does the {p} have its own site?",
            "What's the URL of the {p} page?",
            "Where is the {p} website? Please send the link.",
            "url for the {p}",
        ],
    }),
    ("near-miss", "phone", False, {
        "fr": [
            "Bonjour, quel numéro de fax pour le {p} ?",
            "Je souhaite faxer des pièces au {p}, à quel numéro ?",
            "Le {p} possède-t-il un fax ?",
            "Quel est le numéro de télécopie du référent du {p} ?",
            "{p} : fax ?",
            "Vous auriez le numéro de fax du {p} ?",
            "Par quel numéro de télécopie puis-je joindre le {p} ?",
        ],
        "fr_plain": [
            "fax {p}",
            "n° de fax du {p}",
            "numero de telecopie {p} merci",
            "le fax du {p} c koi",
        ],
        "en": [
            "fax no. for the {p}",
            "What fax number does the {p} use?",
            "I need to fax some documents to the {p}, what's the number?",
            "Is there a fax number for the {p}?",
            "{p} fax",
        ],
    }),
    ("near-miss", "who", False, {
        "fr": [
            "Qui est le président ou la présidente du jury du {p} ?",
            "Qui préside la commission d'attribution du {p} ?",
            "La présidence du jury du {p}, c'est qui ?",
            "Le jury du {p} : qui en est le président ?",
            "Qui présidera le jury de sélection du {p} ?",
            "Pouvez-vous me dire le nom du président du jury pour le {p} ?",
            "Quelle est l'identité de la personne qui préside le jury du {p} ?",
        ],
        "fr_plain": [
            "presidence jury {p}",
            "qui est presidant du jury {p}",
            "nom president(e) du jury du {p}",
            "qui preside la commission de selection du {p}",
        ],
        "en": [
            "Who presides over the jury of the {p}?",
            "chair of the {p} jury",
            "Who is the jury chairperson for the {p}?",
            "Who leads the selection committee of the {p}?",
            "name of the jury president for the {p}",
        ],
    }),
    ("near-miss", "email", False, {
        "fr": [
            "Quelle est l'adresse mail du maire de {t} ?",
            "Bonjour, comment envoyer un e-mail au maire de {t} ?",
            "Je souhaite contacter le maire de {t} par courriel, vous avez son adresse ?",
            "Le maire de {t}, il a quelle adresse mail ?",
            "Adresse de messagerie du maire de {t} ?",
            "Pour un projet du {p}, j'aimerais écrire au maire de {t} : son mail ?",
            "Quel e-mail utiliser pour écrire à madame ou monsieur le maire de {t} ?",
        ],
        "fr_plain": [
            "adresse mail maire de {t}",
            "courriel maire {t}",
            "mail du maire de {t} stp",
            "email de monsieur le maire de {t} ?",
        ],
        "en": [
            "email address for the mayor of {t}",
            "What's the mayor of {t}'s email?",
            "How do I reach the mayor of {t} by e-mail?",
            "I'm working on the {p} and need to email the mayor of {t}. What address?",
            "{t} mayor e-mail address",
        ],
    }),
]  # fmt: skip

# split: (pool, seed prefix, id prefix, parity of its pages, default output)
SPLITS = {
    "test": (FRESH, "lists-fresh", "f", 1, PATH),
    "dev": (DEV_PHRASINGS, "lists-fresh-dev", "g", 0, DEV_PATH),
}


def questions(n: int) -> list[dict]:
    """The fresh questions of page ``n``, one phrasing per kind: from the test pool (FRESH)
    for an odd page, from the dev pool (DEV_PHRASINGS) for an even one."""
    split = "test" if n % 2 == 1 else "dev"
    pool, seed, prefix, _, _ = SPLITS[split]
    name, text, f, programme = page_facts(n)
    rng = random.Random(f"{seed}-{n}")
    out = []
    for i, (kind, asks, answerable, phrasings) in enumerate(pool):
        if (n // 2 + i) % 5 < 2:  # two kinds in five, in turn: 12 English rows a kind
            lang, plain = "en", False
            template = rng.choice(phrasings["en"])
        else:
            lang = "fr"
            pool_fr = [(p, False) for p in phrasings["fr"]] + [
                (p, True) for p in phrasings["fr_plain"]
            ]
            template, plain = rng.choice(pool_fr)
        question = template.format(p=programme, t=f["town"])
        if plain:  # typed as users type: lower case, no accents
            question = strip_accents(question).lower()
        row = {"id": f"{prefix}{n:02d}{i}", "question": question, "lang": lang, "kind": kind,
               "asks": asks, "source": name, "answerable": answerable, "split": split}  # fmt: skip
        if answerable:
            row["keys"], row["evidence"] = _answer(asks, f, text)
            if lang == "en":
                row["keys"] = [group + _in_english(asks, group[0]) for group in row["keys"]]
        out.append(row)
    return out


# French month -> English month, from the checker's own list of both (answer/facts.MONTHS)
_MONTHS = dict(zip(MONTHS.split("|")[:12], MONTHS.split("|")[12:], strict=True))


def _in_english(asks: str, value: str) -> list[str]:
    """The ways an English answer writes a French date or amount ("27 mars 2025": "27 March
    2025", "March 27, 2025"; "30 000 €": "30,000"), as the seed set's English rows list
    them: an English answer that translates the value right is not a miss."""
    if asks == "date":
        day, month, year = value.split()
        english = _MONTHS[strip_accents(month)].capitalize()
        return [f"{day} {english} {year}", f"{english} {day}, {year}"]
    if asks == "amount":
        number = value.replace("€", "").strip()
        return [number.replace(" ", ","), f"{number} euros"]
    return []


def rows(split: str = "test") -> list[dict]:
    """The fresh questions of every page of ``split`` ("test": odd pages, "dev": even)."""
    parity = SPLITS[split][3]
    return [q for n in range(parity, PAGES, 2) for q in questions(n)]


def write(path: Path | None = None, split: str = "test") -> Path:
    """Write the ``split`` half at ``path`` (by default ``lists-fresh-{split}.jsonl``)."""
    path = SPLITS[split][4] if path is None else path
    lines = [json.dumps(r, ensure_ascii=False) for r in rows(split)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


if __name__ == "__main__":
    for split in ("dev", "test"):
        out = write(split=split)
        written = rows(split)
        english = sum(r["lang"] == "en" for r in written) / len(written)
        print(f"{split}: {len(written)} rows, {english:.0%} English: {out}", file=sys.stderr)
