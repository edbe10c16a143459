"""The arrival feeds of the tree: New in > NEW PRODUCTS > View all, New-in lists, Back in stock.

Seen upstream (../shared/asos-api/README.md, "Where arrivals and memberships show"): each
gender's tree has, under its ``Categories`` container, a section link ``New in`` (alias
``WW_NI`` / ``MW_NI``) whose ``NEW PRODUCTS`` container starts with ``View all`` (alias
``WW_NI_VA`` / ``MW_NI_VA``: 27108 Women, 27110 Men), then a New-in list per department and
``Back in stock``.  A 2023 tree has no Back in stock, links some ordinary categories from
New in and has "brand drop" nodes linking View all itself.  ``tree_year=2025`` is invented: a
tree whose feed titles and ids changed while the aliases (CMS keys) stayed, for a client
that must find the feeds by rule.  Titles follow ``lang``; aliases do not.

A feed is a listable category no product is assigned to: View all holds the gender's
products that went live in the last ``new_in_days`` days, a department list those of one
kind, Back in stock the ones restocked in the last ``back_in_stock_days`` days.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_asos.sandbox.config import LANGUAGES

TREE_YEARS = (2022, 2023, 2025)
GENDERS = ("Men", "Women")
NEW_IN_ALIAS = {"Women": "WW_NI", "Men": "MW_NI"}
VIEW_ALL_ALIAS = {"Women": "WW_NI_VA", "Men": "MW_NI_VA"}
ALL, RESTOCK = "all", "restock"
DEPARTMENTS = (("clothing", "Clothing"), ("shoes", "Shoes"), ("onesize", "Accessories"))

# Per year and gender: View all, department lists (as DEPARTMENTS), Back in stock (or None).
FEED_IDS: dict[int, dict[str, tuple[int, tuple[int, int, int], int | None]]] = {
    2022: {
        "Women": (27108, (2623, 6992, 27109), 17204),
        "Men": (27110, (6993, 17184, 27112), 17010),
    },
    2023: {"Women": (27108, (2623, 6992, 27109), None), "Men": (27110, (6993, 17184, 27112), None)},
    2025: {
        "Women": (31108, (32623, 36992, 37109), 18204),
        "Men": (31110, (36993, 37184, 37112), 18010),
    },
}
# Per year, English titles of: the section, View all, Back in stock.
FEED_TITLES = {
    2022: ("New in", "View all", "Back in stock"),
    2023: ("New in", "View all", "Back in stock"),
    2025: ("Just in", "Shop all", "Restocked"),
}
# Brand drops of a 2023 tree: NEW EDITS nodes linking the gender's View all.
BRAND_DROPS = ("Nike drop", "adidas Originals drop")

# Titles of the feed nodes per language (languageShort of /countries/list); English otherwise.
LOCALISED_LANGUAGES = ("de", "fr", "es", "it", "sv")
LOCALISED: dict[str, tuple[str, str, str, str, str]] = {
    "New in": ("Neu", "Nouveautés", "Novedades", "Novità", "Nyheter"),
    "Just in": (
        "Gerade eingetroffen",
        "Tout juste arrivé",
        "Recién llegado",
        "Appena arrivati",
        "Precis inkommet",
    ),
    "NEW PRODUCTS": (
        "NEUE PRODUKTE",
        "NOUVEAUX PRODUITS",
        "PRODUCTOS NUEVOS",
        "NUOVI PRODOTTI",
        "NYA PRODUKTER",
    ),
    "NEW EDITS": (
        "NEUE EDITS",
        "NOUVELLES SÉLECTIONS",
        "NUEVAS SELECCIONES",
        "NUOVE SELEZIONI",
        "NYA URVAL",
    ),
    "View all": ("Alle anzeigen", "Tout voir", "Ver todo", "Vedi tutto", "Visa alla"),
    "Shop all": ("Alles shoppen", "Tout acheter", "Comprar todo", "Acquista tutto", "Handla allt"),
    "Back in stock": (
        "Wieder da",
        "De retour en stock",
        "De nuevo en stock",
        "Di nuovo disponibili",
        "Tillbaka i lager",
    ),
    "Restocked": ("Wieder aufgefüllt", "Réassort", "Reabastecido", "Rifornito", "Påfyllt"),
    "Clothing": ("Kleidung", "Vêtements", "Ropa", "Abbigliamento", "Kläder"),
    "Shoes": ("Schuhe", "Chaussures", "Zapatos", "Scarpe", "Skor"),
    "Accessories": ("Accessoires", "Accessoires", "Accesorios", "Accessori", "Accessoarer"),
}


@dataclass(frozen=True)
class Feed:
    """One feed listing: ``kind`` is ALL (View all), a product kind (a department) or RESTOCK."""

    category_id: int
    gender: str
    kind: str
    title: str  # English


def check_year(year: int) -> int:
    """The year, if the sandbox has a tree for it."""
    if year not in FEED_IDS:
        msg = f"tree_year must be one of {', '.join(map(str, TREE_YEARS))}, not {year}"
        raise ValueError(msg)
    return year


def feeds(year: int) -> tuple[Feed, ...]:
    """Every feed of a year's tree, Men then Women: View all, departments, Back in stock."""
    _section, view_all_title, restock_title = FEED_TITLES[check_year(year)]
    found = []
    for gender in GENDERS:
        view_all, departments, restock = FEED_IDS[year][gender]
        found.append(Feed(view_all, gender, ALL, view_all_title))
        found.extend(
            Feed(cid, gender, kind, title)
            for cid, (kind, title) in zip(departments, DEPARTMENTS, strict=True)
        )
        if restock is not None:
            found.append(Feed(restock, gender, RESTOCK, restock_title))
    return tuple(found)


def localise(title: str, lang: str) -> str:
    """A feed node's title in a language (``de-DE`` ...); English when none is known."""
    short = LANGUAGES.get(lang, ("", "en"))[1]
    if title not in LOCALISED or short not in LOCALISED_LANGUAGES:
        return title
    return LOCALISED[title][LOCALISED_LANGUAGES.index(short)]
