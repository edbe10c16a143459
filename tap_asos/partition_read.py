"""One partition's read, unit by unit: from its state, through its listing, to its new state.

A run reads a partition in units (:mod:`tap_asos.partitions`): ``top`` (from the top
down to the bookmark's anchors), ``head`` (a daily partition's first read, suspended
once its bookmark can be kept), ``rest`` (a suspended read, resumed) and ``whole``.

A product counts as read once its children ran (at-least-once): the read keeps the
products it emitted in order, each marked when its batch went, and where it stands is
the page of the first one not marked (a :class:`tap_asos.listing.Checkpoint`), with the
ids of that page that went already.  So a read the budget stops is kept as a backlog
(:class:`tap_asos.bookmark.Backlog`) that the next run resumes: it reads that page again
(``reread_products``), sends nothing twice, and goes on.  Once the read is past its new
anchors and everything above them went, its bookmark is kept at once (the next day's
top read starts there), while the rest of the read may be left for later.
"""

from __future__ import annotations

import functools
import typing as t
from collections import deque
from dataclasses import dataclass

from tap_asos.arrivals import ArrivalScan
from tap_asos.bookmark import Backlog
from tap_asos.listing import Checkpoint, Limits, ListingReader
from tap_asos.partitions import HEAD, REST, TOP, WHOLE
from tap_asos.state import (
    PartitionState,
    bookmark_is_older,
    commit_bookmark,
    context_key,
    context_of,
    drop_backlog,
    finish_partition,
    suspend,
)

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from tap_asos.bookmark import Frame
    from tap_asos.children import ChildBatches
    from tap_asos.listing import ListingSource
    from tap_asos.runtime import RunStats
    from tap_asos.settings import Settings

Record = dict[str, t.Any]


class ReadSource(t.Protocol):
    """What a read needs of the ``products`` stream (its pages, state and run)."""

    @property
    def source(self) -> ListingSource:
        """Where the listing's pages come from (the stream)."""

    @property
    def settings(self) -> Settings:
        """The run's settings."""

    @property
    def stats(self) -> RunStats:
        """The run's counters."""

    @property
    def cost_key(self) -> str:
        """The run's mode, as costs and backlogs are kept under."""

    @property
    def children(self) -> ChildBatches:
        """The run's child batches."""

    def listing_open(self, upcoming: int = 0) -> bool:
        """Whether the budget leaves room for another listing page (see Products)."""

    def write_state_now(self) -> None:
        """Write a STATE soon (at most every few seconds)."""

    def regains(self, context: t.Mapping[str, t.Any]) -> bool:
        """Whether a partition is a New-in list (its frozen part may regain products)."""


@dataclass
class _Product:
    """A product this read emitted: its page's checkpoint, and whether it went."""

    product_id: int
    checkpoint: int
    position: int | None = None  # in the listing (None: read through a facet slice)
    sent: bool = False


class PartitionRead:
    """One read of a partition: a fresh one (from the top) or a suspended one, resumed.

    ``entry`` is the partition's state as the SDK keeps it (changed in place);
    ``partition`` is it, typed, as the run started; ``backlog``: the suspended read
    this one resumes (None: a fresh read, from the top).
    """

    def __init__(  # noqa: PLR0913 - what a partition's read starts from
        self,
        run: ReadSource,
        entry: dict[str, t.Any],
        partition: PartitionState,
        *,
        now: datetime,
        everything: bool,
        snapshot_at: str | None,
        backlog: Backlog | None = None,
    ) -> None:
        """Nothing is read until :meth:`records`."""
        self.run = run
        self.entry = entry
        self.partition = partition
        self.context = context_of(partition.store, partition.category_id)
        self.everything = everything
        self.snapshot_at = snapshot_at
        self.backlog = backlog
        self.now = now
        self.started_at = backlog.started_at if backlog is not None else now
        self.committed = backlog.committed if backlog is not None else False
        self.checkpoints: list[Checkpoint] = []
        self.reader: ListingReader | None = None
        self.scan: ArrivalScan | None = None
        self.finished = False  # read to its stop; the state moves once its children went
        self.active = False  # a unit is reading
        self.pages = 0  # listing pages this run read for it
        self.children = 0  # products it sent to the children this run
        self._queue: deque[_Product] = deque()  # emitted, not all gone yet (in order)
        self._sent_on: dict[int, list[int]] = {}  # checkpoint -> ids of it that went
        self._went_before = frozenset(backlog.sent) if backlog is not None else frozenset()
        self._emitted_to = -1  # the furthest position emitted

    @property
    def resumed(self) -> bool:
        """Whether this read goes on from an earlier run's backlog."""
        return self.backlog is not None

    # --- reading -------------------------------------------------------------------

    def records(self, kind: str) -> Iterator[tuple[Record, Callable[[], None], bool]]:
        """Read (on); yield each record, what to do once it went, and whether it goes.

        ``kind``: ``top``, ``head`` or ``whole`` start a fresh read from the top;
        ``rest`` goes on with a resumed read, or with this run's head read.  The caller
        sends the product to the children (or calls the callback at once when none are
        selected) before asking for the next record.
        """
        if self.finished or (kind == REST and self.reader is None and self.backlog is None):
            return  # read to its end already (a head read that needed no more)
        reader = self._reader(kind)
        self.reader = reader
        self.active = True
        scan = reader.scan
        try:
            for record, index in reader.records():
                product_id = int(record["id"])
                position = record.get("position")
                # Its children ran in an earlier run: the page it resumes in, or what the
                # bookmark says the last run sent from its Today block (read again here).
                went = product_id in self._went_before or product_id in scan.bookmark.fetched
                if scan.everything or went:
                    # Noted children selected or not (a snapshot's audit must not count
                    # its head block), or as it went earlier: the next bookmark keeps it.
                    scan.note_sent(position, product_id)
                goes = scan.sends_to_children(product_id) and not went
                product = _Product(product_id, index, position)
                self._queue.append(product)
                if position is not None:
                    self._emitted_to = max(self._emitted_to, position)
                yield record, functools.partial(self._went, product), goes
        finally:
            self.active = False
        self._maybe_commit()
        outcome = reader.outcome
        self.pages += outcome.pages
        self.run.stats.count("products", "reread_products", outcome.reread)
        if outcome.finished:
            self.finished = True
        # Its last page is read: a read that goes on (a head read's rest) resumes from its
        # place, in a new scan.  A first run holds a suspended head read per leaf: 573
        # pages of 200 records kept were 170 MB at 80,000 products.
        scan.release()
        self._keep()

    def _reader(self, kind: str) -> ListingReader:
        settings = self.run.settings
        limits = Limits(max_offset=settings.max_offset, max_records=settings.max_records)
        if kind == REST and self.reader is not None:
            # Suspended earlier in this run (a head read): on from where it read.
            place = self.reader.where()
            scan = ArrivalScan.resumed(place.scan, self.started_at)
            return self._new_reader(scan, limits, place.frames, place.emitted)
        if kind == REST and self.backlog is not None:
            scan = ArrivalScan.resumed(self.backlog.scan, self.started_at)
            return self._new_reader(scan, limits, self.backlog.frames, self.backlog.emitted)
        if kind not in {TOP, HEAD, WHOLE}:
            msg = f"unknown read {kind!r}"
            raise ValueError(msg)
        scan = ArrivalScan(
            self.partition.bookmark,
            self.now,
            everything=self.everything,
            regains=self.run.regains(self.context),
        )
        reader = self._new_reader(scan, limits, (), 0)
        if kind == HEAD:
            # A daily partition's first read: once its new anchors are read, the rest can
            # wait for the run's other first reads (its bookmark is kept once they went).
            reader.suspend_when = lambda ids: scan.anchors_complete or not self._budget_allows(ids)
        return reader

    def _new_reader(
        self, scan: ArrivalScan, limits: Limits, frames: Sequence[Frame], emitted: int
    ) -> ListingReader:
        self.scan = scan
        reader = ListingReader(
            self.run.source, self.context, scan, limits, frames=frames, emitted=emitted
        )
        reader.checkpoints = self.checkpoints  # shared: indices hold across units
        reader.suspend_when = lambda ids: not self._budget_allows(ids)
        return reader

    def _budget_allows(self, ids: list[int]) -> bool:
        """Whether the budget pays for another page, these products' children included."""
        return self.run.listing_open(self.run.children.new(self.partition.store, ids))

    # --- what went to the children -------------------------------------------------

    def _went(self, product: _Product) -> None:
        """A product's children ran (or it goes to none)."""
        product.sent = True
        self._sent_on.setdefault(product.checkpoint, []).append(product.product_id)
        while self._queue and self._queue[0].sent:
            self._queue.popleft()
        self._maybe_commit()
        if not self.active:
            self._keep()

    def _maybe_commit(self) -> None:
        """Keep the new bookmark once everything above its anchors went to the children.

        Only with the backlog of the rest beside it (a state with a bookmark and no
        backlog says the partition is done); a read that is all gone moves its state in
        :meth:`done`.  A resumed read keeps no bookmark older than the partition's.
        """
        scan = self.scan
        if self.committed or scan is None or scan.anchors_at is None:
            return
        if self.finished and not self._queue:
            return
        if self._emitted_to < scan.anchors_at:
            return  # the products up to the anchors are not all emitted yet
        first = self._queue[0].position if self._queue else None
        if first is not None and first <= scan.anchors_at:
            return  # nor have they all gone to the children
        if self._newest():
            commit_bookmark(self.entry, scan.next_bookmark())
        self.committed = True
        self._keep()

    def report(self, stream: str, logger: logging.Logger) -> None:
        """This unit's figures into the run summary; a visible order break is warned."""
        scan, reader, stats = self.scan, self.reader, self.run.stats
        if scan is None or reader is None:
            return
        counts, outcome = scan.counts, reader.outcome
        breaks = counts.order_breaks
        for name, value in (
            ("split_listings", int(outcome.split)),
            ("unreachable_products", outcome.unreachable),
            ("earlier_days", counts.earlier_days),
            ("order_breaks", breaks),
        ):
            if value:
                stats.count(stream, name, value)
        counts.earlier_days = counts.order_breaks = 0  # counted once, whatever units follow
        if breaks:
            logger.warning(
                "%s breaks the listing order the tap relies on (ids ascending inside a day, "
                "anchors in place) %d times: new arrivals may be missed; take a snapshot",
                reader.context,
                breaks,
            )
        paired = len(scan.bookmark.anchors) > 1  # one anchor alone can never be a stop
        if self.finished and paired and scan.stopped_by != "anchor" and not self.everything:
            stats.count(stream, "bookmarks_lost")
            logger.warning(
                "No two bookmark anchors of %s are still next to each other: read it %s",
                reader.context,
                "to the freshness band of its last run" if scan.stopped_by == "band" else "whole",
            )

    def backlogs_left(self) -> bool:
        """Whether the partition keeps suspended reads of this run's mode."""
        return bool(PartitionState.from_entry(self.entry).backlogs_of(self.run.cost_key))

    def _newest(self) -> bool:
        """Whether this read's bookmark would be the partition's newest.

        A fresh read's is; a resumed one's only if no read since kept one.
        """
        return not self.resumed or bookmark_is_older(self.entry, self.started_at)

    # --- the state -----------------------------------------------------------------

    def _keep(self) -> None:
        """Write where the read stands (once all went, :meth:`done` moves the state).

        A read to its end whose last products wait for the children is kept as well:
        if the run ends first (its budget), the next one goes on from them.
        """
        if self.finished and not self._queue:
            return
        place, sent = self._place()
        if place is None:
            return
        backlog = Backlog(
            started_at=self.started_at,
            mode=self.run.cost_key,
            scan=place.scan,
            frames=place.frames,
            emitted=place.emitted,
            committed=self.committed,
            snapshot_at=self.snapshot_at,
            sent=sent,
        )
        suspend(self.entry, backlog)
        self.run.write_state_now()

    def _place(self) -> tuple[Checkpoint | None, tuple[int, ...]]:
        """Where the read goes on: the page of the first product not gone, or after the last."""
        if self._queue:
            index = self._queue[0].checkpoint
            return self.checkpoints[index], tuple(self._sent_on.get(index, ()))
        if self.reader is None:
            return None, ()
        return self.reader.where(), ()

    def done(self, cost: tuple[str, int] | None) -> None:
        """The read is finished and every product went: the partition's new state."""
        bookmark = None
        if not self.committed and self._newest():
            bookmark = t.cast("ArrivalScan", self.scan).next_bookmark()
        drop_backlog(self.entry, self.started_at, self.run.cost_key)
        finish_partition(
            self.entry,
            bookmark,
            cost=cost,
            snapshot_at=self.snapshot_at if self.everything else None,
        )
        self.run.write_state_now()


def key_of(context: t.Mapping[str, t.Any]) -> tuple[str, int]:
    """A unit's partition (its context less the read)."""
    return context_key(context)


__all__ = ["HEAD", "REST", "TOP", "WHOLE", "PartitionRead", "ReadSource", "key_of"]
