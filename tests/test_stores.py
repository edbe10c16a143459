"""Unit tests of store resolution against the real /countries/list sample shape."""

from __future__ import annotations

import pytest

from tap_asos.stores import StoreResolver, UnknownStoreError, resolve_store
from tests.sandbox_shapes import load

COUNTRIES = [
    {
        "country": "US",
        "store": "US",
        "languages": [{"language": "en-US", "isPrimary": True}],
        "currencies": [{"currency": "USD", "isPrimary": True}],
        "sizeSchemas": [
            {"sizeSchema": "UK", "isPrimary": False},
            {"sizeSchema": "US", "isPrimary": True},
        ],
    },
    {
        "country": "IN",
        "store": "ROW",
        "languages": [{"language": "en-GB", "isPrimary": True}],
        "currencies": [{"currency": "GBP", "isPrimary": True}, {"currency": "USD"}],
        "sizeSchemas": [{"sizeSchema": "UK", "isPrimary": True}],
    },
]


def test_store_code_resolves_to_primary_values() -> None:
    info = resolve_store("us", COUNTRIES, {})
    assert (info.store, info.country, info.currency, info.size_schema, info.lang) == (
        "US",
        "US",
        "USD",
        "US",
        "en-US",
    )


def test_country_code_resolves_to_its_store() -> None:
    info = resolve_store("IN", COUNTRIES, {})
    assert (info.store, info.country, info.currency) == ("ROW", "IN", "GBP")


def test_overrides_win() -> None:
    info = resolve_store("ROW", COUNTRIES, {"currency": "USD", "lang": "en-US"})
    assert (info.currency, info.lang) == ("USD", "en-US")


def test_unknown_store_names_the_known_ones() -> None:
    with pytest.raises(UnknownStoreError, match=r"Unknown store 'XX'.*ROW, US"):
        resolve_store("XX", COUNTRIES, {})


def test_real_sample_resolves() -> None:
    countries = load("countries-list.json")
    assert resolve_store("IN", countries, {}).store == "ROW"
    assert resolve_store("US", countries, {}).currency == "USD"


def test_resolver_fetches_once_and_dedupes_stores() -> None:
    calls = []

    def fetch() -> list[dict[str, object]]:
        calls.append(1)
        return COUNTRIES

    resolver = StoreResolver(["US", "us", "IN"], fetch, {})
    assert list(resolver.resolve_all()) == ["US", "ROW"]
    assert resolver.get("ROW").country == "IN"
    assert len(calls) == 1
