"""Listings of the sandbox: a category's or a search's products, filtered, sorted and counted.

A navigation listing holds the products membership.py puts on it (a sale listing: those
marked down today), a feed those of its gender (and kind) that went live or came back
recently, a search every product; then the products not sold in the store or away today
(sold out) are left out.  ``sort=freshness`` lists day blocks newest first, ids ascending
inside a day, as the real API; facets count the whole listing, not only the page.

Listings are cached until the catalog moves (a new day, arrivals); they are built from
compact per-product columns (columns.py), so a View all of thousands costs milliseconds.
"""

from __future__ import annotations

import typing as t
from array import array
from collections import Counter
from functools import lru_cache

from tap_asos.sandbox.columns import FreshnessOrder, mix
from tap_asos.sandbox.config import BRANDS
from tap_asos.sandbox.feeds import ALL, RESTOCK
from tap_asos.sandbox.membership import GROUPS

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tap_asos.sandbox.catalog import Catalog

# The ``freshness_band`` facet's values: value id -> (name, days covered, today included).
FRESHNESS_BANDS = (
    ("1", "Today", 1),
    ("2", "Yesterday", 2),
    ("3", "Last 7 Days", 7),
    ("4", "Last 14 Days", 14),
    ("5", "Last 28 Days", 28),
)
BAND_DAYS = {value: days for value, _name, days in FRESHNESS_BANDS}


class FacetCounts(t.NamedTuple):
    """Facet value counts of one whole listing."""

    brands: tuple[tuple[int, int], ...]  # (brand index, count)
    colours: tuple[tuple[int, int], ...]  # (colour index, count)
    bands: tuple[tuple[str, str, int], ...]  # (value id, name, cumulative count)


class Listings:
    """The listings of one catalog, cached until it moves."""

    def __init__(self, catalog: Catalog) -> None:
        """No listing is built before a request asks for it."""
        self.catalog = catalog
        self.listing = lru_cache(maxsize=512)(self._listing)
        self.facet_counts = lru_cache(maxsize=512)(self._facet_counts)
        self._orders: dict[bool, FreshnessOrder] = {}

    def clear(self) -> None:
        """Forget every listing (the catalog moved)."""
        with self.catalog.lock:
            self.listing.cache_clear()
            self.facet_counts.cache_clear()
            self._orders.clear()

    def source(self, category_id: int) -> Iterable[int]:
        """Products of a listing before the store and filters: a feed's, a leaf's or all."""
        catalog = self.catalog
        count = catalog.count
        feed = catalog.feed_by_id.get(category_id)
        if feed is None:
            if not category_id:
                return range(count)  # a search
            members = catalog.membership.members(category_id, count)
            if category_id in catalog.membership.sale_ids:
                marked = catalog.marked_down().upto(count)
                return [k for k in members if marked[k]]
            return members
        if feed.kind == RESTOCK:
            source: Iterable[int] = sorted(k for k in catalog.relisted if catalog.back_in_stock(k))
        else:
            first = catalog.live_until(catalog.day - catalog.config.new_in_days)
            source = (k for k in range(first, count) if not catalog.skips_new_in(k))
        groups = catalog.membership.groups(count)
        wanted = {
            i
            for i, (gender, kind) in enumerate(GROUPS)
            if gender == feed.gender and feed.kind in {ALL, RESTOCK, kind}
        }
        return [k for k in source if groups[k] in wanted]

    def day_of(self, category_id: int) -> Callable[[int], int]:
        """The day a listing sorts and bands its products by: go-live day in New in."""
        feed = self.catalog.feed_by_id.get(category_id)
        if feed is not None and feed.kind != RESTOCK:
            return self.catalog.golive_day
        return self.catalog.listed_day

    def order(self, category_id: int) -> FreshnessOrder:
        """Every product ranked by the listing's day, newest first, then by id."""
        catalog = self.catalog
        by_golive = self.day_of(category_id) == catalog.golive_day
        with self.catalog.lock:
            found = self._orders.get(by_golive)
            if found is None:
                day_of = self.day_of(category_id)
                days = [day_of(k) for k in range(catalog.count)]
                found = FreshnessOrder(days, catalog.ids.upto(catalog.count), catalog.day)
                self._orders[by_golive] = found
            return found

    def has_freshness_facet(self, category_id: int) -> bool:
        """Whether a category's listings carry the ``freshness_band`` facet.

        Real pages show it on some category listings and not others (likely: the
        share is a knob), never on a search.
        """
        if category_id in self.catalog.feed_by_id:
            return True  # a feed's listing always carries it
        percent = self.catalog.config.freshness_facet_percent
        return bool(category_id) and mix(self.catalog.seed, category_id, 15) % 100 < percent

    def _listing(
        self,
        store: str,
        category_id: int,
        sort: str,
        q: str,
        sale_only: bool,  # noqa: FBT001
        new_only: bool,  # noqa: FBT001
        brands: frozenset[int],
        colours: frozenset[int],
        fresh_days: int = 0,
    ) -> array[int]:
        """Indices of one listing, in the requested order (cached until the catalog moves).

        ``fresh_days``: only products listed on one of the last that many days (the
        ``freshness_band`` filter); 0 = all.
        """
        with self.catalog.lock:  # not while the catalog moves
            return self._build(
                store, category_id, sort, q, sale_only, new_only, brands, colours, fresh_days
            )

    def _build(
        self,
        store: str,
        category_id: int,
        sort: str,
        q: str,
        sale_only: bool,  # noqa: FBT001
        new_only: bool,  # noqa: FBT001
        brands: frozenset[int],
        colours: frozenset[int],
        fresh_days: int,
    ) -> array[int]:
        catalog = self.catalog
        count = catalog.count
        sold = catalog.stores[store].upto(count)
        away = catalog.away
        ks = [k for k in self.source(category_id) if sold[k] and k not in away]
        ks = self._filter(ks, q, sale_only=sale_only, new_only=new_only)
        if brands:
            wanted = {b for b, (_name, brand_id) in enumerate(BRANDS) if brand_id in brands}
            brand_of = catalog.brands.upto(count)
            ks = [k for k in ks if brand_of[k] in wanted]
        if colours:
            colour_of = catalog.colours.upto(count)
            ks = [k for k in ks if colour_of[k] in colours]
        if fresh_days or sort == "freshness":
            order = self.order(category_id)
            if fresh_days:
                cutoff = order.cutoff(fresh_days)
                ks = [k for k in ks if order.rank[k] < cutoff]
            if sort == "freshness":
                # Day blocks, newest first; inside a day, ids ascend (as the real API).
                ks.sort(key=order.rank.__getitem__)
        if sort in {"priceasc", "pricedesc"}:
            ks.sort(key=catalog.gbp_price, reverse=sort == "pricedesc")
        elif sort != "freshness":  # relevance: a stable shuffle
            seed = catalog.seed
            ks.sort(key=lambda k: mix(seed, k, 9))
        return array("I", ks)

    def _filter(self, ks: list[int], q: str, *, sale_only: bool, new_only: bool) -> list[int]:
        """A search's words, ``range=sale`` (marked down) and ``range=new_season``."""
        catalog = self.catalog
        if q:
            words = q.lower()
            ks = [k for k in ks if words in catalog.name(k).lower()]
        if sale_only:
            marked = catalog.marked_down().upto(catalog.count)
            ks = [k for k in ks if marked[k]]
        if new_only:
            ks = [k for k in ks if catalog.is_new_season(k)]
        return ks

    def _facet_counts(self, *listing_args: t.Any) -> FacetCounts:
        """Brand, colour and freshness-band counts over a whole listing.

        Counted once per listing and day, as the real facets count every match, not
        only the page: a client splitting a listing by facet value reaches everything.
        Band counts are cumulative, as the real ones (Yesterday includes Today).
        """
        catalog = self.catalog
        ks = self.listing(*listing_args)
        brands = Counter(map(catalog.brands.upto(catalog.count).__getitem__, ks))
        colours = Counter(map(catalog.colours.upto(catalog.count).__getitem__, ks))
        order = self.order(listing_args[1])  # (store, category_id, ...)
        ranks = sorted(map(order.rank.__getitem__, ks))
        bands = tuple(
            (value, name, order.count_within(ranks, days)) for value, name, days in FRESHNESS_BANDS
        )
        return FacetCounts(tuple(sorted(brands.items())), tuple(sorted(colours.items())), bands)
