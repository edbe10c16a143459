"""Category trees of the sandbox: the small default one, or one of the real API's size.

The real ``/categories/list`` (tests/fixtures/real/categories-list-2022.json, US) has two
genders and depth 5: gender > top containers ("Home", "Categories", "More ASOS", ...) >
section links ("Sale", "New in", "Clothing", "Shoes", ...) > containers ("SHOP BY PRODUCT",
...) > category links. It holds 1,034 navigation nodes, 878 leaves, 820 leaf category links
naming 573 distinct category ids (a category is linked from several sections), and a
``brands`` section of 1,316 nodes (5 A-Z containers of brand pages). ``--tree real``
generates a tree of that size and shape, the same for every seed; its category ids are
invented, except those of the arrival feeds (feeds.py).  As in the real tree, each
section's SHOP BY PRODUCT starts with its ``View all`` ("SALE View all", Outlet "View
all"), and every section has leaves of its own beside links repeating other sections'
leaves.  ``listings()`` says where each leaf's first link sits: membership.py puts products
on leaves by that (department, sale, outlet, edit, brand-like, body-fit lists).

Both trees carry each gender's ``New in`` section (a link of null fields, alias ``WW_NI`` /
``MW_NI``) at its real place: a child of the gender's ``Categories`` container (depth 2),
right after the sale section (the real tree has two), holding an ``App & Mobile Promo``
container, ``NEW PRODUCTS`` (View all, the department New-in lists, Back in stock), for
Women of the real-size tree ``SHOP BY BODY FIT``, and ``NEW EDITS``.  In the
real-size tree the feeds are 10 of its 573 distinct leaf ids in 2022 and 2025 (563 ordinary
ones); a 2023 tree has no Back in stock, so 571.  The small tree has 18 ordinary leaves and
28 leaf ids with the feeds (26 in 2023); its other groups stay directly under the gender.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_asos.sandbox.config import NAVIGATION
from tap_asos.sandbox.feeds import (
    BRAND_DROPS,
    DEPARTMENTS,
    FEED_IDS,
    FEED_TITLES,
    NEW_IN_ALIAS,
    VIEW_ALL_ALIAS,
    check_year,
)

Leaf = tuple[int, str, str, str]  # categoryId, title, gender, kind
TREES = ("small", "real")

# Real per-gender figures (Men, Women) the generator aims at.
SECTIONS = (
    ("Sale", ""),
    ("New in", ""),
    ("Clothing", "clothing"),
    ("Shoes", "shoes"),
    ("Accessories", "onesize"),
    ("Activewear", "clothing"),
    ("Face + Body", "onesize"),
    ("Brands", ""),
    ("Outlet", ""),
    ("Plus & Tall", "clothing"),
    ("Gifting", "onesize"),
    ("Trending", ""),
    ("Workwear", "clothing"),
    ("Holiday", ""),
    ("Topshop", "clothing"),
)
SHOP_BY_PRODUCT = "SHOP BY PRODUCT"
CONTAINERS = (SHOP_BY_PRODUCT, "SHOP BY EDIT", "SHOP BY BODY FIT", "SHOP BY BRAND", "TRENDING")
TITLES = {
    "clothing": (
        "Dresses", "Tops", "Jeans", "Coats & Jackets", "Jumpers & Cardigans", "Hoodies",
        "T-Shirts", "Shorts", "Skirts", "Trousers", "Shirts", "Suits", "Swimwear", "Knitwear",
    ),
    "shoes": ("Boots", "Trainers", "Heels", "Sandals", "Loafers", "Flats", "Slippers"),
    "onesize": ("Bags", "Jewellery", "Watches", "Caps & Hats", "Sunglasses", "Belts", "Scarves"),
}  # fmt: skip
KINDS = ("clothing", "shoes", "onesize")
HOME = "https://images.asos-media.com/navigation/homebutton"
# Ordinary leaf ids; with the 10 feed ids, 573 distinct category ids as in the real tree.
DISTINCT_LEAVES = {"Men": 261, "Women": 302}
NEW_IN = "New in"  # its place in SECTIONS is where the real-shaped section goes
VIEW_ALL_TITLE = {"Sale": "SALE View all"}  # "View all" elsewhere
FIRST_CATEGORY_ID = 50_000  # clear of the real ids of the small tree and of brand pages
BRAND_CONTAINERS = (
    ("A-Z Men's Brands", 201),
    ("A-Z Men's Outlet Brands", 176),
    ("A-Z Women's Brands", 434),
    ("A-Z Outlet & Sale Brands", 403),
    ("A-Z Face + Body Brands", 97),
)


@dataclass(frozen=True)
class Nav:
    """One navigation node to render: a container, or a link (category or internal)."""

    title: str
    children: tuple[Nav, ...] = ()
    category: int | None = None  # link.categoryId of a category link
    kind: str = ""  # size run and product words of a category's products
    # "": a container; "category", "internal", "aToZBrands" or "none" (a section link
    # whose link fields are all null, as the real "New in"): a link.
    link: str = ""
    exclusions: tuple[str, ...] = ()
    subtitle: str | None = None
    image: str | None = None  # content.webLargeImageUrl and mobileImageUrl
    alias: str | None = None  # a CMS key ("WW_NI"): the same in every language
    localised: bool = False  # the title follows ``lang`` (feeds.localise)


def _skeleton() -> list[list[list[tuple[str, str]]]]:
    """Sections > containers > (title, kind) of a gender's category links (New in aside).

    The first link of each section's SHOP BY PRODUCT is its ``View all`` (kind "": a
    section of several kinds), as in the real tree ("SALE View all", Outlet "View all").
    """
    sections = []
    for s, (section, section_kind) in enumerate(SECTIONS):
        containers: list[list[tuple[str, str]]] = []
        sections.append(containers)
        if section == NEW_IN:
            continue  # built from the others' leaves below, so it takes no ids of its own
        for c in range(3 + (s * 5 + 1) % 3):  # 3 to 5 containers, 4 on average
            links = [(VIEW_ALL_TITLE.get(section, "View all"), section_kind)] if c == 0 else []
            for j in range(len(links), 5 + (s * 3 + c * 5) % 5):  # 5 to 9 leaves
                kind = section_kind or KINDS[(s + c + j) % len(KINDS)]
                links.append((TITLES[kind][(s + c * 3 + j) % len(TITLES[kind])], kind))
            containers.append(links)
    return sections


def _category_ids(skeleton: list[list[list[tuple[str, str]]]], pool: int) -> list[int]:
    """The id index of each link of a skeleton, in order: ``pool`` distinct ones.

    Every section's View all has an id of its own; the other fresh ids are spread evenly
    over the other links, and the links between them repeat an earlier leaf of the same
    kind, as the real tree links a category from several sections: so every section has
    listings of its own, and some of its links lead to other sections' ones.
    """
    links = [(c == 0 and j == 0, kind) for containers in skeleton for c, container in
             enumerate(containers) for j, (_title, kind) in enumerate(container)]  # fmt: skip
    fresh_left = pool - sum(view_all for view_all, _kind in links)
    others = len(links) - sum(view_all for view_all, _kind in links)
    ids: list[int] = []
    by_kind: dict[str, list[int]] = {}
    other = 0
    for n, (view_all, kind) in enumerate(links):
        fresh = view_all or -(-(other + 1) * fresh_left // others) > -(
            -other * fresh_left // others
        )
        other += not view_all
        if fresh:
            ids.append(max(ids, default=-1) + 1)
            if not view_all:
                by_kind.setdefault(kind, []).append(ids[-1])
        else:
            earlier = by_kind.get(kind) or [i for same in by_kind.values() for i in same]
            ids.append(earlier[(n * 7919) % len(earlier)])
    return ids


def _gender(gender: str, first_id: int, year: int) -> Nav:
    """One gender of the real-size tree: about 510 nodes, 400 category leaves."""
    skeleton = _skeleton()
    ids = iter(_category_ids(skeleton, DISTINCT_LEAVES[gender]))
    sections = []
    for s, ((section, _section_kind), links) in enumerate(zip(SECTIONS, skeleton, strict=True)):
        if section == NEW_IN:
            continue
        containers = []
        for c, container in enumerate(links):
            leaves = [
                Nav(title, category=first_id + next(ids), kind=kind, link="category")
                for title, kind in container
            ]
            if c == 0 and s % 3 == 0:
                leaves.append(Nav("View all brands", link="aToZBrands"))
            containers.append(Nav(CONTAINERS[c], tuple(leaves)))
        image = f"https://images.asos-media.com/navigation/{gender}-{section}".lower()
        sale = s == 0  # the first section carries a promotion, shown on large screens only
        sections.append(
            Nav(
                section,
                tuple(containers),
                link="internal",
                image=image,
                subtitle="FINAL DISCOUNTS!" if sale else None,
                exclusions=("apps", "webSmall") if sale else (),
            )
        )
    sections.insert(
        [title for title, _kind in SECTIONS].index(NEW_IN), _real_new_in(gender, year, sections)
    )
    tops = (
        Nav("Home", (Nav("Home", link="internal", exclusions=("apps", "webLarge"), image=HOME),)),
        Nav("App and Mobile Top Level - Carousel"),
        Nav("App and Mobile Top Level - List"),
        Nav("App and Mobile Top Level", _internal("Promo 1", "Promo 2", "Promo 3")),
        Nav("Categories", tuple(sections)),
        Nav("Discover More", (Nav("Discover", _internal(*(f"Edit {n}" for n in range(5)))),)),
        Nav("More ASOS", _internal("Help", "Gift vouchers", "Marketplace", "Apps", "Students")),
    )
    return Nav(gender, tops, link="internal")


def _real_new_in(gender: str, year: int, sections: list[Nav]) -> Nav:
    """The real-size tree's New in: its ordinary links repeat leaves of other sections."""
    by_title = {section.title: section for section in sections}

    def links(section: str, *titles: str) -> tuple[Nav, ...]:
        found = [n for n in _walk(by_title[section]) if n.link == "category"]
        return tuple(
            Nav(title, category=n.category, kind=n.kind, link="category")
            for title, n in zip(titles, found, strict=False)
        )

    clothing = [n for n in _walk(by_title["Clothing"]) if n.link == "category"]
    coats = next((n for n in clothing if n.title == "Coats & Jackets"), clothing[0])
    brand = "Topshop" if gender == "Women" else "Topman"
    edits = (
        links("Holiday", "EVENING EXTRAVAGANZA")
        if gender == "Women"
        else (*links("Activewear", "TEAM WERK"), *links("Workwear", "TAILORING"))
    )
    return new_in(
        gender,
        year,
        coats=(coats.title, t.cast("int", coats.category)),
        extras=(
            *links("Face + Body", "Face + Body"),
            *links("Topshop", brand),
            *links("Trending", "Trending now"),
        ),
        body_fit=links("Plus & Tall", "ASOS Curve & Plus Size", "Maternity", "Petite", "Tall")
        if gender == "Women"
        else (),
        edits=edits,
    )


def new_in(
    gender: str,
    year: int,
    *,
    coats: tuple[str, int],
    extras: tuple[Nav, ...] = (),
    body_fit: tuple[Nav, ...] = (),
    edits: tuple[Nav, ...] = (),
) -> Nav:
    """A gender's ``New in`` section as the real tree of ``year`` has it (see feeds.py).

    ``coats``: the ordinary Coats & Jackets leaf a 2023 New in links; ``extras``: ordinary
    links of NEW PRODUCTS (before Back in stock); ``body_fit``, ``edits``: containers' links.
    """
    section, view_all_title, restock_title = FEED_TITLES[check_year(year)]
    view_all, departments, restock = FEED_IDS[year][gender]
    image = f"https://images.asos-media.com/navigation/{gender}-new-in".lower()
    products = [
        Nav(
            view_all_title,
            category=view_all,
            link="category",
            image=f"{image}-view-all",
            alias=VIEW_ALL_ALIAS[gender],
            localised=True,
        ),
        *(
            Nav(title, category=cid, link="category", localised=True)
            for cid, (_kind, title) in zip(departments, DEPARTMENTS, strict=True)
        ),
    ]
    new_edits = list(edits)
    if gender == "Women":  # a real 2022 edit links the shoes New-in list
        new_edits.append(Nav("NEW-SZN SHOES", category=departments[1], link="category"))
    if year == 2023:  # noqa: PLR2004 - ordinary categories, and brand drops linking View all
        products.append(Nav(coats[0], category=coats[1], link="category"))
        new_edits.extend(Nav(title, category=view_all, link="category") for title in BRAND_DROPS)
    products.extend(extras)
    if restock is not None:
        products.append(Nav(restock_title, category=restock, link="category", localised=True))
    containers = [
        Nav("App & Mobile Promo", exclusions=("webLarge",)),
        Nav("NEW PRODUCTS", tuple(products), localised=True),
    ]
    if body_fit:
        containers.append(Nav("SHOP BY BODY FIT", body_fit))
    containers.append(Nav("NEW EDITS", tuple(new_edits), localised=True))
    return Nav(
        section,
        tuple(containers),
        link="none",
        image=image,
        alias=NEW_IN_ALIAS[gender],
        localised=True,
    )


def _internal(*titles: str) -> tuple[Nav, ...]:
    return tuple(Nav(title, link="internal") for title in titles)


def real_navigation(year: int = 2022) -> tuple[Nav, ...]:
    """The ``navigation`` section of the real-size tree, Men then Women (as upstream)."""
    men = _gender("Men", FIRST_CATEGORY_ID, year)
    women = _gender("Women", FIRST_CATEGORY_ID + DISTINCT_LEAVES["Men"], year)
    return men, women


def real_brand_names() -> list[tuple[str, list[str]]]:
    """The ``brands`` section of the real-size tree: A-Z containers of brand names."""
    return [
        (title, [f"{title.split()[1]} Label {n:03d}" for n in range(count)])
        for title, count in BRAND_CONTAINERS
    ]


class Listing(t.NamedTuple):
    """An ordinary leaf category of a tree, where its first link sits (membership.py)."""

    category_id: int
    title: str
    gender: str
    kind: str  # "" for a View all of a section of several kinds
    section: str  # "Sale", "Clothing", ... (the small tree: its group)
    container: str  # "SHOP BY PRODUCT", "SHOP BY EDIT", ...
    view_all: bool  # the section's View all: every product of its SHOP BY PRODUCT leaves


def listings(tree: str) -> tuple[Listing, ...]:
    """The ordinary leaf categories of a tree (each id once, first link first).

    The New-in section is left out: its feeds are listable but no product's category, and
    its other links repeat leaves of other sections (so the leaves are the same each year).
    """
    if tree != "real":
        return tuple(
            Listing(cid, title, gender, kind, group, SHOP_BY_PRODUCT, view_all=False)
            for gender, groups in NAVIGATION.items()
            for group, group_leaves in groups
            for title, cid, kind in group_leaves
        )
    found: dict[int, Listing] = {}
    for gender in real_navigation():
        categories = next(top for top in gender.children if top.title == "Categories")
        for section in categories.children:
            if section.alias in NEW_IN_ALIAS.values():
                continue
            for container in section.children:
                for i, node in enumerate(container.children):
                    if node.category is None or node.category in found:
                        continue
                    view_all = container.title == SHOP_BY_PRODUCT and i == 0
                    found[node.category] = Listing(
                        node.category,
                        node.title,
                        gender.title,
                        node.kind,
                        section.title,
                        container.title,
                        view_all=view_all,
                    )
    return tuple(found.values())


def leaves(tree: str) -> tuple[Leaf, ...]:
    """The ordinary leaf categories of a tree as (categoryId, title, gender, kind)."""
    return tuple((x.category_id, x.title, x.gender, x.kind) for x in listings(tree))


def _walk(node: Nav, *, new_in: bool = True) -> t.Iterator[Nav]:
    if not new_in and node.alias in NEW_IN_ALIAS.values():
        return
    yield node
    for child in node.children:
        yield from _walk(child, new_in=new_in)
