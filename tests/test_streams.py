"""Child streams against a real sandbox: details and stock/prices follow products."""

from __future__ import annotations

import typing as t
from collections import Counter

from tests.helpers import catalog_for, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

ALL = ("countries", "categories", "products", "product_details", "stock_prices")


def test_children_follow_the_products_emitted(sandbox: SandboxServer) -> None:
    config = tap_config(
        sandbox.url, sandbox.api_key, max_products_per_partition=30, id_batch_size=20
    )
    result = run_tap(config, catalog=catalog_for(config, select=ALL))
    product_ids = {r["id"] for r in result.records["products"]}
    details = result.records["product_details"]
    stock = result.records["stock_prices"]
    assert Counter(r["id"] for r in details) == Counter(product_ids)
    assert {r["productId"] for r in stock} == product_ids
    assert all(r["variants"] and r["store"] == "US" for r in details)
    assert all(r["store"] == "US" for r in stock)
    # The details say which products have stock: those must come back with their variants
    # (only a product with no stock at all has none), each one a variant of that product.
    detail_of = {r["id"]: r for r in details}
    in_stock = {pid for pid, r in detail_of.items() if r["isInStock"]}
    assert len(in_stock) > len(product_ids) // 2
    for record in stock:
        product = detail_of[record["productId"]]
        stock_variants = {v["variantId"]: v["isInStock"] for v in record["variants"]}
        if product["isInStock"]:
            assert stock_variants, f"product {product['id']} has stock but no variants"
        detail_variants = {v["id"]: v["isInStock"] for v in product["variants"]}
        assert stock_variants.items() <= detail_variants.items(), product["id"]


def test_stock_prices_are_batched(make_sandbox: Callable[..., SandboxServer]) -> None:
    server = make_sandbox()
    config = tap_config(server.url, server.api_key, id_batch_size=50)
    result = run_tap(config, catalog=catalog_for(config, select=["products", "stock_prices"]))
    distinct = len({r["id"] for r in result.records["products"]})
    calls = server.stats()["by_path"]["/products/v3/get-stock-price"]
    # Batches break at partition ends, so at most one extra call per category.
    categories = len({r["categoryId"] for r in result.records["products"]})
    assert calls <= distinct // 50 + categories
    assert calls * 10 < distinct
