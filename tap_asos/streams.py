"""Stream classes of tap-asos: countries, categories, products and their children."""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from typing_extensions import override

from tap_asos import schemas
from tap_asos.categories import flatten_tree
from tap_asos.client import CATEGORIES_PATH, AsosAPIError, AsosStream
from tap_asos.products import Products
from tap_asos.runtime import RequestBudgetExhaustedError

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_asos.children import Delivered
    from tap_asos.stores import StoreInfo

__all__ = ["Categories", "Countries", "ProductDetails", "Products", "StockPrices"]


class Countries(AsosStream):
    """Stores and countries, with their currencies, languages and size schemas."""

    name = "countries"
    path = "/countries/list"
    primary_keys = ("country",)
    replication_key = None
    schema = schemas.COUNTRIES

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"lang": self.settings.lang or "en-GB"}


class Categories(AsosStream):
    """The navigation tree of each store, flattened to one record per node."""

    name = "categories"
    path = CATEGORIES_PATH
    primary_keys = ("store", "lang", "section", "id")
    replication_key = None
    schema = schemas.CATEGORIES

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]]:
        return [{"store": code} for code in self.stores.resolve_all()]

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        store = self.store_info(context)
        return {"country": store.country, "lang": store.lang}

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        store = self.store_info(context)
        for tree in self.request_records(context):
            for node in flatten_tree(tree):
                node.update(store=store.store, country=store.country, lang=store.lang)
                yield node


class Batch(t.NamedTuple):
    """Products for a child stream: ids, their store, query parameters, snapshot time."""

    ids: list[int]
    store: StoreInfo
    params: dict[str, t.Any]
    snapshot_at: str


class _ProductChild(AsosStream):
    """Base of the per-product streams fed with batches of ids by ``products``."""

    parent_stream_type = Products
    state_partitioning_keys: t.ClassVar[list[str]] = []  # one state, not one per batch
    replication_key = None

    def batch(self, context: Context | None) -> Batch | None:
        """The products of a child context this stream has not had; None: nothing to do."""
        store = self.store_info(context)
        ids = [int(i) for i in (context or {}).get("productIds", ())]
        ids = self.delivered.needs(self.name, store.store, ids)
        if not ids or self.request_policy.budget_exhausted:
            return None
        # Per-product endpoints take store, currency, sizeSchema and lang, not country.
        params = {k: v for k, v in self.locale_params(store).items() if k != "country"}
        return Batch(ids, store, params, self.tap_runtime.run_started_at.isoformat())

    @property
    def delivered(self) -> Delivered:
        """What each child stream has had (``products`` keeps it)."""
        return t.cast("Products", self.tap_runtime.streams["products"]).children.delivered


class ProductDetails(_ProductChild):
    """Full product details (variants, sizes, stock, brand, media), one call per product.

    Calls run concurrently, up to ``max_concurrency`` at a time and within the
    run-wide ``requests_per_second``.
    """

    name = "product_details"
    path = "/products/v3/detail"
    primary_keys = ("store", "id")
    schema = schemas.PRODUCT_DETAILS

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if (batch := self.batch(context)) is None:
            return
        ids, store, params, snapshot_at = batch

        def one(product_id: int) -> tuple[int, dict[str, t.Any] | None]:
            try:
                body = self.fetch(self.path, {**params, "id": product_id}, context)
            except AsosAPIError as exc:
                if exc.status == HTTPStatus.NOT_FOUND:
                    # Listed minutes ago, gone now: ASOS removes sold-out products.
                    self.log(
                        "Product %s of store %s no longer exists: %s", product_id, store.store, exc
                    )
                    return product_id, None
                raise
            return product_id, body if isinstance(body, dict) else None

        workers = max(1, min(self.settings.max_concurrency, len(ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asos-detail") as pool:
            try:
                for product_id, body in pool.map(one, ids):
                    if body is not None:
                        body.update(store=store.store, snapshotAt=snapshot_at)
                        yield body
                    self.delivered.add(self.name, store.store, (product_id,))
            except RequestBudgetExhaustedError:
                return


class StockPrices(_ProductChild):
    """Prices and stock per product and variant, up to 50 products per call."""

    name = "stock_prices"
    path = "/products/v3/get-stock-price"
    primary_keys = ("store", "productId", "snapshotAt")
    schema = schemas.STOCK_PRICES

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if (batch := self.batch(context)) is None:
            return
        ids, store, params, snapshot_at = batch
        try:
            body = self.fetch(self.path, {**params, "productIds": ",".join(map(str, ids))}, context)
        except RequestBudgetExhaustedError:
            return
        for item in body if isinstance(body, list) else []:
            item.update(store=store.store, snapshotAt=snapshot_at)
            yield item
        self.delivered.add(self.name, store.store, ids)
