"""The sandbox's deterministic catalog: products as compact arrays, fields on demand.

Product ``k`` (0-based arrival order) is described by a few integers derived from
``(seed, k)`` with a SplitMix64-style mix; its JSON is built only when a request asks
for it.  Day-dependent facts (markdowns, stock) mix in the day.  Nothing reads the
clock, so the same seed, day and request always give the same bytes.
"""

from __future__ import annotations

import threading
import typing as t
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from tap_asos.sandbox.config import BRANDS, COLOURS, NAVIGATION, STORES, WORDS, SandboxConfig
from tap_asos.sandbox.tree import leaves as tree_leaves

MASK = (1 << 64) - 1
BASE_ID = 200_000_000
ID_STRIDE = 37  # ids grow with arrival; the jitter below stays under the stride
SECOND_CATEGORY_PERCENT = 20
NOT_IN_STORE_PERCENT = 8


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


LEAVES: tuple[Leaf, ...] = tuple(
    Leaf(cid, title, gender, kind)
    for gender, groups in NAVIGATION.items()
    for _group, leaves in groups
    for title, cid, kind in leaves
)
LEAF_BY_ID = {leaf.category_id: leaf for leaf in LEAVES}
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
    """Products of every day up to the current one, indexed per category."""

    def __init__(self, config: SandboxConfig) -> None:
        """Build the day-0 catalog (compact per-category index lists only)."""
        self.config = config
        self.seed = config.seed
        self.day = 0
        self._lock = threading.RLock()
        self.leaves = tuple(Leaf(*leaf) for leaf in tree_leaves(config.tree))
        self.leaf_by_id = {leaf.category_id: leaf for leaf in self.leaves}
        self._by_category: dict[int, list[int]] = {leaf.category_id: [] for leaf in self.leaves}
        self.count = 0
        # Per-instance caches: products are immutable; listings until the day moves.
        self.product = lru_cache(maxsize=65536)(self._product)
        self.listing = lru_cache(maxsize=512)(self._listing)
        self.facet_counts = lru_cache(maxsize=512)(self._facet_counts)
        self._add(config.products)

    # --- products ------------------------------------------------------------

    def product_id(self, k: int) -> int:
        """Id of the k-th product to arrive: strictly increasing in k."""
        return BASE_ID + k * ID_STRIDE + mix(self.seed, k, 1) % (ID_STRIDE - 7)

    def index_of(self, product_id: int) -> int | None:
        """Arrival index of a product id, or None if no product has that id (yet)."""
        k = (product_id - BASE_ID) // ID_STRIDE
        if 0 <= k < self.count and self.product_id(k) == product_id:
            return k
        return None

    def categories_of(self, k: int) -> list[int]:
        """The leaf categories product k is listed in (one, sometimes two)."""
        first = self.leaves[mix(self.seed, k, 2) % len(self.leaves)]
        cats = [first.category_id]
        if mix(self.seed, k, 3) % 100 < SECOND_CATEGORY_PERCENT:
            same_kind = [x for x in self.leaves if x.kind == first.kind and x is not first]
            if same_kind:
                cats.append(same_kind[mix(self.seed, k, 4) % len(same_kind)].category_id)
        return cats

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
                self._add(self.config.arrivals_per_day)
            self.listing.cache_clear()
            self.facet_counts.cache_clear()
            return self.count - before

    def reset(self) -> None:
        """Back to day 0 with the initial products."""
        with self._lock:
            self.day = 0
            keep = self.config.products
            for ids in self._by_category.values():
                while ids and ids[-1] >= keep:
                    ids.pop()
            self.count = keep
            self.listing.cache_clear()
            self.facet_counts.cache_clear()

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
    ) -> tuple[int, ...]:
        """Indices of one listing, in the requested order (cached until the day moves)."""
        source = self._by_category[category_id] if category_id else range(self.count)
        ks = [k for k in source if self.in_store(k, store)]
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
        if sort == "freshness":
            ks.reverse()
        elif sort in {"priceasc", "pricedesc"}:
            ks.sort(key=self.gbp_price, reverse=sort == "pricedesc")
        else:  # relevance: a stable shuffle
            ks.sort(key=lambda k: mix(self.seed, k, 9))
        return tuple(ks)

    def _facet_counts(
        self, *listing_args: t.Any
    ) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """(brand index, count) and (colour index, count) over a whole listing.

        Counted once per listing and day, as the real facets count every match, not
        only the page: a client splitting a listing by facet value reaches everything.
        """
        brands: Counter[int] = Counter()
        colours: Counter[int] = Counter()
        for k in self.listing(*listing_args):
            p = self.product(k)
            brands[p.brand] += 1
            colours[p.colour] += 1
        return tuple(sorted(brands.items())), tuple(sorted(colours.items()))

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
