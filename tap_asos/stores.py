"""Resolution of configured store codes through ``/countries/list``.

Users name stores the way the API does (``US``, ``COM``, ``ROW``, ``DE``) or by
country (``GB``, ``IN``); each resolves to the store code, country, currency,
size schema and language sent with every request for that store.  Settings
``currency``, ``lang`` and ``size_schema`` override the store's primary values.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


class UnknownStoreError(ValueError):
    """A configured store matches no store or country of ``/countries/list``."""


@dataclass(frozen=True)
class StoreInfo:
    """Everything a request needs to address one store."""

    store: str
    country: str
    currency: str
    size_schema: str
    lang: str


def _primary(items: Sequence[Mapping[str, t.Any]], key: str) -> str | None:
    for item in items or ():
        if item.get("isPrimary"):
            return str(item[key])
    return str(items[0][key]) if items else None


def resolve_store(
    code: str,
    countries: Sequence[Mapping[str, t.Any]],
    overrides: Mapping[str, str | None],
) -> StoreInfo:
    """Find ``code`` among store codes first, then country codes.

    A store shared by several countries (``ROW``) resolves to the country whose code
    equals the store code if any, else to the first listed.
    """
    wanted = code.strip().upper()
    by_store = [c for c in countries if str(c.get("store", "")).upper() == wanted]
    by_country = [c for c in countries if str(c.get("country", "")).upper() == wanted]
    exact = [c for c in by_store if str(c.get("country", "")).upper() == wanted]
    candidates = exact or by_store or by_country
    if not candidates:
        known = sorted({str(c.get("store")) for c in countries})
        msg = (
            f"Unknown store {code!r}: /countries/list has no such store or country code. "
            f"Known stores: {', '.join(known)}."
        )
        raise UnknownStoreError(msg)
    match = candidates[0]
    return StoreInfo(
        store=str(match["store"]),
        country=str(match["country"]),
        currency=overrides.get("currency")
        or _primary(match.get("currencies", []), "currency")
        or "GBP",
        size_schema=overrides.get("size_schema")
        or _primary(match.get("sizeSchemas", []), "sizeSchema")
        or "UK",
        lang=overrides.get("lang") or _primary(match.get("languages", []), "language") or "en-GB",
    )


class StoreResolver:
    """Lazily fetches ``/countries/list`` once per run and resolves store codes."""

    def __init__(
        self,
        codes: Sequence[str],
        fetch_countries: Callable[[], list[dict[str, t.Any]]],
        overrides: Mapping[str, str | None],
    ) -> None:
        """Remember the configured codes; nothing is fetched until first use."""
        self.codes = list(codes)
        self._fetch = fetch_countries
        self._overrides = dict(overrides)
        self._stores: dict[str, StoreInfo] | None = None
        self._lock = threading.Lock()

    def resolve_all(self) -> dict[str, StoreInfo]:
        """Resolve every configured store (one API call per run), keyed by store code."""
        with self._lock:
            if self._stores is None:
                countries = self._fetch()
                resolved: dict[str, StoreInfo] = {}
                for code in self.codes:
                    info = resolve_store(code, countries, self._overrides)
                    resolved.setdefault(info.store, info)
                self._stores = resolved
            return self._stores

    def get(self, store: str) -> StoreInfo:
        """Return the resolved info of one store code."""
        return self.resolve_all()[store]
