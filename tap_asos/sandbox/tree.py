"""Category trees of the sandbox: the small default one, or one of the real API's size.

The real ``/categories/list`` (tests/fixtures/real/categories-list-2022.json, US) has two
genders and depth 5: gender > top containers ("Home", "Categories", "More ASOS", ...) >
section links ("Sale", "Clothing", "Shoes", ...) > containers ("SHOP BY PRODUCT", ...) >
category links. It holds 1,034 navigation nodes, 878 leaves, 820 leaf category links naming
573 distinct category ids (a category is linked from several sections), and a ``brands``
section of 1,316 nodes (5 A-Z containers of brand pages). ``--tree real`` generates a tree of
that size and shape, the same for every seed; its category ids are invented.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_asos.sandbox.config import NAVIGATION

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
CONTAINERS = ("SHOP BY PRODUCT", "SHOP BY EDIT", "SHOP BY BODY FIT", "SHOP BY BRAND", "TRENDING")
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
DISTINCT_LEAVES = {"Men": 266, "Women": 307}  # 573 distinct category ids, as in the real tree
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
    link: str = ""  # "": a container; "category", "internal" or "aToZBrands": a link
    exclusions: tuple[str, ...] = ()
    subtitle: str | None = None
    image: str | None = None  # content.webLargeImageUrl and mobileImageUrl


def _gender(gender: str, first_id: int) -> Nav:
    """One gender of the real-size tree: about 520 nodes, 410 category leaves."""
    pool = DISTINCT_LEAVES[gender]
    links = 0

    def category(title: str, kind: str) -> Nav:
        nonlocal links
        # Each id is linked once, then later links repeat earlier ids, as "View all" and
        # sale pages repeat across sections of the real tree.
        index = links if links < pool else (links * 7919) % pool
        links += 1
        return Nav(title, category=first_id + index, kind=kind, link="category")

    sections = []
    for s, (section, section_kind) in enumerate(SECTIONS):
        containers = []
        for c in range(3 + (s * 5 + 1) % 3):  # 3 to 5 containers, 4 on average
            leaves = []
            for j in range(5 + (s * 3 + c * 5) % 5):  # 5 to 9 leaves
                kind = section_kind or KINDS[(s + c + j) % len(KINDS)]
                leaves.append(category(TITLES[kind][(s + c * 3 + j) % len(TITLES[kind])], kind))
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


def _internal(*titles: str) -> tuple[Nav, ...]:
    return tuple(Nav(title, link="internal") for title in titles)


def real_navigation() -> tuple[Nav, ...]:
    """The ``navigation`` section of the real-size tree, Men then Women (as upstream)."""
    men = _gender("Men", FIRST_CATEGORY_ID)
    women = _gender("Women", FIRST_CATEGORY_ID + DISTINCT_LEAVES["Men"])
    return men, women


def real_brand_names() -> list[tuple[str, list[str]]]:
    """The ``brands`` section of the real-size tree: A-Z containers of brand names."""
    return [
        (title, [f"{title.split()[1]} Label {n:03d}" for n in range(count)])
        for title, count in BRAND_CONTAINERS
    ]


def leaves(tree: str) -> tuple[Leaf, ...]:
    """The leaf categories of a tree (each id once, first link first): what is listable."""
    if tree == "real":
        found: dict[int, Leaf] = {}
        for gender in real_navigation():
            for node in _walk(gender):
                if node.category is not None and not node.children:
                    found.setdefault(
                        node.category, (node.category, node.title, gender.title, node.kind)
                    )
        return tuple(found.values())
    return tuple(
        (cid, title, gender, kind)
        for gender, groups in NAVIGATION.items()
        for _group, group_leaves in groups
        for title, cid, kind in group_leaves
    )


def _walk(node: Nav) -> t.Iterator[Nav]:
    yield node
    for child in node.children:
        yield from _walk(child)
