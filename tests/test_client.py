"""HTTP policy of the base stream against the sandbox's gateway and fault injection."""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_asos.categories import leaf_category_ids
from tests.helpers import api_get, catalog_for, listed_ids, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

LIST = "/products/v2/list"


def _products_config(server: SandboxServer, **overrides: t.Any) -> dict[str, t.Any]:
    # One category keeps fault tests short; pages of 20 give several pages to break.
    cid = _a_category(server)
    return tap_config(server.url, server.api_key, category_ids=[cid], page_size=20, **overrides)


def _a_category(server: SandboxServer) -> int:
    tree = api_get(server.url, server.api_key, "/categories/list", country="US", lang="en-US")
    for cid in leaf_category_ids(tree):
        if len(listed_ids(server.url, server.api_key, "US", cid)) > 45:
            return cid
    raise AssertionError("no category with more than two pages")


def _sync_products(config: dict[str, t.Any]) -> list[int]:
    result = run_tap(
        config, catalog=catalog_for(config, select=["products"], products_method="FULL_TABLE")
    )
    return [r["id"] for r in result.records["products"]]


def _expected(server: SandboxServer, config: dict[str, t.Any]) -> list[int]:
    return listed_ids(server.url, server.api_key, "US", config["category_ids"][0])


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "429", "times": 3},
        {"kind": "429", "times": 2, "retry_after": 0},
        {"kind": "500", "times": 2},
        {"kind": "503", "times": 2},
        {"kind": "malformed", "times": 2},
        {"kind": "truncated", "times": 2},
        {"kind": "empty_page", "times": 2, "after": 1},
        {"kind": "timeout", "times": 1, "seconds": 2.5},
    ],
    ids=lambda rule: f"{rule['kind']}x{rule['times']}",
)
def test_transient_faults_are_retried_without_loss(
    make_sandbox: Callable[..., SandboxServer], rule: dict[str, t.Any]
) -> None:
    server = make_sandbox()
    config = _products_config(server, timeout=1)
    server.set_faults({"rules": [{**rule, "path": LIST}]})
    ids = _sync_products(config)
    assert ids == _expected(server, config)
    assert server.stats()["faults_injected"] == rule["times"]


def test_persistent_5xx_fails_after_bounded_retries(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox()
    config = _products_config(server, max_retries=2)
    before = server.stats()["by_path"][LIST]
    server.set_faults({"rules": [{"kind": "502", "path": LIST}]})
    with pytest.raises(RetriableAPIError, match=r"502 .* /products/v2/list"):
        _sync_products(config)
    assert server.stats()["by_path"][LIST] - before == 3


def test_bad_key_is_fatal_with_an_actionable_message(sandbox: SandboxServer) -> None:
    secret = "definitely-not-a-valid-key-123"
    config = tap_config(sandbox.url, secret)
    with pytest.raises(FatalAPIError) as info:
        run_tap(config, catalog=catalog_for(config, select=["countries"]))
    message = str(info.value)
    assert "401" in message
    assert "Invalid API key" in message
    assert "TAP_ASOS_API_KEY" in message
    assert secret not in message


def test_monthly_quota_is_not_retried(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox(quota=3)
    config = _products_config(server)
    with pytest.raises(FatalAPIError, match="MONTHLY quota"):
        _sync_products(config)
    assert server.stats()["by_status"].get("429") == 1


def test_client_rate_limit_keeps_the_sandbox_limit(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    # The gateway refuses more than `limit` requests in any second. The run below makes
    # well over that many (listing pages, then one detail call per product, several in
    # flight at once): at 16/s it stays under; the control, without a client limit, not.
    limit = 20
    server = make_sandbox(rate_limit_per_second=limit)
    config = tap_config(
        server.url,
        server.api_key,
        category_ids=[8799],
        page_size=10,
        max_products_per_partition=30,
        max_concurrency=4,
    )
    catalog = catalog_for(config, select=["products", "product_details"])

    result = run_tap({**config, "requests_per_second": 16}, catalog=catalog)
    stats = server.stats()
    products = sorted(r["id"] for r in result.records["products"])
    assert len(products) == 30
    assert sorted(r["id"] for r in result.records["product_details"]) == products
    assert stats["requests_total"] > limit * 3 // 2, "too few requests to test the limit"
    assert "429" not in stats["by_status"]

    # Control: the same run without the client limit, on a fresh sandbox, is refused
    # (no retries: fail fast).
    control = make_sandbox(rate_limit_per_second=limit)
    unlimited = {**config, "api_url": control.url, "requests_per_second": 0, "max_retries": 0}
    with pytest.raises(RetriableAPIError, match="429"):
        run_tap(unlimited, catalog=catalog)
    assert control.stats()["by_status"].get("429", 0) > 0


def test_requests_carry_rapidapi_headers_and_user_agent(sandbox: SandboxServer) -> None:
    from tap_asos.tap import TapAsos

    tap = TapAsos(config=tap_config(sandbox.url, sandbox.api_key), parse_env_config=False)
    stream = tap.streams["countries"]
    request = stream.build_prepared_request(
        method="GET", url=sandbox.url, headers=stream.http_headers
    )
    request = stream.authenticator(request)
    assert request.headers["X-RapidAPI-Host"] == "asos2.p.rapidapi.com"
    assert request.headers["X-RapidAPI-Key"] == sandbox.api_key
    assert request.headers["User-Agent"].startswith("tap-asos/")
