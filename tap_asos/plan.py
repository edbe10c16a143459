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
from dataclasses import replace

from tap_asos.bands import band_counts
from tap_asos.estimate import (
    PartitionPlan,
    Plan,
    children_per_partition,
    combine,
    estimate_backlog,
    estimate_partition,
    stock_calls,
    unit_shares,
)
from tap_asos.month import StoreFacts, month_of_default_schedules
from tap_asos.partitions import HEAD, READ, REST, TOP, WHOLE, by_partition, partition_context
from tap_asos.state import context_of

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping
    from datetime import datetime

    from singer_sdk.streams import Stream

    from tap_asos.products import Products
    from tap_asos.runtime import RunStats
    from tap_asos.settings import Settings
    from tap_asos.stores import StoreInfo, StoreResolver


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
        grouped = by_partition(products.partitions)
        planned = [_partition(tap, products, units) for units in grouped]
        plan.partitions = [p for p, _shares in planned]
        requests["products"] = sum(p.pages for p in plan.partitions)
        # A run that reads the leaves too (a first run, a snapshot) meets the products of
        # the feeds and the other New-in lists there: those add pages, not children.
        lists = {
            code: products.stores_read.listings(store).new_in_lists
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
        per_product = float("product_details" in selected) + float("stock_prices" in selected) / (
            settings.stock_batch_size
        )
        calls = [d + s for d, s in zip(details, stock, strict=True)]
        plan.unit_costs = _unit_costs(planned, grouped, calls, products.partitions, per_product)
    requests["categories"] = categories
    if "products" in selected:
        served = replace(settings, page_size=products.page.effective)
        plan.month = month_of_default_schedules(
            _feed_bands(products, plan, stores),
            _store_facts(products, plan, stores, emitted),
            served,
            quota_limit=tap.stats.quota.limit,
        )
    plan.own_requests = tap.stats.requests  # the month's feed pages included
    plan.quota_remaining = tap.stats.quota.remaining
    return plan


def _feed_bands(
    products: Products, plan: Plan, stores: t.Mapping[str, StoreInfo]
) -> list[tuple[str, t.Mapping[str, int]]]:
    """Each feed's store and freshness bands, for the daily run's price.

    From the plan's own feed partitions; each feed a plan does not read (a cover
    snapshot's) has its first page read for it (a request a feed).  Stores given by
    ``category_ids`` have no tree read, so no feeds: no daily run to price.
    """
    if products.settings.category_ids:
        return []
    planned = {(p.store, p.category_id): p.bands for p in plan.partitions if p.feed}
    bands: list[tuple[str, t.Mapping[str, int]]] = []
    for code, store in stores.items():
        for feed in products.stores_read.listings(store).feeds:
            if (code, feed) in planned:
                counts = planned[(code, feed)]
            else:
                context = context_of(code, feed)
                params = products.get_url_params(context, None)
                counts = band_counts(products.fetch(products.path, params, context))
            if counts:
                bands.append((code, counts))
    return bands


def _store_facts(
    products: Products,
    plan: Plan,
    stores: t.Mapping[str, StoreInfo],
    emitted: list[int],
) -> list[StoreFacts]:
    """What prices each store's weekly snapshot: its cover, else its products."""
    facts = []
    for code, store in stores.items():
        read = {p.category_id for p in plan.partitions if p.store == code}
        listings = (
            set(products.settings.category_ids)
            if products.settings.category_ids
            else set(products.stores_read.listings(store).leaves)
        )
        counted: float | None = products.products_state.store_products(code)
        if counted is None and listings and listings <= read:  # the plan's estimate
            counted = sum(
                n for p, n in zip(plan.partitions, emitted, strict=True) if p.store == code
            )
        empty = sum(1 for p in plan.partitions if p.store == code and not p.item_count)
        cover = products.products_state.cover(code)
        facts.append(StoreFacts(code, len(listings), cover, counted, empty))
    return facts


def _unit_costs(
    planned: list[tuple[PartitionPlan, list[tuple[int, int]]]],
    grouped: list[list[dict[str, t.Any]]],
    children: list[int],
    units: list[dict[str, t.Any]],
    per_product: float,
) -> list[tuple[dict[str, t.Any] | None, int]]:
    """Each unit's requests, in the run's order (``units``).

    ``children``: each partition's child calls.  A head read's are its first page's
    products the run has not sent before (counted exactly, in the run's order: the
    feeds' heads come first and carry the new products, the leaves' heads then meet
    them again); the rest of its partition's go to the read's rest.
    """
    by_unit: dict[tuple[t.Any, ...], tuple[PartitionPlan, tuple[int, int], float, int]] = {}
    for (part, shares), group, calls in zip(planned, grouped, children, strict=True):
        whole = max(1, sum(n for _pages, n in shares))
        for unit, share in zip(group, shares, strict=True):
            by_unit[_unit_key(unit)] = (part, share, calls, whole)
    seen: dict[str, set[int]] = {}
    heads: dict[tuple[str, int], float] = {}
    costs: list[tuple[dict[str, t.Any] | None, int]] = []
    for unit in units:
        part, (pages, n), partition_calls, whole = by_unit[_unit_key(unit)]
        key = (part.store, part.category_id)
        kind = str(unit[READ])
        if kind == HEAD:
            store_seen = seen.setdefault(part.store, set())
            fresh = [i for i in part.first_ids[:n] if i not in store_seen]
            store_seen.update(fresh)
            spent = heads[key] = len(fresh) * per_product
        elif kind == REST and key in heads:
            spent = max(0.0, partition_calls - heads[key])
        else:
            spent = partition_calls * n / whole
        costs.append((None if part.done else partition_context(unit), pages + round(spent)))
    return costs


def _unit_key(unit: dict[str, t.Any]) -> tuple[t.Any, ...]:
    return unit["store"], unit["categoryId"], unit[READ]


def _partition(
    tap: PlanningTap, products: Products, units: list[dict[str, t.Any]]
) -> tuple[PartitionPlan, list[tuple[int, int]]]:
    """A partition's pages and products, its units' together.

    A read from the top is estimated from its first page, what a suspended read left
    from its state (no request).
    """
    state = products.products_state
    context = units[0]
    partition = state.partition(context)
    kinds = [str(u[READ]) for u in units]
    if products.full_table and state.done_in_snapshot(partition):
        done = PartitionPlan(partition.store, partition.category_id, 0, 0, 0, done=True)
        return done, [(0, 0)] * len(kinds)
    rest = None
    if REST in kinds:
        for backlog in partition.backlogs_of(products.cost_key):
            rest = combine(rest, estimate_backlog(partition, backlog, tap.settings))
    top = None
    if set(kinds) & {TOP, HEAD, WHOLE}:
        first = products.fetch(products.path, products.get_url_params(context, None), context)
        # Pages hold what the API serves (a clamping API shows it on a first page).
        served = replace(tap.settings, page_size=products.page.effective)
        top = estimate_partition(
            partition, first, served, full=products.full_table, now=tap.run_started_at
        )
        if products.stores_read.is_feed(context):
            top = top.of_feed(first)
    return combine(top, rest), unit_shares(kinds, top, rest)


def print_plan(tap: PlanningTap) -> None:
    """Estimate the run (reading first pages only); print it as JSON on stdout."""
    plan = make_plan(tap)
    figures = plan.as_dict()
    tap.logger.info("Plan: %s", json.dumps(figures, sort_keys=True))
    print(json.dumps(figures, indent=2, sort_keys=True))  # noqa: T201 - the command's output
