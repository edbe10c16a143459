"""Which listings a ``products`` run reads (its store x category partitions), in which order.

Per store, from its category tree (:class:`StoreListings`): the configured
``category_ids``; else every leaf category, and the store's arrival feeds
(:mod:`tap_asos.feeds`).  A snapshot reads them all; an incremental run reads the
feeds from their bookmarks (a daily run costs what is new) and what no run has read to
its end yet (a first run's leaves).  The order (:func:`partitions`) puts what is new
first, then what earlier runs left: a run cut short by ``max_requests`` still moves
forward, and the next one goes on from where it stood.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_asos.categories import leaf_category_ids
from tap_asos.feeds import FeedNotFoundError, find_feeds, new_in_lists
from tap_asos.state import context_key, context_of

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tap_asos.state import ProductsState


@dataclass(frozen=True)
class StoreListings:
    """The listings of one store's tree a run may read."""

    store: str
    leaves: tuple[int, ...] = ()
    feeds: tuple[int, ...] = ()  # the arrival feeds, in the tree's order
    # Every category the New-in sections link (the feeds and their department lists):
    # their products are the leaves' own, so --plan counts no child call for them in a
    # run that reads every leaf.
    new_in_lists: frozenset[int] = frozenset()


def store_listings(
    store: str,
    tree: Mapping[str, t.Any],
    *,
    feed_ids: Sequence[int] | None,
    read_feeds: bool,
) -> StoreListings:
    """A store's listings from its ``/categories/list`` body.

    ``feed_ids``: the ``feed_category_ids`` setting (None or empty: found in the tree).

    Raises:
        FeedNotFoundError: ``read_feeds`` and a gender's New-in feed is not in the tree.
    """
    feeds: tuple[int, ...] = ()
    if read_feeds:
        feeds = (
            tuple(feed_ids) if feed_ids else tuple(f.category_id for f in find_feeds(tree, store))
        )
    return StoreListings(
        store,
        tuple(leaf_category_ids(tree)),
        feeds,
        frozenset(new_in_lists(tree)) | frozenset(feeds),
    )


# What one unit of a run does with a partition (the context's ``read`` key; the state is
# kept per store x category, whatever the unit).
TOP = "top"  # incremental, from the top down to the bookmark's anchors (a daily read)
HEAD = "head"  # a daily partition's first read, suspended once its bookmark is kept
REST = "rest"  # a suspended read, resumed where it stood
WHOLE = "whole"  # from the top to the end: a snapshot, or a first read of a leaf
READ = "read"


def partitions(
    stores: Sequence[StoreListings],
    state: ProductsState,
    *,
    configured: Sequence[int] = (),
    full_table: bool = False,
    mode: str = "incremental",
) -> list[dict[str, t.Any]]:
    """The run's units (partition contexts, each with its ``read``), in the order it reads them.

    A snapshot reads each partition whole (resuming a read its budget stopped), the feeds
    first.  An incremental run reads the feeds' units first, then the other partitions',
    in this order each:

    1. the daily partitions from the top (the feeds once each has a bookmark; else,
       and with ``read_feeds: false`` or ``category_ids``, every partition): ``top``
       where a run kept a bookmark, then ``head`` reads that keep one and leave the rest
       for later in the run;
    2. the reads left suspended (``rest``: a budget stopped them, or a head read);
    3. the other partitions never read to their end (``whole``: a first run's leaves).

    So the day's arrivals come first (the feeds' top reads), the feeds' own first read
    next (until it is done, a day's arrivals may lie in its backlog), and what a budget
    leaves moves forward each run.
    """
    units: list[tuple[tuple[int, int, str], dict[str, t.Any]]] = []
    for listings in stores:
        ids = list(configured) or list(dict.fromkeys([*listings.leaves, *listings.feeds]))
        feeds = set(listings.feeds)
        # The feeds hold what is new once each has a bookmark; until then (a first run, or
        # per-leaf state from an earlier release) every partition is read from the top.
        bookmarked = all(
            state.partition(context_of(listings.store, cid)).finished_once for cid in feeds
        )
        daily = feeds if feeds and bookmarked and not configured else set(ids)
        for cid in ids:
            partition = state.partition(context_of(listings.store, cid))
            backlogs = partition.backlogs_of(mode)
            if full_table:  # a read of an earlier snapshot: this one reads it whole
                backlogs = tuple(b for b in backlogs if b.snapshot_at == state.resumed)
            backlog = backlogs[-1] if backlogs else None  # the oldest: the longest waiting
            feed_first = 0 if cid in feeds else 1
            checked = partition.bookmark.checked_at
            when = checked.isoformat() if checked is not None else ""
            context = context_of(listings.store, cid)
            if full_table:
                kind = REST if backlog is not None else WHOLE
                units.append(((feed_first, 0 if backlog else 1, when), {**context, READ: kind}))
                continue
            head = cid in daily and not partition.finished_once and backlog is None
            # A read from the top that a budget stopped before it kept its new bookmark
            # covers what a new one would read: it goes on first (``rest``).
            stopped_top = any(not b.committed for b in backlogs)
            if cid in daily and partition.finished_once and not stopped_top:
                units.append(((feed_first, 0, when), {**context, READ: TOP}))
            if head:
                units.append(((feed_first, 1, when), {**context, READ: HEAD}))
            if backlog is not None or head:  # a head read leaves its rest for this run too
                started = backlog.started_at.isoformat() if backlog is not None else ""
                units.append(((feed_first, 2, started), {**context, READ: REST}))
            elif cid not in daily and not partition.finished_once:
                units.append(((feed_first, 3, when), {**context, READ: WHOLE}))
    units.sort(key=lambda unit: unit[0])
    return [context for _key, context in units]


def by_partition(units: Sequence[dict[str, t.Any]]) -> list[list[dict[str, t.Any]]]:
    """A run's units grouped by partition, in the order the run first reads each."""
    grouped: dict[tuple[str, int], list[dict[str, t.Any]]] = {}
    for unit in units:
        grouped.setdefault(context_key(unit), []).append(unit)
    return list(grouped.values())


def partition_context(unit: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A unit's partition context (without its read)."""
    return context_of(*context_key(unit))


__all__ = [
    "FeedNotFoundError",
    "StoreListings",
    "by_partition",
    "partition_context",
    "partitions",
    "store_listings",
]
