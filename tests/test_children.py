"""Child batches gather a store's products across partitions and hold bookmarks back."""

from __future__ import annotations

import typing as t

from tap_asos.children import ChildBatches


def _drain(batches: ChildBatches, store: str, ids: t.Iterable[int], sent: list[t.Any]) -> None:
    for product_id in ids:
        sent.extend(batches.add(store, product_id))


def test_batches_fill_to_the_size_across_partitions_of_a_store() -> None:
    sent: list[dict[str, t.Any]] = []
    batches = ChildBatches(3, sent.append)
    _drain(batches, "US", [1, 2], sent)  # partition A ends with a partial batch
    _drain(batches, "US", [3, 4, 5, 6, 7], sent)  # partition B
    batches.flush("US")
    assert [c["productIds"] for c in sent] == [(1, 2, 3), (4, 5, 6), (7,)]
    assert {c["store"] for c in sent} == {"US"}


def test_stores_batch_apart_and_a_product_goes_once_per_store() -> None:
    sent: list[dict[str, t.Any]] = []
    batches = ChildBatches(2, sent.append)
    _drain(batches, "US", [1], sent)
    _drain(batches, "COM", [1], sent)
    _drain(batches, "US", [1, 2], sent)  # 1 again (a second category): not sent twice
    batches.flush("COM")
    assert sent == [
        {"store": "US", "productIds": (1, 2)},
        {"store": "COM", "productIds": (1,)},
    ]


def test_excluded_products_are_not_sent() -> None:
    sent: list[dict[str, t.Any]] = []
    batches = ChildBatches(5, sent.append)
    list(batches.add("US", 1, include=False))
    _drain(batches, "US", [2], sent)
    batches.flush("US")
    assert sent == [{"store": "US", "productIds": (2,)}]


def test_a_bookmark_waits_for_the_batch_holding_its_partitions_products() -> None:
    sent: list[dict[str, t.Any]] = []
    moved: list[str] = []
    batches = ChildBatches(3, sent.append)
    _drain(batches, "US", [1, 2], sent)
    batches.after_flush("US", lambda: moved.append("A"))
    assert moved == []  # 1 and 2 have not reached the children yet
    _drain(batches, "US", [3], sent)  # the batch fills and goes: A may move now
    assert moved == ["A"]
    assert sent == [{"store": "US", "productIds": (1, 2, 3)}]


def test_a_bookmark_with_nothing_pending_moves_at_once_and_flush_runs_the_rest() -> None:
    sent: list[dict[str, t.Any]] = []
    moved: list[str] = []
    batches = ChildBatches(10, sent.append)
    batches.after_flush("US", lambda: moved.append("empty"))
    assert moved == ["empty"]
    _drain(batches, "US", [4], sent)
    batches.after_flush("US", lambda: moved.append("B"))
    assert batches.pending("US") == 1
    batches.flush("US")
    assert moved == ["empty", "B"]
    assert sent == [{"store": "US", "productIds": (4,)}]
    assert batches.pending("US") == 0
