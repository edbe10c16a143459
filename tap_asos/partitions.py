"""Which listings a ``products`` run reads (its store x category partitions), in which order.

Per store, from its category tree (:class:`StoreListings`): the configured
``category_ids``; else every leaf category, and the store's arrival feeds
(:mod:`tap_asos.feeds`).  An incremental run whose feeds all have a bookmark (a daily
run) reads the feeds only; a first run, an upgrade from per-leaf state, or a snapshot
read every leaf and the feeds, so that the feeds' bookmarks (or the snapshot's audit of
them) start there.

Order: a snapshot reads the feeds first (the audit of what they missed needs what they
list); then never-finished partitions, then the least recently finished, so that a run
cut short by ``max_requests`` still makes progress and every partition gets its turn.
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


def feeds_bookmarked(listings: StoreListings, state: ProductsState) -> bool:
    """Whether every feed of the store was finished by an earlier run (has a bookmark)."""
    done = {
        p.category_id for p in state.partitions() if p.store == listings.store and p.finished_once
    }
    return all(cid in done for cid in listings.feeds)


def reads_feeds_only(listings: StoreListings, state: ProductsState, *, full_table: bool) -> bool:
    """A daily run: arrivals and restocks are at the top of the store's feeds."""
    return bool(listings.feeds) and not full_table and feeds_bookmarked(listings, state)


def partitions(
    stores: Sequence[StoreListings],
    state: ProductsState,
    *,
    configured: Sequence[int] = (),
    full_table: bool = False,
) -> list[dict[str, t.Any]]:
    """The run's partition contexts, in the order it reads them (see the module docstring).

    ``configured``: the ``category_ids`` setting, read in every store instead of its tree.
    """
    parts: list[dict[str, t.Any]] = []
    feeds: set[tuple[str, int]] = set()
    for listings in stores:
        if configured:
            ids: Sequence[int] = configured
        elif reads_feeds_only(listings, state, full_table=full_table):
            ids = listings.feeds
        else:
            ids = list(dict.fromkeys([*listings.leaves, *listings.feeds]))
        feeds.update((listings.store, cid) for cid in listings.feeds)
        parts.extend(context_of(listings.store, cid) for cid in ids)
    checked = {
        (p.store, p.category_id): p.bookmark.checked_at.isoformat()
        for p in state.partitions()
        if p.bookmark.checked_at is not None
    }
    parts.sort(
        key=lambda c: (
            not (full_table and context_key(c) in feeds),
            checked.get(context_key(c)) or "",
        )
    )
    return parts


__all__ = [
    "FeedNotFoundError",
    "StoreListings",
    "feeds_bookmarked",
    "partitions",
    "reads_feeds_only",
    "store_listings",
]
