"""The tap's schemas cover every field of the real samples and of sandbox payloads."""

from __future__ import annotations

import copy
import json
import typing as t

import jsonschema
import pytest

from tap_asos import schemas
from tests.helpers import api_get
from tests.sandbox_shapes import SAMPLES

if t.TYPE_CHECKING:
    from tap_asos.sandbox import SandboxServer


def _closed(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """The schema with additionalProperties false wherever properties are declared."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if node.get("properties"):
            node["additionalProperties"] = False
            stack.extend(node["properties"].values())
        if isinstance(node.get("items"), dict):
            stack.append(node["items"])
    return schema


def _validate(schema: dict[str, t.Any], record: dict[str, t.Any]) -> None:
    jsonschema.validate(record, _closed(schema))


EXTRA_LISTING = {
    "store": "US",
    "categoryId": 1,
    "snapshotAt": "2026-01-01T00:00:00+00:00",
    "position": 0,
}


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/asos-api is absent")
def test_real_samples_fit_the_schemas() -> None:
    for product in json.loads((SAMPLES / "products-v2-list.products.json").read_text()):
        _validate(schemas.PRODUCTS, {**product, **EXTRA_LISTING})
    for country in json.loads((SAMPLES / "countries-list.json").read_text()):
        _validate(schemas.COUNTRIES, country)


def test_sandbox_payloads_fit_the_schemas(sandbox: SandboxServer) -> None:
    page = api_get(
        sandbox.url, sandbox.api_key, "/products/v2/list", store="US", categoryId=8799, limit=20
    )
    for product in page["products"]:
        _validate(schemas.PRODUCTS, {**product, **EXTRA_LISTING})
    ids = [p["id"] for p in page["products"]]
    extra = {"store": "US", "snapshotAt": "2026-01-01T00:00:00+00:00"}
    for pid in ids[:5]:
        for version in ("v3", "v4"):
            detail = api_get(
                sandbox.url, sandbox.api_key, f"/products/{version}/detail", store="US", id=pid
            )
            _validate(schemas.PRODUCT_DETAILS, {**detail, **extra})
    for item in api_get(
        sandbox.url,
        sandbox.api_key,
        "/products/v3/get-stock-price",
        store="US",
        productIds=",".join(map(str, ids)),
    ):
        _validate(schemas.STOCK_PRICES, {**item, **extra})


def test_closed_schema_reports_an_unknown_field() -> None:
    with pytest.raises(jsonschema.ValidationError, match="brandNew"):
        _validate(schemas.COUNTRIES, {"country": "US", "brandNew": 1})
