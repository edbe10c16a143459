"""The cost model: what a run will spend, from first pages and the state, and no request.

A partition's first listing page (its ``itemCount`` and ``freshness_band`` facet) and
its state (see :mod:`tap_asos.arrivals`) give its listing pages and the products it
will emit:

- snapshot (FULL_TABLE, or incremental without a bookmark): the whole listing
  (at most ``max_products_per_partition``); a partition already done in the snapshot
  in progress costs nothing;
- incremental with a bookmark: everything above the frozen part, ``itemCount`` now
  less the frozen part's size at the last run, plus the two anchors it stops at
  (the cost formula ``ceil((new + last_today + 2) / page_size)``); without the frozen
  size, down to the band covering the last run (``band_limit``).

Children: one ``product_details`` call per emitted product, one ``stock_prices`` call
per ``id_batch_size`` emitted products of a store.  The run calls a product's children
once per store, however many listings it is on: the ids on first pages are counted
once exactly, and the rest of a store's listings as many products as its first pages'
repeats tell (:func:`distinct_products`).

A listing the run reads deeper than ``max_listing_offset`` (see
:class:`tap_asos.listing.ListingReader`) costs the pages down to that offset, then one
listing per ``brand`` value of the first page's facet, each read whole (``ceil(count /
page_size)`` pages, at least one): the first page's facet counts make that exact.  A brand
itself deeper than the offset is read to the offset, then by ``base_colour``; the colour
counts within a brand are not on the first page, so the whole listing's colour shares
stand in for them (the expected pages of each colour slice).  Products of such a listing
are all emitted (the slices read everything below the offset).

Who uses it: :mod:`tap_asos.plan` (``--plan``, which reads the first pages) and
:mod:`tap_asos.budget` (a budgeted run's announcement at start).
"""

from __future__ import annotations

import math
import typing as t
from collections import Counter
from dataclasses import dataclass, field, replace

from tap_asos.bands import band_counts, band_limit
from tap_asos.pagination import slice_plan
from tap_asos.state import context_of

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from tap_asos.bookmark import Backlog
    from tap_asos.settings import Settings
    from tap_asos.state import PartitionState


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
    feed: bool = False  # one of its store's arrival feeds

    def of_feed(self, first: dict[str, t.Any]) -> PartitionPlan:
        """This plan, for one of its store's arrival feeds (``first``: its first page)."""
        return replace(self, bands=band_counts(first), feed=True)

    @property
    def context(self) -> dict[str, t.Any]:
        """The partition as the state and the logs name it."""
        return context_of(self.store, self.category_id)


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
    # Each unit of the run (a partition's read from the top, a suspended read, ...):
    # its partition's context (None: done already) and its requests, in the run's order.
    unit_costs: list[tuple[dict[str, t.Any] | None, int]] = field(default_factory=list)
    max_requests: int = 0
    month: dict[str, t.Any] = field(default_factory=dict)

    def left_for_next_run(self, budget: int) -> list[dict[str, t.Any]]:
        """The partitions a run with ``budget`` requests for the partitions will not finish."""
        if not self.unit_costs:
            contexts = [None if p.done else p.context for p in self.partitions]
            return left_for_next_run(contexts, self.partition_costs, budget)
        contexts, costs = zip(*self.unit_costs, strict=True)
        return left_for_next_run(list(contexts), list(costs), budget)

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
            **self.runs(),
        }

    def runs(self) -> dict[str, int | None]:
        """With ``max_requests``: what this run leaves, and the runs the work takes in all.

        Each run pays the countries and the category trees again, a top read of each
        arrival feed (the day's arrivals come first), and a page to find its place
        again; then goes on with the partitions where the last one stood.
        """
        if not self.max_requests:
            return {"requests_left_after_this_run": 0, "runs_at_this_budget": 1}
        feeds = sum(p.feed for p in self.partitions)
        per_run = self.max_requests - self.fixed - feeds - 1
        work = self.total - self.fixed
        return {
            "requests_left_after_this_run": max(0, self.total - self.max_requests),
            "runs_at_this_budget": math.ceil(work / per_run) if per_run > 0 else None,
        }


def estimate_partition(
    partition: PartitionState,
    first: dict[str, t.Any],
    settings: Settings,
    *,
    full: bool,
    now: datetime,
) -> PartitionPlan:
    """A partition's pages and emitted products, from its first page and its state.

    A feed's plan keeps the first page's bands too (:meth:`PartitionPlan.of_feed`).
    """
    page_size = settings.page_size
    cap = settings.max_products_per_partition
    item_count = int(first.get("itemCount") or 0)
    bookmark = partition.bookmark
    if full or not bookmark.anchors:
        depth = item_count
        if not full:
            limit = band_limit(band_counts(first), bookmark.checked_at, now)
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
    max_offset = settings.max_listing_offset
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
        partition.store,
        partition.category_id,
        item_count,
        pages,
        emitted,
        first_ids=ids,
    )


def estimate_backlog(
    partition: PartitionState, backlog: Backlog, settings: Settings
) -> PartitionPlan:
    """What is left of a suspended read, from its state alone (no request).

    The products below where it stands (its listing's cursor: those unread when it was
    saved; or the listing's size when the read started, less what it had read), down to
    the frozen part for a read from the top to its anchors (and the stop pair); a page
    to find its place again, and their pages.  Every product left goes to the children
    (but those of its page that went already).
    """
    scan = backlog.scan
    cursor = backlog.frames[0].cursor if len(backlog.frames) == 1 else None
    if cursor is not None:
        left = cursor.unread
    else:
        left = scan.item_count - (scan.position if len(backlog.frames) <= 1 else backlog.emitted)
    bookmark = scan.bookmark
    if not scan.everything and bookmark.anchors and bookmark.frozen is not None:
        left = min(left, max(0, left - bookmark.frozen) + 2)
    left = max(0, left)
    if settings.max_records:
        left = min(left, max(0, settings.max_records - backlog.emitted))
    pages = 1 + math.ceil(left / settings.page_size)
    return PartitionPlan(
        partition.store,
        partition.category_id,
        scan.item_count,
        pages,
        max(0, left - len(backlog.sent)),
    )


def left_after(  # noqa: PLR0913 - the state, and what a run has
    partitions: Sequence[PartitionState],
    mode: str,
    settings: Settings,
    child_calls: Callable[[int], float],
    *,
    done: Callable[[PartitionState], bool],
    started_at: datetime,
    budget_per_run: int | None,
) -> dict[str, t.Any]:
    """What a budgeted run leaves for the next ones, from the state alone (no request).

    The suspended reads' rest (:func:`estimate_backlog`: their pages, and a child call
    for each product below where they stand, an upper figure as some of those went to
    the children from other listings); the partitions this run did not reach, at their
    last steady cost for each day since their last read.  A partition no read has
    started yet (``done`` says which need none) is not priced: only its pages tell its
    size and how many of its products went to the children from other listings;
    ``requests_left`` is then None and ``--plan`` (reading the first pages) prices it.
    ``child_calls(n)``: the child requests of ``n`` products; ``budget_per_run``: what
    a run has for the partitions (its budget less the countries and category trees).
    """
    requests = 0.0
    unstarted = 0
    for partition in partitions:
        backlogs = partition.backlogs_of(mode)
        for backlog in backlogs:
            rest = estimate_backlog(partition, backlog, settings)
            requests += rest.pages + child_calls(rest.products)
        checked = partition.bookmark.checked_at
        if backlogs or (checked is not None and checked >= started_at):
            continue
        if not done(partition):
            unstarted += 1
        elif checked is not None and mode in partition.costs:
            days = max(1, (started_at.date() - checked.date()).days)
            requests += partition.costs[mode] * days
    total = None if unstarted else math.ceil(requests)
    runs = None
    if total is not None and budget_per_run:
        runs = math.ceil(total / budget_per_run)
    return {
        "requests_left": total,
        "runs_left_at_this_budget": runs,
        "partitions_with_reads_left": sum(bool(p.backlogs_of(mode)) for p in partitions),
        "partitions_not_started": unstarted,
    }


def combine(first: PartitionPlan | None, rest: PartitionPlan | None) -> PartitionPlan:
    """A partition's plan from its units': a read from the top, and/or a suspended one."""
    if first is None or rest is None:
        return t.cast("PartitionPlan", first or rest)
    return replace(first, pages=first.pages + rest.pages, products=first.products + rest.products)


def unit_shares(
    kinds: list[str], top: PartitionPlan | None, rest: PartitionPlan | None
) -> list[tuple[int, int]]:
    """(pages, products) of each unit of a partition, in its units' order.

    A head read is its first page (and the products there); the rest after it is the
    remainder of the read from the top; a suspended read's rest is what its state says.
    """
    shares: list[tuple[int, int]] = []
    head = (1, min(top.products, len(top.first_ids))) if top is not None else (0, 0)
    for kind in kinds:
        if kind == "head" and top is not None:
            shares.append(head)
        elif kind == "rest" and rest is not None:
            shares.append((rest.pages, rest.products))
        elif kind == "rest" and top is not None:  # the rest of this run's head read
            shares.append((max(0, top.pages - head[0]), max(0, top.products - head[1])))
        elif top is not None and kind in {"top", "whole"}:
            shares.append((top.pages, top.products))
        else:
            shares.append((0, 0))
    return shares


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


def children_per_partition(partitions: list[PartitionPlan]) -> list[int]:
    """Products each partition sends to the children, each product once per store.

    The run sends a product listed in several categories to the children once.  For
    the ids on first pages that is counted exactly (in the run's partition order); the
    rest of a store's partitions hold its products no first page showed, as many as
    :func:`distinct_products` estimates from how often the first pages repeat ids (at
    least its largest listing's), spread over them by size.
    """
    seen: dict[str, Counter[int]] = {}
    fresh_counts: list[tuple[str, int, int]] = []
    rests: Counter[str] = Counter()
    largest: Counter[str] = Counter()  # a listing's products are all different ones
    for part in partitions:
        store_seen = seen.setdefault(part.store, Counter())
        fresh = [i for i in part.first_ids if i not in store_seen]
        store_seen.update(part.first_ids)
        rest = part.products - len(part.first_ids)
        fresh_counts.append((part.store, len(fresh), rest))
        rests[part.store] += rest
        largest[part.store] = max(largest[part.store], part.products)
    share: dict[str, float] = {}
    for store, ids in seen.items():
        unseen = max(distinct_products(ids), largest[store]) - len(ids)
        share[store] = min(1.0, unseen / rests[store]) if rests[store] else 0.0
    return [exact + round(rest * share[store]) for store, exact, rest in fresh_counts]


def distinct_products(sampled: Counter[int]) -> float:
    """How many products the listings hold in all, from their first pages' ids (Chao1).

    ``sampled``: how many first pages showed each id.  ``D + f1 (f1 - 1) / (2 (f2 + 1))``
    (``D`` ids seen, ``f1`` of them once, ``f2`` twice; unbounded when no id was seen
    twice, as nothing tells of an overlap): on the sandbox's real-size store,
    11 % above the truth at 5,000 and 20,000 products, where scaling by the share of new
    ids on first pages was 2 to 3 times it (first pages show the newest products, on
    more lists than most).
    """
    once = sum(1 for n in sampled.values() if n == 1)
    if once == len(sampled):
        return math.inf  # no id on two first pages: nothing tells of any overlap
    twice = sum(1 for n in sampled.values() if n == 2)  # noqa: PLR2004 - Chao1's f2
    return len(sampled) + once * (once - 1) / (2 * (twice + 1))


def stock_calls(partitions: list[PartitionPlan], emitted: list[int], size: int) -> list[int]:
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


# The default schedules (meltano.yml): a daily incremental run and a weekly snapshot.
def left_for_next_run(
    contexts: list[dict[str, t.Any] | None], costs: list[int], budget: int
) -> list[dict[str, t.Any]]:
    """The partitions (in run order; None: costs nothing) ``budget`` requests leave.

    A run reads partitions (or their units) in order and stops at the budget: the one it
    is in then is not finished, nor is any after it.  Each partition is named once.
    """
    spent = 0
    left: list[dict[str, t.Any]] = []
    for index, cost in enumerate(costs):
        spent += cost
        if spent > budget:
            # Every unit from here on is not read; one that costs nothing needs no read.
            for context, rest in zip(contexts[index:], costs[index:], strict=True):
                if context is not None and rest > 0 and context not in left:
                    left.append(context)
            return left
    return left
