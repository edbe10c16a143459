"""The sandbox serves every field path of every real sample, with the real type and nullability.

The real samples are in tests/fixtures/real (provenance in its README). Every item of every
list the sandbox returns is compared, an empty list where the real one always has items
fails, and every real path must be served (a detail's ``rating`` fields too, in the shape
the reference gives: the real detail's ``rating`` is null).
"""

from __future__ import annotations

import typing as t

import pytest

from tap_asos.categories import leaf_category_ids
from tap_asos.sandbox import SandboxConfig, payloads
from tap_asos.sandbox.catalog import Catalog
from tap_asos.sandbox.config import CURRENCIES
from tests.helpers import api_get
from tests.sandbox_shapes import (
    REFERENCE_RATING,
    detail_samples,
    fold_children,
    load,
    missing_paths,
    shape_errors,
    table,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

# Fields the reference (../shared/asos-api/README.md) marks nullable beyond the real nulls.
LISTING_NULLABLE = (
    "$.products[].price.previous.value",
    "$.products[].price.rrp.value",
    "$.products[].groupId",
    "$.products[].videoUrl",
    "$.products[].sponsoredCampaignId",
    "$.products[].advertisement",
    "$.queryId",
)
# Documented by the reference's 2024 listing shape, absent from the 2023 samples.
LISTING_EXTRA = ("$.diagnostics.advertisements*",)
MONEY_NULLABLE = ("*.value", "*.text", "*.conversionId")
DETAIL_NULLABLE = (
    "$.countryOfManufacture",
    "$.info.sizeAndFit",
    "$.localisedData",
    "$.rating",
    "$.shippingRestriction",
    "$.sizeGuideApiUrl",
    *(f"$.price.{m}" for m in MONEY_NULLABLE),
    *(f"$.variants[].price.{m}" for m in MONEY_NULLABLE),
)
# The reference's model shows `catwalk: []`: products without a catwalk video.
DETAIL_EMPTY = ("$.media.catwalk",)
CATEGORY_NULLABLE = tuple(
    f"$.{section}[].{f}"
    for section in ("navigation", "brands", "footer")
    for f in (
        "alias",
        "content.subTitle",
        "content.webLargeImageUrl",
        "content.mobileImageUrl",
        "display",
        "style.*StyleType",
        "link",
        "link.brandSectionAlias",
        "link.categoryId",
        "link.webUrl",
        "link.appUrl",
    )
)
CATEGORY_PAGE = load("products-v2-list-category-2023.json")
SEARCH_PAGE = load("products-v2-list-search-2023.json")
PRODUCTS_2024 = {"products": load("products-v2-list.products.json")}


@pytest.fixture
def restocked(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox a few days on, so that every listing has products (Back in stock too)."""
    server = make_sandbox(restocks_per_day=10)
    server.advance(3)
    return server


def _listings(sandbox: SandboxServer) -> tuple[list[t.Any], list[t.Any]]:
    """One full page of every leaf category (feeds included), and a few searches."""
    tree = api_get(sandbox.url, sandbox.api_key, "/categories/list", country="US")
    get = api_get
    pages = [
        get(sandbox.url, sandbox.api_key, "/products/v2/list", store="US", categoryId=c, limit=200)
        for c in leaf_category_ids(tree)
    ]
    searches = [
        get(sandbox.url, sandbox.api_key, "/products/v2/list", store="US", q=q, limit=200)
        for q in ("boots", "dress")
    ]
    return pages, searches


def test_listings_have_the_real_shape_and_every_real_path(restocked: SandboxServer) -> None:
    real = table(CATEGORY_PAGE, SEARCH_PAGE, PRODUCTS_2024)
    pages, searches = _listings(restocked)
    assert sum(len(p["products"]) for p in pages) > 500
    assert all(p["products"] for p in pages)  # the Back in stock feeds too
    errors = set()
    for page in [*pages, *searches]:
        errors |= set(shape_errors(real, page, nullable=LISTING_NULLABLE, extra=LISTING_EXTRA))
    assert sorted(errors) == []
    for sample, ours in (
        (CATEGORY_PAGE, pages),
        (SEARCH_PAGE, searches),
        (PRODUCTS_2024, pages),
    ):
        assert missing_paths(table(sample), table(*ours)) == []


def test_details_have_the_real_shape_and_every_real_path(restocked: SandboxServer) -> None:
    real = table(*detail_samples())  # with the reference's rating: its fields must be served
    pages, _ = _listings(restocked)
    ids = [p["products"][i]["id"] for p in pages for i in (0, 1, 2)]
    details = [
        api_get(restocked.url, restocked.api_key, "/products/v3/detail", store="US", id=pid)
        for pid in ids
    ]
    errors = set()
    for detail in details:
        errors |= set(shape_errors(real, detail, nullable=DETAIL_NULLABLE, empty=DETAIL_EMPTY))
    assert sorted(errors) == []
    assert missing_paths(real, table(*details)) == []


def _ratings(catalog: Catalog, currency: str = "USD") -> list[t.Any]:
    """The detail ``rating`` of every live product of a catalog, in index order."""
    cur = CURRENCIES[currency]
    return [
        payloads.detail(catalog, k, cur, "US", "en-US", store="US")["rating"]
        for k in range(catalog.count)
    ]


def test_a_share_of_details_carry_a_plausible_rating_fixed_per_product() -> None:
    config = SandboxConfig(seed=5, products=2000)
    catalog = Catalog(config)
    ratings = _ratings(catalog)
    rated = [r for r in ratings if r is not None]
    # Some products have reviews, the others `rating: null` as in the real detail.
    share = len(rated) / len(ratings)
    assert 0.3 < share < 0.9
    assert abs(share * 100 - payloads.RATED_PERCENT) < 5
    assert {tuple(r) for r in rated} == {tuple(REFERENCE_RATING)}
    assert {tuple(type(v) for v in r.values()) for r in rated} == {(float, float, int)}
    for average, stars, count in (r.values() for r in rated):
        assert 1 <= average <= 5
        assert average == round(average, 1)
        assert stars * 2 == int(stars * 2)  # half stars
        assert abs(stars - average) <= 0.25
        assert count >= 1
    assert len({r["totalReviewCount"] for r in rated}) > 100
    assert len({r["averageOverallStarRating"] for r in rated}) == 9  # every half star 1-5
    # A function of (seed, product): not of the currency, the day or a second catalog...
    assert _ratings(Catalog(config), "GBP") == ratings
    catalog.advance(3)
    assert _ratings(catalog)[: len(ratings)] == ratings
    # ...and another seed rates other products.
    assert _ratings(Catalog(SandboxConfig(seed=6, products=2000))) != ratings


def test_countries_have_the_real_shape(sandbox: SandboxServer) -> None:
    real = table(load("countries-list.json"))
    ours = api_get(sandbox.url, sandbox.api_key, "/countries/list", lang="en-US")
    assert len(ours) >= 8
    assert {c["store"] for c in ours} >= {"US", "COM", "ROW", "DE"}
    assert sum(c["store"] == "ROW" for c in ours) > 1
    assert shape_errors(real, ours) == []
    assert missing_paths(real, table(ours)) == []


def test_category_tree_nodes_have_the_real_shape_in_every_section(sandbox: SandboxServer) -> None:
    real = table(load("categories-list-2022.json"), fold=fold_children)
    ours = api_get(sandbox.url, sandbox.api_key, "/categories/list", country="US")
    assert shape_errors(real, ours, nullable=CATEGORY_NULLABLE) == []
    assert missing_paths(real, table(ours, fold=fold_children)) == []
    for section in ("brands", "footer"):  # nested like the real ones, not flat
        assert all(node["children"] for node in ours[section])


# --- the comparison itself can fail -------------------------------------------------------


def test_every_item_is_compared_not_only_the_first() -> None:
    real = table({"items": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]})
    ours = {"items": [{"a": 1, "b": "x"}, {"a": 2, "b": 3}, {"a": 3}]}
    assert shape_errors(real, ours) == [
        "$.items[].b: missing",
        "$.items[].b: number where the real API has string",
    ]


def test_an_empty_list_where_the_real_one_has_items_fails() -> None:
    real = table({"items": [{"a": 1}]}, {"items": [{"a": 2}]})
    assert shape_errors(real, {"items": []}) == [
        "$.items: empty where the real API always has items"
    ]
    assert missing_paths(real, table({"items": []})) == [
        "$.items[]: never served",
        "$.items[].a: never served",
    ]


@pytest.mark.parametrize(
    ("nullable", "expected"),
    [((), ["$.a: null where the real API is never null"]), (("$.a",), [])],
)
def test_null_passes_only_where_real_or_reference_allows_it(
    nullable: tuple[str, ...], expected: list[str]
) -> None:
    real = table({"a": 1, "b": None, "c": [1, None]})
    assert shape_errors(real, {"a": None, "b": None, "c": [None]}, nullable=nullable) == expected


def test_a_real_type_never_served_is_reported() -> None:
    real = table({"a": 1}, {"a": "one"})
    assert missing_paths(real, table({"a": 2})) == ["$.a: never served as string"]
