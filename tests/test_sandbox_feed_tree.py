"""The arrival feeds in the sandbox's category trees: place, titles per language, tree years.

The place of ``New in`` is read from the real 2022 tree (tests/fixtures/real), not typed in;
the feeds are found by their aliases, as a client would.
"""

from __future__ import annotations

import typing as t

import pytest
import requests

from tap_asos.categories import flatten_tree, leaf_category_ids
from tap_asos.sandbox import SandboxConfig, SandboxServer
from tap_asos.sandbox.__main__ import parse_args
from tests.helpers import api_get
from tests.sandbox_shapes import load

if t.TYPE_CHECKING:
    from collections.abc import Callable

REAL = load("categories-list-2022.json")
SECTION = {"Women": "WW_NI", "Men": "MW_NI"}
VIEW_ALL = {"Women": "WW_NI_VA", "Men": "MW_NI_VA"}
DEPARTMENTS = ("Clothing", "Shoes", "Accessories")
Node = dict[str, t.Any]


def _tree(server: SandboxServer, lang: str | None = None) -> Node:
    params = {"country": "US", **({"lang": lang} if lang else {})}
    return t.cast("Node", api_get(server.url, server.api_key, "/categories/list", **params))


def _by_alias(tree: Node) -> dict[str, Node]:
    """Every navigation node that has an alias, with its record (depth, parent, path)."""
    return {r["alias"]: r for r in flatten_tree({"navigation": tree["navigation"]}) if r["alias"]}


def _node(tree: Node, node_id: str) -> Node:
    """A navigation node with its children, by id."""
    stack = list(tree["navigation"])
    while stack:
        node = stack.pop()
        if node["id"] == node_id:
            return node
        stack.extend(node["children"])
    raise AssertionError(node_id)


def _place(tree: Node, gender: str) -> dict[str, t.Any]:
    """Where a gender's New in sits: depth, parent, sibling before it, containers, products."""
    records = {r["id"]: r for r in flatten_tree({"navigation": tree["navigation"]})}
    section = _by_alias(tree)[SECTION[gender]]
    parent = _node(tree, section["parentId"])
    siblings = [c["content"]["title"] for c in parent["children"]]
    containers = _node(tree, section["id"])["children"]
    # NEW PRODUCTS, whatever its title in the language asked for: View all comes first.
    products = next(
        c["children"]
        for c in containers
        if c["children"] and c["children"][0]["alias"] == VIEW_ALL[gender]
    )
    return {
        "depth": section["depth"],
        "parent": records[section["parentId"]]["content"]["title"],
        "parent_depth": records[section["parentId"]]["depth"],
        "after_sale": "sale" in siblings[siblings.index(section["content"]["title"]) - 1].lower(),
        "type": (section["type"], (section["link"] or {}).get("linkType")),
        "containers": [c["content"]["title"] for c in containers],
        "first_product": (products[0]["alias"], products[0]["link"]["categoryId"]),
        "products": {p["content"]["title"]: p["link"]["categoryId"] for p in products},
    }


@pytest.mark.parametrize("tree", ["small", "real"])
def test_new_in_sits_where_the_real_one_does_and_is_found_by_alias(
    make_sandbox: Callable[..., SandboxServer], tree: str
) -> None:
    ours = _tree(make_sandbox(tree=tree, products=300))
    for gender, view_all in (("Women", 27108), ("Men", 27110)):
        real, got = _place(REAL, gender), _place(ours, gender)
        for key in ("depth", "parent", "parent_depth", "after_sale", "type"):
            assert got[key] == real[key], (gender, key)
        assert (got["depth"], got["parent"], got["type"]) == (2, "Categories", ("link", None))
        assert got["first_product"] == real["first_product"] == (VIEW_ALL[gender], view_all)
        # The real containers, in their order (the small tree leaves out SHOP BY BODY FIT).
        assert [c for c in real["containers"] if c in got["containers"]] == got["containers"]
        assert {"App & Mobile Promo", "NEW PRODUCTS", "NEW EDITS"} <= set(got["containers"])
        if tree == "real":
            assert got["containers"] == real["containers"]
        for title in (*DEPARTMENTS, "Back in stock"):  # the real 2022 ids
            assert got["products"][title] == real["products"][title], (gender, title)
    assert _by_alias(ours)["WW_NI_VA"]["path"].startswith("Women > Categories > New in > ")


def test_the_feeds_are_listable_leaves_of_the_tree(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(tree="real", products=600)
    leaves = leaf_category_ids(_tree(server))
    feeds = [*_place(REAL, "Women")["products"].values(), *_place(REAL, "Men")["products"].values()]
    wanted = [f for f in feeds if f in {27108, 27110, 17204, 17010, 2623, 6993}]
    assert len(wanted) == 6
    for category_id in wanted:
        assert category_id in leaves
        body = api_get(
            server.url, server.api_key, "/products/v2/list", store="US", categoryId=category_id
        )
        assert body["categoryName"]
        assert any(f["id"] == "freshness_band" for f in body["facets"])


def _feed_titles(tree: Node) -> dict[str, str]:
    """Titles of the New-in nodes of Women by role: section, container, View all, ..."""
    place = _place(tree, "Women")
    by_id = {v: k for k, v in place["products"].items()}
    return {
        "section": _by_alias(tree)["WW_NI"]["content"]["title"],
        "container": place["containers"][1],  # after App & Mobile Promo
        **{role: by_id[cid] for role, cid in (("view_all", 27108), ("back", 17204))},
        **{role: by_id[cid] for role, cid in zip(DEPARTMENTS, (2623, 6992, 27109), strict=True)},
    }


def test_feed_titles_follow_lang_and_aliases_ids_and_guids_do_not(sandbox: SandboxServer) -> None:
    english = _tree(sandbox)
    assert _tree(sandbox, "en-US") == english
    assert _feed_titles(english) == {
        "section": "New in",
        "container": "NEW PRODUCTS",
        "view_all": "View all",
        "back": "Back in stock",
        "Clothing": "Clothing",
        "Shoes": "Shoes",
        "Accessories": "Accessories",
    }
    seen = {}
    for lang in ("de-DE", "fr-FR", "es-ES", "it-IT", "sv-SE"):
        tree = _tree(sandbox, lang)
        titles = _feed_titles(tree)
        # Every feed title is translated (Accessoires is French and German alike).
        assert all(titles[k] != v for k, v in _feed_titles(english).items()), (lang, titles)
        seen[lang] = tuple(titles.values())
        assert _by_alias(tree).keys() == _by_alias(english).keys()
        assert [r["id"] for r in flatten_tree(tree)] == [r["id"] for r in flatten_tree(english)]
        assert leaf_category_ids(tree) == leaf_category_ids(english)
    assert len(set(seen.values())) == 5
    assert _feed_titles(_tree(sandbox, "de-DE"))["view_all"] == "Alle anzeigen"


def test_a_2023_tree_has_no_back_in_stock_links_ordinary_categories_and_drops_view_all(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    for tree in ("small", "real"):
        server = make_sandbox(tree=tree, tree_year=2023, products=300)
        ours = _tree(server)
        ordinary = {leaf.category_id for leaf in server.sandbox.catalog.leaves}
        for gender, view_all in (("Women", 27108), ("Men", 27110)):
            place = _place(ours, gender)
            assert place["first_product"] == (VIEW_ALL[gender], view_all)
            assert "Back in stock" not in place["products"]
            assert set(place["products"].values()) & ordinary  # e.g. Coats & Jackets
            section = _node(ours, _by_alias(ours)[SECTION[gender]]["id"])
            edits = next(c for c in section["children"] if c["content"]["title"] == "NEW EDITS")
            drops = [e for e in edits["children"] if e["link"]["categoryId"] == view_all]
            assert len(drops) >= 2  # "brand drop" nodes linking View all itself
        assert 17204 not in leaf_category_ids(ours)
        gone = requests.get(
            f"{server.url}/products/v2/list",
            params={"store": "US", "categoryId": 17204},
            headers={"X-RapidAPI-Key": server.api_key, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
            timeout=5,
        )
        assert gone.status_code == 400


def test_a_2025_tree_renames_and_renumbers_the_feeds_but_keeps_the_aliases(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    old = make_sandbox(products=600, restocks_per_day=10)
    new = make_sandbox(products=600, restocks_per_day=10, tree_year=2025)
    old.advance(3)
    new.advance(3)
    tree = _tree(new)
    aliases = _by_alias(tree)
    assert aliases["WW_NI"]["content"]["title"] == "Just in"
    assert aliases["WW_NI_VA"]["content"]["title"] == "Shop all"
    assert {a: aliases[a]["categoryId"] for a in VIEW_ALL.values()} == {
        "WW_NI_VA": 31108,
        "MW_NI_VA": 31110,
    }
    place = _place(tree, "Men")
    assert place["products"]["Restocked"] == 18010
    assert not {27108, 27110, 17204, 17010} & set(leaf_category_ids(tree))
    # The same products, under the new ids.
    for was, now in ((27108, 31108), (17010, 18010), (6993, 36993)):
        before = api_get(old.url, old.api_key, "/products/v2/list", store="US", categoryId=was)
        after = api_get(new.url, new.api_key, "/products/v2/list", store="US", categoryId=now)
        assert after["itemCount"] == before["itemCount"] > 0
        assert [p["id"] for p in after["products"]] == [p["id"] for p in before["products"]]


def test_the_tree_year_knob_is_checked_and_on_the_command_line() -> None:
    with pytest.raises(ValueError, match="tree_year must be one of 2022, 2023, 2025"):
        SandboxServer(SandboxConfig(tree_year=2024, products=10))
    args = parse_args(
        [
            "--tree-year",
            "2023",
            "--new-in-days",
            "30",
            "--new-in-skip-percent",
            "10",
            "--back-in-stock-days",
            "7",
        ]
    )
    assert (args.tree_year, args.new_in_days, args.new_in_skip_percent) == (2023, 30, 10)
    assert args.back_in_stock_days == 7
    assert parse_args([]).tree_year == 2022
    with pytest.raises(SystemExit):
        parse_args(["--tree-year", "2024"])
