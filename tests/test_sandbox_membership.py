"""Which listings a sandbox product is on (membership.py), and what its detail says of them.

Real details name 13 to 17 listing pages in ``plpIds``, 6 to 10 of them in the year's
navigation tree: a product sits on its department leaf and, beside it, on its section's View
all, sale, outlet, edit and brand-like lists.  Checked here on the real-size tree: the mean,
the overlap, the one-small-edit products, sale lists following markdowns, and that a detail's
``plpIds`` name exactly the listings that list the product.
"""

from __future__ import annotations

import statistics
import typing as t
from collections import Counter

import pytest
import requests

from tap_asos.categories import leaf_category_ids
from tap_asos.sandbox.__main__ import parse_args
from tap_asos.sandbox.catalog import Catalog
from tap_asos.sandbox.config import SandboxConfig
from tap_asos.sandbox.membership import (
    DEPARTMENT,
    EDIT,
    OUTLET,
    SALE,
    SMALL_EDIT,
    VIEW_ALL,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

NO_FILTER = ("", "", False, False, frozenset(), frozenset())
HOST = "asos2.p.rapidapi.com"


def _real(products: int = 4000, **config: t.Any) -> Catalog:
    return Catalog(SandboxConfig(seed=5, products=products, tree="real", **config))


def _listed(catalog: Catalog, category_id: int, store: str = "US") -> set[int]:
    return set(catalog.listing(store, category_id, *NO_FILTER))


def test_a_real_size_product_is_on_about_eight_listings_beside_its_leaf() -> None:
    catalog = _real()
    roles = catalog.membership.role
    counts = [len(catalog.categories_of(k)) for k in range(catalog.count)]
    # The default from real details: 6 to 10 of their plpIds are in the year's tree.
    assert abs(statistics.mean(counts) - 8) < 0.25
    spread = Counter(counts)
    assert sum(spread[n] for n in range(5, 12)) > 0.9 * catalog.count
    sections = Counter()
    for k in range(catalog.count):
        listings = catalog.categories_of(k)
        first = catalog.first_leaf(k).category_id
        assert listings[0] == first
        assert len(set(listings)) == len(listings)
        if roles[first] == SMALL_EDIT:  # on one small edit and nothing else
            assert listings == [first]
            continue
        assert roles[first] == DEPARTMENT
        # Its section's View all is beside its leaf, and lists of other roles.
        assert roles[listings[1]] == VIEW_ALL
        assert catalog.leaf_by_id[listings[1]].gender == catalog.first_leaf(k).gender
        sections.update({roles[c] for c in listings})
    # Cross-cutting lists overlap the department ones, in real proportions.
    assert sections[EDIT] > 0.8 * catalog.count
    assert 0.05 * catalog.count < sections[OUTLET] < 0.15 * catalog.count
    assert 0.1 * catalog.count < sections[SALE] < 0.25 * catalog.count  # marked down today
    assert 0.01 * catalog.count < counts.count(1) < 0.04 * catalog.count


def test_small_edits_hold_only_products_no_big_list_reaches() -> None:
    catalog = _real()
    roles = catalog.membership.role
    small = [c for c, r in roles.items() if r == SMALL_EDIT]
    big = [c for c, r in roles.items() if r in {VIEW_ALL, DEPARTMENT}]
    on_small = set().union(*(_listed(catalog, c) for c in small))
    on_big = set().union(*(_listed(catalog, c) for c in big))
    assert on_small
    assert not on_small & on_big  # a client reading only big lists misses every one
    assert max(len(_listed(catalog, c)) for c in small) < 0.02 * catalog.count
    assert max(len(_listed(catalog, c)) for c in big) > 0.04 * catalog.count


def test_a_view_all_lists_every_product_of_its_sections_product_leaves() -> None:
    catalog = _real(products=2000)
    membership = catalog.membership
    checked = 0
    for view_all in (c for c, r in membership.role.items() if r == VIEW_ALL):
        leaves = [leaf for leaf, of in membership.view_all_of.items() if of == view_all]
        assert leaves
        union = set().union(*(_listed(catalog, leaf) for leaf in leaves))
        assert _listed(catalog, view_all) == union
        checked += bool(union)
    assert checked == sum(r == VIEW_ALL for r in membership.role.values())


def test_sale_lists_follow_markdowns_and_the_rest_stays_put() -> None:
    catalog = _real(products=2000)
    before = {k: catalog.categories_of(k) for k in range(catalog.count)}
    sale_ids = catalog.membership.sale_ids
    for k, listings in before.items():
        on_sale = [c for c in listings if c in sale_ids]
        assert bool(on_sale) == (
            catalog.markdown(k) > 0
            and catalog.membership.role[catalog.first_leaf(k).category_id] != SMALL_EDIT
        )
    catalog.advance(2)  # markdowns move every other day
    moved = 0
    for k, listings in before.items():
        after = catalog.categories_of(k)
        assert [c for c in after if c not in sale_ids] == [c for c in listings if c not in sale_ids]
        moved += after != listings
    assert moved > 200
    # The same draws from the same seed, whatever the catalog's size or day.
    other = _real(products=500)
    draws = [catalog.membership.draw(k) for k in range(500)]
    assert [other.membership.draw(k) for k in range(500)] == draws
    other_seed = Catalog(SandboxConfig(seed=6, products=500, tree="real"))
    assert [other_seed.membership.draw(k) for k in range(500)] != draws


@pytest.mark.parametrize(("tree", "mean"), [("real", 4.0), ("real", 12.0), ("small", 2.0)])
def test_listings_per_product_sets_the_mean(tree: str, mean: float) -> None:
    catalog = Catalog(SandboxConfig(seed=5, products=3000, tree=tree, listings_per_product=mean))
    counts = [len(catalog.categories_of(k)) for k in range(catalog.count)]
    assert abs(statistics.mean(counts) - mean) < 0.3


def test_the_small_tree_keeps_a_leaf_and_sometimes_a_second() -> None:
    catalog = Catalog(SandboxConfig(seed=5, products=3000))
    counts = Counter(len(catalog.categories_of(k)) for k in range(catalog.count))
    assert set(counts) == {1, 2}
    assert 0.15 < counts[2] / catalog.count < 0.25  # 1.2 listings a product
    assert SandboxConfig().listings_mean == 1.2
    assert SandboxConfig(tree="real").listings_mean == 8.0
    assert parse_args(["--listings-per-product", "6.5"]).listings_per_product == 6.5
    assert parse_args([]).listings_per_product is None


def test_a_listing_holds_a_product_iff_its_detail_names_it(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(tree="real", products=300, new_per_day=5, restocks_per_day=3)
    server.advance(3)
    catalog = server.sandbox.catalog
    with requests.Session() as session:  # keep-alive: some 900 calls
        session.headers.update({"X-RapidAPI-Key": server.api_key, "X-RapidAPI-Host": HOST})

        def get(path: str, **params: t.Any) -> t.Any:
            response = session.get(f"{server.url}{path}", params=params, timeout=10)
            response.raise_for_status()
            return response.json()

        holds: dict[int, set[int]] = {}  # product id -> the listings that list it
        for category_id in leaf_category_ids(get("/categories/list", country="US")):
            page = get("/products/v2/list", store="US", categoryId=category_id, limit=200)
            assert page["itemCount"] == len(page["products"])  # one page each
            for product in page["products"]:
                holds.setdefault(product["id"], set()).add(category_id)
        named = {}
        for k in range(catalog.count):
            detail = get("/products/v3/detail", store="US", id=catalog.product_id(k))
            named[detail["id"]] = {p["id"] for p in detail["plpIds"] if p["type"] == "Standard"}
    assert {i: s for i, s in named.items() if s} == holds
    assert statistics.mean(len(s) for s in holds.values()) > 7  # feeds come on top
    # The control endpoint names the same products: every one listed in the store today.
    control = requests.get(f"{server.url}/_sandbox/products", params={"store": "US"}, timeout=5)
    assert control.json() == {"ids": sorted(holds)}
    away = [catalog.product_id(k) for k in range(catalog.count) if catalog.is_away(k)]
    assert away
    assert not set(away) & set(holds)
