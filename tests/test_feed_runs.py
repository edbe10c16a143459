"""Daily runs read the arrival feeds against a real sandbox: cost, arrivals, restocks, misses."""

from __future__ import annotations

import json
import typing as t
from collections import Counter

from tests.helpers import SyncResult, catalog_for, catalog_truth, ids, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

    from tap_asos.sandbox import SandboxServer

LIST = "/products/v2/list"
DETAIL = "/products/v3/detail"
STOCK = "/products/v3/get-stock-price"


# New in and Back in stock, two genders (real ids).
FEEDS = {27108, 27110, 17204, 17010}


def _by_path(server: SandboxServer) -> Counter[str]:
    return Counter(server.stats()["by_path"])


def _next_day(
    server: SandboxServer,
    config: dict[str, t.Any],
    catalog: dict[str, t.Any],
    state: dict[str, t.Any],
) -> tuple[SyncResult, Counter[str], set[int]]:
    """A day passes, then a run from ``state``.

    Its result, its requests by path, and the ids that entered a listing that day.
    """
    before = catalog_truth(server)
    server.advance(1)
    seen = _by_path(server)
    result = run_tap(config, catalog=catalog, state=state)
    return result, _by_path(server) - seen, ids(catalog_truth(server) - before)


def test_daily_runs_read_the_feeds_emit_every_arrival_and_restock_and_cost_what_is_new(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    """Slow by nature: a first run and two daily ones, full syncs of a 3,000-product catalog."""
    server = make_sandbox(products=3000, restocks_per_day=4)
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products", "product_details", "stock_prices"])
    first = run_tap(config, catalog=catalog)
    leaves = {c for c, _ in catalog_truth(server)}
    first_lists = {r["categoryId"] for r in first.records["products"]}
    assert leaves | {27108, 27110} <= first_lists  # every leaf, and the feeds (restocks: none yet)
    first_cost = _by_path(server)
    # Stock calls batch 50 ids across a store's partitions, not one call per leaf.
    products = {r["id"] for r in first.records["products"]}
    assert first_cost[STOCK] <= -(-len(products) // 50) + 5
    state = first.final_state
    for day in (1, 2):
        result, cost, entered = _next_day(server, config, catalog, state)
        state = result.final_state
        emitted = {r["id"] for r in result.records["products"]}
        assert entered, "the sandbox added nothing"
        assert entered <= emitted, f"day {day}: lost {sorted(entered - emitted)[:5]}"
        assert {r["categoryId"] for r in result.records["products"]} <= FEEDS
        # What is new costs: the feeds' pages, one detail per arrival, batches of 50.
        assert cost[LIST] <= 2 * len(FEEDS)
        details = {r["id"] for r in result.records["product_details"]}
        assert entered <= details
        if day == 2:  # the overlap (yesterday's Today block) is not fetched again
            assert len(details) <= len(entered) + len(FEEDS) * 2
            assert cost[DETAIL] == len(details)
        assert cost[STOCK] <= -(-len(emitted) // 50) + 1
    sizes = [len(json.dumps(p)) for p in state["bookmarks"]["products"]["partitions"]]
    assert max(sizes) < 4000


def test_a_snapshot_counts_the_arrivals_no_feed_listed_and_emits_them(
    make_sandbox: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_sandbox(products=2000, new_in_skip_percent=30, restocks_per_day=0)
    # The audit is a full read's: every snapshot here reads every listing (no cover).
    config = tap_config(server.url, server.api_key, cover_max_age_days=0)
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    first = run_tap(config, catalog=catalog)
    assert _misses(caplog) == 0  # the first snapshot has nothing to compare with
    before = catalog_truth(server)
    server.advance(7)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    entered = ids(catalog_truth(server) - before)
    emitted = {r["id"] for r in second.records["products"]}
    assert entered <= emitted
    catalog = server.sandbox.catalog
    skipped = {i for i in entered if catalog.skips_new_in(t.cast("int", catalog.index_of(i)))}
    assert skipped, "the sandbox skipped no arrival"
    assert _misses(caplog) == len(skipped)


def test_a_cover_snapshot_reads_no_feed_and_audits_none(
    make_sandbox: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture
) -> None:
    """It emits what skipped the feeds (on its cover), and counts no false miss."""
    server = make_sandbox(products=2000, new_in_skip_percent=30, restocks_per_day=0)
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    first = run_tap(config, catalog=catalog)
    full_read = server.stats()["by_path"][LIST]
    assert "covers" in first.final_state["bookmarks"]["products"]
    before = catalog_truth(server)
    server.advance(7)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert server.stats()["by_path"][LIST] - full_read < full_read  # the cover only
    entered = ids(catalog_truth(server) - before)
    assert entered
    assert entered <= {r["id"] for r in second.records["products"]}
    assert not {r["categoryId"] for r in second.records["products"]} & FEEDS
    assert _misses(caplog) == 0


def _misses(caplog: pytest.LogCaptureFixture) -> int:
    """The feed misses the snapshot warned of (each warning names its count first)."""
    return sum(
        int(r.getMessage().split()[0])
        for r in caplog.records
        if "in none of the store's arrival feeds" in r.getMessage()
    )


def test_state_of_the_per_leaf_release_upgrades_with_no_arrival_lost(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    """Per-leaf state without feed bookmarks upgrades with no arrival lost.

    One leaf run (and the feeds' first read), then the feeds; every arrival of both days
    is emitted.
    """
    server = make_sandbox(products=2000, restocks_per_day=2)
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products"])
    old = run_tap({**config, "read_feeds": False}, catalog=catalog).final_state
    partitions = old["bookmarks"]["products"]["partitions"]
    partitions[:] = [p for p in partitions if p["context"]["categoryId"] not in FEEDS]
    for day in (1, 2):
        result, cost, entered = _next_day(server, config, catalog, old)
        old = result.final_state
        emitted = {r["id"] for r in result.records["products"]}
        assert entered <= emitted, f"day {day}"
        listed = {r["categoryId"] for r in result.records["products"]}
        if day == 1:  # the upgrade run: every leaf from its bookmark, the feeds whole
            assert cost[LIST] > 2 * len(FEEDS)
        else:  # from then on, the feeds
            assert listed <= FEEDS
            assert cost[LIST] <= 2 * len(FEEDS)
