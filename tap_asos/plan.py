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
        emitted = _children_per_partition(plan.partitions)
        size = min(int(tap.config["id_batch_size"]), MAX_STOCK_PRICE_IDS)
        details = emitted if "product_details" in selected else [0] * len(emitted)
        stock = [math.ceil(n / size) if "stock_prices" in selected else 0 for n in emitted]
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
    return plan


def _partition(tap: PlanningTap, products: t.Any, context: dict[str, t.Any]) -> PartitionPlan:  # noqa: ANN401
    """Read the partition's first page; estimate its pages and products from it and its state."""
    page_size = int(tap.config["page_size"])
    cap = int(tap.config.get("max_products_per_partition") or 0)
    state = _partition_state(tap, context)
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
        # Neither anchor of the stop pair goes to the children.
        emitted = max(0, depth - 2)
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
        context["store"], context["categoryId"], item_count, pages, emitted, first_ids=ids
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


def _partition_state(tap: PlanningTap, context: dict[str, t.Any]) -> dict[str, t.Any]:
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


def announce_budget(tap: PlanningTap) -> None:
    """With max_requests: log which partitions the run will leave for the next one.

    By default from what each partition cost in its last finished run (kept in its
    state, so the estimate is free); with ``plan_before_run``, by planning (below).
    """
    if tap.config.get("plan_before_run"):
        announce_planned_budget(tap)
        return
    budget = int(tap.config["max_requests"])
    products = t.cast("Products", tap.streams["products"])
    if not products.selected:
        return
    contexts: list[dict[str, t.Any] | None] = []
    known: list[int | None] = []
    for context in products.partitions:  # in the run's order
        state = _partition_state(tap, context)
        done = products.full_table and state.get("snapshot_at") == _snapshot_in_progress(tap)
        contexts.append(None if done else context)
        known.append(0 if done else products.last_cost(state))
    history = [c for c in known if c is not None]
    if not history:
        tap.logger.info(
            "Budget: no partition has finished a %s run since its first, so no estimate "
            "at start (set plan_before_run, or run tap-asos --plan)",
            products.replication_method.lower(),
        )
        return
    # A partition without history (never finished) costs what the others did, on average.
    mean = math.ceil(sum(history) / len(history))
    costs = [mean if c is None else c for c in known]
    # Still to come before the first partition: the countries and categories streams'
    # own requests (the preflight's and the partitions' are spent already).
    before = int(tap.streams["countries"].selected) + len(tap.stores.resolve_all()) * int(
        tap.streams["categories"].selected
    )
    left = left_for_next_run(contexts, costs, budget - tap.stats.requests - before)
    _log_budget(
        tap,
        {
            "max_requests": budget,
            "estimated_from": "last_run_costs",
            "estimated_requests_total": tap.stats.requests + before + sum(costs),
            "partitions": len(contexts),
            "partitions_without_history": known.count(None),
            "partitions_left_for_next_run": left,
        },
    )


def _snapshot_in_progress(tap: PlanningTap) -> str | None:
    products = tap.state.get("bookmarks", {}).get("products", {})
    return t.cast("str | None", products.get("snapshot_in_progress"))


def _log_budget(tap: PlanningTap, figures: dict[str, t.Any]) -> None:
    tap.logger.info("Budget: %s", json.dumps(figures, sort_keys=True))
    if left := figures["partitions_left_for_next_run"]:
        tap.logger.warning(
            "max_requests=%d is below the estimated %d requests: this run leaves %d of %d "
            "partitions for the next run (listed in the Budget line)",
            figures["max_requests"],
            figures.get("plan_requests_total", figures.get("estimated_requests_total")),
            len(left),
            figures["partitions"],
        )


def announce_planned_budget(tap: PlanningTap) -> None:
    """With plan_before_run: plan, and say which partitions the run leaves.

    The plan's first pages count against the budget (one request per partition), so
    it is made only when they take at most a quarter of it; the countries and
    category trees it reads are not read again by the run.
    """
    budget = int(tap.config["max_requests"])
    products = t.cast("Products", tap.streams["products"])
    if products.selected:
        # Read by the run anyway (countries, category trees): not extra.
        first_pages = len(products.partitions)
        if first_pages > (budget - tap.stats.requests) // 4:
            tap.logger.info(
                "Budget: no plan at start: its %d first pages would take over a "
                "quarter of max_requests=%d (run tap-asos --plan beforehand)",
                first_pages,
                budget,
            )
            return
    plan = make_plan(tap)
    # What the run will still spend before the first partition: the countries and
    # categories streams' own requests, when selected.
    before = plan.fixed - 1 - len(tap.stores.resolve_all()) * int(tap.streams["products"].selected)
    left = plan.left_for_next_run(budget - tap.stats.requests - max(0, before))
    _log_budget(
        tap,
        {
            "max_requests": budget,
            "estimated_from": "plan",
            "plan_requests_total": plan.total,
            "plan_requests": plan.own_requests,
            "partitions": len(plan.partitions),
            "partitions_left_for_next_run": left,
        },
    )
