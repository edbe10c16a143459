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
from tap_asos.sandbox.feeds import localise
from tap_asos.sandbox.payloads import brand_category_id, guid, slugify
from tap_asos.sandbox.tree import Nav, new_in, real_brand_names, real_navigation

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
    *,
    exclusions: tuple[str, ...] = (),
    subtitle: str | None = None,
    image: str | None = None,
    style: str = "dark",
    alias: str | None = None,
) -> Json:
    return {
        "id": guid("nav", key),
        "alias": alias or (slugify(key) if node_type == "container" else None),
        "type": node_type,
        # Channels that do not show the node ("apps", "webLarge", "webSmall").
        "channelExclusions": list(exclusions),
        "webLargePriority": priority,
        "content": {
            "title": title,
            "subTitle": subtitle,
            "webLargeImageUrl": image,
            "mobileImageUrl": image,
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
        "style": {"webLargeStyleType": style, "mobileStyleType": "dark"},
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


def categories(tree: str = "small", year: int = 2022, lang: str = "") -> Json:
    """Body of /categories/list: navigation per gender, brands and footer.

    ``year`` picks the New-in section's shape (feeds.py); ``lang`` its titles.
    """
    if tree == "real":
        return real_categories(year, lang)
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
            exclusions=("apps", "webSmall"),
            subtitle="FINAL DISCOUNTS!",
            image=f"https://images.asos-media.com/navigation/{gender.lower()}_sale",
            style="sale",
        )
        all_brands = _nav_node(
            f"{gender}/brands",
            "View all brands",
            "aToZBrands",
            {
                "linkType": "aToZBrands",
                "brandSectionAlias": slugify(f"brands/{gender}"),  # its ``brands`` container
                "categoryId": None,
                "webUrl": f"https://www.asos.com/{gender.lower()}/a-to-z-of-brands/",
                "appUrl": None,
            },
            [],
            len(groups) + 1,
            exclusions=("webLarge",),
        )
        # The real tree's sections sit in a "Categories" container, New in right after the
        # sale: here Sale and New in do, while the other groups stay under the gender.
        leaf = {title: cid for leaves in dict(groups).values() for title, cid, _kind in leaves}
        section = new_in(
            gender,
            year,
            coats=next(
                (t, c) for t, c in leaf.items() if t in {"Coats & Jackets", "Jackets & Coats"}
            ),
            edits=(
                Nav("EVENING EXTRAVAGANZA", category=leaf["Dresses"], link="category")
                if gender == "Women"
                else Nav("TEAM WERK", category=leaf["T-Shirts"], link="category"),
            ),
        )
        new = _render(section, f"{gender}/Categories/{section.title}", 1, lang)
        sections = _nav_node(
            f"{gender}/Categories", "Categories", "container", None, [sale, new], len(groups)
        )
        children = [*group_nodes, sections, all_brands]
        navigation.append(_nav_node(gender, gender, "container", None, children, g))
    return {"navigation": navigation, "brands": brands(), "footer": footer()}


def _link(link_type: str, web_url: str, category_id: int | None = None) -> Json:
    app_url = None
    if category_id:
        app_url = f"asos://category?cid={category_id}"
    elif web_url.endswith("/gift-vouchers/"):
        app_url = "gift-vouchers/"  # a few internal footer links carry an app path
    return {
        "linkType": link_type,
        "brandSectionAlias": None,
        "categoryId": category_id,
        "webUrl": web_url,
        "appUrl": app_url,
    }


def brands() -> list[Json]:
    """The ``brands`` section: an A-Z container per gender, one brand page link each."""
    return [
        _nav_node(
            f"brands/{gender}",
            f"A-Z {gender}'s Brands",
            "container",
            None,
            [
                _nav_node(
                    f"brands/{gender}/{name}",
                    name,
                    "link",
                    _link(
                        "category",
                        f"https://www.asos.com/{gender.lower()}/a-to-z-of-brands/"
                        f"{slugify(name)}/cat/?cid={brand_category_id(b)}",
                        brand_category_id(b),
                    ),
                    [],
                    0,
                )
                for b, (name, _bid) in enumerate(BRANDS)
            ],
            g,
        )
        for g, gender in enumerate(NAVIGATION)
    ]


FOOTER = {
    "Help and Information": (
        ("Help", "internal", "https://www.asos.com/customer-care/"),
        ("Gift vouchers", "internal", "https://www.asos.com/gift-vouchers/"),
        ("Track order", "internal", "https://my.asos.com/my-account/orders"),
    ),
    "More From ASOS": (("ASOS Marketplace", "external", "https://marketplace.asos.com/"),),
}


def footer() -> list[Json]:
    """The ``footer`` section: containers of internal and external links."""
    return [
        _nav_node(
            f"footer/{title}",
            title,
            "container",
            None,
            [
                _nav_node(f"footer/{title}/{text}", text, "link", _link(kind, url), [], j)
                for j, (text, kind, url) in enumerate(links)
            ],
            i,
        )
        for i, (title, links) in enumerate(FOOTER.items())
    ]


# --- the real-size tree (``--tree real``) ---------------------------------------------


def _render(node: Nav, key: str, priority: int, lang: str) -> Json:
    """A navigation node and its subtree (``key`` gives the stable GUID, whatever ``lang``)."""
    url = f"https://www.asos.com/{slugify(key)}/"
    link: Json | None = None
    if node.link == "category" and node.category is not None:
        link = _category_link(node.category, slugify(key))
    elif node.link == "internal":
        link = _link("internal", url)
    elif node.link == "aToZBrands":
        link = {**_link("aToZBrands", url), "brandSectionAlias": slugify("brands/0")}
    elif node.link == "none":  # the real section links carry a link object of nulls
        link = dict.fromkeys(("linkType", "brandSectionAlias", "categoryId", "webUrl", "appUrl"))
    node_type = {"": "container", "aToZBrands": "aToZBrands"}.get(node.link, "link")
    children = [
        _render(child, f"{key}/{i}-{child.title}", i, lang) for i, child in enumerate(node.children)
    ]
    return _nav_node(
        key,
        localise(node.title, lang) if node.localised else node.title,
        node_type,
        link,
        children,
        priority,
        exclusions=node.exclusions,
        subtitle=node.subtitle,
        image=node.image,
        alias=node.alias,
    )


REAL_FOOTER = {
    "Help and Information": (
        "Help",
        "Track order",
        "Delivery",
        "Returns",
        "Gift cards",
        "Students",
    ),
    "About ASOS": ("About us", "Careers", "Investors", "Responsibility"),
    "More From ASOS": ("Mobile apps", "Marketplace", "Gift vouchers", "Black Friday", "Refer"),
}


def real_categories(year: int = 2022, lang: str = "") -> Json:
    """Body of /categories/list for ``--tree real``: the real API's size and depth."""
    navigation = [
        _render(gender, gender.title, g, lang) for g, gender in enumerate(real_navigation(year))
    ]
    brand_id = iter(range(40_000, 50_000))
    brand_sections = [
        _nav_node(
            f"brands/{c}",
            title,
            "container",
            None,
            [
                _nav_node(
                    f"brands/{c}/{name}",
                    name,
                    "link",
                    _link("category", f"https://www.asos.com/{slugify(name)}/cat/", cid),
                    [],
                    0,
                )
                for name, cid in zip(names, brand_id, strict=False)
            ],
            c,
        )
        for c, (title, names) in enumerate(real_brand_names())
    ]
    footer_sections = [
        _nav_node(
            f"footer/{title}",
            title,
            "container",
            None,
            [
                _nav_node(
                    f"footer/{title}/{text}",
                    text,
                    "link",
                    _link("internal", f"https://www.asos.com/{slugify(text)}/"),
                    [],
                    j,
                )
                for j, text in enumerate(links)
            ],
            i,
        )
        for i, (title, links) in enumerate(REAL_FOOTER.items())
    ]
    return {"navigation": navigation, "brands": brand_sections, "footer": footer_sections}
