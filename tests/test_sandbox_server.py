"""The sandbox over HTTP: real shapes, paging, RapidAPI gateway, parameters, CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import typing as t

import pytest
import requests

from tap_asos.categories import leaf_category_ids
from tap_asos.sandbox import SandboxConfig, SandboxServer
from tap_asos.sandbox.__main__ import parse_args
from tests.helpers import api_get, listed_ids

if t.TYPE_CHECKING:
    from collections.abc import Callable

HOST_NAME = "asos2.p.rapidapi.com"
HOST = {"X-RapidAPI-Host": HOST_NAME}


def _get(
    server: SandboxServer, path: str, key: str | None = "default", **params: t.Any
) -> requests.Response:
    headers = dict(HOST)
    if key is not None:
        headers["X-RapidAPI-Key"] = server.api_key if key == "default" else key
    return requests.get(f"{server.url}{path}", params=params, headers=headers, timeout=10)


def _leaf_ids(server: SandboxServer) -> list[int]:
    tree = api_get(server.url, server.api_key, "/categories/list", country="US")
    return sorted(leaf_category_ids(tree))


def test_paging_covers_every_product_exactly_once(sandbox: SandboxServer) -> None:
    for category_id in _leaf_ids(sandbox)[:4]:
        for limit in (7, 48):
            ids: list[int] = []
            offset = 0
            while True:
                page = api_get(
                    sandbox.url,
                    sandbox.api_key,
                    "/products/v2/list",
                    store="US",
                    categoryId=category_id,
                    offset=offset,
                    limit=limit,
                )
                ids += [p["id"] for p in page["products"]]
                offset += limit
                if offset >= page["itemCount"]:
                    break
            assert len(ids) == len(set(ids)) == page["itemCount"] > 0


def test_deep_offsets_are_capped_and_facets_split_the_listing(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    # New in (the first leaf id) holds 56 days of arrivals: 2 % of the catalog a day.
    server = make_sandbox(max_offset=50, new_per_day=24)
    category_id = _leaf_ids(server)[0]

    def page(offset: int, limit: int = 48, **filters: t.Any) -> dict[str, t.Any]:
        return t.cast(
            "dict[str, t.Any]",
            api_get(
                server.url,
                server.api_key,
                "/products/v2/list",
                store="US",
                categoryId=category_id,
                offset=offset,
                limit=limit,
                sort="freshness",
                **filters,
            ),
        )

    first = page(0)
    total = first["itemCount"]
    assert total > 50
    assert len(page(48)["products"]) == 2  # served up to position 50, no deeper
    deep = page(60)
    assert deep["products"] == []
    assert deep["itemCount"] == total  # the total still tells what lies beyond
    brands = next(f for f in first["facets"] if f["id"] == "brand")["facetValues"]
    assert sum(v["count"] for v in brands) == total  # facets count the whole listing
    sliced: list[int] = []
    for value in brands:
        part = page(0, 50, brand=value["id"])
        assert part["itemCount"] == value["count"]
        sliced += [p["id"] for p in part["products"]]
    assert len(sliced) == len(set(sliced)) == total
    uncapped = make_sandbox(new_per_day=24)
    assert set(sliced) == set(listed_ids(uncapped.url, uncapped.api_key, "US", category_id))


def _bands(body: dict[str, t.Any]) -> list[int] | None:
    facet = next((f for f in body["facets"] if f["id"] == "freshness_band"), None)
    return None if facet is None else [v["count"] for v in facet["facetValues"]]


def _day_blocks(ids: list[int]) -> list[list[int]]:
    """Split a listing into its ascending runs (a run may hold several days)."""
    runs: list[list[int]] = [[]]
    for i in ids:
        if runs[-1] and i < runs[-1][-1]:
            runs.append([])
        runs[-1].append(i)
    return runs


def test_freshness_lists_day_blocks_newest_first_with_ids_given_at_creation(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=800, freshness_facet_percent=100, new_per_day=16)
    categories = _leaf_ids(server)
    before = {c: listed_ids(server.url, server.api_key, "US", c) for c in categories}
    answer = server.advance(2)
    assert answer["new_products"] == 2 * 16
    highest_before = max(max(ids) for ids in before.values() if ids)
    new_total, below = 0, 0
    for category in categories:
        body = api_get(
            server.url,
            server.api_key,
            "/products/v2/list",
            store="US",
            categoryId=category,
            limit=200,
            sort="freshness",
        )
        after = [p["id"] for p in body["products"]]
        bands = _bands(body)
        assert bands is not None
        assert bands == sorted(bands)  # cumulative: Yesterday includes Today
        today, two_days = bands[0], bands[1]
        # Today's block, then Yesterday's: each ascending, as on real pages.
        assert after[:today] == sorted(after[:today])
        assert after[today:two_days] == sorted(after[today:two_days])
        new = set(after) - set(before[category])
        new_total += len(new)
        below += sum(i < highest_before for i in new)
    assert new_total >= answer["new_products"] * 0.8  # ~8 % are not sold in US
    # Ids are given at creation: most of the new products carry ids below old ones.
    assert below > new_total // 2
    health = requests.get(f"{server.url}/_sandbox/health", timeout=5).json()
    assert health == {"status": "ok", "day": 2, "products": 800 + answer["new_products"]}


def test_the_freshness_facet_is_on_some_listings_and_filters_by_band(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=2000)
    server.advance(3)
    bodies = {
        c: api_get(server.url, server.api_key, "/products/v2/list", store="US", categoryId=c)
        for c in _leaf_ids(server)
    }
    with_facet = [c for c, b in bodies.items() if _bands(b) is not None]
    assert 0 < len(with_facet) < len(bodies)  # real pages: on some listings, not all
    search = api_get(server.url, server.api_key, "/products/v2/list", store="US", q="jeans")
    assert _bands(search) is None
    category = with_facet[0]
    bands = _bands(bodies[category])
    assert bands is not None
    for value, count in zip(("1", "2", "3", "4", "5"), bands, strict=True):
        part = api_get(
            server.url,
            server.api_key,
            "/products/v2/list",
            store="US",
            categoryId=category,
            freshness_band=value,
            limit=200,
            sort="freshness",
        )
        assert part["itemCount"] == count
        whole = listed_ids(server.url, server.api_key, "US", category)
        assert [p["id"] for p in part["products"]] == whole[: min(count, 200)]


def test_same_day_arrivals_join_todays_block_in_id_order(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=600, freshness_facet_percent=100, new_per_day=40)
    category = _leaf_ids(server)[0]

    def listing() -> dict[str, t.Any]:
        return t.cast(
            "dict[str, t.Any]",
            api_get(
                server.url,
                server.api_key,
                "/products/v2/list",
                store="US",
                categoryId=category,
                sort="freshness",
                limit=200,
            ),
        )

    first = listing()
    answer = requests.post(f"{server.url}/_sandbox/advance?arrivals=120", timeout=5).json()
    assert answer["day"] == 0
    assert answer["new_products"] == 120
    second = listing()
    today_before, today_after = _bands(first)[0], _bands(second)[0]  # type: ignore[index]
    assert today_after > today_before
    ids = [p["id"] for p in second["products"]]
    assert ids[:today_after] == sorted(ids[:today_after])
    old_today = [p["id"] for p in first["products"][:today_before]]
    assert set(old_today) <= set(ids[:today_after])  # the block grew around them


def test_restocked_products_leave_for_a_day_and_come_back_on_top(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=2000, restocks_per_day=30, id_spread_days=0)
    catalog = server.sandbox.catalog
    server.advance(4)
    away = [k for k in range(catalog.count) if catalog.is_away(k)]
    assert away
    server.advance(1)
    back = [k for k in away if catalog.listed_day(k) == catalog.day]
    assert back == away  # every one is back, in today's block
    k = next(k for k in back if catalog.in_store(k, "US"))
    category = catalog.categories_of(k)[0]
    ids = listed_ids(server.url, server.api_key, "US", category)
    today = sum(1 for i in ids if catalog.listed_day(catalog.index_of(i) or 0) == catalog.day)
    assert catalog.product_id(k) in ids[:today]
    # With ids growing with go-live (spread 0), the restocked one breaks the top block's
    # run of new ids: an old id among today's, as on a real 2023 page.
    assert catalog.product_id(k) < max(ids[:today])


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    paths = [
        ("/countries/list", {"lang": "en-GB"}),
        ("/products/v2/list", {"store": "COM", "categoryId": 8799, "limit": 20}),
        ("/products/v2/list", {"store": "US", "categoryId": 4208, "sort": "priceasc"}),
    ]
    bodies = []
    for seed in (5, 5, 6):
        with SandboxServer(SandboxConfig(seed=seed, products=500)) as server:
            bodies.append([_get(server, p, **q).content for p, q in paths])
    assert bodies[0] == bodies[1]
    assert bodies[0][1] != bodies[2][1]


def test_detail_and_stock_price_agree(sandbox: SandboxServer) -> None:
    page = api_get(
        sandbox.url,
        sandbox.api_key,
        "/products/v2/list",
        store="US",
        categoryId=_leaf_ids(sandbox)[1],
        limit=30,
    )
    ids = [p["id"] for p in page["products"]]
    stock = api_get(
        sandbox.url,
        sandbox.api_key,
        "/products/v3/get-stock-price",
        store="US",
        productIds=",".join(map(str, [*ids, 1])),
    )
    assert [s["productId"] for s in stock] == ids  # the unknown id 1 is left out
    detail = api_get(sandbox.url, sandbox.api_key, "/products/v3/detail", store="US", id=ids[0])
    assert detail["id"] == ids[0]
    assert isinstance(detail["productCode"], str)
    assert detail["price"]["current"]["value"] == stock[0]["productPrice"]["current"]["value"]
    assert detail["price"]["current"]["value"] == page["products"][0]["price"]["current"]["value"]
    in_stock = {v["id"] for v in detail["variants"] if v["isInStock"]}
    assert {v["id"] for v in stock[0]["variants"] if v["isInStock"]} == in_stock


@pytest.mark.parametrize(
    ("key", "host", "status", "message"),
    [
        (None, "asos2.p.rapidapi.com", 401, "Invalid API key"),
        ("wrong", "asos2.p.rapidapi.com", 401, "Invalid API key"),
        ("unsubscribed-key", "asos2.p.rapidapi.com", 403, "not subscribed"),
        ("sandbox-key", None, 400, "host header"),
        ("sandbox-key", "other.p.rapidapi.com", 403, "not subscribed"),
    ],
)
def test_gateway_auth(
    sandbox: SandboxServer, key: str | None, host: str | None, status: int, message: str
) -> None:
    headers = {k: v for k, v in {"X-RapidAPI-Key": key, "X-RapidAPI-Host": host}.items() if v}
    response = requests.get(f"{sandbox.url}/countries/list", headers=headers, timeout=5)
    assert response.status_code == status
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    "spelling",
    [
        "X-RapidAPI-Key X-RapidAPI-Host",
        "x-rapidapi-key x-rapidapi-host",
        "X-Rapidapi-Key X-Rapidapi-Host",
    ],
)
def test_gateway_header_names_are_case_insensitive(sandbox: SandboxServer, spelling: str) -> None:
    # RapidAPI accepts any spelling; urllib sends "X-Rapidapi-Key".
    key, host = spelling.split()
    headers = {key: sandbox.api_key, host: HOST_NAME}
    response = requests.get(f"{sandbox.url}/countries/list", headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()[0]["store"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/no/such/path", {}, 404),
        ("/products/v2/list", {"categoryId": 8799}, 400),
        ("/products/v2/list", {"store": "XX", "categoryId": 8799}, 400),
        ("/products/v2/list", {"store": "US", "categoryId": 1}, 400),
        ("/products/v2/list", {"store": "US", "categoryId": 8799, "limit": 0}, 400),
        ("/products/v2/list", {"store": "US", "categoryId": 8799, "offset": "x"}, 400),
        ("/products/v2/list", {"store": "US", "categoryId": 8799, "sort": "best"}, 400),
        ("/products/v3/detail", {"store": "US"}, 400),
        ("/products/v3/detail", {"store": "US", "id": 12}, 404),
        ("/products/v3/get-stock-price", {"store": "US", "productIds": ",".join(["1"] * 51)}, 400),
        ("/categories/list", {"country": "ZZ"}, 400),
    ],
)
def test_invalid_requests_get_4xx_json(
    sandbox: SandboxServer, path: str, params: dict[str, t.Any], status: int
) -> None:
    response = _get(sandbox, path, **params)
    assert response.status_code == status
    assert response.json()["message"]


@pytest.mark.parametrize("over_limit", ["clamp", "error"])
def test_a_limit_above_max_limit_is_clamped_or_refused(
    make_sandbox: Callable[..., SandboxServer], over_limit: str
) -> None:
    server = make_sandbox(max_limit=30, over_limit=over_limit)
    query = {"store": "US", "categoryId": 8799, "sort": "freshness"}
    whole = api_get(server.url, server.api_key, "/products/v2/list", **query, limit=30)
    assert len(whole["products"]) == 30 < whole["itemCount"]
    asked = _get(server, "/products/v2/list", **query, limit=31)
    if over_limit == "clamp":  # a smaller page than asked, the same total
        assert asked.status_code == 200
        assert asked.json()["products"] == whole["products"]
        assert asked.json()["itemCount"] == whole["itemCount"]
    else:  # a 400 with an ASOS-style body naming the parameter
        assert asked.status_code == 400
        assert asked.json() == {
            "message": "Parameter 'limit' must be between 1 and 30",
            "errorCode": 400,
        }
    assert _get(server, "/products/v2/list", **query, limit=0).status_code == 400
    args = parse_args(["--max-limit", "30", "--over-limit", over_limit])
    assert (args.max_limit, args.over_limit) == (30, over_limit)
    assert (parse_args([]).max_limit, parse_args([]).over_limit) == (200, "clamp")
    with pytest.raises(ValueError, match="over_limit must be one of"):
        SandboxServer(SandboxConfig(over_limit="truncate", products=10))


def test_the_products_control_endpoint_lists_a_stores_products_without_a_key(
    sandbox: SandboxServer,
) -> None:
    def products(**params: str) -> requests.Response:
        return requests.get(f"{sandbox.url}/_sandbox/products", params=params, timeout=5)

    catalog = sandbox.sandbox.catalog
    used = sandbox.stats()["quota_used"]
    for store in ("US", "DE"):
        ids = products(store=store).json()["ids"]
        assert ids == sorted(
            catalog.product_id(k) for k in range(catalog.count) if catalog.in_store(k, store)
        )
        assert 0.85 * catalog.count < len(ids) < catalog.count  # ~8 % not sold there
    assert products(store="US").json() != products(store="DE").json()
    for params, message in (({}, "Missing required parameter 'store'"), ({"store": "XX"}, "XX")):
        refused = products(**params)
        assert refused.status_code == 400
        assert message in refused.json()["message"]
    assert sandbox.stats()["quota_used"] == used  # no key, no quota: a control endpoint


def test_quota_headers_and_monthly_quota(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(quota=3)
    remaining = [
        int(_get(server, "/countries/list").headers["x-ratelimit-requests-remaining"])
        for _ in range(3)
    ]
    assert remaining == [2, 1, 0]
    over = _get(server, "/countries/list")
    assert over.status_code == 429
    assert "MONTHLY quota" in over.json()["message"]
    assert over.headers["x-ratelimit-requests-limit"] == "3"


def test_per_second_rate_limit(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(rate_limit_per_second=5)
    statuses = [_get(server, "/countries/list").status_code for _ in range(12)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    limited = next(
        r for r in (_get(server, "/countries/list") for _ in range(5)) if r.status_code == 429
    )
    assert limited.headers["Retry-After"] == "1"
    assert "rate limit per second" in limited.json()["message"]


def test_cli_prints_its_url_serves_and_stops_on_sigterm(tmp_path: t.Any) -> None:
    url_file = tmp_path / "url"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_asos.sandbox",
            "--port",
            "0",
            "--products",
            "300",
            "--url-file",
            str(url_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("ASOS sandbox listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert url_file.read_text().strip() == url
        assert requests.get(f"{url}/_sandbox/health", timeout=5).json()["products"] == 300
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
