"""The ``products`` stream: listings of every store x category, newest first."""

from __future__ import annotations

import typing as t
from collections import Counter
from functools import cached_property
from urllib.parse import urlparse

from typing_extensions import override

from tap_asos import schemas
from tap_asos.allowance import Allowance
from tap_asos.audit import FeedAudit, warn_misses
from tap_asos.children import Delivered
from tap_asos.client import CATEGORIES_PATH, AsosStream
from tap_asos.estimate import left_after
from tap_asos.pagination import (
    SLICE_FACETS,
    ListingPaginator,
    PageSize,
    check_listing_page,
    listing_error_hint,
    prefetch_pages,
)
from tap_asos.partition_read import PartitionRead, key_of
from tap_asos.partitions import (
    READ,
    REST,
    StoreListings,
    partitions,
)
from tap_asos.state import ProductsState
from tap_asos.store_reads import StoreReads

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context, Record

    from tap_asos.bookmark import Backlog
    from tap_asos.state import PartitionState
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
    # One record per store x product per run: a snapshot's (or a daily run's) product,
    # from the first of its listings the run read (StoreReads.listed).
    primary_keys = ("store", "id", "snapshotAt")
    # A unit's context names its read too (partitions.READ): the state is per partition.
    state_partitioning_keys: t.ClassVar[list[str]] = ["store", "categoryId"]
    replication_key = "snapshotAt"
    is_sorted = False  # bookmarks move at partition end only
    schema = schemas.PRODUCTS
    # Emit STATE often, so that a crash loses at most a few pages of finished partitions.
    STATE_MSG_FREQUENCY = 500

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the run's child batches and the snapshot's audit of the feeds."""
        super().__init__(*args, **kwargs)
        self.allowance = Allowance(
            lambda: self.request_policy,
            lambda: self.child_costs,
            self.settings.stock_batch_size,
            self._sync_children_of,
        )
        self.children = self.allowance.children
        self.page = PageSize(self.settings.page_size, self.logger)
        self.audit = FeedAudit(self._audit_kept)
        self._trees: dict[tuple[str, str], dict[str, t.Any]] = {}
        self._last_of_store: dict[str, dict[str, t.Any]] = {}
        self._reads: dict[tuple[str, int], list[PartitionRead]] = {}  # partitions' reads
        self._left: dict[tuple[str, int], tuple[Backlog, ...]] = {}
        self._unfinished: set[tuple[str, int]] = set()
        # The product being emitted (generate_child_contexts runs between two records).
        self._emitting: _Emitting | None = None

    def _sent_before(self, stream: str, store: str) -> frozenset[int]:
        return self.products_state.sent_before(self.cost_key, stream, store)

    def _keep_sent(self) -> None:
        """While reads are left for later runs, keep what each child stream had."""
        if not self._unfinished:
            self.products_state.forget_sent(self.cost_key)
            return
        delivered = self.children.delivered
        for stream in delivered.streams:
            for store in self._last_of_store:
                self.products_state.keep_sent(
                    self.cost_key, stream, store, delivered.ids(stream, store)
                )
        self.stores_read.keep_emitted()

    def _audit_kept(self, store: str) -> frozenset[int]:
        return self.products_state.audit_listed(store)

    @cached_property
    def products_state(self) -> ProductsState:
        """This stream's state, upgraded and typed (read once, before any partition)."""
        return ProductsState(self.stream_state)

    @cached_property
    def stores_read(self) -> StoreReads:
        """What each store emitted in this run, and its snapshot's cover."""
        return StoreReads(
            self.products_state,
            self.stats,
            self.logger,
            self.settings,
            mode=self.cost_key,
            tree=self.category_tree,
            page_size=lambda: self.page.effective,
        )

    @property
    def full_table(self) -> bool:
        """True when the catalog asks for a full snapshot rather than new arrivals."""
        return self.replication_method == "FULL_TABLE"

    @override
    @cached_property
    def partitions(self) -> list[dict[str, t.Any]]:
        self.children.delivered = Delivered(
            [c.name for c in self.child_streams if c.selected], self._sent_before
        )
        configured = self.settings.category_ids
        stores = [
            StoreListings(code) if configured else self.stores_read.listings(store)
            for code, store in self.stores.resolve_all().items()
        ]
        if self.full_table and not configured:
            at, age = self._snapshot_at(), self.settings.cover_max_age_days
            stores = [self.stores_read.plan(listings, at, age) for listings in stores]
        parts = partitions(
            stores,
            self.products_state,
            configured=configured,
            full_table=self.full_table,
            mode=self.cost_key,
        )
        # A cover snapshot reads the tree's new listings last: what they hold that the
        # cover did not is what the cover missed.
        parts.sort(key=lambda c: c["categoryId"] in self.stores_read.new_listings(c["store"]))
        self._last_of_store = {c["store"]: c for c in parts}
        for listings in stores:
            read = {c["categoryId"] for c in parts if c["store"] == listings.store}
            if listings.leaves and read >= set(listings.leaves):
                self.stores_read.reads_every_listing.add(listings.store)
                self.stores_read.learn(listings.store, self._snapshot_at())
        self._unfinished = {key_of(c) for c in parts}
        for listings in stores:
            reads = Counter(str(c[READ]) for c in parts if c["store"] == listings.store)
            self.log("Store %s: %s (arrival feeds %s)", listings.store, dict(reads), listings.feeds)
        self.stats.partitions_total = len(self._unfinished)
        return parts

    def regains(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is a New-in list (see StoreReads.regains)."""
        return self.stores_read.regains(context)

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
    def get_new_paginator(self, start: int = 0) -> ListingPaginator:
        return ListingPaginator(
            self.settings.page_size,
            max_records=self.settings.max_records,
            max_offset=self.settings.max_offset,
            start=start,
        )

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        store = self.store_info(context)
        offset = next_page_token or 0
        return {
            **self.locale_params(store),
            "categoryId": context["categoryId"] if context else None,
            "offset": offset,
            "limit": self.page.limit(offset, self.settings.max_offset),
            "sort": "freshness",
            # Facet filters of a slice of a listing too deep to page (see ListingReader).
            **{f: context[f] for f in SLICE_FACETS if context and f in context},
        }

    @override
    def check_payload(self, response: requests.Response, payload: t.Any) -> None:
        if self._is_listing(response):  # category discovery goes through here too
            check_listing_page(response, payload)
            self.page.saw(response, payload)

    def _is_listing(self, response: requests.Response) -> bool:
        return urlparse(response.url).path == urlparse(self.get_url(None)).path

    @override
    def fit_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return self.page.fit(request)

    @override
    def retry_refused(self, response: requests.Response) -> bool:
        return self._is_listing(response) and self.page.refused(response)

    @override
    def error_hint(self, response: requests.Response) -> str:
        return listing_error_hint(response)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if context is None:
            return
        store = str(context["store"])
        if self.listing_open():
            yield from self._read_unit(context)
        if self._last_of_store.get(store) == context:
            self.children.flush(store)  # the store's last unit: send what is left
            self._keep_sent()
            complete = not any(key[0] == store for key in self._unfinished)
            self.stores_read.store_read(store, complete=complete)

    def _read_unit(self, context: Context) -> Iterator[dict[str, t.Any]]:
        """One unit of a partition's read (see :mod:`tap_asos.partitions`)."""
        state = self.products_state
        snapshot_at = self._snapshot_at()
        key = key_of(context)
        kind = str(context[READ])
        partition = state.partition(context)
        if self.full_table and state.done_in_snapshot(partition):
            self.log("Skipping %s: done earlier in snapshot %s", context, snapshot_at)
            self.stores_read.read_whole(*key, from_top=False)
            self._read_done(key)
            return
        if key not in self._reads:
            self._reads[key] = []
            # The reads earlier runs left (not those this run's reads may leave).
            self._left[key] = partition.backlogs_of(self.cost_key)
        reads = self._reads[key]
        if kind != REST:  # a fresh read, from the top
            reads.append(self._new_read(context, partition, snapshot_at, None))
            todo = reads[-1:]
        else:  # this run's head read, then the reads earlier runs left, newest first
            todo = [r for r in reads if not r.resumed]
            for backlog in self._left.pop(key, ()):
                if self.full_table and backlog.snapshot_at != snapshot_at:
                    continue  # a read of an earlier snapshot: this one reads it whole
                reads.append(self._new_read(context, partition, snapshot_at, backlog))
                todo.append(reads[-1])
        for read in todo:
            if not self.listing_open():
                return
            yield from self._read(context, read, kind)

    def _new_read(
        self,
        context: Context,
        partition: PartitionState,
        snapshot_at: str,
        backlog: Backlog | None,
    ) -> PartitionRead:
        return PartitionRead(
            self,
            self.get_context_state(context),
            partition,
            now=self.tap_runtime.reads_started_at,
            everything=self.full_table,
            snapshot_at=snapshot_at if self.full_table else None,
            backlog=backlog,
        )

    def _read(self, context: Context, read: PartitionRead, kind: str) -> Iterator[Record]:
        """One read's records for this unit; its state moves once its children went."""
        store, category_id = key_of(context)
        snapshot_at = read.snapshot_at or self._snapshot_at()
        feed = self.stores_read.is_feed(context)
        listed = self.audit.listed(store) if feed and self.full_table else None
        for record, on_sent, goes in read.records(kind):
            emitting = _Emitting(int(record["id"]), goes, record.get("position"), read, on_sent)
            if listed is not None:
                listed.add(emitting.product_id)
            if not self.stores_read.listed(store, category_id, record):
                # Emitted from another listing: its children only, if they still wait.
                for batch in self._to_children(store, emitting):
                    self._sync_children_of(batch)
                continue
            record.update(store=store, categoryId=category_id, snapshotAt=snapshot_at)
            self._emitting = emitting
            yield record
        self._emitting = None
        if listed is not None:
            self.products_state.keep_audit_listed(store, listed)
        read.report(self.name, self.logger)
        if not read.finished:
            if not read.reader or not read.reader.outcome.suspended:
                self.log("Request budget reached in %s; it resumes next run", context)
            return
        self.stores_read.read_whole(
            store, category_id, from_top=read.backlog is None, pages=read.pages
        )
        if self.full_table and not feed:
            self._audit_feeds(context, read)
        # What this partition cost, per mode: its pages and its products' children (their
        # batches go when full, maybe in another partition's read): the next budgeted
        # run's estimate at start, for free.
        spent = self.allowance.read_cost(read.pages, read.children)
        steady = read.scan is not None and read.scan.steady and not read.resumed
        cost = (self.cost_key, spent) if steady else None

        def done() -> None:
            read.done(cost)
            self._read_done(key_of(context), read)

        # The state moves once its products' children ran (their batch may wait for the
        # store's next partitions).
        self.children.after_flush(store, done)

    def _read_done(self, key: tuple[str, int], read: PartitionRead | None = None) -> None:
        """A read is done; a partition with no read left is; after the last, a snapshot."""
        reads = self._reads.get(key, [])
        if read is not None and read in reads:
            reads.remove(read)
        if reads or (read is not None and read.backlogs_left()):
            return
        self._reads.pop(key, None)
        if key in self._unfinished:
            self.stats.finish_partition()
            self._unfinished.discard(key)
        if self.full_table and not self._unfinished:
            self.products_state.close_snapshot()

    def _audit_feeds(self, context: Context, read: PartitionRead) -> None:
        """A snapshot's leaf: count (and warn of) its arrivals no feed lists."""
        store = str(context["store"])
        listings = self.stores_read.audited(store)
        if listings is None or read.scan is None:
            return
        if missed := self.audit.misses(store, read.scan):
            self.stats.count(self.name, "feed_misses", len(missed))
            warn_misses(self.logger, context, listings.feeds, missed)

    def left_after_run(self) -> dict[str, t.Any]:
        """What this run leaves for the next ones, from the state as the run ends.

        ``requests_left`` and the runs they take at this budget: the run summary's.
        """
        state = self.products_state
        seen: dict[tuple[str, int], PartitionState] = {}
        for context in self.partitions:
            seen.setdefault(key_of(context), state.partition(context))
        fixed = self.stats.requests - sum(
            self.stats.per_stream.get(name, Counter())["requests"]
            for name in ("products", "product_details", "stock_prices")
        )
        budget = self.settings.max_requests
        return left_after(
            list(seen.values()),
            self.cost_key,
            self.settings,
            self.allowance.child_calls,
            done=self._needs_no_read,
            started_at=self.tap_runtime.reads_started_at,
            budget_per_run=max(0, budget - fixed) if budget else None,
        )

    def _needs_no_read(self, partition: PartitionState) -> bool:
        if self.full_table:
            return self.products_state.done_in_snapshot(partition)
        return partition.finished_once

    def listing_open(self, upcoming: int = 0) -> bool:
        """Whether the budget leaves room for another listing page (see Allowance)."""
        return self.allowance.listing_open(upcoming)

    @cached_property
    def child_costs(self) -> tuple[int, int]:
        """Requests a product costs its children, and a batch (the streams selected)."""
        selected = {c.name for c in self.child_streams if c.selected or c.has_selected_descendents}
        return int("product_details" in selected), int("stock_prices" in selected)

    @property
    def source(self) -> Products:
        """Where a read's pages come from: this stream."""
        return self

    def write_state_now(self) -> None:
        """Write a STATE soon (at most every few seconds)."""
        self.tap_runtime.write_state_now()

    @property
    def cost_key(self) -> str:
        """The mode a partition's cost is kept under (a snapshot costs more than arrivals)."""
        return self.replication_method.lower()

    def pages(
        self,
        context: dict[str, t.Any],
        paginator: ListingPaginator,
        on_page: Callable[[dict[str, t.Any]], R],
    ) -> Iterator[R]:
        """Yield ``on_page(body)`` for each listing page, the next one prefetched."""
        return prefetch_pages(
            self, context, paginator, on_page, ahead=not self.settings.max_requests
        )

    def _snapshot_at(self) -> str:
        """The snapshot this run belongs to: a stopped snapshot is resumed, not restarted."""
        started = self.tap_runtime.run_started_at.isoformat()
        return self.products_state.snapshot_at(started) if self.full_table else started

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        if self._emitting is None:
            return
        yield from self._to_children(str(record["store"]), self._emitting)

    def _to_children(self, store: str, product: _Emitting) -> Iterator[dict[str, t.Any]]:
        """Hand a listed product to the child batches; yield each batch that is full."""
        if not self._children_selected:
            product.on_sent()  # nothing to wait for
            return
        read = product.read
        if product.goes and read.scan is not None and not read.scan.everything:
            read.scan.note_sent(product.position, product.product_id)  # a snapshot's were
        queued = self.children.queued
        yield from self.children.add(
            store, product.product_id, include=product.goes, on_sent=product.on_sent
        )
        read.children += self.children.queued - queued


class _Emitting(t.NamedTuple):
    """A listed product on its way: whether it goes to the children, and after."""

    product_id: int
    goes: bool  # to the children
    position: int | None
    read: PartitionRead
    on_sent: Callable[[], None]  # once its children ran
