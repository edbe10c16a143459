"""What the request budget lets the products stream read and send (pages, child batches)."""

from __future__ import annotations

import typing as t

from tap_asos.allowance import Allowance
from tap_asos.runtime import RequestPolicy, RunStats

DETAILS_AND_STOCK = (1, 1)  # a detail call per product, a stock call per batch


class _Run:
    """An allowance on a real request policy; each batch's child calls are taken from it."""

    def __init__(self, budget: int, costs: tuple[int, int] = DETAILS_AND_STOCK) -> None:
        self.stats = RunStats()
        self.policy = RequestPolicy(self.stats, max_requests=budget)
        self.batches: list[tuple[int, ...]] = []
        self.allowance = Allowance(lambda: self.policy, lambda: costs, 3, self._send)
        self.costs = costs

    def _send(self, context: dict[str, t.Any]) -> None:
        ids = tuple(context["productIds"])
        self.batches.append(ids)
        for _ in range(self.costs[0] * len(ids) + self.costs[1]):
            self.policy.take_request_slot("product_details")

    def page(self, ids: t.Iterable[int]) -> None:
        """A listing page read, its products taken for the children."""
        self.policy.take_request_slot("products")
        for product_id in ids:
            for context in self.allowance.children.add("gb", product_id):
                self._send(context)


def test_a_page_is_read_only_while_the_budget_pays_its_children_too() -> None:
    run = _Run(budget=6)
    # A page (1), its product's detail (1) and a stock call (1): 3 of 6.
    assert run.allowance.page_cost(0) == 3
    assert run.allowance.listing_open()
    run.page([1, 2])  # 1 request; 2 products wait for a batch
    # Next page: 1 + the details of 2 waiting and 1 more (3) + a stock call = 5 > 5 left.
    assert run.allowance.page_cost(2) == 5
    assert run.allowance.listing_open() is True  # 5 left: exactly paid for
    run.page([3])  # fills the batch of 3: sent (3 details + 1 stock)
    assert run.batches == [(1, 2, 3)]
    assert run.policy.remaining == 0
    assert run.allowance.listing_open() is False
    assert run.policy.stopped_at_budget


def test_what_waits_is_sent_before_the_budget_closes_the_listing() -> None:
    run = _Run(budget=5)
    run.page([1, 2])  # 4 left; the next page would cost 1 + 3 + 1 = 5
    assert not run.batches
    # Rather than stop with two products unsent, the partial batch goes (2 + 1 = 3).
    assert run.allowance.listing_open() is False
    assert run.batches == [(1, 2)]
    assert run.policy.remaining == 1


def test_a_batch_goes_only_as_far_as_the_budget_pays() -> None:
    run = _Run(budget=10)
    for _ in range(6):
        run.policy.take_request_slot("products")
    # 4 left: a stock call and 3 details.
    assert run.allowance.affordable(3) == 3
    run.policy.take_request_slot("products")
    assert run.allowance.affordable(3) == 2
    run.policy.exhaust()
    assert run.allowance.affordable(3) == 0
    assert run.allowance.exhausted()


def test_without_details_a_batch_costs_one_stock_call_whatever_its_size() -> None:
    run = _Run(budget=2, costs=(0, 1))
    assert run.allowance.affordable(50) == 50
    run.policy.take_request_slot("products")
    run.policy.take_request_slot("products")
    assert run.allowance.affordable(50) == 0


def test_without_a_budget_everything_is_open() -> None:
    run = _Run(budget=0)
    assert run.policy.remaining is None
    assert run.allowance.listing_open(10_000)
    assert run.allowance.affordable(50) == 50


def test_a_reads_cost_is_its_pages_and_its_products_share_of_the_child_calls() -> None:
    run = _Run(budget=0)
    assert run.allowance.read_cost(pages=2, children=7) == 2 + 7 + 3  # ceil(7 / 3) batches
    assert run.allowance.child_calls(6) == 6 + 2
