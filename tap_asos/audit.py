"""A snapshot's audit of the daily runs: what entered a leaf that no arrival feed lists.

Daily runs read the arrival feeds only (:mod:`tap_asos.feeds`).  The weekly snapshot
reads the feeds first, noting every product they list, then every leaf whole; what a
leaf's scan finds above its last snapshot's anchors (``ArrivalScan.arrivals``) entered
the leaf since, and if no feed lists it, the daily runs missed it: counted once per
store as ``feed_misses`` (run summary, warning, alert).  The snapshot emits it all the
same.  A snapshot spread over several runs by its budget keeps what the feeds listed in
its state (``audit``), for the leaves its later runs read.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Collection, Mapping

    from tap_asos.arrivals import ArrivalScan


class FeedAudit:
    """What the feeds list and which misses were counted, per store, in one snapshot."""

    def __init__(self, kept: Callable[[str], t.AbstractSet[int]] = lambda _store: set()) -> None:
        """Nothing counted; what the feeds listed in earlier runs of the snapshot: ``kept``."""
        self._kept = kept
        self._listed: dict[str, set[int]] = {}
        self._counted: dict[str, set[int]] = {}

    def listed(self, store: str) -> set[int]:
        """The products the store's feeds list, filled while the snapshot reads them."""
        if store not in self._listed:
            self._listed[store] = set(self._kept(store))
        return self._listed[store]

    def misses(self, store: str, scan: ArrivalScan) -> list[int]:
        """A leaf's arrivals since the last snapshot that no feed lists, not counted yet."""
        arrivals = scan.arrivals()
        if arrivals is None:
            return []  # the bookmark cannot tell
        listed = self.listed(store)
        counted = self._counted.setdefault(store, set())
        missed = [i for i in dict.fromkeys(arrivals) if i not in listed and i not in counted]
        counted.update(missed)
        return missed


def warn_misses(
    logger: logging.Logger,
    context: Mapping[str, t.Any],
    feeds: Collection[int],
    missed: list[int],
) -> None:
    """The warning a snapshot logs for a leaf whose arrivals the feeds missed."""
    logger.warning(
        "%d products entered %s since the last snapshot but are in none of the store's "
        "arrival feeds %s (daily runs missed them; this snapshot emits them), e.g. %s",
        len(missed),
        dict(context),
        sorted(feeds),
        missed[:5],
    )
