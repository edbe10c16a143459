"""A store's cover: the few listings that together hold every product a full read found.

Each product sits on several listings at once (its department leaf, its section's View
all, sale, outlet, edit and brand-like lists: a real detail's ``plpIds`` names 13 to 17),
so a snapshot that reads every leaf pays for each product about eight times.  A
snapshot that read every listing of a store whole, in one run, knows which products
each one holds (:class:`Memberships`) and what each read cost; from that it learns a
cover (:func:`least_cover`: listings that hold every product, none of which could go),
and the next snapshots read only those listings.

The cover is kept in the state with every listing of the tree as it was learned
(:class:`Cover`).  A cover snapshot also reads, whole, each listing the tree gained
since: the products it finds there that no cover listing held are ``cover_misses``
(emitted, counted, warned of, alerted) and their listing joins the cover.  A cover
listing gone from the tree, or a cover older than ``cover_max_age_days``, makes the
next snapshot read every listing again and learn a new cover (:func:`usable`).
"""

from __future__ import annotations

import math
import typing as t
from array import array
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tap_asos.bookmark import pack_ids, unpack_ids

if t.TYPE_CHECKING:
    from collections.abc import Iterable

# Keys of a store's cover in the state (see tap_asos.state: ``covers``).
IDS = "ids"
KNOWN = "known"
LEARNED_AT = "learned_at"
PRODUCTS = "products"
PAGES = "pages"


@dataclass(frozen=True)
class Cover:
    """The listings a store's snapshot reads, and the tree they were learned from."""

    ids: tuple[int, ...]  # the cover: a snapshot reads these whole
    known: frozenset[int]  # every listing of the tree when learned (or read since)
    learned_at: str  # the snapshot that learned it (ISO-8601)
    products: int  # how many products that snapshot found
    pages: int = 0  # what reading the cover cost that snapshot (listing pages): its price

    @classmethod
    def from_value(cls, value: t.Mapping[str, t.Any]) -> Cover:
        """A cover as the state keeps it."""
        return cls(
            tuple(int(i) for i in value[IDS]),
            unpack_ids(str(value[KNOWN])),
            str(value[LEARNED_AT]),
            int(value[PRODUCTS]),
            int(value.get(PAGES, 0)),
        )

    def to_value(self) -> dict[str, t.Any]:
        """The state's shape of this cover (the known listings packed)."""
        return {
            IDS: list(self.ids),
            KNOWN: pack_ids(self.known),
            LEARNED_AT: self.learned_at,
            PRODUCTS: self.products,
            PAGES: self.pages,
        }

    def new_listings(self, listings: Iterable[int]) -> list[int]:
        """The tree's listings this cover has never seen (read whole by a cover snapshot)."""
        return [i for i in listings if i not in self.known]

    def grown(self, read: Iterable[int], missed_in: Iterable[int]) -> Cover:
        """The cover once a snapshot read ``read``, finding uncovered products in ``missed_in``."""
        ids = tuple(dict.fromkeys([*self.ids, *missed_in]))
        return replace(self, ids=ids, known=self.known | frozenset(read))


def is_cover_value(value: object) -> bool:
    """Whether ``value`` has a cover's shape (the state's input check)."""
    if not isinstance(value, dict):
        return False
    try:
        Cover.from_value(value)
        datetime.fromisoformat(str(value[LEARNED_AT]))
    except (KeyError, TypeError, ValueError):
        return False
    return True


def usable(
    cover: Cover | None, listings: Iterable[int], now: datetime, max_age_days: int
) -> tuple[bool, str]:
    """Whether a snapshot may read ``cover`` rather than every listing, and why not."""
    if not max_age_days:
        return False, "cover_max_age_days is 0"
    if cover is None:
        return False, "no cover learned yet"
    present = set(listings)
    if gone := [i for i in cover.ids if i not in present]:
        return False, f"cover listings {gone[:5]} are gone from the tree"
    learned = datetime.fromisoformat(cover.learned_at)
    if now - learned > timedelta(days=max_age_days):
        return False, f"the cover was learned {cover.learned_at}, over {max_age_days} days ago"
    return True, ""


@dataclass
class StoreCover:
    """What one snapshot run does with a store's cover: read it, or learn one."""

    store: str
    snapshot_at: str  # the snapshot this run belongs to (ISO-8601)
    cover: Cover | None  # read (None: every listing is read, and a cover learned)
    new: frozenset[int] = frozenset()  # the tree's listings the cover never saw
    memberships: Memberships | None = None  # learning: what each listing held
    spoiled: str = ""  # why this run cannot learn (a read an earlier run began, ...)
    missed: dict[int, int] | None = None  # new listing -> products no cover listing held

    @classmethod
    def plan(
        cls,
        store: str,
        cover: Cover | None,
        listings: t.Sequence[int],
        snapshot_at: str,
        max_age_days: int,
    ) -> tuple[StoreCover, str]:
        """How this snapshot reads ``store``, and why it reads every listing (or "")."""
        now = datetime.fromisoformat(snapshot_at)
        ok, why = usable(cover, listings, now, max_age_days)
        if ok and cover is not None:
            new = frozenset(cover.new_listings(listings))
            return cls(store, snapshot_at, cover, new, missed={}), ""
        return cls(store, snapshot_at, None, memberships=Memberships()), why

    @property
    def listings(self) -> tuple[int, ...] | None:
        """The listings to read (None: every listing of the tree)."""
        return None if self.cover is None else (*self.cover.ids, *sorted(self.new))

    def saw(
        self, category_id: int, product_id: int, *, first: bool, marked_down: bool = False
    ) -> None:
        """A read listed a product (``first``: no listing read before held it)."""
        if self.memberships is not None:
            self.memberships.add(category_id, product_id, marked_down=marked_down)
        elif self.missed is not None and first and category_id in self.new:
            self.missed[category_id] = self.missed.get(category_id, 0) + 1

    def read_whole(self, category_id: int, *, from_top: bool, pages: int = 0) -> None:
        """A listing was read to its end (``from_top``: by this run alone, in ``pages``)."""
        if self.memberships is None:
            return
        if from_top:
            self.memberships.listed(category_id, pages)
        else:
            self.spoiled = self.spoiled or f"listing {category_id} was begun by an earlier run"

    def learned(self, page_size: int, *, complete: bool) -> Cover | None:
        """The store's cover after this run (None: nothing to keep).

        ``complete``: every listing of the store was read to its end in this snapshot.
        """
        if not complete:
            return None
        if self.cover is not None:
            read = set(self.new)
            return self.cover.grown(read, [c for c, n in (self.missed or {}).items() if n])
        if self.memberships is None or self.spoiled:
            return None
        ids = self.memberships.cover(page_size)
        known = frozenset(self.memberships.listings)
        pages = self.memberships.cost(ids, page_size)
        return Cover(ids, known, self.snapshot_at, self.memberships.products, pages)


class Memberships:
    """Which products each listing held, as a run read listings whole (compact arrays)."""

    def __init__(self) -> None:
        """No listing read yet."""
        self._index: dict[int, int] = {}  # product id -> its bit
        self._held: dict[int, array[int]] = {}  # listing -> its products' bits
        self._marked_down: dict[int, int] = {}  # listing -> how many it held marked down
        self._pages: dict[int, int] = {}  # listing -> the pages its read took

    def add(self, category_id: int, product_id: int, *, marked_down: bool = False) -> None:
        """``category_id`` lists ``product_id`` (``marked_down``: its price says so)."""
        bit = self._index.setdefault(product_id, len(self._index))
        self._held.setdefault(category_id, array("l")).append(bit)
        if marked_down:
            self._marked_down[category_id] = self._marked_down.get(category_id, 0) + 1

    def listed(self, category_id: int, pages: int = 0) -> None:
        """``category_id`` was read whole, in ``pages`` (it may have held nothing)."""
        self._held.setdefault(category_id, array("l"))
        if pages:
            self._pages[category_id] = pages

    @property
    def products(self) -> int:
        """How many distinct products the listings held."""
        return len(self._index)

    @property
    def listings(self) -> tuple[int, ...]:
        """The listings read whole."""
        return tuple(self._held)

    def sale_lists(self) -> frozenset[int]:
        """Listings that hold marked-down products only (at least SALE_SHARE of theirs).

        A sale list holds what is marked down today: its products leave it when their
        markdown ends, so it is a cover's last resort, never what covers a product
        that has a listing of its own.
        """
        return frozenset(
            cid
            for cid, bits in self._held.items()
            if bits and self._marked_down.get(cid, 0) >= SALE_SHARE * len(bits)
        )

    def cover(self, page_size: int) -> tuple[int, ...]:
        """The listings to read: the cheaper of two covers, at what the reads cost.

        :func:`least_cover` (drop the costliest listing others hold, first) and
        :func:`greedy_cover` (take the most new products a page, first) each win on some
        stores: on the sandbox's real tree, the first at 80,000 products (1,649 pages
        against 2,384), the second at 5,000 (151 against 237).
        """
        args = (self._held, len(self._index), page_size, self.sale_lists())
        covers = [least_cover(*args, self._pages), greedy_cover(*args)]
        return min(covers, key=lambda ids: (self.cost(ids, page_size), len(ids)))

    def cost(self, listings: t.Iterable[int], page_size: int) -> int:
        """The pages reading ``listings`` took (estimated where no read said)."""
        return sum(
            self._pages.get(cid) or math.ceil(len(self._held[cid]) / page_size) or 1
            for cid in listings
        )


SALE_SHARE = 0.9


def _mask(bits: array[int], size: int) -> int:
    row = bytearray((size + 7) // 8)
    for bit in bits:
        row[bit >> 3] |= 1 << (bit & 7)
    return int.from_bytes(row, "little")


def _greedy(
    masks: t.Mapping[int, int], pages: t.Mapping[int, float], covered: int
) -> tuple[list[int], int]:
    """Take the listing with the most uncovered products per page until none adds any."""
    left = dict(masks)
    chosen: list[int] = []
    while left:
        best, gain = 0, 0.0
        for cid in sorted(left):  # ties: the smaller id, so a read gives one cover
            new = (left[cid] & ~covered).bit_count()
            if new and new / pages[cid] > gain:
                best, gain = cid, new / pages[cid]
        if not gain:
            break
        chosen.append(best)
        covered |= left.pop(best)
    return chosen, covered


def _drop_held(
    candidates: t.Sequence[int], held: t.Mapping[int, array[int]], pages: t.Mapping[int, float]
) -> list[int]:
    """``candidates`` less each one whose products another kept one holds, costliest first.

    What is left holds every product the candidates held, and none of it could go.
    """
    holders: dict[int, int] = {}  # a product's bit -> how many kept candidates hold it
    for cid in candidates:
        for bit in held[cid]:
            holders[bit] = holders.get(bit, 0) + 1
    kept = set(candidates)
    for cid in sorted(candidates, key=lambda c: (-pages[c], c)):
        if all(holders[bit] > 1 for bit in held[cid]):
            kept.discard(cid)
            for bit in held[cid]:
                holders[bit] -= 1
    return [cid for cid in candidates if cid in kept]


def _with_the_rest(
    steady: t.Sequence[int],
    held: t.Mapping[int, array[int]],
    size: int,
    pages: t.Mapping[int, float],
    sale: frozenset[int],
) -> tuple[int, ...]:
    """A cover of ``steady`` listings, then the sale lists of products on nothing else.

    A listing found empty stays (a page a snapshot: what it comes to hold may be on
    nothing else).
    """
    covered = _mask(array("l", {bit for cid in steady for bit in held[cid]}), size)
    sale_masks = {cid: _mask(held[cid], size) for cid in held if cid in sale}
    last_resort, _ = _greedy(sale_masks, pages, covered)
    empty = sorted(cid for cid, bits in held.items() if not bits)
    return (*steady, *last_resort, *empty)


def greedy_cover(
    held: t.Mapping[int, array[int]],
    size: int,
    page_size: int,
    sale: frozenset[int] = frozenset(),
) -> tuple[int, ...]:
    """Listings that hold all ``size`` products: the most new products a page first.

    A listing's pages are estimated (its products' pages and one more), sale lists are
    taken only for products on nothing else, and each listing the others hold is
    dropped, the costliest first; a listing found empty stays.
    """
    pages = {cid: len(bits) / page_size + 1 for cid, bits in held.items()}
    steady = {cid: _mask(bits, size) for cid, bits in held.items() if cid not in sale}
    chosen, _ = _greedy(steady, pages, 0)
    return _with_the_rest(_drop_held(chosen, held, pages), held, size, pages, sale)


def least_cover(
    held: t.Mapping[int, array[int]],
    size: int,
    page_size: int,
    sale: frozenset[int] = frozenset(),
    spent: t.Mapping[int, int] | None = None,
) -> tuple[int, ...]:
    """Listings that hold all ``size`` products, for few pages.

    From every listing, each one whose products all lie on another listing still kept
    is dropped, the costliest first (a reverse-delete heuristic): what is left holds
    every product, and no listing of it could go.  A listing costs the pages its read
    took (a listing deeper than the API pages is read by facet slices, each with its
    part-filled last page), else its products' pages and one more.  On the sandbox's
    real tree of 80,000 products this reads 1,649 pages for a floor of 1,534, where the
    greedy rule (:func:`greedy_cover`) reads 2,384: it takes View alls that slicing makes
    dear, then the leaves beside them.

    ``sale`` lists (their products leave them when a markdown ends) are kept only for
    products on nothing else; a listing found empty stays.
    """
    spent = spent or {}
    pages = {cid: spent.get(cid) or len(bits) / page_size + 1 for cid, bits in held.items()}
    steady = [cid for cid, bits in held.items() if cid not in sale and bits]
    kept = sorted(_drop_held(steady, held, pages), key=lambda c: (-pages[c], c))
    return _with_the_rest(kept, held, size, pages, sale)


__all__ = [
    "Cover",
    "Memberships",
    "StoreCover",
    "greedy_cover",
    "is_cover_value",
    "least_cover",
    "usable",
]
