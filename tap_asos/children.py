"""Batches of emitted products for the child streams (details, stock), per store.

``get-stock-price`` takes up to 50 ids of any category, so a batch gathers a store's
products across partitions: a daily run whose arrivals are spread over many listings
makes one stock call per 50 of them, not one per listing.  A partition's bookmark may
move only once its products' children have run (at-least-once), so what a finished
partition leaves in a pending batch holds its bookmark back until that batch goes:
:meth:`ChildBatches.after_flush`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass
class _Pending:
    ids: list[int] = field(default_factory=list)
    then: list[Callable[[], None]] = field(default_factory=list)  # run once they are sent


class ChildBatches:
    """Batches the ids of emitted products for the child streams, per store.

    Each product goes to the children once per store and run, even when it is listed
    in several categories.  A batch leaves when full (:meth:`add` yields it, the SDK
    syncs the children), or when the stream says a store is done (:meth:`flush`, which
    syncs them through ``send``).
    """

    def __init__(self, size: int, send: Callable[[dict[str, t.Any]], None]) -> None:
        """Batches of at most ``size`` ids; ``send`` syncs the children of one batch."""
        self.size = size
        self._send = send
        self._pending: dict[str, _Pending] = {}
        self._seen: dict[str, set[int]] = {}

    def add(
        self, store: str, product_id: int, *, include: bool = True
    ) -> Iterator[dict[str, t.Any]]:
        """Take one emitted product; yield a child context when its store's batch is full."""
        seen = self._seen.setdefault(store, set())
        if not include or product_id in seen:
            return
        seen.add(product_id)
        pending = self._pending.setdefault(store, _Pending())
        pending.ids.append(product_id)
        if len(pending.ids) >= self.size:
            del self._pending[store]
            yield _context(store, pending.ids)
            # The generator resumes once the SDK has synced the children of that batch.
            for action in pending.then:
                action()

    def after_flush(self, store: str, action: Callable[[], None]) -> None:
        """Run ``action`` once every id taken so far for ``store`` went to the children."""
        pending = self._pending.get(store)
        if pending is None or not pending.ids:
            action()
        else:
            pending.then.append(action)

    def flush(self, store: str) -> None:
        """Send ``store``'s partial batch now, then run what waited for it."""
        pending = self._pending.pop(store, None)
        if pending is None:
            return
        if pending.ids:
            self._send(_context(store, pending.ids))
        for action in pending.then:
            action()

    def pending(self, store: str) -> int:
        """Ids of ``store`` waiting for a batch."""
        pending = self._pending.get(store)
        return len(pending.ids) if pending else 0


def _context(store: str, ids: list[int]) -> dict[str, t.Any]:
    return {"store": store, "productIds": tuple(ids)}
