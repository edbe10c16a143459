"""Bodies of /countries/list and /categories/list (fixed reference data)."""

from __future__ import annotations

import typing as t

from tap_asos.sandbox.config import (
    BRANDS,
    COUNTRIES,
    CURRENCIES,
    LANGUAGES,
    NAVIGATION,
    SIZE_SCHEMAS,
)
from tap_asos.sandbox.payloads import guid, slugify

Json = dict[str, t.Any]

# --- countries and categories ---------------------------------------------------------


def countries(lang: str) -> list[Json]:
    """Body of /countries/list."""
    del lang  # names are English whatever the language asked for, as seen upstream
    return [
        {
            "country": c.country,
            "store": c.store,
            "name": c.name,
            "imageUrl": f"https://assets.asosservices.com/storesa/images/flags/{c.country.lower()}.png",
            "siteUrl": c.site_url,
            "siteId": c.site_id,
            "majorCountry": None,
            "isDefaultCountry": None,
            "region": None,
            "legalEntity": None,
            "languages": [
                {
                    "language": code,
                    "name": LANGUAGES[code][0],
                    "text": LANGUAGES[code][0],
                    "languageShort": LANGUAGES[code][1],
                    "isPrimary": i == 0,
                }
                for i, code in enumerate(c.languages)
            ],
            "currencies": [
                {
                    "currency": code,
                    "symbol": CURRENCIES[code].symbol,
                    "text": f"{CURRENCIES[code].symbol} {code}",
                    "isPrimary": i == 0,
                    "currencyId": CURRENCIES[code].currency_id,
                }
                for i, code in enumerate(c.currencies)
            ],
            "sizeSchemas": [
                {"sizeSchema": s, "text": s, "isPrimary": s == c.size_schema} for s in SIZE_SCHEMAS
            ],
        }
        for c in COUNTRIES
    ]


def _nav_node(
    key: str,
    title: str,
    node_type: str,
    link: Json | None,
    children: list[Json],
    priority: int,
) -> Json:
    return {
        "id": guid("nav", key),
        "alias": slugify(key) if node_type == "container" else None,
        "type": node_type,
        "channelExclusions": [],
        "webLargePriority": priority,
        "content": {
            "title": title,
            "subTitle": None,
            "webLargeImageUrl": None,
            "mobileImageUrl": None,
        },
        "display": {
            "webLargeTemplateId": 1,
            "webLargeTemplateName": "Default",
            "webLargeColumnSpan": 1,
            "mobileTemplateId": 1,
            "mobileTemplateName": "Default",
            "mobileDisplayLayout": "list",
        }
        if node_type == "container"
        else None,
        "style": {"webLargeStyleType": None, "mobileStyleType": None},
        "link": link,
        "children": children,
    }


def _category_link(category_id: int, path: str) -> Json:
    return {
        "linkType": "category",
        "brandSectionAlias": None,
        "categoryId": category_id,
        "webUrl": f"https://www.asos.com/{path}/cat/?cid={category_id}",
        "appUrl": f"asos://category?cid={category_id}",
    }


def categories() -> Json:
    """Body of /categories/list: navigation per gender, brands and footer."""
    navigation = []
    for g, (gender, groups) in enumerate(NAVIGATION.items()):
        group_nodes = []
        for i, (group, leaves) in enumerate(groups):
            leaf_nodes = [
                _nav_node(
                    f"{gender}/{group}/{title}",
                    title,
                    "link",
                    _category_link(cid, slugify(f"{gender}/{group}/{title}")),
                    [],
                    j,
                )
                for j, (title, cid, _kind) in enumerate(leaves)
            ]
            group_nodes.append(
                _nav_node(f"{gender}/{group}", group, "container", None, leaf_nodes, i)
            )
        sale = _nav_node(
            f"{gender}/Sale",
            "Sale",
            "link",
            {
                "linkType": "internal",
                "brandSectionAlias": None,
                "categoryId": None,
                "webUrl": f"https://www.asos.com/{gender.lower()}/sale/",
                "appUrl": None,
            },
            [],
            len(groups),
        )
        navigation.append(_nav_node(gender, gender, "container", None, [*group_nodes, sale], g))
    brands = [
        _nav_node(
            f"brand/{name}",
            name,
            "link",
            {
                "linkType": "aToZBrands",
                "brandSectionAlias": slugify(name),
                "categoryId": None,
                "webUrl": None,
                "appUrl": None,
            },
            [],
            i,
        )
        for i, (name, _bid) in enumerate(BRANDS)
    ]
    footer = [
        _nav_node(
            "footer/help",
            "Help & FAQs",
            "link",
            {
                "linkType": "external",
                "brandSectionAlias": None,
                "categoryId": None,
                "webUrl": "https://www.asos.com/customer-care/",
                "appUrl": None,
            },
            [],
            0,
        ),
    ]
    return {"navigation": navigation, "brands": brands, "footer": footer}
