"""The sandbox's API: routes, parameter checks and control endpoints (no HTTP here)."""

from __future__ import annotations

import random
import time
import typing as t
from http import HTTPStatus
from urllib.parse import parse_qs

import msgspec

from tap_asos.sandbox import envelope, payloads, reference
from tap_asos.sandbox.catalog import Catalog
from tap_asos.sandbox.config import (
    COUNTRIES,
    CURRENCIES,
    OVER_LIMIT,
    SIZE_SCHEMAS,
    STORES,
    Currency,
    SandboxConfig,
)
from tap_asos.sandbox.gateway import Gateway
from tap_asos.sandbox.listings import BAND_DAYS

Json = t.Any
MAX_STOCK_IDS = 50
SORTS = {"", "freshness", "priceasc", "pricedesc"}
RANGES = {"", "sale", "new_season"}
CONTROL = "/_sandbox/"
FIRST_STORE_COUNTRY = {c.store: c for c in reversed(COUNTRIES)}


class BadRequestError(Exception):
    """An invalid parameter: answered 400 with an ASOS-style body."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        """Keep the status beside the message."""
        super().__init__(message)
        self.status = status


class Params:
    """Typed access to one request's query parameters, raising BadRequestError."""

    def __init__(self, query: str) -> None:
        """Parse the query string (last value wins, as upstream)."""
        self.raw = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}

    def text(self, name: str, default: str = "") -> str:
        """A string parameter."""
        return self.raw.get(name, default).strip()

    def integer(
        self, name: str, default: int | None = None, lo: int = 0, hi: int | None = None
    ) -> int:
        """An integer parameter within [lo, hi]."""
        value = self.raw.get(name)
        if value is None or value == "":
            if default is None:
                raise BadRequestError(f"Missing required parameter '{name}'")
            return default
        try:
            number = int(value)
        except ValueError:
            raise BadRequestError(f"Parameter '{name}' must be an integer") from None
        if number < lo or (hi is not None and number > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise BadRequestError(f"Parameter '{name}' must be {bound}")
        return number

    def ints(self, name: str) -> frozenset[int]:
        """A comma-separated list of integers (facet filters, ids)."""
        value = self.text(name)
        try:
            return frozenset(int(x) for x in value.split(",") if x.strip())
        except ValueError:
            raise BadRequestError(f"Parameter '{name}' must be comma-separated ids") from None

    def store(self) -> str:
        """The required store code."""
        store = self.text("store").upper()
        if not store:
            raise BadRequestError("Missing required parameter 'store'")
        if store not in STORES:
            raise BadRequestError(f"Unknown store '{store}'")
        return store

    def currency(self, store: str) -> Currency:
        """Requested currency, or the store's primary one."""
        code = self.text("currency").upper() or FIRST_STORE_COUNTRY[store].currencies[0]
        if code not in CURRENCIES:
            raise BadRequestError(f"Unknown currency '{code}'")
        return CURRENCIES[code]

    def size_schema(self, store: str) -> str:
        """Requested size schema, or the store's primary one."""
        schema = self.text("sizeSchema").upper() or FIRST_STORE_COUNTRY[store].size_schema
        if schema not in SIZE_SCHEMAS:
            raise BadRequestError(f"Unknown sizeSchema '{schema}'")
        return schema


class Sandbox:
    """State behind one server: catalog, gateway, and the API routes."""

    def __init__(self, config: SandboxConfig) -> None:
        """Build the catalog and an empty gateway."""
        if config.over_limit not in OVER_LIMIT:
            raise ValueError(f"over_limit must be one of {OVER_LIMIT}, not {config.over_limit!r}")
        self.config = config
        self.catalog = Catalog(config)
        self.gateway = Gateway(config)
        self._latency_rng = random.Random(config.seed)  # noqa: S311
        self.routes: dict[str, t.Callable[[Params, str], Json]] = {
            "/countries/list": lambda p, _q: reference.countries(p.text("lang")),
            "/categories/list": self.categories,
            "/products/v2/list": self.listing,
            "/products/v3/detail": self.detail,
            "/products/v4/detail": lambda p, q: self.detail(p, q, v4=True),
            "/products/v3/get-stock-price": self.stock_price,
            "/products/v4/get-stock-price": self.stock_price,
            "/products/v3/list-similarities": self.similarities,
            "/v2/auto-complete": self.auto_complete,
        }

    # --- API routes ------------------------------------------------------------

    def categories(self, params: Params, _query: str) -> Json:
        """/categories/list."""
        country = params.text("country").upper()
        if not country:
            raise BadRequestError("Missing required parameter 'country'")
        if country not in {c.country for c in COUNTRIES}:
            raise BadRequestError(f"Unknown country '{country}'")
        return reference.categories(self.config.tree, self.config.tree_year, params.text("lang"))

    def listing(
        self, params: Params, query: str, *, empty: bool = False, filters: bool = True
    ) -> Json:
        """/products/v2/list: one page of a category or search listing.

        ``filters=False`` ignores the facet filters, as an API would whose parameter
        names differ from the ones sent (fault ``ignore_filters``).
        """
        store = params.store()
        cur = params.currency(store)
        params.size_schema(store)
        offset = params.integer("offset", 0)
        limit = self._limit(params)
        sort = params.text("sort").lower()
        range_ = params.text("range").lower()
        q = params.text("q")
        category_id = params.integer("categoryId", 0)
        if sort not in SORTS:
            raise BadRequestError(f"Unknown sort '{sort}'")
        if range_ not in RANGES:
            raise BadRequestError(f"Unknown range '{range_}'")
        if not category_id and not q:
            raise BadRequestError("Either 'categoryId' or 'q' is required")
        if category_id and not self.catalog.is_listable(category_id):
            raise BadRequestError(f"Unknown categoryId {category_id}")
        colours = frozenset(c - 1 for c in params.ints("base_colour")) if filters else frozenset()
        args = (
            store,
            category_id,
            sort,
            q,
            range_ == "sale",
            range_ == "new_season",
            params.ints("brand") if filters else frozenset(),
            colours,
            self._fresh_days(params) if filters else 0,
        )
        ks = self.catalog.listing(*args)
        end = offset + limit
        if self.config.max_offset:
            # Upstream serves a listing only so deep; itemCount still tells the total.
            end = min(end, self.config.max_offset)
        page = [] if empty else ks[offset:end]
        # A search has no category: its categoryName is null.
        name = self.catalog.category_name(category_id) if category_id else None
        counts = self.catalog.facet_counts(*args)
        return envelope.listing_envelope(
            name,
            q,
            len(ks),
            [payloads.list_item(self.catalog, k, cur) for k in page],
            envelope.facets(
                counts, freshness=not q and self.catalog.listings.has_freshness_facet(category_id)
            ),
            payloads.request_id("/products/v2/list", query),
        )

    def _limit(self, params: Params) -> int:
        """The page size: a ``limit`` above ``max_limit`` is served smaller or refused.

        The real maximum and answer are not known (likely clamped: public clients ask for
        1500 and kept it, which a 400 would have stopped; no saved page holds more than 48).
        """
        top = self.config.max_limit
        if self.config.over_limit == "clamp":
            return min(params.integer("limit", 48, lo=1), top)
        return params.integer("limit", 48, lo=1, hi=top)

    @staticmethod
    def _fresh_days(params: Params) -> int:
        """Days covered by a ``freshness_band`` filter (values ORed: the widest wins)."""
        values = params.text("freshness_band")
        days = [BAND_DAYS.get(v.strip()) for v in values.split(",") if v.strip()]
        if None in days:
            raise BadRequestError(f"Unknown freshness_band '{values}'")
        return max((d for d in days if d), default=0)

    def _product(self, params: Params, name: str = "id") -> int:
        k = self.catalog.index_of(params.integer(name, lo=1))
        if k is None:
            raise BadRequestError("Product not found", HTTPStatus.NOT_FOUND)
        return k

    def detail(self, params: Params, _query: str, *, v4: bool = False) -> Json:
        """/products/v3/detail and v4."""
        store = params.store()
        k = self._product(params)
        return payloads.detail(
            self.catalog,
            k,
            params.currency(store),
            params.size_schema(store),
            params.text("lang") or "en-GB",
            store=store,
            v4=v4,
        )

    def stock_price(self, params: Params, _query: str) -> Json:
        """/products/v3/get-stock-price: several products per call, unknown ids left out."""
        store = params.store()
        ids = params.text("productIds")
        if not ids:
            raise BadRequestError("Missing required parameter 'productIds'")
        wanted = [x.strip() for x in ids.split(",") if x.strip()]
        if len(wanted) > MAX_STOCK_IDS:
            raise BadRequestError(f"At most {MAX_STOCK_IDS} productIds per request")
        cur, schema = params.currency(store), params.size_schema(store)
        out = []
        for raw in wanted:
            k = self.catalog.index_of(int(raw)) if raw.isdigit() else None
            if k is not None and self.catalog.in_store(k, store):
                out.append(payloads.stock_price(self.catalog, k, cur, schema))
        return out

    def similarities(self, params: Params, _query: str) -> Json:
        """/products/v3/list-similarities (shape likely: listing items)."""
        store = params.store()
        k = self._product(params)
        cur = params.currency(store)
        return [payloads.list_item(self.catalog, x, cur) for x in self.catalog.similar(k, store)]

    def auto_complete(self, params: Params, _query: str) -> Json:
        """/v2/auto-complete (shape likely)."""
        q = params.text("q")
        if not q:
            raise BadRequestError("Missing required parameter 'q'")
        params.store()
        return payloads.auto_complete(self.catalog, q)

    # --- control ---------------------------------------------------------------------

    def control(self, method: str, path: str, params: Params, body: bytes) -> tuple[int, Json]:
        """The /_sandbox/ endpoints."""
        name = path[len(CONTROL) :].strip("/")
        if name == "faults" and method in {"POST", "DELETE"}:
            return self._faults(method, body)
        handlers: dict[tuple[str, str], t.Callable[[Params], tuple[int, Json]]] = {
            ("GET", "health"): lambda _p: (
                200,
                {"status": "ok", "day": self.catalog.day, "products": self.catalog.count},
            ),
            ("GET", "stats"): lambda _p: (200, {**self.gateway.stats(), "day": self.catalog.day}),
            ("GET", "products"): self.listed_products,
            ("POST", "advance"): self._advance,
            ("POST", "reset"): self._reset,
        }
        handler = handlers.get((method, name))
        if handler is None:
            return 404, {"message": f"Endpoint '{path}' does not exist"}
        return handler(params)

    def _advance(self, params: Params) -> tuple[int, Json]:
        """``POST /_sandbox/advance``: ?days=N moves the day on; ?arrivals=N adds products."""
        arrivals = params.integer("arrivals", 0, hi=1_000_000)
        days = params.integer("days", 0 if arrivals else 1, hi=3650)
        return 200, self.advance(days, arrivals)

    def _reset(self, _params: Params) -> tuple[int, Json]:
        self.catalog.reset()
        self.gateway.reset()
        return 200, {"day": 0, "products": self.catalog.count}

    def _faults(self, method: str, body: bytes) -> tuple[int, Json]:
        if method == "DELETE":
            self.gateway.set_faults({})
            return 200, {"rules": []}
        try:
            spec = msgspec.json.decode(body or b"{}")
            self.gateway.set_faults(spec)
        except (ValueError, TypeError, msgspec.DecodeError) as exc:
            return 400, {"message": f"bad fault spec: {exc}"}
        return 200, spec

    def listed_products(self, params: Params) -> tuple[int, Json]:
        """``GET /_sandbox/products?store=XX``: the ids of every product listed there today.

        The ground truth of a full extraction: on at least one listing, sold in the store,
        not sold out today; ids ascending.
        """
        try:
            store = params.store()
        except BadRequestError as exc:
            return 400, {"message": str(exc), "errorCode": 400}
        catalog = self.catalog
        ids = catalog.ids.upto(catalog.count)
        return 200, {"ids": sorted(ids[k] for k in catalog.listed_in_store(store))}

    def advance(self, days: int, arrivals: int) -> dict[str, t.Any]:
        """Move the catalog on; what arrived and where it stands.

        ``new_in_skipped``: ids of the arrivals that never enter New in.
        """
        catalog = self.catalog
        before = catalog.count
        added = catalog.advance(days) + catalog.arrive(arrivals)
        skipped = [
            catalog.product_id(k) for k in range(before, catalog.count) if catalog.skips_new_in(k)
        ]
        return {
            "day": catalog.day,
            "new_products": added,
            "products": catalog.count,
            "new_in_skipped": skipped,
        }

    def sleep_latency(self) -> None:
        """The configured per-request latency."""
        lo, hi = self.config.latency_ms
        if hi > 0:
            time.sleep(self._latency_rng.uniform(lo, hi) / 1000)
