"""Which products of a ``sort=freshness`` listing entered it since a partition's last run.

What the real API shows (``../shared/asos-api``; ``tests/fixtures/real`` holds the pages):

- Under ``sort=freshness`` a listing comes in **blocks by go-live day, newest day
  first, ids ascending inside a block** (seen on every captured page, 2020-2024; in
  ``products-v2-list-category-2023.json`` the ascending run breaks exactly at the
  block sizes the ``freshness_band`` facet gives: Today 17, Yesterday 31).
- **Ids do not grow with go-live**: an id is given when a product is created, long
  before it goes live, so today's arrivals carry ids below earlier days' ones.
  Comparing ids with a bookmark id loses arrivals (it lost 36 of 43 on real pages).
- The ``freshness_band`` facet ("New in date", :mod:`tap_asos.bands`) is on some
  listings only.
- A restocked product likely comes back in today's block with its old id.

So a product that entered a listing after a run sits in a day block at least as new
as that run's day, above every block older than it, and blocks older than the run's
day never change again but for products leaving them.  The bookmark of a partition is
therefore a position, not a value: the **anchors**, the first few ids of the frozen
part (the blocks older than the run's "Today") as the run saw them.

Example.  Monday's run reads a listing whose Today block holds ids ``[7, 9]`` and
whose older blocks start ``[3, 8, 5, ...]``; its anchors are ``(3, 8, 5, ...)``.  On
Tuesday the listing is ``[4, 12 | 2, 7, 9, 11 | 3, 8, 5, ...]``: Tuesday's arrivals
``4, 12`` on top, Monday's block grown by ``2`` and ``11`` after the run.  Tuesday's run
emits ``4, 12, 2, 7, 9, 11`` (``7`` and ``9`` a second time: at-least-once), meets
the anchors ``3, 8`` next to each other and in order beyond the head block, and stops
there; it emits ``3`` too (the first of a pair may be a product back in stock that
landed just above the frozen part: it gets no detail call), and keeps as anchors the
first ids after Tuesday's Today block: ``(2, 7, 9, 11, 3)``.  A lone anchor, or one
inside the head block (Today), is a product back in stock, not the frozen part: it is
emitted and the reading goes on.

Without anchors (a first run, state from an older release, or every anchor gone from
the listing), a listing with the facet is read down to the band that covers the last
finished run with two days to spare (the API's day may not be UTC's); without the
facet or such a run, to its end.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_asos.bands import band_counts, band_floor, band_limit
from tap_asos.bookmark import Bookmark, ScanState, pack_in_order, unpack_in_order

if t.TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from datetime import datetime

Record = dict[str, t.Any]
Item = tuple[int, Record]  # a product to emit, with its position in the listing
# How many ids of the frozen part a bookmark keeps: a run loses its place (and falls
# back to the bands) only when no two of them are left next to each other.
ANCHORS = 5


@dataclass
class ScanCounts:
    """What one partition's scan saw, for the run summary."""

    # Emitted from day blocks before today, above the anchors: what entered them after
    # the last run, and what that run emitted already (the at-least-once overlap).
    earlier_days: int = 0
    order_breaks: int = 0  # the day-block rule broken where the tap can see it


@dataclass
class ArrivalScan:
    """Reads a freshness-sorted listing page by page: what to emit, when to stop.

    Inputs: the partition's ``bookmark`` and the run's start (``now``).  Feed it each
    page in order (:meth:`feed` returns the products to emit, with their position);
    stop paging once :attr:`done`.  Outputs: :meth:`next_bookmark` for the state once
    the partition is finished, and :attr:`counts`.  ``everything=True`` (a snapshot,
    or a listing read by facet slices) emits every product and never stops early.

    The stop is two anchors of the bookmark, adjacent and in their order, that may be
    where the frozen part starts now (:meth:`_pair_holds`): below the head block and
    every band surely listed since the last run's day, no higher than the frozen part
    can have moved up (it only loses products), and followed, as far as the page read
    shows, by what can follow them in the frozen part.  One restocked anchor, back in a
    newer block, never matches that, and is emitted; two restocked together may.  A
    snapshot's audit finds the last run's pair by the same rule, checked against the
    whole listing.  ``regains``: a New-in list, whose frozen part may also gain products.
    """

    bookmark: Bookmark
    now: datetime
    everything: bool = False
    # A New-in list: there a product back in stock may return to its old day block (a
    # restock does not move it up, as in the sandbox), so the frozen part may gain
    # products, and the stop assumes only that its anchors keep their order.
    regains: bool = False
    done: bool = False
    stopped_by: str = ""  # "anchor", "band", or "" (read to the end)
    stop_anchor: int | None = None  # the first of the pair it stopped at (emitted)
    counts: ScanCounts = field(default_factory=ScanCounts)
    _position: int = 0
    _item_count: int = 0
    _head_end: int | None = None  # first position past the head (Today) block
    _floor: int = 0  # what the bands say was listed on the last run's day or later
    _limit: int | None = None
    _bands: dict[str, int] | None = None
    _previous_id: int | None = None
    # An anchor awaiting its pair: (index in the bookmark, position, product).
    _candidate: tuple[int, int, Record] | None = None
    _anchors_read: set[int] = field(default_factory=set)  # the bookmark's, read so far
    _page: Sequence[Record] = ()  # the page being read, and where in it
    _page_index: int = 0
    _next_anchors: list[int] = field(default_factory=list)
    # Sent to the child streams, with their positions, while they may lie in the head.
    _sent: list[tuple[int, int]] = field(default_factory=list)
    # A snapshot's audit (``everything``): every id read, in order; the last run's pair.
    _read: list[int] = field(default_factory=list)
    _pair_at: int | None = None  # position of the pair's first anchor, once found
    _resumed: bool = False  # went on from a suspended read (its first page was read then)

    def feed(self, products: Sequence[Record], payload: dict[str, t.Any]) -> list[Item]:
        """Take the next page (``payload`` is its whole body); return what to emit."""
        if self._position == 0 and not self._resumed:
            self._first_page(payload)
        emit: list[Item] = []
        self._page = products
        for index, product in enumerate(products):
            position = self._position
            self._position += 1
            self._page_index = index
            emit += self._take(position, product)
        return emit

    def release(self) -> None:
        """This scan reads no more: let go of its last page (up to 200 records)."""
        self._page = ()

    def finish(self) -> list[Item]:
        """The listing ended: what is still held back (an anchor that met no pair)."""
        held, self._candidate = self._candidate, None
        return [self._emitted(held[1], held[2])] if held else []

    @property
    def anchors_complete(self) -> bool:
        """Whether the next bookmark's anchors are read: the head block and five ids past it."""
        return self._head_end is not None and len(self._next_anchors) >= ANCHORS

    # Where the fifth of the next anchors was read (None: not yet, or in an earlier run).
    anchors_at: int | None = None

    @property
    def position(self) -> int:
        """Products read so far (the next one's position)."""
        return self._position

    @property
    def holds_back(self) -> bool:
        """Whether an anchor read last waits for the next product (it is not emitted yet)."""
        return self._candidate is not None

    def suspend(self) -> ScanState:
        """What this scan has gathered, to go on in a later run (:meth:`resumed`)."""
        head_end = self._head_end
        sent = dict.fromkeys(i for p, i in self._sent if head_end is None or p < head_end)
        return ScanState(
            bookmark=self.bookmark,
            everything=self.everything,
            regains=self.regains,
            position=self._position,
            item_count=self._item_count,
            head_end=head_end,
            floor=self._floor,
            limit=self._limit,
            bands=self._bands,
            previous_id=self._previous_id,
            anchors_read=tuple(sorted(self._anchors_read)),
            next_anchors=tuple(self._next_anchors),
            sent=tuple(sent),
            read=pack_in_order(self._read),
            pair_at=self._pair_at,
        )

    @classmethod
    def resumed(cls, state: ScanState, now: datetime) -> ArrivalScan:
        """A scan that goes on where :meth:`suspend` left it (``now``: the read's start)."""
        scan = cls(state.bookmark, now, everything=state.everything, regains=state.regains)
        # From the top again (the read stopped in its first page): the first page once more.
        scan._resumed = state.position > 0
        scan._position = state.position
        scan._item_count = state.item_count
        scan._head_end = state.head_end
        scan._floor = state.floor
        scan._limit = state.limit
        scan._bands = state.bands
        scan._previous_id = state.previous_id
        scan._anchors_read = set(state.anchors_read)
        scan._next_anchors = list(state.next_anchors)
        scan._sent = [(-1, i) for i in state.sent]  # in the head block: before any position
        scan._read = unpack_in_order(state.read)
        scan._pair_at = state.pair_at
        return scan

    def sends_to_children(self, product_id: int) -> bool:
        """Whether a product this scan emits goes to the child streams (details, stock).

        A snapshot fetches every product's children (a price history).  Otherwise the
        first anchor of the stop pair is emitted in case it came back in stock; it is
        almost always an old product, so it costs no detail or stock call.  Nor does
        what the last run sent to the children from its Today block, which this run
        reads again (the at-least-once overlap).
        """
        if self.everything:
            return True
        return product_id != self.stop_anchor and product_id not in self.bookmark.fetched

    @property
    def steady(self) -> bool:
        """Whether this read costs what the partition's steady runs cost.

        A first read, or one down to the freshness band (anchors lost), says nothing of
        a steady run's cost; a snapshot always reads everything.
        """
        bookmark = self.bookmark
        return (
            self.everything
            or (bool(bookmark.anchors) and self.stopped_by != "band")
            or (bookmark.checked_at is not None and bookmark.frozen == 0)  # empty then
        )

    def note_sent(self, position: int | None, product_id: int) -> None:
        """``product_id``, read at ``position``, went to the child streams."""
        if position is not None and (self._head_end is None or position < self._head_end):
            self._sent.append((position, product_id))

    def next_bookmark(self) -> Bookmark:
        """The bookmark to keep once the partition is finished.

        ``fetched``: what went to the children from the head block, which the next run
        reads again; without a head block (no day break seen) nothing, to keep it small.
        """
        head_end = self._head_end
        if head_end is None and self._position == 0 and self._item_count == 0:
            head_end = 0  # an empty listing: nothing is frozen
        frozen = None if head_end is None else self._item_count - head_end
        fetched = (
            frozenset(i for position, i in self._sent if position < head_end)
            if head_end is not None
            else frozenset()
        )
        return Bookmark(tuple(self._next_anchors), self.now, frozen, fetched)

    def arrivals(self) -> list[int] | None:
        """A snapshot's audit: the ids read above the last run's anchor pair.

        That is what entered the listing since, restocks included; None when the
        bookmark cannot tell.
        """
        if self.bookmark.checked_at is None:
            return None  # no earlier run to compare with
        # What the last run read in its own Today block is read again: not an arrival.
        seen = self.bookmark.fetched
        if self._pair_at is None:
            self._pair_at = self._audited_pair()
        if self._pair_at is not None:
            end = self._pair_at
        elif not self.bookmark.anchors and self.bookmark.frozen == 0:
            end = self._position  # the listing was all one day (or empty) then
        else:
            limit = band_limit(self._bands, self.bookmark.checked_at, self.now)
            if limit is None:
                return None
            end = limit
        return [i for i in self._read[:end] if i not in seen]

    def _first_page(self, payload: dict[str, t.Any]) -> None:
        self._item_count = int(payload.get("itemCount") or 0)
        self._bands = band_counts(payload)
        if self._bands is not None:
            self._head_end = self._bands["1"]
        self._floor = band_floor(self._bands, self.bookmark.checked_at, self.now)
        if not self.everything:
            self._limit = band_limit(self._bands, self.bookmark.checked_at, self.now)

    def _take(self, position: int, product: Record) -> list[Item]:
        """What to emit on reading ``product`` at ``position``; notes anchors, stops, breaks.

        An anchor that may start a stop pair is held back until the next product says
        whether it does; either way it is emitted (a lone anchor may have come back in
        stock, and so may the first of a pair), the second of a pair is not.
        """
        product_id = int(product["id"])
        self._check_order(position, product_id)
        beyond_head = self._head_end is not None and position >= self._head_end
        if beyond_head and len(self._next_anchors) < ANCHORS:
            self._next_anchors.append(product_id)
            if len(self._next_anchors) == ANCHORS:
                self.anchors_at = position
        if self.done:
            return []
        if self.everything:
            if self.bookmark.checked_at is not None:
                self._read.append(product_id)  # the audit needs the whole listing
            return [self._emitted(position, product)]
        held, self._candidate = self._candidate, None
        emit = [self._emitted(held[1], held[2])] if held else []
        anchors = self.bookmark.anchors
        if product_id in anchors and beyond_head:
            index = anchors.index(product_id)
            after = (int(p["id"]) for p in self._page[self._page_index + 1 :])
            if (
                held
                and held[1] == position - 1
                and self._pair_holds(held[0], index, held[1], self._anchors_read, after)
            ):
                self._stop("anchor")
                # The frozen part starts at the held anchor, or that one came back in
                # stock right above it (the two look the same): emit it all the same.
                self.stop_anchor = held[2]["id"]
                return emit
            self._anchors_read.add(product_id)
            self._candidate = (index, position, product)
            return emit
        if product_id in anchors:
            self._anchors_read.add(product_id)
        # Not a stop: a new product, or an anchor back on top (restocked), above the
        # frozen part.
        if product_id not in anchors and self._limit is not None and position >= self._limit:
            self._stop("band")
            return emit
        return [*emit, self._emitted(position, product)]

    def _audited_pair(self) -> int | None:
        """A snapshot: the position of the last run's anchor pair in the listing read.

        The first pair by :meth:`_take`'s rule, checked against everything below it.
        """
        anchors, head_end, read = self.bookmark.anchors, self._head_end, self._read
        if head_end is None:
            return None
        index = {a: k for k, a in enumerate(anchors)}
        above: set[int] = set()
        for position, product_id in enumerate(read[:-1]):
            first, second = index.get(product_id), index.get(read[position + 1])
            if (
                position >= head_end
                and first is not None
                and second is not None
                and self._pair_holds(first, second, position, above, read[position + 2 :])
            ):
                return position
            if first is not None:
                above.add(product_id)
        return None

    def _pair_holds(
        self, first: int, second: int, position: int, above: Collection[int], after: Iterable[int]
    ) -> bool:
        """Whether the frozen part may start at the anchors ``first``, ``second`` now.

        Indexes in the bookmark, read at ``position`` and the next, below the head
        block; ``above``: the bookmark's anchors read higher up, ``after``: what was read
        below them.  False is proof: the two (or the second) came back in stock.
        """
        if first >= second:
            return False  # out of their old order: one of them came back in stock
        if position < self._floor:
            return False  # in a band surely listed since the last run's day: back in stock
        frozen = self.bookmark.frozen
        if frozen is not None:
            # Starting here, it would be all the rest of the listing, without the anchors
            # before the second in the old order (but the first) and those read above.  A
            # New-in list may hold more than then: the stop may slip to a lower pair there
            # (the anchors above counted as restocks), so those are not counted.
            outside = 0
            if not self.regains:
                outside = sum(
                    1
                    for k, anchor in enumerate(self.bookmark.anchors)
                    if k not in (first, second) and (k < second or anchor in above)
                )
            if position < self._item_count - frozen + outside:
                return False
        return self._could_follow(second, after)

    def _could_follow(self, second: int, after: Iterable[int]) -> bool:
        """Whether ``after`` could follow the anchor ``second`` in the frozen part.

        Later anchors in their old order, then no more other products than the frozen
        part held after its anchors (where it may regain products: any, anywhere).
        """
        anchors, frozen = self.bookmark.anchors, self.bookmark.frozen
        spare = None if frozen is None or self.regains else frozen - len(anchors)
        last, others = second, 0
        for product_id in after:
            if product_id in anchors:
                k = anchors.index(product_id)
                if k <= last or (others and not self.regains):
                    return False
                last = k
            else:
                others += 1
                if spare is not None and others > spare:
                    return False
        return True

    def _emitted(self, position: int, product: Record) -> Item:
        head_end = self._head_end
        if head_end is not None and position >= head_end and not self.everything:
            self.counts.earlier_days += 1
        return position, product

    def _stop(self, reason: str) -> None:
        self.done = True
        self.stopped_by = reason

    def _check_order(self, position: int, product_id: int) -> None:
        """Ids ascend inside a day: a break marks a block start (and the head's end)."""
        previous, self._previous_id = self._previous_id, product_id
        if previous is None or product_id > previous:
            return
        if self._head_end is None:
            self._head_end = position  # no facet: the first break ends the head block
        elif self._bands is not None and self._breaks_a_single_day(position):
            self.counts.order_breaks += 1

    def _breaks_a_single_day(self, position: int) -> bool:
        """A break inside the Today or the Yesterday band, each one day."""
        assert self._bands is not None  # noqa: S101 - callers check
        today, yesterday = self._bands["1"], self._bands["2"]
        return 0 < position < today or today < position < yesterday
