"""What the request budget lets the ``products`` stream read and send.

A budgeted run spends its requests on listing pages and on the child calls the products
of those pages owe (a detail call each, a stock call per batch, for the streams
selected).  A page is read only while the budget still pays for it and for the children
of every product it may add: so a run cut by its budget ends with its products sent,
their reads' places kept, and at least one product moved forward.

The child batches ask the same allowance how much of a batch it pays for
(:class:`tap_asos.children.ChildBudget`).
"""

from __future__ import annotations

import math
import typing as t

from tap_asos.children import ChildBatches

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.runtime import RequestPolicy


class Allowance:
    """The budget's arithmetic for listing pages and the child calls they owe.

    ``policy``: the run's request policy (its budget); ``costs``: requests a product
    costs its children and requests a batch does (known once the catalog is applied);
    ``send`` syncs the children of one batch of ``batch_size`` products.
    """

    def __init__(
        self,
        policy: Callable[[], RequestPolicy],
        costs: Callable[[], tuple[int, int]],
        batch_size: int,
        send: Callable[[dict[str, t.Any]], None],
    ) -> None:
        """An allowance, and the child batches it pays for."""
        self._policy = policy
        self._costs = costs
        self.children = ChildBatches(batch_size, send, budget=self)

    def listing_open(self, upcoming: int = 0) -> bool:
        """Whether the budget leaves room for another listing page.

        ``upcoming``: products read but not handed to the children yet.  A page is read
        while the budget still pays for it, the children of every product waiting for a
        batch, and one more product's: so a budgeted run ends with its products sent, and
        moves at least one product forward.
        """
        policy = self._policy()
        if policy.stopped_at_budget:
            return False  # once closed, closed: what comes first in the run's order goes first
        remaining = policy.remaining
        if remaining is None:
            return True
        waiting = self.children.waiting()
        if remaining >= self.page_cost(upcoming + waiting):
            return True
        if waiting:
            # Send what waits now, rather than stop reading to keep the budget for it.
            self.children.flush_all()
            remaining = policy.remaining or 0
            if not policy.budget_exhausted and remaining >= self.page_cost(upcoming):
                return True
        policy.reach()
        return False

    def child_calls(self, products: int) -> float:
        """Child calls ``products`` cost on average (their share of the batches)."""
        per_product, per_batch = self._costs()
        return per_product * products + per_batch * products / self.children.size

    def read_cost(self, pages: int, children: int) -> int:
        """Requests of a read: its pages, and its products' share of the child calls."""
        per_product, per_batch = self._costs()
        return pages + per_product * children + per_batch * math.ceil(children / self.children.size)

    def page_cost(self, products: int) -> int:
        """One more listing page, and the children of ``products`` and of one product more."""
        per_product, per_batch = self._costs()
        waiting = products + 1
        return 1 + per_product * waiting + per_batch * math.ceil(waiting / self.children.size)

    # The budget, as the child batches see it (ChildBudget).
    def affordable(self, products: int) -> int:
        """How many of ``products`` (a batch) the budget still pays the children of."""
        policy = self._policy()
        remaining = policy.remaining
        if policy.budget_exhausted:
            return 0
        if remaining is None:
            return products
        per_product, per_batch = self._costs()
        left = remaining - per_batch
        if per_product:
            return max(0, min(products, left))
        return products if left >= 0 else 0

    def exhausted(self) -> bool:
        """Whether the budget refused a request."""
        return self._policy().budget_exhausted

    def stop(self) -> None:
        """Send nothing more this run."""
        self._policy().exhaust()
