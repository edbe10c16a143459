"""What a run will spend, estimated before it spends it (``tap-asos --plan``).

The plan reads what the run would read first and nothing more: the countries, each
store's category tree (when the run discovers categories), and the first listing
page of each selected store x category partition (its ``itemCount`` and
``freshness_band`` facet).  With the state it estimates each partition's listing
pages and the products it will emit (see :mod:`tap_asos.arrivals`):

- snapshot (FULL_TABLE, or incremental without a bookmark): the whole listing
  (at most ``max_products_per_partition``); a partition already done in the snapshot
  in progress costs nothing;
- incremental with a bookmark: everything above the frozen part, ``itemCount`` now
  less the frozen part's size at the last run, plus the two anchors it stops at
  (the cost formula ``ceil((new + last_today + 2) / page_size)``); without the frozen
  size, down to the band covering the last run (``band_limit``).

Children: one ``product_details`` call per emitted product, one ``stock_prices`` call
per ``id_batch_size`` emitted products of a partition.  A product listed in several
categories is counted in each (the run calls its children once per store): the plan
errs on the high side there.

A listing the run reads deeper than ``max_listing_offset`` (see
:class:`tap_asos.listing.ListingReader`) costs the pages down to that offset, then one
listing per ``brand`` value of the first page's facet, each read whole (``ceil(count /
page_size)`` pages, at least one): the first page's facet counts make that exact.  A brand
itself deeper than the offset is read to the offset, then by ``base_colour``; the colour
counts within a brand are not on the first page, so the whole listing's colour shares
stand in for them (the expected pages of each colour slice).  Products of such a listing
are all emitted (the slices read everything below the offset).
"""

from __future__ import annotations

import json
import math
import typing as t
from dataclasses import dataclass, field

from tap_asos.arrivals import Bookmark, band_counts, band_limit
from tap_asos.client import MAX_STOCK_PRICE_IDS
from tap_asos.pagination import slice_plan

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping
    from datetime import datetime

    from singer_sdk.streams import Stream

    from tap_asos.products import Products
    from tap_asos.runtime import RunStats
    from tap_asos.stores import StoreResolver


class PlanningTap(t.Protocol):
    """What the plan reads of the tap (``TapAsos``): the tap calls the plan, not back.

    A protocol instead of an import keeps the plan below the tap (see docs/architecture.md).
    """

    @property
    def config(self) -> Mapping[str, t.Any]:
        """The validated settings."""

    @property
    def state(self) -> Mapping[str, t.Any]:
        """The input state."""

    @property
    def streams(self) -> dict[str, Stream]:
        """The tap's streams by name."""

    @property
    def logger(self) -> logging.Logger:
        """The tap's logger."""

    @property
    def stores(self) -> StoreResolver:
        """The configured stores."""

    @property
    def stats(self) -> RunStats:
        """The run's counters."""

    @property
    def run_started_at(self) -> datetime:
        """UTC start of the run."""


@dataclass
class PartitionPlan:
    """One store x category: what its run will cost."""

    store: str
    category_id: int
    item_count: int
    pages: int
    products: int  # sent to the children (details, stock)
    done: bool = False  # already done in the snapshot in progress
    # The ids of those products that are on the first page (the rest are not read).
    first_ids: list[int] = field(default_factory=list)
    # The first page's cumulative freshness bands, for a feed (daily arrivals).
    bands: dict[str, int] | None = None

    @property
    def context(self) -> dict[str, t.Any]:
        """The partition as the state and the logs name it."""
        return {"store": self.store, "categoryId": self.category_id}


@dataclass
class Plan:
    """Requests per stream a run will make, and what the plan itself cost."""

    requests: dict[str, int] = field(default_factory=dict)
    partitions: list[PartitionPlan] = field(default_factory=list)
    own_requests: int = 0
    quota_remaining: int | None = None
    requests_per_second: float = 0.0
    # Listing pages plus children calls of each partition, in the run's order.
    partition_costs: list[int] = field(default_factory=list)
    max_requests: int = 0
    month: dict[str, t.Any] = field(default_factory=dict)

    def left_for_next_run(self, budget: int) -> list[dict[str, t.Any]]:
        """The partitions a run with ``budget`` requests for the partitions will not finish."""
        contexts = [None if p.done else p.context for p in self.partitions]
        return left_for_next_run(contexts, self.partition_costs, budget)

    @property
    def fixed(self) -> int:
        """The run's requests before the first partition (countries, category trees)."""
        return self.requests.get("countries", 0) + self.requests.get("categories", 0)

    @property
    def total(self) -> int:
        """All the run's requests."""
        return sum(self.requests.values())

    def as_dict(self) -> dict[str, t.Any]:
        """The plan as printed (JSON)."""
        seconds = self.total / self.requests_per_second if self.requests_per_second else None
        return {
            "requests": dict(sorted(self.requests.items())),
            "requests_total": self.total,
            "seconds_at_requests_per_second": None if seconds is None else round(seconds),
            "requests_per_second": self.requests_per_second,
            "quota_remaining": self.quota_remaining,
            "fits_quota": None
            if self.quota_remaining is None
            else self.total <= self.quota_remaining,
            "partitions": len(self.partitions),
            "partitions_done_already": sum(p.done for p in self.partitions),
            "plan_requests": self.own_requests,
            "max_requests": self.max_requests,
            "month_of_default_schedules": self.month,
            "partitions_left_for_next_run": self.left_for_next_run(self.max_requests - self.fixed)
            if self.max_requests
            else [],
        }


def make_plan(tap: PlanningTap) -> Plan:
    """Estimate the run's requests; the plan's own requests go through the run's policy."""
    streams = tap.streams
    products = t.cast("t.Any", streams["products"])
    selected = {name for name, s in streams.items() if s.selected or s.has_selected_descendents}
    stores = tap.stores.resolve_all()  # /countries/list once
    plan = Plan(
        requests_per_second=float(tap.config["requests_per_second"]),
        max_requests=int(tap.config["max_requests"]),
    )
    requests = plan.requests
    requests["countries"] = 1 + int("countries" in selected)
    categories = len(stores) * int("categories" in selected)
    if "products" in selected:
        # The preflight checks configured ids against each store's tree; without
        # them the run reads each tree to discover the leaf categories.
        categories += len(stores)
        plan.partitions = [_partition(tap, products, c) for c in products.partitions]
        requests["products"] = sum(p.pages for p in plan.partitions)
        # A run that reads the leaves too (a first run, a snapshot) meets the products of
        # the feeds and the other New-in lists there: those add pages, not children.
        lists = products.new_in_lists
        reads_leaves = {
            p.store for p in plan.partitions if p.category_id not in lists.get(p.store, ())
        }
        repeated = [
            p.category_id in lists.get(p.store, ()) and p.store in reads_leaves
            for p in plan.partitions
        ]
        counted = iter(
            _children_per_partition(
                [p for p, r in zip(plan.partitions, repeated, strict=True) if not r]
            )
        )
        emitted = [0 if r else next(counted) for r in repeated]
        size = min(int(tap.config["id_batch_size"]), MAX_STOCK_PRICE_IDS)
        details = emitted if "product_details" in selected else [0] * len(emitted)
        # Stock batches fill across a store's partitions: ceil(store's products / 50)
        # calls, spread over its partitions by their share.
        stock = _stock_calls(plan.partitions, emitted, size) if "stock_prices" in selected else []
        stock = stock or [0] * len(emitted)
        if "product_details" in selected:
            requests["product_details"] = sum(details)
        if "stock_prices" in selected:
            requests["stock_prices"] = sum(stock)
        plan.partition_costs = [
            p.pages + d + s for p, d, s in zip(plan.partitions, details, stock, strict=True)
        ]
    requests["categories"] = categories
    plan.own_requests = tap.stats.requests
    plan.quota_remaining = tap.stats.quota.remaining
    if "products" in selected:
        plan.month = month_of_default_schedules(tap, plan, selected)
    return plan


def _partition(tap: PlanningTap, products: t.Any, context: dict[str, t.Any]) -> PartitionPlan:  # noqa: ANN401
    """Read the partition's first page; estimate its pages and products from it and its state."""
    page_size = int(tap.config["page_size"])
    cap = int(tap.config.get("max_products_per_partition") or 0)
    state = partition_state(tap, context)
    full = products.full_table
    snapshot = tap.state.get("bookmarks", {}).get("products", {}).get("snapshot_in_progress")
    if full and snapshot and state.get("snapshot_at") == snapshot:
        return PartitionPlan(context["store"], context["categoryId"], 0, 0, 0, done=True)
    first = products.fetch(products.path, products.get_url_params(context, None), context)
    item_count = int(first.get("itemCount") or 0)
    bookmark = Bookmark.from_state(state)
    if full or not bookmark.anchors:
        depth = item_count
        if not full:
            limit = band_limit(band_counts(first), bookmark.checked_at, tap.run_started_at)
            depth = min(item_count, limit) if limit is not None else item_count
        emitted = depth
    elif bookmark.frozen is not None:
        # Above the frozen part (which only loses products), then the stop pair.
        depth = min(item_count, max(0, item_count - bookmark.frozen) + 2)
        # Neither anchor of the stop pair goes to the children, nor what the last run
        # sent them from its Today block (read again: the at-least-once overlap).
        emitted = max(0, depth - 2 - len(bookmark.fetched))
    else:
        depth = item_count
        emitted = item_count
    max_offset = int(tap.config.get("max_listing_offset") or 0)
    sliced = bool(max_offset) and min(depth, cap or depth) > max_offset
    if sliced:
        # Above the offset what the scan emits; below it every product, by facet slices.
        emitted = min(emitted, max_offset) + item_count - max_offset
    if cap:
        depth, emitted = min(depth, cap), min(emitted, cap)
    pages = max(1, math.ceil(depth / page_size))
    if sliced:
        below = sliced_pages(first, page_size, max_offset)
        if cap:  # the run stops within the slices once it has emitted the cap
            below *= (cap - max_offset) / max(1, item_count - max_offset)
        pages = math.ceil(max_offset / page_size) + math.ceil(below)
    ids = [int(p["id"]) for p in first.get("products") or []][:emitted]
    return PartitionPlan(
        context["store"],
        context["categoryId"],
        item_count,
        pages,
        emitted,
        first_ids=ids,
        bands=band_counts(first) if products.is_feed(context) else None,
    )


def sliced_pages(first: dict[str, t.Any], page_size: int, max_offset: int) -> float:
    """Listing requests of the facet slices of a listing deeper than ``max_offset``.

    ``first`` is the listing's first page: its ``brand`` facet counts are the brand
    slices' sizes (or, when no brand narrows the listing, its ``base_colour`` counts).
    """
    level, _facet, values = slice_plan(first, 0)
    return sum(_slice_pages(first, level, count, page_size, max_offset) for _v, count in values)


def _slice_pages(
    first: dict[str, t.Any], level: int, count: int, page_size: int, max_offset: int
) -> float:
    """Requests of one slice of ``count`` products at facet ``level``, read whole."""
    pages: float = max(1, math.ceil(min(count, max_offset) / page_size))
    if count <= max_offset:
        return pages
    # Deeper than the offset too: read by the next facet, whose counts within this slice
    # only the slice's own first page would tell.  Each value's share of the whole
    # listing stands in: a value holds ``count * share`` products on average, and is
    # read at all only when it holds one.
    total = int(first.get("itemCount") or 0)
    _level, _facet, values = slice_plan(first, level + 1)
    for _value, n in values:
        share = n / total
        mean = count * share
        some = 1 - (1 - share) ** count
        pages += max(some, min(mean, max_offset) / page_size + some / 2)
    return pages


def _children_per_partition(partitions: list[PartitionPlan]) -> list[int]:
    """Products each partition sends to the children, each product once per store.

    The run sends a product listed in several categories to the children once.  For
    the ids on first pages that is counted exactly (in the run's partition order);
    the rest of a partition is scaled by the share of first-page ids not seen before.
    """
    seen: dict[str, set[int]] = {}
    sampled = fresh_total = 0
    fresh_counts: list[tuple[int, int]] = []
    for part in partitions:
        store_seen = seen.setdefault(part.store, set())
        fresh = [i for i in part.first_ids if i not in store_seen]
        store_seen.update(part.first_ids)
        sampled += len(part.first_ids)
        fresh_total += len(fresh)
        fresh_counts.append((len(fresh), part.products - len(part.first_ids)))
    share = fresh_total / sampled if sampled else 1.0
    return [exact + round(rest * share) for exact, rest in fresh_counts]


# The default schedules (meltano.yml): a daily incremental run and a weekly snapshot.
DAILY_RUNS_A_MONTH = 30
SNAPSHOTS_A_MONTH = 52 / 12
DAYS_IN_LAST_7_DAYS_BAND = 7


def month_of_default_schedules(
    tap: PlanningTap, plan: Plan, selected: set[str]
) -> dict[str, t.Any]:
    """A month of the default schedules for these stores, against the plan's quota.

    An incremental plan is the daily run; a snapshot plan (FULL_TABLE) is the weekly
    snapshot, and it reads the feeds' first pages too, whose ``Last 7 Days`` band gives
    the arrivals a day a daily run would read: ``ceil((2 x arrivals + 2) / page_size)``
    pages a feed (the day's arrivals, yesterday's re-read, the stop pair), one detail
    call per arrival, ``ceil(arrivals / 50)`` stock calls a store.  The other half is
    left null: plan the other job to get it (``meltano invoke tap-asos--snapshot --plan``).
    """
    products = t.cast("Products", tap.streams["products"])
    daily: int | None = None
    snapshot: int | None = None
    if products.full_table:
        snapshot = plan.total
        daily = _daily_from_feeds(tap, plan, selected)
    elif plan.partitions and all(products.is_feed(p.context) for p in plan.partitions):
        daily = plan.total  # a daily run on the feeds (not a first run over every leaf)
    month = (
        None
        if daily is None or snapshot is None
        else round(DAILY_RUNS_A_MONTH * daily + SNAPSHOTS_A_MONTH * snapshot)
    )
    limit = tap.stats.quota.limit
    return {
        "daily_run": daily,
        "weekly_snapshot": snapshot,
        "requests_per_month": month,
        "quota_limit": limit,  # x-ratelimit-requests-limit: the plan's monthly quota
        "fits_quota": None if month is None or limit is None else month <= limit,
    }


def _daily_from_feeds(tap: PlanningTap, plan: Plan, selected: set[str]) -> int | None:
    """A daily run's requests, from the feeds' freshness bands (see above)."""
    products = t.cast("Products", tap.streams["products"])
    page_size = int(tap.config["page_size"])
    feeds = [p for p in plan.partitions if products.is_feed(p.context) and p.bands]
    if not feeds:
        return None
    arrivals: dict[str, float] = {}
    total = plan.fixed
    for part in feeds:
        bands = part.bands or {}
        per_day = bands.get("3", 0) / DAYS_IN_LAST_7_DAYS_BAND
        total += max(1, math.ceil((2 * per_day + 2) / page_size))
        arrivals[part.store] = arrivals.get(part.store, 0.0) + per_day
    size = min(int(tap.config["id_batch_size"]), MAX_STOCK_PRICE_IDS)
    if "product_details" in selected:
        total += round(sum(arrivals.values()))
    if "stock_prices" in selected:
        total += sum(math.ceil(n / size) for n in arrivals.values())
    return total


def _stock_calls(partitions: list[PartitionPlan], emitted: list[int], size: int) -> list[int]:
    """Stock calls per partition: each store's ``ceil(products / size)``, by share."""
    per_store: dict[str, int] = {}
    for part, n in zip(partitions, emitted, strict=True):
        per_store[part.store] = per_store.get(part.store, 0) + n
    calls: list[int] = []
    given: dict[str, int] = {}
    left: dict[str, int] = dict(per_store)
    for part, n in zip(partitions, emitted, strict=True):
        store_calls = math.ceil(per_store[part.store] / size)
        left[part.store] -= n
        # Cumulative rounding: the store's partitions add up to its exact call count.
        done = (
            store_calls
            if left[part.store] == 0
            else store_calls
            * ((per_store[part.store] - left[part.store]) / max(1, per_store[part.store]))
        )
        share = math.floor(done) - given.get(part.store, 0)
        given[part.store] = given.get(part.store, 0) + share
        calls.append(share)
    return calls


def partition_state(tap: PlanningTap, context: dict[str, t.Any]) -> dict[str, t.Any]:
    """The partition's state as the run will read it (never created or changed here)."""
    for entry in tap.state.get("bookmarks", {}).get("products", {}).get("partitions", []):
        if entry.get("context") == context:
            return t.cast("dict[str, t.Any]", entry)
    return {}


def print_plan(tap: PlanningTap) -> None:
    """Estimate the run (reading first pages only); print it as JSON on stdout."""
    plan = make_plan(tap)
    figures = plan.as_dict()
    tap.logger.info("Plan: %s", json.dumps(figures, sort_keys=True))
    print(json.dumps(figures, indent=2, sort_keys=True))  # noqa: T201 - the command's output


def left_for_next_run(
    contexts: list[dict[str, t.Any] | None], costs: list[int], budget: int
) -> list[dict[str, t.Any]]:
    """The partitions (in run order; None: costs nothing) ``budget`` requests leave.

    A run reads partitions in order and stops at the budget: the partition it is in
    then keeps its old bookmark, so it is left too, with every one after it.
    """
    spent = 0
    for index, cost in enumerate(costs):
        spent += cost
        if spent > budget:
            return [c for c in contexts[index:] if c is not None]
    return []
