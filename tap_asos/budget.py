"""A budgeted run says at start which partitions it will leave for the next one.

With ``max_requests`` set, each partition's cost in its last steady run (kept in its
state) estimates the run for free; with ``plan_before_run``, the plan does (its first
pages count against the budget).  Both estimates come from :mod:`tap_asos.estimate`.
"""

from __future__ import annotations

import json
import math
import typing as t

from tap_asos.estimate import estimate_backlog, left_for_next_run
from tap_asos.partitions import HEAD, READ, REST, TOP, WHOLE, by_partition, partition_context
from tap_asos.plan import make_plan

if t.TYPE_CHECKING:
    from tap_asos.plan import PlanningTap
    from tap_asos.products import Products
    from tap_asos.state import PartitionState


def announce_budget(tap: PlanningTap) -> None:
    """With max_requests: log which partitions the run will leave for the next one.

    By default from what each partition cost in its last finished run (kept in its
    state, so the estimate is free); with ``plan_before_run``, by planning (below).
    """
    if tap.settings.plan_before_run:
        announce_planned_budget(tap)
        return
    budget = tap.settings.max_requests
    products = t.cast("Products", tap.streams["products"])
    if not products.selected:
        return
    state = products.products_state
    contexts: list[dict[str, t.Any] | None] = []
    known: list[int | None] = []
    for units in by_partition(products.partitions):  # in the run's order
        partition = state.partition(units[0])
        done = products.full_table and state.done_in_snapshot(partition)
        contexts.append(None if done else partition_context(units[0]))
        known.append(0 if done else _known_cost(products, partition, units))
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


def _known_cost(
    products: Products, partition: PartitionState, units: list[dict[str, t.Any]]
) -> int | None:
    """What a partition's units will cost, as far as its state tells (None: unknown).

    A top read costs what its last steady run did; what a suspended read left is
    estimated from its backlog; a first read says nothing of its cost before it is made.
    """
    kinds = {str(u[READ]) for u in units}
    cost = 0
    if kinds & {HEAD, WHOLE}:
        return None
    if TOP in kinds:
        last = partition.costs.get(products.cost_key)
        if last is None:
            return None
        cost += last
    for backlog in partition.backlogs_of(products.cost_key) if REST in kinds else ():
        rest = estimate_backlog(partition, backlog, products.settings)
        per_product, per_batch = products.child_costs
        cost += rest.pages + per_product * rest.products
        cost += per_batch * math.ceil(rest.products / products.settings.stock_batch_size)
    return cost


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
    budget = tap.settings.max_requests
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
