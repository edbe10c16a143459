"""What a ``products`` run reads and emits per store: its listings, cover, products once.

A store's listings come from its tree (:func:`tap_asos.partitions.store_listings`, the
tree requested once per run).  A product sits on several listings at once; the run emits
it once per store (once per snapshot, across the runs a budget spreads it over: the ids
are kept in the state's ``sent`` while reads are left), from the first listing it reads
it on.  A snapshot reads the store's cover when it has a usable one, else every listing
and learns one (:mod:`tap_asos.cover`).
"""

from __future__ import annotations

import typing as t
from dataclasses import replace

from tap_asos.cover import Memberships, StoreCover
from tap_asos.failures import ConfigurationError
from tap_asos.partitions import FeedNotFoundError, StoreListings, store_listings

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from tap_asos.runtime import RunStats
    from tap_asos.settings import Settings
    from tap_asos.state import ProductsState
    from tap_asos.stores import StoreInfo

STREAM = "products"


class StoreReads:
    """The stores of one ``products`` run: their listings, covers, what each emitted."""

    def __init__(  # noqa: PLR0913
        self,
        state: ProductsState,
        stats: RunStats,
        logger: logging.Logger,
        settings: Settings,
        *,
        mode: str,
        tree: Callable[[StoreInfo], dict[str, t.Any]],
        page_size: Callable[[], int],
    ) -> None:
        """``mode``: the run's (``full_table`` keeps what it emitted across its runs).

        ``tree``: a store's ``/categories/list`` body; ``page_size``: products a listing
        page holds (as the API serves them: what a cover listing costs).
        """
        self.state = state
        self.stats = stats
        self.logger = logger
        self.settings = settings
        self.mode = mode
        self.tree = tree
        self.page_size = page_size
        self.covers: dict[str, StoreCover] = {}
        self.reads_every_listing: set[str] = set()  # stores whose every listing is read
        self._listings: dict[str, StoreListings] = {}
        self._emitted: dict[str, set[int]] = {}

    @property
    def snapshot(self) -> bool:
        """Whether the run is a snapshot."""
        return self.mode == "full_table"

    def listings(self, store: StoreInfo) -> StoreListings:
        """A store's leaves and arrival feeds, from its tree (requested once per run).

        Raises:
            ConfigurationError: an incremental run finds no New-in feed in the tree.
        """
        if store.store in self._listings:
            return self._listings[store.store]
        tree = self.tree(store)
        try:
            listings = store_listings(
                store.store,
                tree,
                feed_ids=self.settings.feed_category_ids,
                read_feeds=self.settings.read_feeds,
            )
        except FeedNotFoundError as exc:
            if not self.snapshot:
                raise ConfigurationError(str(exc)) from exc
            # A snapshot reads every leaf anyway: no audit, no stop.
            self.logger.warning("%s No feed audit in this snapshot.", exc)
            listings = store_listings(store.store, tree, feed_ids=None, read_feeds=False)
        self.logger.info(
            "Discovered %d leaf categories for store %s", len(listings.leaves), store.store
        )
        self._listings[store.store] = listings
        return listings

    def regains(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is a New-in list (its frozen part may gain products).

        A restocked product may return to its old day block there (see ArrivalScan).
        Stores given by ``category_ids`` have no tree read: the strict rule, which can
        only cost extra reads there.
        """
        listings = self._listings.get(str(context.get("store")))
        return listings is not None and context.get("categoryId") in listings.new_in_lists

    def is_feed(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is one of its store's arrival feeds."""
        listings = self._listings.get(str(context.get("store")))
        return listings is not None and context.get("categoryId") in listings.feeds

    def audited(self, store: str) -> StoreListings | None:
        """The store's listings, if this snapshot audits its feeds (it reads them)."""
        listings = self._listings.get(store)
        cover = self.covers.get(store)
        if listings is None or not listings.feeds or (cover and cover.cover is not None):
            return None  # a cover snapshot reads no feed
        return listings

    def plan(self, listings: StoreListings, snapshot_at: str, max_age_days: int) -> StoreListings:
        """What a snapshot reads of a store: its cover if usable, else every listing."""
        store = listings.store
        cover, why = StoreCover.plan(
            store,
            self.state.cover(store),
            (*listings.leaves, *listings.feeds),
            snapshot_at,
            max_age_days,
        )
        self.covers[store] = cover
        if cover.listings is None:
            self.logger.info("Store %s: the snapshot reads every listing (%s)", store, why)
            return listings
        self.logger.info(
            "Store %s: the snapshot reads its cover (%d listings, learned %s) and %d new listings",
            store,
            len(cover.listings) - len(cover.new),
            cover.cover and cover.cover.learned_at,
            len(cover.new),
        )
        # No feed read: the feeds' products are on the cover (the audit is a full read's).
        return replace(listings, leaves=cover.listings, feeds=())

    def learn(self, store: str, started_at: str) -> None:
        """A run that reads every listing of a store (a first run) learns its cover too.

        An incremental run reads no cover; the one it learns prices the snapshot job in
        its ``--plan`` (:mod:`tap_asos.month`).
        """
        if store not in self.covers and self.state.cover(store) is None:
            self.covers[store] = StoreCover(store, started_at, None, memberships=Memberships())

    def new_listings(self, store: str) -> frozenset[int]:
        """The tree's listings a cover snapshot reads last (those the cover never saw)."""
        cover = self.covers.get(store)
        return frozenset() if cover is None else cover.new

    def emitted(self, store: str) -> set[int]:
        """The store's products emitted in this run (in this snapshot, across its runs)."""
        if store not in self._emitted:
            before = self.state.sent_before(self.mode, STREAM, store) if self.snapshot else ()
            self._emitted[store] = set(before)
        return self._emitted[store]

    def listed(self, store: str, category_id: int, record: t.Mapping[str, t.Any]) -> bool:
        """A read listed a product; whether it is the first listing to (it is emitted)."""
        product_id = int(record["id"])
        emitted = self.emitted(store)
        first = product_id not in emitted
        emitted.add(product_id)
        if cover := self.covers.get(store):
            marked = bool((record.get("price") or {}).get("isMarkedDown"))
            cover.saw(category_id, product_id, first=first, marked_down=marked)
        return first

    def read_whole(self, store: str, category_id: int, *, from_top: bool, pages: int = 0) -> None:
        """A listing of the store was read to its end (``from_top``: by this run alone)."""
        if cover := self.covers.get(store):
            cover.read_whole(category_id, from_top=from_top, pages=pages)

    def keep_emitted(self) -> None:
        """A snapshot left reads for later runs: keep what it emitted, to emit it once."""
        if self.snapshot:
            for store, ids in self._emitted.items():
                self.state.keep_sent(self.mode, STREAM, store, ids)

    def store_read(self, store: str, *, complete: bool) -> None:
        """The store's last unit was read: count what the cover missed, keep the cover.

        ``complete``: every listing the run planned for the store was read to its end.
        """
        if complete and store in self.reads_every_listing:
            self.state.keep_store_products(store, len(self.emitted(store)))
        cover = self.covers.get(store)
        if cover is None:
            return
        missed_in = sorted(c for c, n in (cover.missed or {}).items() if n)
        if missed := sum((cover.missed or {}).values()):
            self.stats.count(STREAM, "cover_misses", missed)
            self.logger.warning(
                "Store %s: %d products were on no listing of the cover, only on listings "
                "the tree gained since it was learned (%s): this snapshot emitted them, and "
                "those listings join the cover. See cover_misses in docs/cost.md.",
                store,
                missed,
                missed_in,
            )
        learned = cover.learned(self.page_size(), complete=complete)
        if learned is None:
            if cover.cover is None:
                why = cover.spoiled or "a listing was left for a later run"
                self.logger.info("Store %s: no cover learned (%s)", store, why)
            return
        self.state.keep_cover(store, learned)
        if cover.cover is None:
            self.logger.info(
                "Store %s: learned a cover of %d listings for its %d products",
                store,
                len(learned.ids),
                learned.products,
            )


__all__ = ["StoreReads"]
