"""The sandbox's deterministic catalog: products as compact arrays, fields on demand.

Product ``k`` is the k-th product to go live (0-based); it is described by a few
integers derived from ``(seed, k)`` with a SplitMix64-style mix, and its JSON is built
only when a request asks for it.  Day-dependent facts (markdowns, stock, restocks) mix
in the day.  Nothing reads the clock, so the same seed, day and request always give the
same bytes.

How ids and go-live days relate follows the real API (see the README's sandbox
section and ``../shared/asos-api``): an id is given when a product is *created*, some
time before it goes live, so the products going live on one day carry ids spread below
the ids of earlier days' arrivals (``id_spread_days``).  ``sort=freshness`` lists
go-live days newest first and ids ascending inside a day.  A restocked product leaves
its listings for a day and comes back in the top block with its old id.

The arrival feeds (feeds.py) are listings too, though no product's category: a gender's
View all holds its products that went live in the last ``new_in_days`` days (but those of
``new_in_skip_percent``), a department list those of one kind, both ordered by go-live day
(a restock does not move a product up in New in); Back in stock holds the gender's products
restocked in the last ``back_in_stock_days`` days, ordered by restock day.  The gender and
kind of a product are those of its first leaf.
"""

from __future__ import annotations

import bisect
import threading
import typing as t
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from tap_asos.sandbox.config import BRANDS, COLOURS, STORES, WORDS, SandboxConfig
from tap_asos.sandbox.feeds import ALL, RESTOCK, feeds
from tap_asos.sandbox.tree import leaves as tree_leaves

MASK = (1 << 64) - 1
BASE_ID = 200_000_000
ID_STEP = 7  # ids are not consecutive: a random gap below this between two creations
SECOND_CATEGORY_PERCENT = 20
NOT_IN_STORE_PERCENT = 8
# Products restocked on a day went live at least this many days before it.
RESTOCK_MIN_AGE_DAYS = 3
# The ``freshness_band`` facet's values: value id -> (name, days covered, today included).
FRESHNESS_BANDS = (
    ("1", "Today", 1),
    ("2", "Yesterday", 2),
    ("3", "Last 7 Days", 7),
    ("4", "Last 14 Days", 14),
    ("5", "Last 28 Days", 28),
)
BAND_DAYS = {value: days for value, _name, days in FRESHNESS_BANDS}


def mix(*parts: int) -> int:
    """Deterministic 64-bit hash of integers (SplitMix64 finaliser per part)."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = ((x ^ (part & MASK)) * 0xBF58476D1CE4E5B9) & MASK
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & MASK
        x ^= x >> 29
    return x


@dataclass(frozen=True)
class Leaf:
    """A leaf category of the navigation tree."""

    category_id: int
    title: str
    gender: str
    kind: str


STORE_CODES = tuple(sorted(STORES))


@dataclass(frozen=True)
class Product:
    """The stable facts of one product; everything else derives from these."""

    index: int
    id: int
    leaf: Leaf
    brand: int
    colour: int
    word: int
    base_price: float  # GBP
    variants: int


class FacetCounts(t.NamedTuple):
    """Facet value counts of one whole listing."""

    brands: tuple[tuple[int, int], ...]  # (brand index, count)
    colours: tuple[tuple[int, int], ...]  # (colour index, count)
    bands: tuple[tuple[str, str, int], ...]  # (value id, name, cumulative count)


class Catalog:
    """Products of every day up to the current one, indexed per category."""

    def __init__(self, config: SandboxConfig) -> None:
        """Build the day-0 catalog (compact per-category index lists only)."""
        self.config = config
        self.seed = config.seed
        self.day = 0
        self._lock = threading.RLock()
        self.leaves = tuple(Leaf(*leaf) for leaf in tree_leaves(config.tree))
        self.leaf_by_id = {leaf.category_id: leaf for leaf in self.leaves}
        self.feed_by_id = {feed.category_id: feed for feed in feeds(config.tree_year)}
        self._by_category: dict[int, list[int]] = {leaf.category_id: [] for leaf in self.leaves}
        self.count = 0
        per_day = config.arrivals_per_day
        # Products created before product k but going live after it: at most this many.
        self._spread = max(0, round(config.id_spread_days * per_day))
        # First product of each day from day 0 on; earlier products went live
        # ``arrivals_per_day`` a day, counting back from day 0.
        self._day_start = [max(0, config.products - per_day)]
        self._away: dict[int, int] = {}  # product -> the day it left its listings
        self._relisted: dict[int, int] = {}  # product -> the day it came back on top
        # Per-instance caches: products are immutable; listings until the catalog moves.
        self.product = lru_cache(maxsize=65536)(self._product)
        self.listing = lru_cache(maxsize=512)(self._listing)
        self.facet_counts = lru_cache(maxsize=512)(self._facet_counts)
        self._add(config.products)

    # --- products ------------------------------------------------------------

    def product_id(self, k: int) -> int:
        """Id of product k: given at its creation, up to ``_spread`` products before."""
        window = self._spread + 1
        lag = mix(self.seed, k, 1) % window  # how many later products were created first
        created = k - lag + self._spread  # creation order (ties told apart by k % window)
        return BASE_ID + (created * window + k % window) * ID_STEP + mix(self.seed, k, 13) % ID_STEP

    def index_of(self, product_id: int) -> int | None:
        """Index of a product id, or None if no product has that id (yet)."""
        window = self._spread + 1
        created, rest = divmod((product_id - BASE_ID) // ID_STEP, window)
        low = created - self._spread  # k lies in [low, created] and k % window == rest
        k = low + (rest - low) % window
        if 0 <= k < self.count and self.product_id(k) == product_id:
            return k
        return None

    def golive_day(self, k: int) -> int:
        """The day product k first went live (negative: before day 0)."""
        first = self._day_start[0]
        if k < first:
            return -1 - (first - 1 - k) // max(1, self.config.arrivals_per_day)
        return bisect.bisect_right(self._day_start, k) - 1

    def listed_day(self, k: int) -> int:
        """The go-live day listings sort product k by: its restock day, if restocked."""
        day = self._relisted.get(k)
        return self.golive_day(k) if day is None else day

    def is_away(self, k: int) -> bool:
        """Whether product k is out of its listings today (sold out, back tomorrow)."""
        return k in self._away

    def first_leaf(self, k: int) -> Leaf:
        """Product k's first leaf: its gender and kind."""
        return self.leaves[mix(self.seed, k, 2) % len(self.leaves)]

    def categories_of(self, k: int) -> list[int]:
        """The leaf categories product k is listed in (one, sometimes two)."""
        first = self.first_leaf(k)
        cats = [first.category_id]
        if mix(self.seed, k, 3) % 100 < SECOND_CATEGORY_PERCENT:
            same_kind = [x for x in self.leaves if x.kind == first.kind and x is not first]
            if same_kind:
                cats.append(same_kind[mix(self.seed, k, 4) % len(same_kind)].category_id)
        return cats

    def skips_new_in(self, k: int) -> bool:
        """Whether product k is one of the arrivals that never enter New in."""
        percent = self.config.new_in_skip_percent
        return percent > 0 and mix(self.seed, k, 16) % 100 < percent

    def in_new_in(self, k: int) -> bool:
        """Whether product k is in its gender's New in today (away or not)."""
        age = self.day - self.golive_day(k)
        return age < self.config.new_in_days and not self.skips_new_in(k)

    def back_in_stock(self, k: int) -> bool:
        """Whether product k is in its gender's Back in stock today (away or not)."""
        day = self._relisted.get(k)
        return day is not None and self.day - day < self.config.back_in_stock_days

    def feeds_of(self, k: int) -> list[int]:
        """The feeds product k is in today: View all, its department's list, Back in stock."""
        leaf = self.first_leaf(k)
        new, back = self.in_new_in(k), self.back_in_stock(k)
        return [
            f.category_id
            for f in self.feed_by_id.values()
            if f.gender == leaf.gender
            and ((new and f.kind in {ALL, leaf.kind}) or (back and f.kind == RESTOCK))
        ]

    def _source(self, category_id: int) -> t.Iterable[int]:
        """Products of a listing before its filters: a feed's, a leaf's or all (a search)."""
        feed = self.feed_by_id.get(category_id)
        if feed is None:
            return self._by_category[category_id] if category_id else range(self.count)
        if feed.kind == RESTOCK:
            source: t.Iterable[int] = sorted(k for k in self._relisted if self.back_in_stock(k))
        else:
            first = self.live_until(self.day - self.config.new_in_days)
            source = (k for k in range(first, self.count) if not self.skips_new_in(k))
        return [
            k
            for k in source
            if (leaf := self.first_leaf(k)).gender == feed.gender
            and feed.kind in {ALL, RESTOCK, leaf.kind}
        ]

    def day_of(self, category_id: int) -> t.Callable[[int], int]:
        """The day a listing sorts and bands its products by: go-live day in New in."""
        feed = self.feed_by_id.get(category_id)
        return self.golive_day if feed is not None and feed.kind != RESTOCK else self.listed_day

    def is_listable(self, category_id: int) -> bool:
        """Whether a category id has a listing: a leaf or a feed."""
        return category_id in self.leaf_by_id or category_id in self.feed_by_id

    def category_name(self, category_id: int) -> str:
        """A listing's ``categoryName``."""
        if category_id in self.feed_by_id:
            return self.feed_by_id[category_id].title
        return self.leaf_by_id[category_id].title

    def in_store(self, k: int, store: str) -> bool:
        """Whether product k is sold in a store (most are, in every store)."""
        return mix(self.seed, k, 5, STORE_CODES.index(store)) % 100 >= NOT_IN_STORE_PERCENT

    def _product(self, k: int) -> Product:
        """The stable facts of product k."""
        h = mix(self.seed, k, 6)
        leaf = self.leaf_by_id[self.categories_of(k)[0]]
        base = 8 + (h % 23000) / 100  # 8.00 .. 237.99 GBP
        return Product(
            index=k,
            id=self.product_id(k),
            leaf=leaf,
            brand=(h >> 16) % len(BRANDS),
            colour=(h >> 24) % len(COLOURS),
            word=(h >> 32) % len(WORDS[leaf.kind]),
            base_price=round(base) - 0.01 if base > 10 else round(base, 2),  # noqa: PLR2004
            variants=1 if leaf.kind == "onesize" else 4 + (h >> 40) % 5,
        )

    def _add(self, n: int) -> None:
        start = self.count
        for k in range(start, start + n):
            for cid in self.categories_of(k):
                self._by_category[cid].append(k)
        self.count = start + n

    # --- time ----------------------------------------------------------------------

    def advance(self, days: int) -> int:
        """Move the catalog ``days`` forward; return how many products arrived."""
        with self._lock:
            before = self.count
            for _ in range(days):
                self.day += 1
                self._day_start.append(self.count)
                self._add(self.config.arrivals_per_day)
                self._restock()
            self._moved()
            return self.count - before

    def arrive(self, n: int) -> int:
        """``n`` more products go live today (arrivals during the day)."""
        with self._lock:
            self._add(n)
            self._moved()
            return n

    def _restock(self) -> None:
        """Yesterday's sold-out products come back on top; some others sell out today."""
        for k, left in list(self._away.items()):
            if left < self.day:
                del self._away[k]
                self._relisted[k] = self.day
        eligible = self.live_until(self.day - RESTOCK_MIN_AGE_DAYS)
        for i in range(self.config.restocks if eligible else 0):
            k = mix(self.seed, self.day, i, 14) % eligible
            self._away.setdefault(k, self.day)

    def live_until(self, day: int) -> int:
        """How many products first went live on ``day`` or before."""
        if day < 0:
            return max(0, self._day_start[0] - max(1, self.config.arrivals_per_day) * (-1 - day))
        return self._day_start[day + 1] if day + 1 < len(self._day_start) else self.count

    def _moved(self) -> None:
        self.listing.cache_clear()
        self.facet_counts.cache_clear()

    def reset(self) -> None:
        """Back to day 0 with the initial products."""
        with self._lock:
            self.day = 0
            keep = self.config.products
            for ids in self._by_category.values():
                while ids and ids[-1] >= keep:
                    ids.pop()
            self.count = keep
            del self._day_start[1:]
            self._away.clear()
            self._relisted.clear()
            self._moved()

    def markdown(self, k: int) -> float:
        """Discount fraction of product k today (0 when full price)."""
        h = mix(self.seed, k, 7, self.day // 2)
        return (10 + h % 5 * 10) / 100 if h % 6 == 0 else 0.0

    def in_stock(self, k: int, variant: int) -> tuple[bool, bool]:
        """(in stock, low in stock) of a variant today."""
        h = mix(self.seed, k, 8, variant, self.day) % 9
        return h != 0, h == 1

    def is_new_season(self, k: int) -> bool:
        """Arrived in the newest tenth of the catalog."""
        return k >= self.count * 9 // 10

    # --- listings ----------------------------------------------------------------

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
    ) -> tuple[int, ...]:
        """Indices of one listing, in the requested order (cached until the catalog moves).

        ``fresh_days``: only products listed on one of the last that many days (the
        ``freshness_band`` filter); 0 = all.
        """
        ks = [
            k for k in self._source(category_id) if k not in self._away and self.in_store(k, store)
        ]
        day_of = self.day_of(category_id)
        if q:
            words = q.lower()
            ks = [k for k in ks if words in self.name(k).lower()]
        if sale_only:
            ks = [k for k in ks if self.markdown(k) > 0]
        if new_only:
            ks = [k for k in ks if self.is_new_season(k)]
        if brands:
            ks = [k for k in ks if BRANDS[self.product(k).brand][1] in brands]
        if colours:
            ks = [k for k in ks if self.product(k).colour in colours]
        if fresh_days:
            ks = [k for k in ks if day_of(k) > self.day - fresh_days]
        if sort == "freshness":
            # Day blocks, newest first; inside a day, ids ascend (as the real API).
            ks.sort(key=lambda k: (-day_of(k), self.product_id(k)))
        elif sort in {"priceasc", "pricedesc"}:
            ks.sort(key=self.gbp_price, reverse=sort == "pricedesc")
        else:  # relevance: a stable shuffle
            ks.sort(key=lambda k: mix(self.seed, k, 9))
        return tuple(ks)

    def has_freshness_facet(self, category_id: int) -> bool:
        """Whether a category's listings carry the ``freshness_band`` facet.

        Real pages show it on some category listings and not others (likely: the
        share is a knob), never on a search.
        """
        if category_id in self.feed_by_id:
            return True  # a feed's listing always carries it
        percent = self.config.freshness_facet_percent
        return bool(category_id) and mix(self.seed, category_id, 15) % 100 < percent

    def _facet_counts(self, *listing_args: t.Any) -> FacetCounts:
        """Brand, colour and freshness-band counts over a whole listing.

        Counted once per listing and day, as the real facets count every match, not
        only the page: a client splitting a listing by facet value reaches everything.
        Band counts are cumulative, as the real ones (Yesterday includes Today).
        """
        brands: Counter[int] = Counter()
        colours: Counter[int] = Counter()
        ages: Counter[int] = Counter()
        day_of = self.day_of(listing_args[1])  # (store, category_id, ...)
        for k in self.listing(*listing_args):
            p = self.product(k)
            brands[p.brand] += 1
            colours[p.colour] += 1
            ages[self.day - day_of(k)] += 1
        bands = tuple(
            (value, name, sum(n for age, n in ages.items() if age < days))
            for value, name, days in FRESHNESS_BANDS
        )
        return FacetCounts(tuple(sorted(brands.items())), tuple(sorted(colours.items())), bands)

    def gbp_price(self, k: int) -> float:
        """Current price of product k in GBP today."""
        return round(self.product(k).base_price * (1 - self.markdown(k)), 2)

    def name(self, k: int) -> str:
        """Product name, e.g. 'ASOS DESIGN chunky lace up shoes in black'."""
        p = self.product(k)
        return f"{BRANDS[p.brand][0]} {WORDS[p.leaf.kind][p.word]} in {COLOURS[p.colour].lower()}"

    def similar(self, k: int, store: str, n: int = 8) -> list[int]:
        """Products of the same category and kind, nearest in arrival order."""
        ks = [
            x
            for x in self._by_category[self.product(k).leaf.category_id]
            if x != k and self.in_store(x, store)
        ]
        ks.sort(key=lambda x: (abs(x - k), x))
        return ks[:n]
