"""The arrival feeds' listings and the memberships a detail names (``plpIds``).

What a feed should hold is worked out here from the catalog's plain facts (go-live day,
gender of the first leaf, store, sold out today) and from what the sandbox's own answers
told (``advance``: the arrivals that skip New in; which products were away on which day),
then compared with what the API lists, in order, page by page.
"""

from __future__ import annotations

import typing as t

from tests.helpers import api_get, listed_ids

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

VIEW_ALL = {"Women": 27108, "Men": 27110}
DEPARTMENT = {
    ("Women", "clothing"): 2623,
    ("Women", "shoes"): 6992,
    ("Women", "onesize"): 27109,
    ("Men", "clothing"): 6993,
    ("Men", "shoes"): 17184,
    ("Men", "onesize"): 27112,
}
BACK_IN_STOCK = {"Women": 17204, "Men": 17010}
BAND_DAYS = (1, 2, 7, 14, 28)


def _listing(server: SandboxServer, category_id: int, **params: t.Any) -> dict[str, t.Any]:
    return t.cast(
        "dict[str, t.Any]",
        api_get(
            server.url,
            server.api_key,
            "/products/v2/list",
            store="US",
            categoryId=category_id,
            sort="freshness",
            limit=200,
            **params,
        ),
    )


def _bands(body: dict[str, t.Any]) -> list[int]:
    facet = next(f for f in body["facets"] if f["id"] == "freshness_band")
    return [v["count"] for v in facet["facetValues"]]


def _live(server: SandboxServer, gender: str, kind: str | None = None) -> list[int]:
    """Indices of a gender's products listed in the US today (not away), maybe of one kind."""
    catalog = server.sandbox.catalog
    return [
        k
        for k in range(catalog.count)
        if catalog.in_store(k, "US")
        and not catalog.is_away(k)
        and catalog.leaf_by_id[catalog.categories_of(k)[0]].gender == gender
        and (kind is None or catalog.leaf_by_id[catalog.categories_of(k)[0]].kind == kind)
    ]


def _in_freshness_order(server: SandboxServer, day_of: dict[int, int]) -> list[int]:
    """Ids of products (index -> day) as a freshness listing orders them."""
    catalog = server.sandbox.catalog
    return [
        catalog.product_id(k)
        for k in sorted(day_of, key=lambda k: (-day_of[k], catalog.product_id(k)))
    ]


def _check_bands(server: SandboxServer, body: dict[str, t.Any], days: list[int]) -> None:
    """The facet's cumulative counts are the day blocks' sizes, newest first."""
    today = server.sandbox.catalog.day
    assert _bands(body) == [sum(today - d < n for d in days) for n in BAND_DAYS]


def test_new_in_holds_the_last_new_in_days_of_arrivals_in_day_blocks(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=1000, new_per_day=40, new_in_days=10, freshness_facet_percent=0)
    server.advance(4)
    catalog = server.sandbox.catalog
    for gender in ("Women", "Men"):
        expected = {
            k: catalog.golive_day(k)
            for k in _live(server, gender)
            if catalog.day - catalog.golive_day(k) < 10
        }
        assert sorted(set(expected.values())) == list(range(catalog.day - 9, catalog.day + 1))
        body = _listing(server, VIEW_ALL[gender])
        got = listed_ids(server.url, server.api_key, "US", VIEW_ALL[gender])
        assert body["itemCount"] == len(got) == len(expected) > 150
        assert got == _in_freshness_order(server, expected)
        _check_bands(server, body, list(expected.values()))
        # The listing is filterable like any other: by band, by brand.
        last_week = _listing(server, VIEW_ALL[gender], freshness_band="3")
        assert last_week["itemCount"] == _bands(body)[2] < len(got)
        brand = next(f for f in body["facets"] if f["id"] == "brand")["facetValues"][0]
        assert _listing(server, VIEW_ALL[gender], brand=brand["id"])["itemCount"] == brand["count"]
    # An ordinary leaf of the same sandbox has no freshness facet (percent 0): feeds always do.
    leaf = catalog.leaves[0].category_id
    assert all(f["id"] != "freshness_band" for f in _listing(server, leaf)["facets"])


def test_department_lists_split_new_in_by_kind(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(products=1000, new_per_day=40, new_in_days=10)
    server.advance(2)
    catalog = server.sandbox.catalog
    parts = []
    for (gender, kind), category_id in DEPARTMENT.items():
        expected = {
            k: catalog.golive_day(k)
            for k in _live(server, gender, kind)
            if catalog.day - catalog.golive_day(k) < 10
        }
        got = listed_ids(server.url, server.api_key, "US", category_id)
        assert got == _in_freshness_order(server, expected)
        assert len(got) > 20
        _check_bands(server, _listing(server, category_id), list(expected.values()))
        parts.append(set(got))
    for gender, at in (("Women", 0), ("Men", 3)):
        whole = listed_ids(server.url, server.api_key, "US", VIEW_ALL[gender])
        assert set().union(*parts[at : at + 3]) == set(whole)
        assert sum(map(len, parts[at : at + 3])) == len(whole)  # in one department list


def test_a_share_of_arrivals_never_enters_new_in(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    # Three days of arrivals, all of them inside a three-day New in.
    server = make_sandbox(products=1000, new_per_day=200, new_in_days=3, new_in_skip_percent=30)
    catalog = server.sandbox.catalog
    arrived = set()
    skipped: set[int] = set()
    for _ in range(3):
        before = catalog.count
        answer = server.advance(1)
        arrived |= {catalog.product_id(k) for k in range(before, catalog.count)}
        skipped |= set(answer["new_in_skipped"])
    assert skipped <= arrived
    assert 0.25 < len(skipped) / len(arrived) < 0.35  # 30 % of 600 arrivals
    listed = set()
    for gender in ("Women", "Men"):
        listed |= set(listed_ids(server.url, server.api_key, "US", VIEW_ALL[gender]))
    live_today = {
        catalog.product_id(k)
        for gender in ("Women", "Men")
        for k in _live(server, gender)
        if catalog.day - catalog.golive_day(k) < 3
    }
    assert live_today <= arrived
    assert listed == live_today - skipped
    assert skipped & live_today  # some skipped ones are sold in the US and live: left out
    assert make_sandbox(products=300).advance(1)["new_in_skipped"] == []


def test_back_in_stock_holds_the_restocked_ones_by_restock_day(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=1000, restocks_per_day=15, back_in_stock_days=3)
    catalog = server.sandbox.catalog
    back_on: dict[int, int] = {}  # product -> the day it came back, as seen from outside
    away: list[int] = []
    for _ in range(6):
        server.advance(1)
        back_on.update(dict.fromkeys(away, catalog.day))  # away yesterday, back today
        away = [k for k in range(catalog.count) if catalog.is_away(k)]
    assert len(back_on) > 50
    for gender in ("Women", "Men"):
        expected = {
            k: day
            for k, day in back_on.items()
            if k in set(_live(server, gender)) and catalog.day - day < 3
        }
        assert len(set(expected.values())) == 3  # three restock days' blocks
        body = _listing(server, BACK_IN_STOCK[gender])
        got = listed_ids(server.url, server.api_key, "US", BACK_IN_STOCK[gender])
        assert body["itemCount"] == len(got) == len(expected)
        assert got == _in_freshness_order(server, expected)
        _check_bands(server, body, list(expected.values()))


def _detail(server: SandboxServer, k: int) -> dict[str, t.Any]:
    product_id = server.sandbox.catalog.product_id(k)
    return t.cast(
        "dict[str, t.Any]",
        api_get(server.url, server.api_key, "/products/v3/detail", store="US", id=product_id),
    )


def test_plp_ids_name_the_feeds_a_product_is_in_today(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=1000, new_per_day=20, new_in_days=3, restocks_per_day=15)
    server.advance(4)
    catalog = server.sandbox.catalog
    feeds = [*VIEW_ALL.values(), *DEPARTMENT.values(), *BACK_IN_STOCK.values()]
    listings = {f: set(listed_ids(server.url, server.api_key, "US", f)) for f in feeds}
    kinds = {"new": 0, "old": 0, "back": 0, "not listed": 0}
    for k in range(0, catalog.count, 5):
        detail = _detail(server, k)
        pages = [(p["id"], p["type"]) for p in detail["plpIds"]]
        assert pages == sorted(pages)  # ascending ids, as in the real detail
        assert [kind for _id, kind in pages].count("Brand") == 1
        standard = {cid for cid, kind in pages if kind == "Standard"}
        if not catalog.in_store(k, "US") or catalog.is_away(k):
            assert standard == set()  # on no listing of the store today
            kinds["not listed"] += 1
            continue
        leaf = catalog.first_leaf(k)
        new = catalog.day - catalog.golive_day(k) < 3
        wanted = [VIEW_ALL[leaf.gender], DEPARTMENT[leaf.gender, leaf.kind]] if new else []
        restocked = catalog.listed_day(k) != catalog.golive_day(k)  # back on top some day
        if restocked and catalog.day - catalog.listed_day(k) < 14:
            wanted.append(BACK_IN_STOCK[leaf.gender])
        # Its navigation listings, and the feeds it is in today.
        assert standard - set(catalog.categories_of(k)) == set(wanted), k
        assert set(catalog.categories_of(k)) <= standard
        kinds["new" if new else "back" if wanted else "old"] += 1
        # Each feed named is a listing the product is on, and no other feed lists it.
        assert {f for f, ids in listings.items() if detail["id"] in ids} == set(wanted)
    assert min(kinds.values()) > 3, kinds
