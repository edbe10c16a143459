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

Which navigation listings a product is on (its department leaf, its section's View all,
sale, outlet, edit and brand-like lists) is drawn in membership.py; listings are built from
it in listings.py.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from functools import lru_cache, partial

from tap_asos.sandbox.columns import MASK, Column, mix
from tap_asos.sandbox.config import BRANDS, COLOURS, STORES, WORDS, SandboxConfig
from tap_asos.sandbox.feeds import ALL, RESTOCK, feeds
from tap_asos.sandbox.listings import Listings
from tap_asos.sandbox.membership import MARKDOWN_ONE_IN, Membership

__all__ = ["MASK", "Catalog", "Leaf", "Product", "mix"]
BASE_ID = 200_000_000
ID_STEP = 7  # ids are not consecutive: a random gap below this between two creations
NOT_IN_STORE_PERCENT = 8
# Products restocked on a day went live at least this many days before it.
RESTOCK_MIN_AGE_DAYS = 3


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


class Catalog:
    """Products of every day up to the current one, and the listings they are on."""

    def __init__(self, config: SandboxConfig) -> None:
        """Set up day 0: nothing per product is computed before a request needs it."""
        self.config = config
        self.seed = config.seed
        self.day = 0
        # Held while the catalog moves and while a listing is built from it.
        self.lock = threading.RLock()
        self.membership = Membership(
            config.seed, config.tree, config.listings_mean, lambda k, salt: mix(self.seed, k, salt)
        )
        self.leaves = tuple(
            Leaf(x.category_id, x.title, x.gender, x.kind) for x in self.membership.listings
        )
        self.leaf_by_id = {leaf.category_id: leaf for leaf in self.leaves}
        self.feed_by_id = {feed.category_id: feed for feed in feeds(config.tree_year)}
        self.count = config.products
        per_day = config.arrivals_per_day
        # Products created before product k but going live after it: at most this many.
        self._spread = max(0, round(config.id_spread_days * per_day))
        # First product of each day from day 0 on; earlier products went live
        # ``arrivals_per_day`` a day, counting back from day 0.
        self._day_start = [max(0, config.products - per_day)]
        # Sold out today, back tomorrow: product -> the day it left its listings.
        self.away: dict[int, int] = {}
        self.relisted: dict[int, int] = {}  # product -> the day it came back on top
        # Compact per-product facts for listings (pure functions of k: they never go stale).
        self.ids = Column("Q", self.product_id)
        self.brands = Column("B", lambda k: (mix(self.seed, k, 6) >> 16) % len(BRANDS))
        self.colours = Column("B", lambda k: (mix(self.seed, k, 6) >> 24) % len(COLOURS))
        self.stores = {
            store: Column("B", partial(self.in_store, store=store)) for store in STORE_CODES
        }
        self._marked: tuple[int, Column] | None = None  # (markdown period, marked down)
        # Per-instance caches: products are immutable; listings until the catalog moves.
        self.product = lru_cache(maxsize=65536)(self._product)
        self.listings = Listings(self)
        self.listing = self.listings.listing
        self.facet_counts = self.listings.facet_counts

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
        day = self.relisted.get(k)
        return self.golive_day(k) if day is None else day

    def is_away(self, k: int) -> bool:
        """Whether product k is out of its listings today (sold out, back tomorrow)."""
        return k in self.away

    def first_leaf(self, k: int) -> Leaf:
        """Product k's first leaf: its gender and kind."""
        return self.leaf_by_id[self.membership.draw(k).home]

    def categories_of(self, k: int) -> list[int]:
        """The navigation listings product k is on today, its first leaf first.

        In every store it is sold in, while not away: its department leaf and the lists
        beside it (membership.py), the sale ones only while it is marked down.
        """
        draw = self.membership.draw(k)
        return [*draw.static, *(draw.sale if self.markdown(k) else ())]

    def web_categories(self, k: int) -> list[int]:
        """Product k's SHOP BY PRODUCT leaves today (detail ``webCategories``)."""
        draw = self.membership.draw(k)
        return [*draw.product_leaves, *(draw.sale[:1] if self.markdown(k) else ())]

    def listings_of(self, k: int, store: str) -> list[int]:
        """Every listing product k is on in a store today: navigation listings and feeds."""
        if self.is_away(k) or not self.in_store(k, store):
            return []
        return [*self.categories_of(k), *self.feeds_of(k)]

    def listed_in_store(self, store: str) -> list[int]:
        """Products on at least one listing of a store today (every product is on one)."""
        with self.lock:
            sold = self.stores[store].upto(self.count)
            return [k for k in range(self.count) if sold[k] and k not in self.away]

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
        day = self.relisted.get(k)
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
        leaf = self.first_leaf(k)
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

    # --- time ----------------------------------------------------------------------

    def advance(self, days: int) -> int:
        """Move the catalog ``days`` forward; return how many products arrived."""
        with self.lock:
            before = self.count
            for _ in range(days):
                self.day += 1
                self._day_start.append(self.count)
                self.count += self.config.arrivals_per_day
                self._restock()
            self._moved()
            return self.count - before

    def arrive(self, n: int) -> int:
        """``n`` more products go live today (arrivals during the day)."""
        with self.lock:
            self.count += n
            self._moved()
            return n

    def _restock(self) -> None:
        """Yesterday's sold-out products come back on top; some others sell out today."""
        for k, left in list(self.away.items()):
            if left < self.day:
                del self.away[k]
                self.relisted[k] = self.day
        eligible = self.live_until(self.day - RESTOCK_MIN_AGE_DAYS)
        for i in range(self.config.restocks if eligible else 0):
            k = mix(self.seed, self.day, i, 14) % eligible
            self.away.setdefault(k, self.day)

    def live_until(self, day: int) -> int:
        """How many products first went live on ``day`` or before."""
        if day < 0:
            return max(0, self._day_start[0] - max(1, self.config.arrivals_per_day) * (-1 - day))
        return self._day_start[day + 1] if day + 1 < len(self._day_start) else self.count

    def _moved(self) -> None:
        self.listings.clear()

    def reset(self) -> None:
        """Back to day 0 with the initial products."""
        with self.lock:
            self.day = 0
            self.count = self.config.products
            self.membership.truncate(self.count)
            del self._day_start[1:]
            self.away.clear()
            self.relisted.clear()
            self._moved()

    def markdown(self, k: int) -> float:
        """Discount fraction of product k today (0 when full price)."""
        h = mix(self.seed, k, 7, self.day // 2)
        return (10 + h % 5 * 10) / 100 if h % MARKDOWN_ONE_IN == 0 else 0.0

    def marked_down(self) -> Column:
        """Whether each product is marked down today, as a column (sale lists, range=sale)."""
        period = self.day // 2  # markdowns change every other day
        with self.lock:
            if self._marked is None or self._marked[0] != period:
                self._marked = (period, Column("B", lambda k: self.markdown(k) > 0))
            return self._marked[1]

    def in_stock(self, k: int, variant: int) -> tuple[bool, bool]:
        """(in stock, low in stock) of a variant today."""
        h = mix(self.seed, k, 8, variant, self.day) % 9
        return h != 0, h == 1

    def is_new_season(self, k: int) -> bool:
        """Arrived in the newest tenth of the catalog."""
        return k >= self.count * 9 // 10

    def gbp_price(self, k: int) -> float:
        """Current price of product k in GBP today."""
        return round(self.product(k).base_price * (1 - self.markdown(k)), 2)

    def name(self, k: int) -> str:
        """Product name, e.g. 'ASOS DESIGN chunky lace up shoes in black'."""
        p = self.product(k)
        return f"{BRANDS[p.brand][0]} {WORDS[p.leaf.kind][p.word]} in {COLOURS[p.colour].lower()}"

    def similar(self, k: int, store: str, n: int = 8) -> list[int]:
        """Products of the same first leaf, nearest in arrival order."""
        members = self.membership.members(self.product(k).leaf.category_id, self.count)
        at = bisect.bisect_left(members, k)
        ks = [x for x in members[max(0, at - 4 * n) : at + 4 * n] if x != k and x < self.count]
        ks = [x for x in ks if self.in_store(x, store)]
        ks.sort(key=lambda x: (abs(x - k), x))
        return ks[:n]
