"""The tap's schemas declare every field of the real samples and fit sandbox payloads.

Validating a real payload against an open schema passes whatever the schema lacks, so the
schemas are walked path by path: every field path of every real sample in
tests/fixtures/real must be declared, with its real JSON type (and a detail's ``rating``
fields, in the shape the reference gives: the real detail's ``rating`` is null).
"""

from __future__ import annotations

import copy
import json
import re
import typing as t

import jsonschema
import pytest

from tap_asos import schemas
from tap_asos.categories import flatten_tree
from tests.helpers import api_get
from tests.sandbox_shapes import Table, detail_samples, fold_children, load, table

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
    closed = _closed(schema)
    validator = _VALIDATORS.setdefault(json.dumps(closed), jsonschema.Draft7Validator(closed))
    if error := jsonschema.exceptions.best_match(validator.iter_errors(record)):
        raise error


_VALIDATORS: dict[str, jsonschema.Draft7Validator] = {}


EXTRA_LISTING = {
    "store": "US",
    "categoryId": 1,
    "snapshotAt": "2026-01-01T00:00:00+00:00",
    "position": 0,
}


LISTINGS = (
    load("products-v2-list-category-2023.json"),
    load("products-v2-list-search-2023.json"),
    {"products": load("products-v2-list.products.json")},
)
DETAIL, RATED_DETAIL = detail_samples()  # the real one, and with the reference's rating
COUNTRIES = load("countries-list.json")
TREE = load("categories-list-2022.json")
# JSON types a schema type admits.
ADMITS = {"number": {"integer", "number"}}


def undeclared(schema: dict[str, t.Any], real: Table, prefix: str) -> list[str]:
    """Real field paths below ``prefix`` the schema does not declare with their real types."""
    gaps = []
    for path in sorted(p for p in real.paths() if p.startswith(prefix) and p != prefix):
        node: dict[str, t.Any] | None = schema
        for step in re.findall(r"\.[^.\[]+|\[\]", path[len(prefix) :]):
            if node is None:
                break
            node = node.get("items") if step == "[]" else node.get("properties", {}).get(step[1:])
        if node is None:
            gaps.append(f"{path}: not declared")
            continue
        declared = set(node["type"]) if isinstance(node.get("type"), list) else {node.get("type")}
        gaps.extend(
            f"{path}: {kind} not declared ({sorted(map(str, declared))})"
            for kind in sorted(real.types[path] - {"null"})
            if not ADMITS.get(kind, {kind}) & declared
        )
    return gaps


@pytest.mark.parametrize(
    ("stream", "schema", "real", "prefix"),
    [
        ("products", schemas.PRODUCTS, table(*LISTINGS), "$.products[]"),
        ("product_details", schemas.PRODUCT_DETAILS, table(DETAIL, RATED_DETAIL), "$"),
        ("countries", schemas.COUNTRIES, table(COUNTRIES), "$[]"),
        *(
            ("categories", schemas.CATEGORIES, table(TREE, fold=fold_children), f"$.{section}[]")
            for section in ("navigation", "brands", "footer")
        ),
    ],
)
def test_schemas_declare_every_real_field_path(
    stream: str, schema: dict[str, t.Any], real: Table, prefix: str
) -> None:
    gaps = [g for g in undeclared(schema, real, prefix) if not g.startswith(f"{prefix}.children")]
    assert gaps == [], f"{stream} lacks real fields"


def test_a_missing_or_mistyped_declaration_is_listed() -> None:
    schema = copy.deepcopy(schemas.PRODUCT_DETAILS)
    del schema["properties"]["plpIds"]["items"]["properties"]["type"]
    schema["properties"]["isInStock"]["type"] = ["string", "null"]
    del schema["properties"]["rating"]["properties"]["totalReviewCount"]
    schema["properties"]["rating"]["properties"]["averageOverallRating"]["type"] = "string"
    assert undeclared(schema, table(DETAIL, RATED_DETAIL), "$") == [
        "$.isInStock: boolean not declared (['null', 'string'])",
        "$.plpIds[].type: not declared",
        "$.rating.averageOverallRating: number not declared (['string'])",
        "$.rating.totalReviewCount: not declared",
    ]


def test_real_samples_fit_the_schemas() -> None:
    for listing in LISTINGS:
        for product in listing["products"]:
            _validate(schemas.PRODUCTS, {**product, **EXTRA_LISTING})
    for detail in (DETAIL, RATED_DETAIL):
        _validate(schemas.PRODUCT_DETAILS, {**detail, "store": "US"})
    for country in COUNTRIES:
        _validate(schemas.COUNTRIES, country)
    for node in flatten_tree(TREE):
        _validate(schemas.CATEGORIES, {**node, "country": "US", "lang": "en-US", "store": "US"})


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
