"""Reading one store x category listing: its pages, then facet slices past the API's depth.

A read can stop before its end (the request budget, or a daily run's first read of a
feed once its bookmark is known) and go on in a later run from where it stood: the
reader keeps a :class:`Checkpoint` at the start of each page (from which a
:class:`tap_asos.bookmark.Backlog` is made) and starts again from the frames of one.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass, field

from tap_asos.arrivals import ArrivalScan
from tap_asos.bookmark import Bookmark, Cursor, Frame, ScanState, pack_ids, unpack_ids
from tap_asos.pagination import SLICE_FACETS, page_head, slice_plan
from tap_asos.runtime import RequestBudgetExhaustedError

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Sequence

    from tap_asos.pagination import ListingPaginator

Payload = dict[str, t.Any]
Record = dict[str, t.Any]
R = t.TypeVar("R")


class ListingSource(t.Protocol):
    """What the reader needs of the stream: its paginator, its HTTP policy, its logger."""

    @property
    def logger(self) -> logging.Logger:
        """Where the reader logs slicing decisions."""
        ...

    def get_new_paginator(self, start: int = 0) -> ListingPaginator:
        """A paginator for one listing from ``start``, with the tap's page size and depth."""
        ...

    def pages(
        self,
        context: dict[str, t.Any],
        paginator: ListingPaginator,
        on_page: Callable[[Payload], R],
    ) -> Iterator[R]:
        """Yield ``on_page(payload)`` for each page, prefetching the next.

        ``on_page`` handles each decoded page before the paginator decides on the next
        request, so it can end the paging (``paginator.stop``).
        """
        ...


@dataclass(frozen=True)
class Limits:
    """How deep a listing is read (from the tap's settings)."""

    max_offset: int | None = None  # deepest position the API serves
    max_records: int | None = None  # products per partition, for samples


@dataclass
class ListingOutcome:
    """What reading one partition came to."""

    finished: bool = False  # False: stopped by the budget, or suspended on purpose
    suspended: bool = False  # ended on purpose at a page boundary (``suspend_when``)
    split: bool = False  # read past max_offset by facet slices
    unreachable: int = 0  # products beyond the cap that no slice reached
    reread: int = 0  # products a resumed read read again to find its place
    pages: int = 0  # listing pages read


@dataclass
class _Level:
    """One listing being read (the partition's, or one of its slices)."""

    filters: dict[str, str]
    cursor: Cursor | None  # where its own pages go on; None: they are done
    todo: tuple[str, ...] = ()  # its slices still to read ("facet=value"), the first under way
    seen: frozenset[int] = frozenset()  # ids its slices skip (read above a cap)
    fresh: list[int] = field(default_factory=list)  # ids its own pages read above its cap
    capped: bool = False  # its own pages stop at the cap: its slices follow

    def snap(self) -> _Snap:
        """This level as it stands (its fresh ids by reference: they are only appended)."""
        return _Snap(self.filters, self.cursor, self.todo, self.seen, self.fresh, len(self.fresh))

    @property
    def facet_level(self) -> int:
        """The first facet (index in SLICE_FACETS) its slices may use."""
        used = [SLICE_FACETS.index(k) + 1 for k in self.filters if k in SLICE_FACETS]
        return max(used, default=0)


@dataclass
class _Paging:
    """One level's paging as it goes: where it resumes, its first page, the offset."""

    cursor: Cursor
    find: bool = False  # a resumed level: find its place on the first page
    first: Payload | None = None
    offset: int = 0


@dataclass(frozen=True)
class _Read:
    """What one page read gives: the products to emit, its checkpoint, whether capped."""

    emit: list[tuple[int, Record]]
    checkpoint: int
    will_cap: bool


@dataclass(frozen=True)
class _Snap:
    """A level at one moment; its fresh ids are the first ``count`` of ``fresh``."""

    filters: dict[str, str]
    cursor: Cursor | None
    todo: tuple[str, ...]
    seen: frozenset[int]
    fresh: list[int]
    count: int

    def frame(self) -> Frame:
        """The level as a backlog keeps it; ids read above a cap are packed."""
        ids = self.seen | frozenset(self.fresh[: self.count])
        return Frame(dict(self.filters), self.cursor, self.todo, pack_ids(ids) if ids else "")


@dataclass(frozen=True)
class Checkpoint:
    """Where the read stood at the start of one page: what a backlog keeps."""

    levels: tuple[_Snap, ...]
    scan: ScanState
    emitted: int  # products emitted before this page

    @property
    def frames(self) -> tuple[Frame, ...]:
        """The read's frames at this page's start."""
        return tuple(level.frame() for level in self.levels)


class ListingReader:
    """Reads one partition's listing for the ``products`` stream.

    Inputs: the partition ``context``, the ``scan`` deciding what to emit and when to
    stop (see :mod:`tap_asos.arrivals`), the ``source`` of pages (the stream: its HTTP
    policy and paginator), the paging ``limits``, and, for a resumed read, the
    ``frames`` where it stood and the products it ``emitted`` before.  Output:
    :meth:`records` yields the products to emit, each with ``position`` (its rank in the
    unsplit listing; null through a slice) and the index of its page's
    :class:`Checkpoint` in :attr:`checkpoints`; then :attr:`outcome`, and :meth:`where`
    (where a read that did not finish goes on).

    A listing is paged to ``max_offset``.  If the scan still wants more there, the
    rest is read by facet slices: one listing per ``brand`` value of the listing's own
    facets, then brand x ``base_colour`` for a brand still too deep.  Slices are
    disjoint; ids already read at a wider level are skipped, so each product comes
    once.  If a slice lists as many products as its parent, the API ignored the
    filter: slicing stops there and what lies beyond the cap is counted unreachable.
    """

    def __init__(  # noqa: PLR0913 - a resumed read's place comes with it
        self,
        source: ListingSource,
        context: dict[str, t.Any],
        scan: ArrivalScan,
        limits: Limits,
        *,
        frames: Sequence[Frame] = (),
        emitted: int = 0,
    ) -> None:
        """Nothing is requested until :meth:`records` is iterated."""
        self.source = source
        self.context = context
        self.scan = scan
        self.limits = limits
        self.logger = source.logger
        self.outcome = ListingOutcome()
        self.checkpoints: list[Checkpoint] = []
        # Ends the read after a page (a daily run's first read of a feed, once its anchors
        # are read; a budget that cannot pay for more): called with the ids the page just
        # read will send to the children, before the next page is requested.
        self.suspend_when: Callable[[list[int]], bool] = lambda _ids: False
        self._levels = [
            _Level(
                dict(f.filters),
                f.cursor,
                f.todo,
                unpack_ids(f.seen) if f.seen else frozenset(),
                capped=bool(f.seen),
            )
            for f in frames
        ] or [_Level({}, Cursor(0, 0))]
        self._resuming = bool(frames)
        self._emitted = emitted
        self._last_read: int | None = None
        self._unyielded: list[int] = []  # ids the page just read sends to the children
        self._totals: dict[int, int] = {}  # itemCount of each level read in this run

    def records(self) -> Iterator[tuple[Record, int]]:
        """The products to emit and their page's checkpoint, at most ``max_records``."""
        try:
            while self._levels:
                level = self._levels[-1]
                if level.cursor is not None:
                    yield from self._pages(level)
                    if self.outcome.suspended:
                        return
                    if self._ignored:
                        self._ignored = False
                        self._levels.pop()
                        self._give_up(self._levels[-1])
                        continue
                if level.todo:
                    if self.suspend_when([]):
                        self.outcome.suspended = True
                        return
                    self._open_slice(level)
                    continue
                self._levels.pop()
                if self._levels:
                    parent = self._levels[-1]
                    parent.todo = parent.todo[1:]
        except RequestBudgetExhaustedError:
            return
        except _CapReachedError:
            pass  # a sample's cap: the partition is done
        self.outcome.finished = True

    def where(self) -> Checkpoint:
        """Where a read that did not finish goes on: after the last page it read.

        Or the start of that page, if the scan holds back its last product (an anchor
        waiting for the next product, not emitted yet).
        """
        if self.scan.holds_back and self.checkpoints:
            return self.checkpoints[-1]
        levels = tuple(level.snap() for level in self._levels)
        return Checkpoint(levels, self.scan.suspend(), self._emitted)

    _ignored = False

    def _context(self, level: _Level) -> dict[str, t.Any]:
        return {**self.context, **level.filters}

    def _pages(self, level: _Level) -> Iterator[tuple[Record, int]]:
        """The level's own pages from its cursor, then its slices planned if capped."""
        depth = len(self._levels) - 1
        scan = self.scan if depth == 0 else ArrivalScan(Bookmark(), self.scan.now, everything=True)
        cursor = t.cast("Cursor", level.cursor)
        paging = _Paging(
            cursor, find=self._resuming and (cursor.offset > 0 or cursor.last_read is not None)
        )
        self._resuming = False
        start = cursor.offset
        while True:
            paginator = self._paginator(depth, start, scan)
            paging.offset = start
            on_page = functools.partial(self._on_page, level, scan, paging, paginator)
            for read in self.source.pages(self._context(level), paginator, on_page):
                if read is not None:
                    yield from self._emit(level, read)
                if self.outcome.suspended:
                    return
            if self._ignored:
                return
            if paginator.restart_at is None:
                break
            start = paginator.restart_at
        yield from self._ended(level, scan, capped=paginator.capped, first=paging.first)

    def _on_page(
        self,
        level: _Level,
        scan: ArrivalScan,
        paging: _Paging,
        paginator: ListingPaginator,
        page: Payload,
    ) -> _Read | None:
        """A page as it arrives, before the next is requested: fed to the scan."""
        depth = len(self._levels) - 1
        if paging.first is None:
            paging.first = page_head(page)
            if self._filter_ignored(depth, page):
                paginator.restart_at = -1  # ends the paging: the level is given up
                return None
        products = page.get("products") or []
        skip = 0
        if paging.find:
            paging.find = False
            skip, restart = _find(paging.cursor, page, paging.offset)
            if restart is not None:
                paginator.restart_at = restart
                self.outcome.reread += len(products)
                return None
            self.outcome.reread += skip
        read = self._feed(level, scan, page, products[skip:], paging.offset + skip)
        paging.offset += len(products)
        return read

    def _paginator(self, depth: int, start: int, scan: ArrivalScan) -> ListingPaginator:
        paginator = self.source.get_new_paginator(start)
        cap = self.limits.max_offset
        # At the cap a listing goes on by its slices, planned first: no suspending there.
        paginator.stop = lambda: (
            scan.done or (not (cap and paginator.next_offset >= cap) and self._suspend_now(scan))
        )
        if depth == 0 and self.limits.max_records:
            # The partition's cap counts what it emitted, not offsets.
            paginator.max_records = start + max(1, self.limits.max_records - self._emitted)
        return paginator

    def _suspend_now(self, scan: ArrivalScan) -> bool:
        """Whether to end the read after the page just read (``suspend_when``)."""
        if scan.done or not self.suspend_when(self._unyielded):
            return False
        self.outcome.suspended = True
        return True

    def _ended(
        self, level: _Level, scan: ArrivalScan, *, capped: bool, first: Payload | None
    ) -> Iterator[tuple[Record, int]]:
        """A level's own pages are read: what the scan held back; the slices, if capped."""
        if len(self._levels) == 1:
            index = len(self.checkpoints) - 1
            for position, record in scan.finish():
                record["position"] = position
                yield record, index
        level.cursor = None
        if capped and not scan.done and first is not None:
            level.capped = True
            level.seen = level.seen | frozenset(level.fresh)
            level.fresh = []
            level.todo = self._plan(level, first)

    def _filter_ignored(self, depth: int, first: Payload) -> bool:
        """Whether a slice lists as many products as its parent: the API ignored its filter."""
        total = int(first.get("itemCount") or 0)
        parent_total = self._totals.get(depth - 1)
        if depth and parent_total is not None and total >= parent_total:
            self._ignored = True
            return True
        self._totals[depth] = total
        return False

    def _feed(
        self, level: _Level, scan: ArrivalScan, page: Payload, products: list[Record], offset: int
    ) -> _Read:
        """Feed one page to the scan, a checkpoint at its start: what it emits."""
        depth = len(self._levels) - 1
        total = int(page.get("itemCount") or 0)
        level.cursor = Cursor(offset, max(0, total - offset), self._last_read if offset else None)
        if not (depth == 0 and scan.holds_back):  # else: go on from the page before
            self.checkpoints.append(
                Checkpoint(
                    tuple(lv.snap() for lv in self._levels), self.scan.suspend(), self._emitted
                )
            )
        self.outcome.pages += 1
        emit = scan.feed(products, page)
        if products:
            self._last_read = int(products[-1]["id"])
        end = offset + len(products)
        level.cursor = Cursor(end, max(0, total - end), self._last_read)
        # What the page will send to the children, for a budget deciding on the next page.
        self._unyielded = [
            product_id
            for _p, r in emit
            if scan.sends_to_children(product_id := int(r["id"])) and product_id not in level.seen
        ]
        will_cap = bool(self.limits.max_offset) and total > (self.limits.max_offset or 0)
        return _Read(emit, len(self.checkpoints) - 1, will_cap)

    def _emit(self, level: _Level, read: _Read) -> Iterator[tuple[Record, int]]:
        """What one page emits, less what a wider level read already."""
        depth = len(self._levels) - 1
        for position, record in read.emit:
            product_id = int(record["id"])
            if product_id in level.seen:
                continue
            if read.will_cap:
                level.fresh.append(product_id)
            record["position"] = None if depth else position
            yield record, read.checkpoint
            self._emitted += 1
            if self.limits.max_records and self._emitted >= self.limits.max_records:
                raise _CapReachedError

    def _plan(self, level: _Level, first: Payload) -> tuple[str, ...]:
        """The slice values of a capped listing (``first`` is a page of it)."""
        self.outcome.split = True
        context = self._context(level)
        total = int(first.get("itemCount") or 0)
        _level, facet, values = slice_plan(first, level.facet_level)
        beyond = total - (self.limits.max_offset or 0)
        left_out = total - sum(count for _value, count in values) if values else beyond
        if values:
            self.logger.info(
                "%s lists %d products, deeper than max_listing_offset=%s: reading it by %s (%d)",
                context,
                total,
                self.limits.max_offset,
                facet,
                len(values),
            )
        self._unreachable(context, total, left_out)
        return tuple(f"{facet}={value}" for value, _count in values)

    def _open_slice(self, level: _Level) -> None:
        facet, _, value = level.todo[0].partition("=")
        self._levels.append(_Level({**level.filters, facet: value}, Cursor(0, 0), seen=level.seen))

    def _give_up(self, level: _Level) -> None:
        """Every slice would re-read the same listing: stop, and say what is missing."""
        context = self._context(level)
        facet = level.todo[0].partition("=")[0] if level.todo else ""
        self.logger.warning("The API ignored the %s filter of %s", facet, context)
        total = self._totals.get(len(self._levels) - 1)
        if total is not None:
            self._unreachable(context, total, total - (self.limits.max_offset or 0))
        level.todo = ()

    def _unreachable(self, context: dict[str, t.Any], total: int, left_out: int) -> None:
        if left_out > 0:
            self.outcome.unreachable += left_out
            self.logger.warning(
                "About %d of %d products of %s lie deeper than max_listing_offset=%s and "
                "outside every facet slice: they are not extracted",
                left_out,
                total,
                context,
                self.limits.max_offset,
            )


def _find(cursor: Cursor, page: Payload, offset: int) -> tuple[int, int | None]:
    """Where a resumed listing goes on, from its first page: (skip, restart offset).

    After ``last_read`` if the page holds it; else at ``itemCount`` now less what was
    unread: products arrive above the resume point and leave from anywhere, so that
    re-reads what left below it, never skips.
    """
    products = page.get("products") or []
    ids = [int(p["id"]) for p in products]
    if cursor.last_read is not None and cursor.last_read in ids:
        return ids.index(cursor.last_read) + 1, None
    target = max(0, int(page.get("itemCount") or 0) - cursor.unread)
    if offset <= target < offset + max(1, len(products)):
        return target - offset, None
    return 0, target


class _CapReachedError(Exception):
    """The partition emitted ``max_products_per_partition``: the read ends there."""
