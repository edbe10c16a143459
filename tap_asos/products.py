"""The ``products`` stream: listings of every store x category, newest first."""

from __future__ import annotations

import typing as t
from functools import cached_property
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_asos import schemas
from tap_asos.arrivals import ArrivalScan
from tap_asos.audit import FeedAudit, warn_misses
from tap_asos.children import ChildBatches
from tap_asos.client import CATEGORIES_PATH, AsosAPIError, AsosStream
from tap_asos.failures import ConfigurationError
from tap_asos.listing import Limits, ListingReader
from tap_asos.pagination import SLICE_FACETS, ListingPaginator, page_limit, prefetch_pages
from tap_asos.partitions import (
    FeedNotFoundError,
    StoreListings,
    partitions,
    reads_feeds_only,
    store_listings,
)
from tap_asos.state import ProductsState, finish_partition, keep_old_bookmark

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context, Record

    from tap_asos.stores import StoreInfo

R = t.TypeVar("R")


class Products(AsosStream):
    """Product listings of every store x category, newest first (``sort=freshness``).

    FULL_TABLE: a complete snapshot every run, each record stamped ``snapshotAt``.
    INCREMENTAL (default): what entered each listing since the partition's last
    finished run, read from the top down to the partition's anchors (see
    :mod:`tap_asos.arrivals`: ids do not grow with arrival, so the bookmark is a place
    in the listing, not an id).  A partition's bookmark moves only when it has been
    read to its stop: a crash or budget stop mid-partition re-reads it next run
    (at-least-once).  ``snapshotAt`` (the run's start) is the replication key.

    Which partitions, in which order: :mod:`tap_asos.partitions`; the state:
    :mod:`tap_asos.state`; one listing's pages and slices: :mod:`tap_asos.listing`.
    """

    name = "products"
    path = "/products/v2/list"
    primary_keys = ("store", "categoryId", "id")
    replication_key = "snapshotAt"
    is_sorted = False  # bookmarks move at partition end only
    schema = schemas.PRODUCTS
    # Emit STATE often, so that a crash loses at most a few pages of finished partitions.
    STATE_MSG_FREQUENCY = 500

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the run's child batches and the snapshot's audit of the feeds."""
        super().__init__(*args, **kwargs)
        self.children = ChildBatches(self.settings.stock_batch_size, self._sync_children_of)
        self.audit = FeedAudit()
        self._listings: dict[str, StoreListings] = {}
        self._trees: dict[tuple[str, str], dict[str, t.Any]] = {}
        self._last_of_store: dict[str, dict[str, t.Any]] = {}
        # The product being emitted: id, whether it goes to the children, its position,
        # and the scan that read it (generate_child_contexts runs between two records).
        self._emitting: tuple[int, bool, int | None, ArrivalScan] | None = None

    @cached_property
    def products_state(self) -> ProductsState:
        """This stream's state, upgraded and typed (read once, before any partition)."""
        return ProductsState(self.stream_state)

    @property
    def full_table(self) -> bool:
        """True when the catalog asks for a full snapshot rather than new arrivals."""
        return self.replication_method == "FULL_TABLE"

    @override
    @cached_property
    def partitions(self) -> list[dict[str, t.Any]]:
        configured = self.settings.category_ids
        stores = [
            StoreListings(code) if configured else self.listings(store)
            for code, store in self.stores.resolve_all().items()
        ]
        for listings in stores:
            if not configured and reads_feeds_only(
                listings, self.products_state, full_table=self.full_table
            ):
                self.log(
                    "Reading the arrival feeds of store %s: %s", listings.store, listings.feeds
                )
        parts = partitions(
            stores, self.products_state, configured=configured, full_table=self.full_table
        )
        self._last_of_store = {c["store"]: c for c in parts}
        self.stats.partitions_total = len(parts)
        return parts

    def listings(self, store: StoreInfo) -> StoreListings:
        """A store's leaves and arrival feeds, from its tree (requested once per run).

        Raises:
            ConfigurationError: an incremental run finds no New-in feed in the tree.
        """
        if store.store in self._listings:
            return self._listings[store.store]
        tree = self.category_tree(store)
        try:
            listings = store_listings(
                store.store,
                tree,
                feed_ids=self.settings.feed_category_ids,
                read_feeds=self.settings.read_feeds,
            )
        except FeedNotFoundError as exc:
            if not self.full_table:
                raise ConfigurationError(str(exc)) from exc
            # A snapshot reads every leaf anyway: no audit, no stop.
            self.logger.warning("%s No feed audit in this snapshot.", exc)
            listings = store_listings(store.store, tree, feed_ids=None, read_feeds=False)
        self.log("Discovered %d leaf categories for store %s", len(listings.leaves), store.store)
        self._listings[store.store] = listings
        return listings

    def is_feed(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is one of its store's arrival feeds."""
        listings = self._listings.get(str(context.get("store")))
        return listings is not None and context.get("categoryId") in listings.feeds

    def category_tree(self, store: StoreInfo) -> dict[str, t.Any]:
        """A store's ``/categories/list`` body, requested once per run."""
        key = (store.country, store.lang)
        if key not in self._trees:
            self._trees[key] = self.fetch(
                CATEGORIES_PATH, {"country": store.country, "lang": store.lang}, None
            )
        return self._trees[key]

    @cached_property
    def _children_selected(self) -> bool:
        return any(c.selected or c.has_selected_descendents for c in self.child_streams)

    def _sync_children_of(self, context: dict[str, t.Any]) -> None:
        """Sync the selected children for one batch (as the SDK does for a yielded one)."""
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                child.sync(context=context)

    @override
    def get_new_paginator(self) -> ListingPaginator:
        return ListingPaginator(
            self.settings.page_size,
            max_records=self.settings.max_records,
            max_offset=self.settings.max_offset,
        )

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        store = self.store_info(context)
        offset = next_page_token or 0
        return {
            **self.locale_params(store),
            "categoryId": context["categoryId"] if context else None,
            "offset": offset,
            "limit": page_limit(offset, self.settings.page_size, self.settings.max_offset),
            "sort": "freshness",
            # Facet filters of a slice of a listing too deep to page (see ListingReader).
            **{f: context[f] for f in SLICE_FACETS if context and f in context},
        }

    @override
    def check_payload(self, response: requests.Response, payload: t.Any) -> None:
        if urlparse(response.url).path != urlparse(self.get_url(None)).path:
            return  # category discovery goes through this stream too
        if not isinstance(payload, dict) or not isinstance(payload.get("products"), list):
            msg = (
                f"Unexpected listing body from {urlparse(response.url).path}: "
                "no 'products' list. The API's response shape may have changed."
            )
            raise AsosAPIError(msg)
        offset = self._offset_of(response)
        item_count = int(payload.get("itemCount") or 0)
        if not payload["products"] and offset < item_count:
            # An empty page before the end of the listing is an upstream glitch;
            # accepting it would silently drop the rest of the category.
            msg = (
                f"Empty listing page at offset {offset} of {item_count} products. If it "
                "repeats at this depth, the API serves listings only so deep: set "
                f"max_listing_offset to {offset} or less."
            )
            raise RetriableAPIError(msg, response)

    @override
    def error_hint(self, response: requests.Response) -> str:
        offset = self._offset_of(response)
        if offset and response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR:
            return (
                " If the API refuses offsets this deep, set max_listing_offset to "
                f"{offset} or less."
            )
        return ""

    @staticmethod
    def _offset_of(response: requests.Response) -> int:
        query = parse_qs(urlparse(response.url).query)
        return int((query.get("offset") or ["0"])[0])

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if self.request_policy.budget_exhausted or context is None:
            return
        entry = self.get_context_state(context)
        state = self.products_state
        partition = state.partition(context)
        snapshot_at = self._snapshot_at()
        requests_before = self.stats.requests
        feed = self.is_feed(context)
        if self.full_table and state.done_in_snapshot(partition) and not feed:
            # (A feed is read again: the audit of a resumed snapshot needs what it lists.)
            self.log("Skipping %s: done earlier in snapshot %s", context, snapshot_at)
            self._partition_done(context, lambda: None)
            return
        scan = ArrivalScan(
            partition.bookmark, self.tap_runtime.run_started_at, everything=self.full_table
        )
        limits = Limits(max_offset=self.settings.max_offset, max_records=self.settings.max_records)
        reader = ListingReader(self, dict(context), scan, limits)
        store = partition.store
        extra = {"store": store, "categoryId": partition.category_id}
        listed = self.audit.listed(store) if feed and self.full_table else None
        for record in reader.records():
            record.update(extra, snapshotAt=snapshot_at)
            product_id, position = int(record["id"]), record.get("position")
            if listed is not None:
                listed.add(product_id)
            if scan.everything:
                # Noted children selected or not, so the next snapshot's audit does not
                # count this snapshot's head block.
                scan.note_sent(position, product_id)
            self._emitting = (product_id, scan.sends_to_children(product_id), position, scan)
            yield record
            if self.request_policy.budget_exhausted:  # children of what follows could not come
                break
        self._emitting = None
        self._count(scan, reader)
        if not reader.outcome.finished or self.request_policy.budget_exhausted:
            keep_old_bookmark(entry)  # this partition is read again next run
            self.log("Request budget reached in %s; it resumes next run", context)
            return
        if self.full_table and not feed:
            self._audit_feeds(context, scan)
        # What this partition cost, the children that ran in its sync included, per
        # mode: the next run's budget announcement estimates from it, for free.
        cost = (self.cost_key, self.stats.requests - requests_before) if scan.steady else None

        def move_bookmark() -> None:
            finish_partition(
                entry,
                scan.next_bookmark(),
                cost=cost,
                snapshot_at=snapshot_at if self.full_table else None,
            )
            self.tap_runtime.write_state_now()

        self._partition_done(context, move_bookmark)

    def _audit_feeds(self, context: Context, scan: ArrivalScan) -> None:
        """A snapshot's leaf: count (and warn of) its arrivals no feed lists."""
        store = str(context["store"])
        listings = self._listings.get(store)
        if listings is None or not listings.feeds:
            return
        if missed := self.audit.misses(store, scan):
            self.stats.count(self.name, "feed_misses", len(missed))
            warn_misses(self.logger, context, listings.feeds, missed)

    def _partition_done(self, context: Context, move_bookmark: t.Callable[[], None]) -> None:
        """A partition was read to its stop.

        Its bookmark moves once its products' children ran (their batch may wait for
        the store's next partitions); the store's last partition sends what is left.
        After the last partition, a snapshot is complete: the next run starts anew.
        """
        store = str(context["store"])
        self.children.after_flush(store, move_bookmark)
        if self._last_of_store.get(store) == context:
            self.children.flush(store)
        self.stats.finish_partition()
        if context == self.partitions[-1]:
            self.products_state.close_snapshot()

    @property
    def cost_key(self) -> str:
        """The mode a partition's cost is kept under (a snapshot costs more than arrivals)."""
        return self.replication_method.lower()

    def _count(self, scan: ArrivalScan, reader: ListingReader) -> None:
        """The partition's figures into the run summary; a visible order break is warned."""
        counts, outcome = scan.counts, reader.outcome
        for name, value in (
            ("split_listings", int(outcome.split)),
            ("unreachable_products", outcome.unreachable),
            ("earlier_days", counts.earlier_days),
            ("order_breaks", counts.order_breaks),
        ):
            if value:
                self.stats.count(self.name, name, value)
        if counts.order_breaks:
            self.logger.warning(
                "%s breaks the listing order the tap relies on (ids ascending inside a day, "
                "anchors in place) %d times: new arrivals may be missed; take a snapshot",
                reader.context,
                counts.order_breaks,
            )
        paired = len(scan.bookmark.anchors) > 1  # one anchor alone can never be a stop
        if paired and scan.stopped_by != "anchor" and not self.full_table:
            self.stats.count(self.name, "bookmarks_lost")
            self.logger.warning(
                "No two bookmark anchors of %s are still next to each other: read it %s",
                reader.context,
                "to the freshness band of its last run" if scan.stopped_by == "band" else "whole",
            )

    def pages(
        self,
        context: dict[str, t.Any],
        paginator: ListingPaginator,
        on_page: Callable[[dict[str, t.Any]], R],
    ) -> Iterator[R]:
        """Yield ``on_page(body)`` for each listing page, the next one prefetched."""
        return prefetch_pages(self, context, paginator, on_page)

    def _snapshot_at(self) -> str:
        """The snapshot this run belongs to: a stopped snapshot is resumed, not restarted."""
        started = self.tap_runtime.run_started_at.isoformat()
        return self.products_state.snapshot_at(started) if self.full_table else started

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        if not self._children_selected or self._emitting is None:
            return
        product_id, include, position, scan = self._emitting
        if include and not scan.everything:  # a snapshot's were noted as they were read
            scan.note_sent(position, product_id)
        yield from self.children.add(str(record["store"]), product_id, include=include)
