"""The sandbox catalog as a pure function of (seed, day)."""

from __future__ import annotations

from tap_asos.sandbox.catalog import Catalog
from tap_asos.sandbox.config import SandboxConfig


def test_ids_are_given_at_creation_and_map_back_to_their_index() -> None:
    catalog = Catalog(SandboxConfig(seed=3, products=2000, new_per_day=40, id_spread_days=5))
    ids = [catalog.product_id(k) for k in range(2000)]
    assert len(set(ids)) == 2000
    assert all(catalog.index_of(i) == k for k, i in enumerate(ids))
    assert catalog.index_of(ids[0] + 1) is None
    assert catalog.index_of(catalog.product_id(2000)) is None  # not gone live yet
    # A day's arrivals carry ids below the highest of the days before (not monotonic).
    last_day = ids[-40:]
    assert catalog.golive_day(1999) == 0
    assert catalog.golive_day(1960) == 0
    assert catalog.golive_day(1959) == -1
    assert sum(i < max(ids[:-40]) for i in last_day) > 20
    # ...but only so far back: within the spread of five days of arrivals.
    assert min(last_day) > sorted(ids)[2000 - 40 - 6 * 40]
    flat = Catalog(SandboxConfig(seed=3, products=2000, id_spread_days=0))
    flat_ids = [flat.product_id(k) for k in range(2000)]
    assert flat_ids == sorted(flat_ids)  # spread 0: ids grow with go-live


def test_every_product_is_listed_in_one_or_two_categories() -> None:
    catalog = Catalog(SandboxConfig(seed=3, products=3000))
    counts = [len(catalog.categories_of(k)) for k in range(3000)]
    assert set(counts) == {1, 2}
    listed = sum(
        len(catalog.listing(s, leaf.category_id, "", "", False, False, frozenset(), frozenset()))
        for leaf in catalog.leaves
        for s in ("US",)
    )
    in_us = sum(len(catalog.categories_of(k)) for k in range(3000) if catalog.in_store(k, "US"))
    assert listed == in_us


def test_same_seed_same_catalog_and_prices_move_with_days() -> None:
    a = Catalog(SandboxConfig(seed=9, products=500))
    b = Catalog(SandboxConfig(seed=9, products=500))
    assert [a.name(k) for k in range(500)] == [b.name(k) for k in range(500)]
    prices_day0 = [a.gbp_price(k) for k in range(500)]
    a.advance(4)
    assert [a.gbp_price(k) for k in range(500)] != prices_day0
    a.reset()
    assert [a.gbp_price(k) for k in range(500)] == prices_day0
    assert a.count == 500


def test_large_catalog_builds_nothing_per_product_before_a_listing_asks() -> None:
    catalog = Catalog(SandboxConfig(seed=1, products=30_000, tree="real"))
    assert catalog.count == 30_000
    assert catalog.product.cache_info().currsize == 0  # no product materialised yet
    assert len(catalog.membership.groups(0)) == 0  # no listing drawn yet
    catalog.listing(
        "US", catalog.leaves[1].category_id, "", "", False, False, frozenset(), frozenset()
    )
    # Then every product's listings at once, as compact arrays: 4 bytes a membership.
    assert len(catalog.membership.groups(0)) == 30_000
    assert catalog.product.cache_info().currsize == 0


def test_arrivals_default_to_the_rate_a_real_leaf_showed() -> None:
    # A real Shoes leaf had 181 of its 2,434 products go live in the last 28 days.
    config = SandboxConfig(products=80_000)
    assert config.arrivals_per_day == 216
    assert abs(28 * config.arrivals_per_day / config.products - 181 / 2434) < 0.002
    assert SandboxConfig(products=100).arrivals_per_day == 1
    assert SandboxConfig(products=100, new_per_day=7).arrivals_per_day == 7
    # Restocks keep their rate: 0.1 % of the catalog, or 5 % of a day's arrivals if more.
    assert SandboxConfig(products=5000).restocks == 5
    assert SandboxConfig(products=1000, new_per_day=200).restocks == 10
    assert SandboxConfig(products=1000, restocks_per_day=0).restocks == 0
