"""Reading one store x category listing: its pages, then facet slices past the API's depth."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_asos.arrivals import ArrivalScan
from tap_asos.pagination import slice_plan
from tap_asos.runtime import RequestBudgetExhaustedError
from tap_asos.state import Bookmark

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Generator, Iterator

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

    def get_new_paginator(self) -> ListingPaginator:
        """A paginator for one listing, with the tap's page size and depth."""
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

    finished: bool = False  # False: the request budget ran out mid-listing
    split: bool = False  # read past max_offset by facet slices
    unreachable: int = 0  # products beyond the cap that no slice reached


class ListingReader:
    """Reads one partition's listing for the ``products`` stream.

    Inputs: the partition ``context``, the ``scan`` deciding what to emit and when to
    stop (see :mod:`tap_asos.arrivals`), the ``source`` of pages (the stream: its HTTP
    policy and paginator) and the paging ``limits``.
    Output: :meth:`records` yields the products to emit, each with ``position``
    (its rank in the unsplit listing; null through a slice); then :attr:`outcome`.

    A listing is paged to ``max_offset``.  If the scan still wants more there, the
    rest is read by facet slices: one listing per ``brand`` value of the listing's own
    facets, then brand x ``base_colour`` for a brand still too deep.  Slices are
    disjoint; ids already read at a wider level are skipped, so each product comes
    once.  If a slice lists as many products as its parent, the API ignored the
    filter: slicing stops there and what lies beyond the cap is counted unreachable.
    """

    def __init__(
        self,
        source: ListingSource,
        context: dict[str, t.Any],
        scan: ArrivalScan,
        limits: Limits,
    ) -> None:
        """Nothing is requested until :meth:`records` is iterated."""
        self.source = source
        self.context = context
        self.scan = scan
        self.limits = limits
        self.logger = source.logger
        self.outcome = ListingOutcome()

    def records(self) -> Iterator[Record]:
        """The products to emit, at most ``max_records``; sets :attr:`outcome` at the end."""
        emitted = 0
        try:
            for record in self._listing(self.context, self.scan, frozenset(), 0, None):
                yield record
                emitted += 1
                if self.limits.max_records and emitted >= self.limits.max_records:
                    break
        except RequestBudgetExhaustedError:
            return
        self.outcome.finished = True

    def _listing(
        self,
        context: dict[str, t.Any],
        scan: ArrivalScan,
        read: frozenset[int],
        depth: int,
        parent_total: int | None,
    ) -> Generator[Record, None, bool]:
        """One listing (or slice), then its slices if capped; False: the filter was ignored."""
        paginator = self.source.get_new_paginator()
        paginator.stop = lambda: scan.done
        if depth:
            paginator.max_records = None  # the partition's cap counts from the top
        fresh: set[int] = set()
        for page in _pages_then_finish(self.source, context, paginator, scan):
            first = paginator.first_payload or {}
            if parent_total is not None and int(first.get("itemCount") or 0) >= parent_total:
                return False
            for position, record in page:
                product_id = int(record["id"])
                if product_id in read:
                    continue
                if self.limits.max_offset:  # only a capped listing needs them
                    fresh.add(product_id)
                record["position"] = None if depth else position
                yield record
        if paginator.capped and not scan.done and paginator.first_payload is not None:
            yield from self._slices(context, paginator.first_payload, read | fresh, depth)
        return True

    def _slices(
        self, context: dict[str, t.Any], first: Payload, read: frozenset[int], depth: int
    ) -> Iterator[Record]:
        """The rest of a capped listing (``first`` is its first page), one facet value at a time."""
        self.outcome.split = True
        total = int(first.get("itemCount") or 0)
        depth, facet, values = slice_plan(first, depth)
        beyond = total - (self.limits.max_offset or 0)  # what the capped listing did not reach
        # Products in no facet value (some may be among those read above the cap).
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
        for value, _count in values:
            whole = ArrivalScan(Bookmark(), self.scan.now, everything=True)
            honoured = yield from self._listing(
                {**context, facet: value}, whole, read, depth + 1, total
            )
            if not honoured:
                # Every slice would re-read the same listing: stop, and say what is missing.
                self.logger.warning("The API ignored the %s filter of %s", facet, context)
                left_out = beyond
                break
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


def _pages_then_finish(
    source: ListingSource,
    context: dict[str, t.Any],
    paginator: ListingPaginator,
    scan: ArrivalScan,
) -> Iterator[list[tuple[int, Record]]]:
    """What the scan emits page by page, then what it held back when the listing ended."""
    yield from source.pages(
        context, paginator, lambda payload: scan.feed(payload.get("products") or [], payload)
    )
    yield scan.finish()
