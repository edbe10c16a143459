"""What a run will spend, estimated before it spends it (``tap-asos --plan``).

The plan reads what the run would read first and nothing more: the countries, each
store's category tree (when the run discovers categories), and the first listing
page of each selected store x category partition (its ``itemCount`` and
``freshness_band`` facet).  From those and the state, :mod:`tap_asos.estimate` (the
cost model) gives each partition's listing pages, products and children.
"""

from __future__ import annotations

import json
import typing as t

from tap_asos.estimate import (
    PartitionPlan,
    Plan,
    children_per_partition,
    estimate_partition,
    month_of_default_schedules,
    stock_calls,
)

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping
    from datetime import datetime

    from singer_sdk.streams import Stream

    from tap_asos.products import Products
    from tap_asos.runtime import RunStats
    from tap_asos.settings import Settings
    from tap_asos.stores import StoreResolver


class PlanningTap(t.Protocol):
    """What the plan reads of the tap (``TapAsos``): the tap calls the plan, not back.

    A protocol instead of an import keeps the plan below the tap (see docs/architecture.md).
    """

    @property
    def settings(self) -> Settings:
        """The run's settings."""

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


def selected_streams(tap: PlanningTap) -> set[str]:
    """The names of the streams the run syncs (selected, or parents of selected ones)."""
    return {name for name, s in tap.streams.items() if s.selected or s.has_selected_descendents}


def make_plan(tap: PlanningTap) -> Plan:
    """Estimate the run's requests; the plan's own requests go through the run's policy."""
    products = t.cast("Products", tap.streams["products"])
    selected = selected_streams(tap)
    settings = tap.settings
    stores = tap.stores.resolve_all()  # /countries/list once
    plan = Plan(
        requests_per_second=settings.requests_per_second, max_requests=settings.max_requests
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
        lists = {
            code: products.listings(store).new_in_lists
            for code, store in stores.items()
            if not settings.category_ids
        }
        reads_leaves = {
            p.store for p in plan.partitions if p.category_id not in lists.get(p.store, ())
        }
        repeated = [
            p.category_id in lists.get(p.store, ()) and p.store in reads_leaves
            for p in plan.partitions
        ]
        counted = iter(
            children_per_partition(
                [p for p, r in zip(plan.partitions, repeated, strict=True) if not r]
            )
        )
        emitted = [0 if r else next(counted) for r in repeated]
        details = emitted if "product_details" in selected else [0] * len(emitted)
        # Stock batches fill across a store's partitions: ceil(store's products / 50)
        # calls, spread over its partitions by their share.
        stock = (
            stock_calls(plan.partitions, emitted, settings.stock_batch_size)
            if "stock_prices" in selected
            else []
        )
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
        plan.month = month_of_default_schedules(
            plan,
            settings,
            full=products.full_table,
            selected=selected,
            quota_limit=tap.stats.quota.limit,
        )
    return plan


def _partition(tap: PlanningTap, products: Products, context: dict[str, t.Any]) -> PartitionPlan:
    """Read the partition's first page; estimate its pages and products from it and its state."""
    state = products.products_state
    partition = state.partition(context)
    if products.full_table and state.done_in_snapshot(partition):
        return PartitionPlan(partition.store, partition.category_id, 0, 0, 0, done=True)
    first = products.fetch(products.path, products.get_url_params(context, None), context)
    estimate = estimate_partition(
        partition, first, tap.settings, full=products.full_table, now=tap.run_started_at
    )
    return estimate.of_feed(first) if products.is_feed(context) else estimate


def print_plan(tap: PlanningTap) -> None:
    """Estimate the run (reading first pages only); print it as JSON on stdout."""
    plan = make_plan(tap)
    figures = plan.as_dict()
    tap.logger.info("Plan: %s", json.dumps(figures, sort_keys=True))
    print(json.dumps(figures, indent=2, sort_keys=True))  # noqa: T201 - the command's output
