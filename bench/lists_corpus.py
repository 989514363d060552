"""A list-heavy Markdown corpus for measuring ingest: 60 invented programme pages.

Each page looks like an official web page: a breadcrumb and a navigation menu, short
headings, bullet lists (audience, criteria, calendar, amounts, partners), contact lines
and a footer repeated on every page. All content is invented here, from the word lists
below; the same seed always writes the same pages.

    .venv/bin/python -m bench.lists_corpus      # writes bench/data/lists/*.md
"""

from __future__ import annotations

import random
import shutil
import unicodedata
from pathlib import Path

from settings import ROOT

FOLDER = ROOT / "bench" / "data" / "lists"
PAGES = 60

THEMES = [
    ("rénovation des cités minières", "habitat"),
    ("jardins partagés en pied d'immeuble", "cadre de vie"),
    ("mobilité solidaire vers l'emploi", "mobilité"),
    ("reconversion des friches industrielles", "aménagement"),
    ("tiers-lieux numériques", "numérique"),
    ("circuits courts alimentaires", "alimentation"),
    ("chantiers d'insertion patrimoniaux", "emploi"),
    ("sobriété énergétique des équipements sportifs", "énergie"),
    ("accueil de jeunes en service civique", "jeunesse"),
    ("valorisation des terrils", "paysage"),
    ("ateliers de réparation de vélos", "mobilité"),
    ("résidences d'artistes en quartier", "culture"),
    ("accompagnement des commerces de centre-bourg", "commerce"),
    ("plantation de haies bocagères", "biodiversité"),
    ("médiation numérique pour les seniors", "numérique"),
    ("récupération des eaux de pluie", "eau"),
    ("covoiturage entre communes rurales", "mobilité"),
    ("rénovation thermique des écoles", "énergie"),
    ("épiceries solidaires étudiantes", "solidarité"),
    ("mémoire ouvrière et archives orales", "patrimoine"),
]
TOWNS = [
    "Lens",
    "Liévin",
    "Hénin-Beaumont",
    "Douai",
    "Béthune",
    "Bruay-la-Buissière",
    "Denain",
    "Valenciennes",
    "Carvin",
    "Oignies",
    "Wingles",
    "Loos-en-Gohelle",
    "Harnes",
    "Avion",
    "Sallaumines",
    "Noeux-les-Mines",
    "Auchel",
    "Marles-les-Mines",
]
FIRST = [
    "Camille",
    "Nadia",
    "Julien",
    "Sophie",
    "Karim",
    "Élodie",
    "Mathieu",
    "Inès",
    "Thomas",
    "Léa",
    "Yanis",
    "Claire",
    "Hugo",
    "Amandine",
    "Rachid",
    "Pauline",
]
LAST = [
    "Delattre",
    "Wambre",
    "Lefebvre",
    "Dufour",
    "Benali",
    "Carpentier",
    "Vasseur",
    "Mortier",
    "Descamps",
    "Hennebelle",
    "Roussel",
    "Bouchez",
    "Lemaire",
    "Caron",
]
ROLES = [
    "Chargée de mission",
    "Chargé de mission",
    "Responsable du programme",
    "Cheffe de projet",
    "Chef de projet",
    "Animatrice territoriale",
]
AUDIENCES = [
    "Associations loi 1901",
    "Communes de moins de 10 000 habitants",
    "Bailleurs sociaux",
    "Établissements scolaires",
    "Entreprises de l'économie sociale et solidaire",
    "Collectifs d'habitants",
    "Intercommunalités",
    "Structures d'insertion par l'activité économique",
    "Centres sociaux",
    "Clubs sportifs",
    "Coopératives agricoles",
    "Maisons de quartier",
]
CRITERIA = [
    "Projet situé dans le périmètre du Bassin minier",
    "Budget prévisionnel équilibré",
    "Au moins deux partenaires locaux",
    "Démarrage dans les six mois",
    "Implication des habitants dès la conception",
    "Indicateurs de suivi définis",
    "Cofinancement d'au moins 20 %",
    "Plan de communication",
    "Lettre de soutien de la commune",
    "Prise en compte de l'accessibilité",
    "Calendrier de réalisation détaillé",
    "Bilan carbone simplifié",
]
PARTNERS = [
    "Région Hauts-de-France",
    "Département du Pas-de-Calais",
    "Département du Nord",
    "Agence de l'eau Artois-Picardie",
    "Banque des Territoires",
    "ADEME",
    "Caisse d'allocations familiales",
    "Pôle métropolitain de l'Artois",
    "Communauté d'agglomération de Lens-Liévin",
    "Chambre d'agriculture",
    "Fondation du patrimoine",
    "Université d'Artois",
]
PARTNER_ROLES = [
    "cofinanceur",
    "appui technique",
    "relais local",
    "évaluation",
    "accompagnement juridique",
    "communication",
]
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
PURPOSES = [
    "Le programme aide les porteurs de projet à passer de l'idée à la réalisation, avec un "
    "accompagnement technique et un soutien financier.",
    "Il s'adresse en priorité aux quartiers inscrits au contrat de ville et aux communes "
    "rurales du territoire.",
    "Depuis son lancement, il a soutenu des initiatives très diverses, de la petite action "
    "de voisinage au projet intercommunal.",
    "Chaque dossier retenu bénéficie d'un référent unique qui suit le projet jusqu'à son "
    "bilan final.",
    "Les projets sont sélectionnés par un jury qui réunit élus, techniciens et habitants.",
    "Une journée d'échanges réunit chaque année les lauréats pour partager leurs retours "
    "d'expérience.",
]
PROJECTS = [
    "Jardin des Glycines",
    "Atelier du Terril",
    "Maison du vélo",
    "Café des parents",
    "Fabrique numérique",
    "Halle gourmande",
    "Verger de la cité 9",
    "Ressourcerie du Pays minier",
    "Chantier de la Fosse 11",
    "Tiers-lieu La Lampisterie",
    "Épicerie du Chevalement",
    "Ciné-club des corons",
]
UNITS = [
    "bénévoles mobilisés",
    "familles accompagnées",
    "parcelles créées",
    "emplois créés",
    "ateliers organisés",
    "logements concernés",
    "arbres plantés",
]
FAQ = [
    ("Peut-on déposer plusieurs dossiers ?", "Oui, dans la limite de deux par structure."),
    (
        "Les dépenses déjà engagées sont-elles éligibles ?",
        "Non, seules les dépenses postérieures au dépôt du dossier sont prises en compte.",
    ),
    (
        "Faut-il être situé dans le Bassin minier ?",
        "Le projet doit y être réalisé, le siège de la structure peut être ailleurs.",
    ),
    ("Quel est le délai de réponse ?", "Environ huit semaines après la clôture."),
    (
        "Une aide au montage du dossier existe-t-elle ?",
        "Oui, un rendez-vous d'une heure est proposé sur demande.",
    ),
    ("Le dossier peut-il être envoyé par courrier ?", "Non, le dépôt se fait en ligne uniquement."),
]
NAV = [
    "- Accueil",
    "- Qui sommes-nous ?",
    "- Nos programmes",
    "- Actualités",
    "- Agenda",
    "- Ressources",
    "- Contact",
]
FOOTER = [
    "Mentions légales · Plan du site · Accessibilité : partiellement conforme · "
    "Données personnelles · Gestion des cookies",
    "© 2025 Agence fictive de développement du Bassin minier – tous droits réservés",
    "Suivez-nous : Facebook · LinkedIn · YouTube · Lettre d'information",
]


def page(n: int) -> tuple[str, str]:
    """File name and Markdown text of page ``n``."""
    rng = random.Random(n)
    theme, rubric = THEMES[n % len(THEMES)]
    town = TOWNS[(n * 7) % len(TOWNS)]
    year = 2023 + n % 3
    title = f"Programme {theme} à {town} ({year})"
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    phone = "03 21 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(3))
    ascii_name = unicodedata.normalize("NFKD", person.split()[0]).encode("ascii", "ignore")
    email = f"{ascii_name.decode().lower()}.{n}@agence-bassin.example"
    amount = rng.choice([5000, 8000, 10000, 15000, 20000, 30000, 50000])
    rate = rng.choice([30, 40, 50, 60, 70, 80])
    month = rng.randrange(len(MONTHS) - 3)
    day = rng.randrange(1, 28)
    lines = [
        f"# {title}",
        "",
        f"Accueil > Nos programmes > {rubric.capitalize()} > {theme.capitalize()}",
        "",
        *NAV,
        "",
        "## Présentation",
        "",
        f"Le programme « {theme} » accompagne les initiatives locales à {town} et dans les "
        f"communes voisines depuis {year - rng.randrange(1, 6)}. "
        + " ".join(rng.sample(PURPOSES, 2)),
        "",
        "## Public concerné",
        "",
        *[f"- {a}" for a in rng.sample(AUDIENCES, rng.randrange(4, 8))],
        "",
        "## Critères d'éligibilité",
        "",
        *[f"- {c}" for c in rng.sample(CRITERIA, rng.randrange(5, 9))],
        "",
        "## Calendrier",
        "",
        f"- Ouverture de l'appel à projets : {day} {MONTHS[month]} {year}",
        f"- Clôture des candidatures : {day} {MONTHS[month + 2]} {year}",
        f"- Réunion du jury : {MONTHS[month + 3]} {year}",
        f"- Réunion d'information : {rng.randrange(1, 28)} {MONTHS[month]} {year}, "
        f"salle des fêtes de {town}",
        "",
        "## Montant de l'aide",
        "",
        f"- Jusqu'à {amount:,} € par projet".replace(",", " "),
        f"- Taux d'aide maximal : {rate} % des dépenses éligibles",
        f"- Versement : {rng.choice(['50 % à la signature', '30 % à la signature'])}, "
        "le solde sur justificatifs",
        "- Dépenses éligibles : études, travaux, petit équipement, animation",
        "",
        "## Partenaires",
        "",
        *[f"- {p} ({rng.choice(PARTNER_ROLES)})" for p in rng.sample(PARTNERS, 5)],
        "",
        "## Projets soutenus",
        "",
        *[
            f"- {rng.choice(PROJECTS)} à {rng.choice(TOWNS)} : "
            f"{rng.randrange(2, 40)} {rng.choice(UNITS)}, {year - rng.randrange(0, 3)}"
            for _ in range(rng.randrange(5, 10))
        ],
        "",
        "## Questions fréquentes",
        "",
        *[line for q, a in rng.sample(FAQ, 3) for line in (f"**{q}**", a, "")],
        "## Documents à télécharger",
        "",
        f"- Règlement de l'appel à projets {year} (PDF, {rng.randrange(200, 900)} Ko)",
        f"- Dossier de candidature (DOCX, {rng.randrange(40, 120)} Ko)",
        "- Foire aux questions (PDF)",
        "",
        "## Contact",
        "",
        person,
        rng.choice(ROLES),
        f"Tél. : {phone}",
        f"Courriel : {email}",
        f"Adresse : {rng.randrange(1, 80)} rue {rng.choice(LAST)}, {town}",
        "Permanence : du lundi au jeudi, de 9 h à 12 h",
        "",
        "---",
        "",
        *FOOTER,
        "",
    ]
    name = f"{n:02d}-{theme.split()[0].lower()}-{town.lower().replace(' ', '-')}.md"
    return name, "\n".join(lines)


def write(folder: Path = FOLDER, pages: int = PAGES) -> Path:
    """Write the corpus into ``folder`` (replacing it) and return the folder."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for n in range(pages):
        name, text = page(n)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


if __name__ == "__main__":
    out = write()
    print(f"{PAGES} pages written to {out}")
