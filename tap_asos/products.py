"""The ``products`` stream: listings of every store x category, newest first."""

from __future__ import annotations

import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_asos import schemas
from tap_asos.arrivals import ArrivalScan, Bookmark
from tap_asos.categories import leaf_category_ids
from tap_asos.children import ChildBatches, for_children
from tap_asos.client import CATEGORIES_PATH, MAX_STOCK_PRICE_IDS, AsosAPIError, AsosStream
from tap_asos.failures import ConfigurationError
from tap_asos.feeds import FeedNotFoundError, find_feeds, new_in_lists
from tap_asos.listing import Limits, ListingReader
from tap_asos.pagination import SLICE_FACETS, ListingPaginator, page_limit

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
        """Set up the run's child batches."""
        super().__init__(*args, **kwargs)
        size = min(int(self.config["id_batch_size"]), MAX_STOCK_PRICE_IDS)
        self.children = ChildBatches(size, self._sync_children_of)
        # Per store: the ids of its arrival feeds, and (in a snapshot) what they list
        # and which arrivals missing from them were counted already.
        self.feed_ids: dict[str, frozenset[int]] = {}
        self.new_in_lists: dict[str, frozenset[int]] = {}  # see feeds.new_in_lists
        self._feed_listed: dict[str, set[int]] = {}
        self._misses_counted: dict[str, set[int]] = {}
        self._last_of_store: dict[str, dict[str, t.Any]] = {}

    @override
    @cached_property
    def partitions(self) -> list[dict[str, t.Any]]:
        configured = [int(c) for c in self.config.get("category_ids") or []]
        parts: list[dict[str, t.Any]] = []
        for code, store in self.stores.resolve_all().items():
            if configured:
                parts.extend({"store": code, "categoryId": cid} for cid in configured)
                continue
            tree = self.category_tree(store)
            leaves = leaf_category_ids(tree)
            self.log("Discovered %d leaf categories for store %s", len(leaves), store.store)
            feeds = self.feeds(store) if self.config["read_feeds"] else []
            self.feed_ids[code] = frozenset(feeds)
            self.new_in_lists[code] = frozenset(new_in_lists(tree)) | self.feed_ids[code]
            if feeds and not self.full_table and self._feeds_bookmarked(code, feeds):
                # A daily run: arrivals and restocks are at the top of the feeds.
                self.log("Reading the arrival feeds of store %s: %s", code, feeds)
                ids = feeds
            else:
                # A first run, an upgrade from per-leaf state, or a snapshot: every leaf,
                # and the feeds, so that their bookmarks (or the audit) start here.
                ids = list(dict.fromkeys([*leaves, *feeds]))
            parts.extend({"store": code, "categoryId": cid} for cid in ids)
        # A snapshot reads the feeds first (the audit of what they missed needs them);
        # then never-finished partitions, then the least recently finished: a run cut
        # short by max_requests still makes progress, and every partition gets its turn.
        checked = {
            (p["context"].get("store"), p["context"].get("categoryId")): p.get("checked_at", "")
            for p in self.stream_state.get("partitions", [])
        }
        parts.sort(
            key=lambda c: (
                not (self.full_table and self.is_feed(c)),
                checked.get((c["store"], c["categoryId"])) or "",
            )
        )
        self._last_of_store = {c["store"]: c for c in parts}
        self.stats.partitions_total = len(parts)
        return parts

    def is_feed(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is one of its store's arrival feeds."""
        return context.get("categoryId") in self.feed_ids.get(str(context.get("store")), ())

    def feeds(self, store: StoreInfo) -> list[int]:
        """The ids of a store's arrival feeds: ``feed_category_ids``, or found in its tree.

        Raises:
            ConfigurationError: an incremental run finds no New-in feed in the tree.
        """
        override = [int(c) for c in self.config.get("feed_category_ids") or []]
        if override:
            return override
        try:
            found = find_feeds(self.category_tree(store), store.store)
        except FeedNotFoundError as exc:
            if self.full_table:  # a snapshot reads every leaf anyway: no audit, no stop
                self.logger.warning("%s No feed audit in this snapshot.", exc)
                return []
            raise ConfigurationError(str(exc)) from exc
        return [feed.category_id for feed in found]

    def category_tree(self, store: StoreInfo) -> dict[str, t.Any]:
        """A store's ``/categories/list`` body, requested once per run."""
        key = (store.country, store.lang)
        if key not in self._trees:
            self._trees[key] = self.fetch(
                CATEGORIES_PATH, {"country": store.country, "lang": store.lang}, None
            )
        return self._trees[key]

    @cached_property
    def _trees(self) -> dict[tuple[str, str], dict[str, t.Any]]:
        return {}

    def _feeds_bookmarked(self, store: str, feeds: list[int]) -> bool:
        """Whether every feed of ``store`` was finished by an earlier run (has a bookmark)."""
        done = {
            p["context"].get("categoryId")
            for p in self.stream_state.get("partitions", [])
            if p.get("context", {}).get("store") == store and p.get("checked_at")
        }
        return all(cid in done for cid in feeds)

    @cached_property
    def _children_selected(self) -> bool:
        return any(c.selected or c.has_selected_descendents for c in self.child_streams)

    def _sync_children_of(self, context: dict[str, t.Any]) -> None:
        """Sync the selected children for one batch (as the SDK does for a yielded one)."""
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                child.sync(context=context)

    @property
    def full_table(self) -> bool:
        """True when the catalog asks for a full snapshot rather than new arrivals."""
        return self.replication_method == "FULL_TABLE"

    @override
    def get_new_paginator(self) -> ListingPaginator:
        return ListingPaginator(
            int(self.config["page_size"]),
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
        state = self.get_context_state(context)
        snapshot_at = self._snapshot_at()
        requests_before = self.stats.requests
        feed = self.is_feed(context)
        done_earlier = self._resumed_snapshot == snapshot_at == state.get("snapshot_at")
        if self.full_table and done_earlier and not feed:
            # (A feed is read again: the audit of a resumed snapshot needs what it lists.)
            self.log("Skipping %s: done earlier in snapshot %s", context, snapshot_at)
            self._partition_done(context, lambda: None)
            return
        bookmark = Bookmark.from_state(state)
        scan = ArrivalScan(
            bookmark,
            self.tap_runtime.run_started_at,
            everything=self.full_table,
            regains=context["categoryId"] in self.new_in_lists.get(str(context["store"]), ()),
        )
        limits = Limits(max_offset=self._max_offset, max_records=self._max_records)
        reader = ListingReader(self, dict(context), scan, limits)
        store = str(context["store"])
        extra = {"store": store, "categoryId": context["categoryId"]}
        listed = self._feed_listed.setdefault(store, set()) if feed and self.full_table else None
        for record in reader.records():
            record.update(extra, snapshotAt=snapshot_at)
            self._child_ids = for_children(record, scan, listed)
            yield record
            if self.request_policy.budget_exhausted:  # children of what follows could not come
                break
        self._child_ids = None
        self._count(scan, reader)
        if not reader.outcome.finished or self.request_policy.budget_exhausted:
            # Keep the old bookmark: this partition is read again next run.
            state.pop("progress_markers", None)
            self.log("Request budget reached in %s; it resumes next run", context)
            return
        if self.full_table and not feed:
            self._audit_feeds(context, scan)
        # What this partition cost, the children that ran in its sync included, per
        # mode: the next run's budget announcement estimates from it, for free.  A first
        # read, or one down to the freshness band, says nothing of a steady run's cost.
        cost = self.stats.requests - requests_before
        steady = (
            self.full_table
            or (bookmark.anchors and scan.stopped_by != "band")
            or (bookmark.checked_at is not None and bookmark.frozen == 0)  # empty then
        )
        cost_key = self._cost_key

        def move_bookmark() -> None:
            state.update(scan.next_bookmark().to_state())
            if steady:
                state.setdefault("costs", {})[cost_key] = cost
            if self.full_table:
                state["snapshot_at"] = snapshot_at
            self.tap_runtime.write_state_now()

        self._partition_done(context, move_bookmark)

    def _partition_done(self, context: Context, move_bookmark: t.Callable[[], None]) -> None:
        """A partition was read to its stop.

        Its bookmark moves once its products' children ran (their batch may wait for
        the store's next partitions); the store's last partition sends what is left.
        """
        store = str(context["store"])
        self.children.after_flush(store, move_bookmark)
        if self._last_of_store.get(store) == context:
            self.children.flush(store)
        self.stats.finish_partition()
        self._close_snapshot_after(context)

    def _audit_feeds(self, context: Context, scan: ArrivalScan) -> None:
        """A snapshot: count the leaf's arrivals that no feed lists (``feed_misses``).

        What entered this leaf since the last snapshot and is in none of the store's
        feeds was missed by the daily runs reading the feeds; the snapshot emits it.
        """
        store = str(context["store"])
        arrivals = scan.arrivals()
        if not self.feed_ids.get(store) or arrivals is None:
            return
        listed = self._feed_listed.get(store, set())
        counted = self._misses_counted.setdefault(store, set())
        missed = [i for i in dict.fromkeys(arrivals) if i not in listed and i not in counted]
        if not missed:
            return
        counted.update(missed)
        self.stats.count(self.name, "feed_misses", len(missed))
        self.logger.warning(
            "%d products entered %s since the last snapshot but are in none of the store's "
            "arrival feeds %s (daily runs missed them; this snapshot emits them), e.g. %s",
            len(missed),
            dict(context),
            sorted(self.feed_ids[store]),
            missed[:5],
        )

    def last_cost(self, state: dict[str, t.Any]) -> int | None:
        """Requests a partition's last steady run in this run's mode cost; None: unknown."""
        cost = state.get("costs", {}).get(self._cost_key)
        return None if cost is None else int(cost)

    @property
    def _cost_key(self) -> str:
        return self.replication_method.lower()  # a snapshot costs more than new arrivals

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

    def _close_snapshot_after(self, context: Context) -> None:
        """After the last partition, the snapshot is complete: the next run starts anew."""
        if context == self.partitions[-1]:
            self.stream_state.pop("snapshot_in_progress", None)

    def pages(
        self,
        context: dict[str, t.Any],
        paginator: ListingPaginator,
        on_page: Callable[[dict[str, t.Any]], R],
    ) -> Iterator[R]:
        """Yield ``on_page(body)`` for each listing page of ``context``, prefetching the next.

        As the SDK's loop, but the next page is requested (in a worker thread) as soon
        as the paginator knows it, while this page's records are being processed: the
        API's latency overlaps the tap's own work instead of adding to it.  ``on_page``
        sees each page first, so it can end the paging before the next request.
        """
        send = self.request_decorator(self._request)
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="asos-page") as pool,
            self.get_http_request_counter() as request_counter,
        ):
            request_counter.with_context(context)
            request = self._page_request(context, paginator)
            pending: Future[requests.Response] | None = pool.submit(send, request, context)
            while pending is not None:
                response = pending.result()
                request_counter.increment()
                self.update_sync_costs(request, response, context)
                self.stats.count(self.name, "pages")
                result = on_page(self.payload(response))
                paginator.advance(response)
                pending = None
                if not paginator.finished:
                    request = self._page_request(context, paginator)
                    pending = pool.submit(send, request, context)
                yield result

    def _page_request(
        self, context: dict[str, t.Any], paginator: ListingPaginator
    ) -> requests.PreparedRequest:
        return self.get_request(
            self.get_url(context), self.get_url_params(context, paginator.current_value)
        )

    def _snapshot_at(self) -> str:
        """The snapshot this run belongs to: a stopped snapshot is resumed, not restarted."""
        started = self.tap_runtime.run_started_at.isoformat()
        if not self.full_table:
            return started
        _ = self._resumed_snapshot  # before the first setdefault below
        return str(self.stream_state.setdefault("snapshot_in_progress", started))

    @cached_property
    def _resumed_snapshot(self) -> str | None:
        """The unfinished snapshot this run resumes; None: it starts one.

        Only then are partitions skipped: a new snapshot started within the second the
        last one began (``snapshotAt`` has one-second resolution) reads everything.
        """
        resumed = self.stream_state.get("snapshot_in_progress")
        return None if resumed is None else str(resumed)

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> Iterable[Context | None]:
        if not self._children_selected or self._child_ids is None:
            return
        product_id, include, position, scan = self._child_ids
        if include and not scan.everything:  # a snapshot's are noted by for_children
            scan.note_sent(position, product_id)
        yield from self.children.add(str(record["store"]), product_id, include=include)

    # The product being emitted: id, whether it goes to the children, position, scan.
    _child_ids: tuple[int, bool, int | None, ArrivalScan] | None = None
