"""The ``products`` stream: listings of every store x category, newest first."""

from __future__ import annotations

import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from http import HTTPStatus
from itertools import islice
from urllib.parse import parse_qs, urlparse

from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_asos import schemas
from tap_asos.categories import leaf_category_ids
from tap_asos.client import AsosAPIError, AsosStream
from tap_asos.pagination import SLICE_FACETS, ListingPaginator, page_limit, slice_plan
from tap_asos.runtime import RequestBudgetExhaustedError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context, Record

    from tap_asos.stores import StoreInfo

# The API takes at most this many ids per get-stock-price call (the site batches ~50).
MAX_STOCK_PRICE_IDS = 50


class Products(AsosStream):
    """Product listings of every store x category, newest first.

    FULL_TABLE: a complete snapshot every run, each record stamped ``snapshotAt``.
    INCREMENTAL (default): new arrivals only.  ``id`` is the replication key: ASOS ids
    grow with arrival, and ``sort=freshness`` lists newest first, so a run pages each
    partition until it meets an id at or below the partition's bookmark and emits only
    the ids above it.  Because pages come newest first, the bookmark of a partition
    moves only when the partition has been read to its end (SDK progress markers):
    a crash or budget stop mid-partition re-reads that partition next run, so records
    may repeat there but are never skipped.
    """

    name = "products"
    path = "/products/v2/list"
    primary_keys = ("store", "categoryId", "id")
    replication_key = "id"
    is_sorted = False  # newest first: bookmarks move at partition end only
    schema = schemas.PRODUCTS
    # Emit STATE often, so that a crash loses at most a few pages of finished partitions.
    STATE_MSG_FREQUENCY = 500

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up per-run bookkeeping for child batches."""
        super().__init__(*args, **kwargs)
        self._child_batch: list[int] = []
        self._flush_children = False
        self._seen_for_children: dict[str, set[int]] = {}
        self._bookmark: int | None = None

    @override
    @cached_property
    def partitions(self) -> list[dict[str, t.Any]]:
        configured = [int(c) for c in self.config.get("category_ids") or []]
        parts: list[dict[str, t.Any]] = []
        for code, store in self.stores.resolve_all().items():
            ids = configured or self._discover_categories(store)
            parts.extend({"store": code, "categoryId": cid} for cid in ids)
        # Never-finished partitions first, then the least recently finished: a run cut
        # short by max_requests still makes progress, and every partition gets its turn.
        checked = {
            (p["context"].get("store"), p["context"].get("categoryId")): p.get("checked_at", "")
            for p in self.stream_state.get("partitions", [])
        }
        parts.sort(key=lambda c: checked.get((c["store"], c["categoryId"]), ""))
        self.run_state.partitions_total = len(parts)
        return parts

    @cached_property
    def _children_selected(self) -> bool:
        return any(c.selected or c.has_selected_descendents for c in self.child_streams)

    def _discover_categories(self, store: StoreInfo) -> list[int]:
        tree = self.fetch("/categories/list", {"country": store.country, "lang": store.lang}, None)
        ids = leaf_category_ids(tree)
        self.log("Discovered %d leaf categories for store %s", len(ids), store.store)
        return ids

    @property
    def full_table(self) -> bool:
        """True when the catalog asks for a full snapshot rather than new arrivals."""
        return self.replication_method == "FULL_TABLE"

    @override
    def get_new_paginator(self) -> ListingPaginator:
        return ListingPaginator(
            int(self.config["page_size"]),
            stop_at_id=None if self.full_table else self._bookmark,
            max_records=self._max_records,
            max_offset=self._max_offset,
        )

    @cached_property
    def _max_records(self) -> int | None:
        return int(self.config.get("max_products_per_partition") or 0) or None

    @cached_property
    def _max_offset(self) -> int | None:
        return int(self.config.get("max_listing_offset") or 0) or None

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        store = self.store_info(context)
        offset = next_page_token or 0
        return {
            **self.locale_params(store),
            "categoryId": context["categoryId"] if context else None,
            "offset": offset,
            "limit": page_limit(offset, int(self.config["page_size"]), self._max_offset),
            "sort": "freshness",
            # Facet filters of a slice of a listing too deep to page (see _read_listing).
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
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        self.run_state.count(self.name, "pages")
        yield from self.payload(response)["products"]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if self.run_state.budget_exhausted or context is None:
            return
        state = self.get_context_state(context)
        snapshot_at = self._snapshot_at()
        if self.full_table and state.get("snapshot_at") == snapshot_at:
            self.log("Skipping %s: done earlier in snapshot %s", context, snapshot_at)
            self.run_state.partitions_done += 1
            self._close_snapshot_after(context)
            return
        self._bookmark = (
            None if self.full_table else self.get_starting_replication_key_value(context)
        )
        yield from self._new_records(context, snapshot_at)
        if self.run_state.budget_exhausted:
            # Keep the old bookmark: this partition is read again next run.
            state.pop("progress_markers", None)
            self.log("Request budget reached in %s; it resumes next run", context)
            return
        self.run_state.partitions_done += 1
        state["checked_at"] = self.tap_runtime.run_started_at.isoformat()
        if self.full_table:
            state["snapshot_at"] = snapshot_at
            self._close_snapshot_after(context)

    def _close_snapshot_after(self, context: Context) -> None:
        """After the last partition, the snapshot is complete: the next run starts anew."""
        if context == self.partitions[-1]:
            self.stream_state.pop("snapshot_in_progress", None)

    def _new_records(self, context: Context, snapshot_at: str) -> Iterator[dict[str, t.Any]]:
        """Listing records above the bookmark; the last one flags a child-batch flush."""
        pending: dict[str, t.Any] | None = None
        for record in self._listing(context):
            if self._bookmark is not None and int(record["id"]) <= self._bookmark:
                continue
            record.update(
                store=context["store"], categoryId=context["categoryId"], snapshotAt=snapshot_at
            )
            if pending is not None:
                yield pending
            pending = record
            if self.run_state.budget_exhausted:
                return
        if pending is not None and not self.run_state.budget_exhausted:
            self._flush_children = True
            yield pending

    def _listing(self, context: Context) -> Iterator[dict[str, t.Any]]:
        try:
            yield from islice(self._read_listing(dict(context), frozenset()), self._max_records)
        except RequestBudgetExhaustedError:
            return

    def _read_listing(
        self,
        context: dict[str, t.Any],
        read: frozenset[int],
        depth: int = 0,
        parent_total: int | None = None,
    ) -> Iterator[dict[str, t.Any]]:
        """A listing paged to ``max_listing_offset``; what lies deeper, by facet slices.

        ASOS serves a listing only so deep.  When products remain beyond that depth,
        the listing is read again split by brand (then brand x colour): the slices are
        disjoint and together hold every product; ids already read at a wider level
        (``read``) are skipped, so each product comes once.  ``position`` is the rank
        in the unsplit listing, null for products reached through a slice.
        """
        paginator = self.get_new_paginator()
        fresh: set[int] = set()
        for position, record in enumerate(self._pages(context, paginator)):
            if position == 0 and parent_total is not None and paginator.first_payload:
                listed = int(paginator.first_payload.get("itemCount") or 0)
                if listed >= parent_total:
                    raise _FilterIgnoredError
            product_id = int(record["id"])
            if product_id in read:
                continue
            if self._max_offset:  # only a capped listing needs them: at most that many
                fresh.add(product_id)
            record["position"] = None if depth else position
            yield record
        if paginator.capped and paginator.first_payload is not None:
            yield from self._read_slices(context, paginator.first_payload, read | fresh, depth)

    def _read_slices(
        self, context: dict[str, t.Any], first: dict[str, t.Any], read: frozenset[int], depth: int
    ) -> Iterator[dict[str, t.Any]]:
        """The rest of a capped listing (``first`` is its first page), one facet value at a time."""
        total = int(first.get("itemCount") or 0)
        depth, facet, values = slice_plan(first, depth)
        beyond = total - (self._max_offset or 0)  # what the capped listing did not reach
        # Products in no facet value (some may be among those read above the cap).
        left_out = total - sum(count for _value, count in values) if values else beyond
        if values:
            self.run_state.count(self.name, "split_listings")
            self.log(
                "%s lists %d products, deeper than max_listing_offset=%s: reading it by %s (%d)",
                context,
                total,
                self._max_offset,
                facet,
                len(values),
            )
            try:
                for value, _count in values:
                    yield from self._read_listing({**context, facet: value}, read, depth + 1, total)
            except _FilterIgnoredError:
                # Every slice would re-read the same listing: stop, and say what is missing.
                self.logger.warning("The API ignored the %s filter of %s", facet, context)
                left_out = beyond
        if left_out > 0:
            self.run_state.count(self.name, "unreachable_products", left_out)
            self.logger.warning(
                "About %d of %d products of %s lie deeper than max_listing_offset=%s and "
                "outside every facet slice: they are not extracted",
                left_out,
                total,
                context,
                self._max_offset,
            )

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        return self._pages(context, self.get_new_paginator())

    def _pages(
        self, context: Context | None, paginator: ListingPaginator
    ) -> Iterator[dict[str, t.Any]]:
        # As the SDK's loop, but the next page is requested (in a worker thread) as soon
        # as the paginator knows it, while this page's records are being processed: the
        # API's latency overlaps the tap's own work instead of adding to it.
        send = self.request_decorator(self._request)
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="asos-page") as pool,
            self.get_http_request_counter() as request_counter,
        ):
            request_counter.with_context(context)
            request = self._prepare_request(context=context, page=paginator)
            pending: Future[requests.Response] | None = pool.submit(send, request, context)
            while pending is not None:
                response = pending.result()
                request_counter.increment()
                self.update_sync_costs(request, response, context)
                paginator.advance(response)
                pending = None
                if not paginator.finished:
                    request = self._prepare_request(context=context, page=paginator)
                    pending = pool.submit(send, request, context)
                yield from self.parse_response(response)

    def _snapshot_at(self) -> str:
        """The snapshot this run belongs to: a stopped snapshot is resumed, not restarted."""
        started = self.tap_runtime.run_started_at.isoformat()
        if not self.full_table:
            return started
        return str(self.stream_state.setdefault("snapshot_in_progress", started))

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        if not self._children_selected:
            return
        store = str(record["store"])
        seen = self._seen_for_children.setdefault(store, set())
        if record["id"] not in seen:
            seen.add(int(record["id"]))
            self._child_batch.append(int(record["id"]))
        batch_size = min(int(self.config["id_batch_size"]), MAX_STOCK_PRICE_IDS)
        if self._child_batch and (self._flush_children or len(self._child_batch) >= batch_size):
            yield {"store": store, "productIds": tuple(self._child_batch)}
            self._child_batch = []
        self._flush_children = False


class _FilterIgnoredError(Exception):
    """A facet slice listed as many products as its parent: the filter had no effect."""
