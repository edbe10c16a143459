"""Batches of emitted products for the child streams (details, stock), per store.

``get-stock-price`` takes up to 50 ids of any category, so a batch gathers a store's
products across partitions: a daily run whose arrivals are spread over many listings
makes one stock call per 50 of them, not one per listing.  A partition's read may move
only over products whose children ran (at-least-once), so each product is taken with
what to do once its batch went (``on_sent``), and :meth:`ChildBatches.after_flush` holds
a finished partition's bookmark until everything it took went.

With a request budget, a batch leaves only as far as the budget pays for it (a detail
call a product and a stock call a batch, for the streams selected): the products it
cannot pay for stay unsent, the run stops there, and the next run sends them.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class ChildBudget(t.Protocol):
    """What the batches ask of the run's request budget."""

    def affordable(self, products: int) -> int:
        """How many of ``products`` (a batch) the run can still send to the children."""
        ...

    def exhausted(self) -> bool:
        """Whether the budget refused a request (a batch may have gone only in part)."""
        ...

    def stop(self) -> None:
        """Send no further request this run: the budget cannot pay for what comes next."""
        ...


class Delivered:
    """Which products each selected child stream has had, per store.

    In this run, and in earlier runs while reads are left for later ones (``before``):
    a product goes to a child stream once, and a batch the budget cut part way still
    counts what went (a detail fetched, its stock call not).
    """

    def __init__(
        self,
        streams: t.Sequence[str],
        before: Callable[[str, str], t.AbstractSet[int]] = lambda _stream, _store: frozenset(),
    ) -> None:
        """``streams``: the child streams selected; ``before(stream, store)``: had earlier."""
        self.streams = tuple(streams)
        self._before = before
        self._had: dict[tuple[str, str], set[int]] = {}

    def _set(self, stream: str, store: str) -> set[int]:
        key = (stream, store)
        if key not in self._had:
            self._had[key] = set(self._before(stream, store))
        return self._had[key]

    def has(self, stream: str, store: str, product_id: int) -> bool:
        """Whether ``stream`` has had the product."""
        return product_id in self._set(stream, store)

    def add(self, stream: str, store: str, ids: t.Iterable[int]) -> None:
        """``stream`` has had these products (its records went out)."""
        self._set(stream, store).update(ids)

    def complete(self, store: str, product_id: int) -> bool:
        """Whether every selected child stream has had the product (none selected: no)."""
        return bool(self.streams) and all(
            self.has(stream, store, product_id) for stream in self.streams
        )

    def needs(self, stream: str, store: str, ids: t.Iterable[int]) -> list[int]:
        """The products ``stream`` has not had yet."""
        had = self._set(stream, store)
        return [i for i in ids if i not in had]

    def ids(self, stream: str, store: str) -> set[int]:
        """The products ``stream`` has had (to keep in the state)."""
        return self._set(stream, store)


@dataclass
class _Product:
    product_id: int
    then: list[Callable[[], None]] = field(default_factory=list)  # run once it is sent


class ChildBatches:
    """Batches the ids of emitted products for the child streams, per store.

    Each product goes to the children once per store and run, even when it is listed
    in several categories.  A batch leaves when full (:meth:`add` yields it, the SDK
    syncs the children), or when the stream says a store is done (:meth:`flush`, which
    syncs them through ``send``).
    """

    def __init__(
        self,
        size: int,
        send: Callable[[dict[str, t.Any]], None],
        budget: ChildBudget | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        """Batches of at most ``size`` ids; ``send`` syncs the children of one batch.

        ``delivered``: what each child stream has had (what went in earlier runs is sent
        no more; a batch cut part way keeps pending only what some stream lacks).
        """
        self.size = size
        self._send = send
        self._budget = budget
        self.delivered = delivered or Delivered(())
        self._pending: dict[str, list[_Product]] = {}
        self._seen: dict[str, dict[int, _Product | None]] = {}  # None: sent
        self.queued = 0  # products taken for the children (once per store and run)

    def add(
        self,
        store: str,
        product_id: int,
        *,
        include: bool = True,
        on_sent: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, t.Any]]:
        """Take one emitted product; yield a child context when its store's batch is full.

        ``on_sent`` runs once its children ran (at once if it goes to none, or went in
        an earlier batch of this run).
        """
        seen = self._seen.setdefault(store, {})
        done = product_id in seen and seen[product_id] is None
        if not include or done or self.delivered.complete(store, product_id):
            if on_sent is not None:
                on_sent()
            return
        waiting = seen.get(product_id)
        if waiting is not None:  # listed twice, still pending: it goes once
            if on_sent is not None:
                waiting.then.append(on_sent)
            return
        product = _Product(product_id, [on_sent] if on_sent is not None else [])
        seen[product_id] = product
        self.queued += 1
        pending = self._pending.setdefault(store, [])
        pending.append(product)
        if len(pending) >= self.size:
            yield from self._leave(store, self.size)

    def after_flush(self, store: str, action: Callable[[], None]) -> None:
        """Run ``action`` once every id taken so far for ``store`` went to the children."""
        pending = self._pending.get(store)
        if not pending:
            action()
        else:
            pending[-1].then.append(action)

    def flush(self, store: str) -> None:
        """Send ``store``'s partial batch now (as far as the budget pays), then what waited."""
        while self._pending.get(store):
            before = len(self._pending[store])
            for context in self._leave(store, self.size):
                self._send(context)
            if len(self._pending.get(store) or ()) >= before:
                return  # nothing left this run

    def new(self, store: str, ids: t.Iterable[int]) -> int:
        """How many of ``ids`` this run has not taken for the children yet (they will cost)."""
        seen = self._seen.get(store, {})
        return sum(
            product_id not in seen and not self.delivered.complete(store, product_id)
            for product_id in ids
        )

    def pending(self, store: str) -> int:
        """Ids of ``store`` waiting for a batch."""
        return len(self._pending.get(store) or ())

    def waiting(self) -> int:
        """Ids of every store waiting for a batch."""
        return sum(self.pending(store) for store in self._pending)

    def flush_all(self) -> None:
        """Send every store's partial batch now (as far as the budget pays)."""
        for store in list(self._pending):
            self.flush(store)

    def _leave(self, store: str, size: int) -> Iterator[dict[str, t.Any]]:
        """The first ``size`` pending products of ``store`` go, as far as the budget pays."""
        pending = self._pending[store]
        count = min(size, len(pending))
        if self._budget is not None:
            affordable = self._budget.affordable(count)
            if affordable < count:
                count = affordable
                if not count:
                    self._budget.stop()
                    return
        batch = pending[:count]
        yield {"store": store, "productIds": tuple(p.product_id for p in batch)}
        # The generator resumes once the SDK has synced the children of that batch.
        refused = self._budget is not None and self._budget.exhausted()
        # Refused part way, what some stream still lacks stays pending (for the next run).
        went = [p for p in batch if not refused or self.delivered.complete(store, p.product_id)]
        gone = {id(p) for p in went}
        pending[:count] = [p for p in batch if id(p) not in gone]
        seen = self._seen[store]
        for product in went:
            seen[product.product_id] = None
            for action in product.then:
                action()
        if refused:
            return
        if self._budget is not None and count < size and pending:
            self._budget.stop()  # the budget paid for part of this batch only
