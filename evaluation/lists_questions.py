"""Contact, amount and date questions over the invented list-heavy pages (``bench/lists_corpus``).

    .venv/bin/python -m evaluation.lists_questions   # writes evaluation/data/lists-{dev,test}.jsonl

The seed documents hold one contact block: nine seed questions per half ask for an
e-mail address, a phone number or a web site, too few to choose a rule on. The 60 invented
programme pages each end with a contact block (a person, a role, a phone number, an e-mail
address) and hold an amount and a calendar, and several pages share a theme in other towns:
the right page must be found among look-alikes. From each page's own text this writes, in
French, questions whose answer is on the page (its phone number, e-mail address, contact
person, maximal aid, closing date) and near-misses whose answer is on no page (its web
site, its fax number, who chairs its jury, the e-mail address of the town's mayor). The
wording varies (three phrasings a kind, some typed in lower case without accents). Pages
with an even number are the dev half, odd ones the test half: a page's questions are never
on both sides.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from bench.lists_corpus import PAGES, page
from ingest.text import strip_accents
from settings import ROOT

OUT = ROOT / "evaluation" / "data"

# (kind, asks, answerable, phrasings); {p} is the programme ("programme … à Town"), {t} the town
TEMPLATES = [
    ("answerable", "phone", True, [
        "Quel est le numéro de téléphone du {p} ?",
        "numéro de téléphone pour le {p}",
        "Comment joindre par téléphone le {p} ?",
    ]),
    ("answerable", "email", True, [
        "Quelle est l'adresse électronique du {p} ?",
        "mail de contact du {p}",
        "À quelle adresse écrire un courriel pour le {p} ?",
    ]),
    ("answerable", "who", True, [
        "Qui est la personne à contacter pour le {p} ?",
        "qui contacter pour le {p}",
        "Qui faut-il appeler pour le {p} ?",
    ]),
    ("answerable", "amount", True, [
        "Quel est le montant maximal de l'aide du {p} ?",
        "combien peut-on toucher au maximum avec le {p}",
        "Jusqu'à combien d'euros le {p} finance-t-il un projet ?",
    ]),
    ("answerable", "date", True, [
        "Quand se clôturent les candidatures du {p} ?",
        "date limite de candidature du {p}",
        "Jusqu'à quand peut-on candidater au {p} ?",
    ]),
    ("near-miss", "url", False, [
        "Quelle est l'adresse du site internet du {p} ?",
        "site web du {p}",
        "Sur quel site trouver le {p} ?",
    ]),
    ("near-miss", "phone", False, [
        "Quel est le numéro de fax du {p} ?",
        "fax du {p}",
        "À quel numéro de fax envoyer un document au {p} ?",
    ]),
    ("near-miss", "who", False, [
        "Qui préside le jury du {p} ?",
        "qui est le président du jury du {p}",
        "Quel est le nom du président du jury du {p} ?",
    ]),
    ("near-miss", "email", False, [
        "Quelle est l'adresse électronique du maire de {t} ?",
        "mail du maire de {t}",
        "Comment écrire par courriel à la mairie de {t} ?",
    ]),
]  # fmt: skip


def facts(text: str) -> dict[str, str]:
    """What a page says, read from its own text (so the questions follow the corpus)."""
    title = re.search(r"^# Programme (.+) à (.+) \((\d{4})\)$", text, re.M)
    contact = text.split("## Contact", 1)[1].strip().splitlines()
    return {
        "theme": title.group(1),
        "town": title.group(2),
        "person": contact[0].strip(),
        "phone": re.search(r"Tél\. : ([\d ]+)", text).group(1).strip(),
        "email": re.search(r"Courriel : (\S+)", text).group(1),
        "amount": re.search(r"Jusqu'à ([\d  ]+ €)", text).group(1),
        "closing": re.search(r"Clôture des candidatures : (.+)", text).group(1).strip(),
    }


def _answer(asks: str, f: dict[str, str], text: str) -> tuple[list[list[str]], str]:
    """The key groups and the evidence line of an answerable question."""
    value = {"phone": f["phone"], "email": f["email"], "who": f["person"],
             "amount": f["amount"], "date": f["closing"]}[asks]  # fmt: skip
    line = next(ln.strip("- ").strip() for ln in text.splitlines() if value in ln)
    return [[value]], line


def page_facts(n: int) -> tuple[str, str, dict[str, str], str]:
    """Page ``n``'s file name, text and facts, and how a question names its programme."""
    name, text = page(n)
    f = facts(text)
    return name, text, f, f"programme {f['theme']} à {f['town']}"


def questions(n: int) -> list[dict]:
    """The questions of page ``n``."""
    name, text, f, programme = page_facts(n)
    rng = random.Random(f"lists-questions-{n}")
    out = []
    for i, (kind, asks, answerable, phrasings) in enumerate(TEMPLATES):
        phrasing = rng.randrange(len(phrasings))
        question = phrasings[phrasing].format(p=programme, t=f["town"])
        if phrasing == 1:  # typed as users type: lower case, no accents
            question = strip_accents(question).lower()
        row = {"id": f"l{n:02d}{i}", "question": question, "lang": "fr", "kind": kind,
               "asks": asks, "source": name, "answerable": answerable,
               "split": "dev" if n % 2 == 0 else "test"}  # fmt: skip
        if answerable:
            row["keys"], row["evidence"] = _answer(asks, f, text)
        out.append(row)
    return out


def write(folder: Path = OUT) -> dict[str, Path]:
    """``lists-dev.jsonl`` and ``lists-test.jsonl`` in ``folder``."""
    rows = [q for n in range(PAGES) for q in questions(n)]
    paths = {}
    for split in ("dev", "test"):
        path = folder / f"lists-{split}.jsonl"
        lines = [json.dumps(r, ensure_ascii=False) for r in rows if r["split"] == split]
        path.write_text("\n".join(lines) + "\n", "utf-8")
        paths[split] = path
    return paths


if __name__ == "__main__":
    for split, path in write().items():
        print(f"{split}: {path}", file=sys.stderr)
