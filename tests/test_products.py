"""The products stream against a real sandbox: snapshots, incremental state, deep listings."""

from __future__ import annotations

import copy
import json
import logging
import time
import typing as t
from collections import Counter

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tests.helpers import catalog_for, catalog_truth, ids, listed_ids, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer


def _partitions(result_states: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return result_states[-1]["bookmarks"]["products"]["partitions"]


def _truth(server: SandboxServer, category_ids: list[int]) -> set[tuple[int, int]]:
    return {
        (cid, pid)
        for cid in category_ids
        for pid in listed_ids(server.url, server.api_key, "US", cid)
    }


def _leaf_categories(config: dict[str, t.Any]) -> list[int]:
    result = run_tap(config, catalog=catalog_for(config, select=["categories"]))
    return sorted(
        {
            r["categoryId"]
            for r in result.records["categories"]
            if r["isLeaf"] and r["section"] == "navigation" and r["categoryId"] is not None
        }
    )


def test_full_table_snapshot_has_every_listed_product_once(sandbox: SandboxServer) -> None:
    config = tap_config(sandbox.url, sandbox.api_key)
    result = run_tap(
        config, catalog=catalog_for(config, select=["products"], products_method="FULL_TABLE")
    )
    products = result.records["products"]
    keys = Counter(r["id"] for r in products)
    assert keys, "no products emitted"
    assert max(keys.values()) == 1, "a product was emitted twice"
    assert set(keys) == ids(_truth(sandbox, _leaf_categories(config)))
    # Each under a listing that holds it.
    assert {(r["categoryId"], r["id"]) for r in products} <= _truth(
        sandbox, _leaf_categories(config)
    )
    snapshot_times = {r["snapshotAt"] for r in products}
    assert len(snapshot_times) == 1


def test_incremental_runs_emit_every_arrival_and_cost_what_is_new(
    make_sandbox: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_sandbox(products=4000, restocks_per_day=6)  # ~5 pages of 48 per category
    # The per-leaf design (read_feeds off), judged on the ordinary leaves (not the feeds),
    # at the site's page of 48: a full read then costs several pages a leaf.
    config = tap_config(server.url, server.api_key, read_feeds=False, page_size=48)
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    leaves = {c for c, _ in catalog_truth(server)}
    assert {r["id"] for r in first.records["products"]} == ids(catalog_truth(server))
    requests_first = server.stats()["by_path"]["/products/v2/list"]
    state = first.final_state
    for day in range(1, 4):
        before = catalog_truth(server)
        server.advance(1)
        if day == 2:  # and arrivals later the same day, after a run
            state = run_tap(config, catalog=catalog, state=state).final_state
            before = catalog_truth(server)
            requests.post(f"{server.url}/_sandbox/advance?arrivals=60", timeout=5)
        seen = server.stats()["by_path"]["/products/v2/list"]
        result = run_tap(config, catalog=catalog, state=state)
        state = result.final_state
        cost = server.stats()["by_path"]["/products/v2/list"] - seen
        emitted = {r["id"] for r in result.records.get("products", [])}
        entered = ids(catalog_truth(server) - before)
        assert entered, "the sandbox added nothing"
        assert entered <= emitted, f"day {day}: lost {len(entered - emitted)} arrivals"
        # At-least-once overlap: the blocks since the last run's day, and each
        # partition's anchor pair (a listing without the facet may add a few more).
        categories = {c for c, _ in before}
        older = emitted - ids(catalog_truth(server, since_day=server.sandbox.catalog.day - 1))
        assert len(older) <= 3 * len(categories)
        # Cost: the blocks since the last run's day, plus the page holding the anchors.
        partitions = len(_partitions(first.states))  # the leaves and the feed lists
        assert cost <= partitions + len(emitted) // 48 + 2
        assert cost * 3 < requests_first
        assert "bookmark anchors of" not in caplog.text
        assert "breaks the listing order" not in caplog.text
    partitions = [p for p in _partitions(result.states) if p["context"]["categoryId"] in leaves]
    assert {len(p["anchors"]) for p in partitions} == {5}
    assert all(len(json.dumps(p)) < 400 for p in partitions)


def test_state_of_an_older_release_is_upgraded_without_losing_arrivals(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(products=4000, freshness_facet_percent=100, restocks_per_day=0)
    config = tap_config(server.url, server.api_key, read_feeds=False, page_size=48)
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    # What the previous release wrote: an id bookmark per partition, no anchors.
    old = copy.deepcopy(first.final_state)
    for partition in old["bookmarks"]["products"]["partitions"]:
        for key in ("anchors", "frozen"):
            partition.pop(key)
        partition.update(replication_key="id", replication_key_value=299_999_999)
    before = catalog_truth(server)
    server.advance(1)
    seen = server.stats()["by_path"]["/products/v2/list"]
    upgraded = run_tap(config, catalog=catalog, state=old)
    emitted = {r["id"] for r in upgraded.records["products"]}
    assert ids(catalog_truth(server) - before) <= emitted
    leaves = {c for c, _ in before}
    # The first run after the upgrade reads the 7-day band (a day since, two to spare).
    cost = server.stats()["by_path"]["/products/v2/list"] - seen
    assert cost * 2 < seen  # well under the first, full run
    assert all(
        p["anchors"] for p in _partitions(upgraded.states) if p["context"]["categoryId"] in leaves
    )


def test_budget_stops_cleanly_and_the_next_run_resumes(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Judged from outside: the requests the sandbox answered and the records emitted.
    import json

    from tests.helpers import run_cli, sync_result

    def answered() -> tuple[int, int]:
        """Requests the sandbox has answered: all, and listing pages."""
        stats = server.stats()
        return stats["requests_total"], stats["by_path"].get("/products/v2/list", 0)

    server = make_sandbox(new_in_days=2)
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products"])
    unlimited = run_tap(config, catalog=catalog)
    full = {r["id"] for r in unlimited.records["products"]}
    pages = answered()[1]

    # The first budgeted run, as a scheduler starts it: it stops at the budget, exit 0.
    budget = 12
    limited = {**config, "max_requests": budget}
    workdir = tmp_path_factory.mktemp("budget")
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    before = answered()
    cli = run_cli(limited, workdir, "--catalog", str(workdir / "catalog.json"))
    after = answered()
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert after[0] - before[0] == budget, "the first run did not spend its budget"
    summary = json.loads(cli.stderr.split("Run summary: ", 1)[1].splitlines()[0])
    assert summary["status"] == "stopped_at_budget"
    result = sync_result(cli.stdout, cli.stderr)
    seen = {r["id"] for r in result.records["products"]}
    assert seen, "the first run emitted nothing"
    assert seen < full, "the first run read everything despite the budget"

    # Later runs go on where the last stood: every page once, but each run's top reads of
    # the four arrival feeds (the day's arrivals first) and a page to find its place.
    runs, listed = 1, after[1] - before[1]
    while seen != full and runs < 40:
        before = answered()
        result = run_tap(limited, catalog=catalog, state=result.final_state)
        after = answered()
        runs += 1
        assert after[0] - before[0] <= budget, f"run {runs} went over the budget"
        listed += after[1] - before[1]
        seen |= {r["id"] for r in result.records.get("products", [])}
    assert seen == full
    assert listed <= pages + runs * (4 + 1), (listed, pages, runs)


def test_full_table_budget_resumes_the_same_snapshot(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(new_in_days=2)  # feeds of two days: each fits the budget
    config = tap_config(server.url, server.api_key, max_requests=10)
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    first = run_tap(config, catalog=catalog)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    first_times = {r["snapshotAt"] for r in first.records["products"]}
    second_times = {r["snapshotAt"] for r in second.records["products"]}
    assert first_times == second_times
    done_first = {
        (p["context"]["categoryId"]) for p in _partitions(first.states) if p.get("snapshot_at")
    }
    emitted_second = {r["categoryId"] for r in second.records["products"]}
    assert done_first
    # The feeds are read again in a resumed snapshot: its audit needs what they list.
    feeds = {27108, 27110, 17204, 17010}
    assert done_first - feeds
    assert not (done_first - feeds) & emitted_second, "a finished partition was read again"

    # Finish the snapshot, then the next run takes a new one, of every partition.
    state = second.final_state
    for _ in range(20):
        if "snapshot_in_progress" not in state["bookmarks"]["products"]:
            break
        state = run_tap(config, catalog=catalog, state=state).final_state
    assert "snapshot_in_progress" not in state["bookmarks"]["products"], "snapshot never closed"
    time.sleep(1.1)  # snapshotAt has a resolution of one second
    unlimited = {**config, "max_requests": 0}
    fresh = run_tap(unlimited, catalog=catalog, state=state)
    assert {r["snapshotAt"] for r in fresh.records["products"]} != first_times
    listed = {r["categoryId"] for r in fresh.records["products"]}
    assert listed >= (done_first | emitted_second) - {17010, 17204}  # Back in stock: empty


def test_deselected_properties_are_not_emitted(sandbox: SandboxServer) -> None:
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    catalog = catalog_for(config, select=["products"])
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "products")
    for meta in entry["metadata"]:
        if meta["breadcrumb"] in (["properties", "name"], ["properties", "price"]):
            meta["metadata"]["selected"] = False
    products = run_tap(config, catalog=catalog).records["products"]
    assert products
    assert all("name" not in p and "price" not in p for p in products)
    assert all("brandName" in p for p in products)


def test_a_listing_deeper_than_the_api_serves_is_read_by_facet_slices(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    # Arrivals of 2 % of the catalog a day, so that a day brings some to both categories.
    capped = make_sandbox(max_offset=40, new_per_day=24)
    twin = make_sandbox(max_offset=0, new_per_day=24)  # the same catalog, uncapped
    categories = [8799, 4208]
    config = tap_config(
        capped.url, capped.api_key, category_ids=categories, max_listing_offset=40, page_size=16
    )
    full = run_tap(
        config, catalog=catalog_for(config, select=["products"], products_method="FULL_TABLE")
    )
    keys = Counter(r["id"] for r in full.records["products"])
    assert max(keys.values()) == 1
    assert set(keys) == ids(_truth(twin, categories))
    assert all(len(listed_ids(twin.url, twin.api_key, "US", c)) > 40 for c in categories)
    positions = [r["position"] for r in full.records["products"]]
    assert {p for p in positions if p is not None} == set(range(40))  # the unsplit part
    assert None in positions  # and the rest through brand slices

    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    assert {r["id"] for r in first.records["products"]} == set(keys)
    for server in (capped, twin):
        server.advance(1)
    before = capped.stats()["by_path"]["/products/v2/list"]
    second = run_tap(config, catalog=catalog, state=first.final_state)
    new = ids(_truth(twin, categories)) - set(keys)
    assert new
    emitted = {r["id"] for r in second.records["products"]}
    assert new <= emitted
    # Only the last run's day block again, and the anchor pair of each category.
    since = ids(catalog_truth(twin, since_day=twin.sandbox.catalog.day - 1))
    assert len(emitted - since) <= 3 * len(categories)
    # The anchors are met on the first page: no split, one request per category.
    assert capped.stats()["by_path"]["/products/v2/list"] - before == len(categories)


def test_an_api_shallower_than_max_listing_offset_fails_with_advice(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(max_offset=40)
    config = tap_config(
        server.url, server.api_key, category_ids=[8799], max_listing_offset=0, max_retries=1
    )
    with pytest.raises(RetriableAPIError, match="set max_listing_offset to 40 or less"):
        run_tap(config, catalog=catalog_for(config, select=["products"]))


def test_the_stop_anchor_is_emitted_but_costs_no_detail_call(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox()
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products", "product_details"])
    first = run_tap(config, catalog=catalog)
    before = catalog_truth(server)
    server.advance(1)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    products = {r["id"] for r in second.records["products"]}
    details = {r["id"] for r in second.records["product_details"]}
    entered = {pid for _, pid in catalog_truth(server) - before}
    assert entered <= details <= products
    # One old product per partition, the first of the anchor pair the run stopped at.
    partitions = {p["context"]["categoryId"] for p in _partitions(second.states)}
    without_details = products - details
    assert 0 < len(without_details) <= len(partitions)
    assert not without_details & entered


def test_a_partition_whose_anchors_are_gone_reads_its_last_run_band_and_says_so(
    make_sandbox: Callable[..., SandboxServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_sandbox(products=4000, freshness_facet_percent=100, new_per_day=200)
    config = tap_config(server.url, server.api_key, category_ids=[8799])
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    state = copy.deepcopy(first.final_state)
    for partition in state["bookmarks"]["products"]["partitions"]:
        partition["anchors"] = [1, 2, 3, 4, 5]  # none of them listed any more
    before = catalog_truth(server)
    server.advance(1)
    second = run_tap(config, catalog=catalog, state=state)
    emitted = {(r["categoryId"], r["id"]) for r in second.records["products"]}
    entered = {(c, p) for c, p in catalog_truth(server) - before if c == 8799}
    assert entered
    assert entered <= emitted
    assert "No two bookmark anchors of" in caplog.text
    # The 7-day band (a day since the last run, two to spare), not the whole listing.
    assert len(emitted) < len(listed_ids(server.url, server.api_key, "US", 8799))


def test_a_new_snapshot_started_in_the_same_second_reads_every_partition(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # snapshotAt has one-second resolution: a finished snapshot's partitions carry the same
    # snapshot_at as a new one begun in that second; only a resumed snapshot skips them.
    from datetime import datetime, timezone

    from tap_asos.tap import TapAsos

    started = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(TapAsos, "run_started_at", property(lambda _self: started))
    config = tap_config(sandbox.url, sandbox.api_key)
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    first = run_tap(config, catalog=catalog)
    assert "snapshot_in_progress" not in first.final_state["bookmarks"]["products"]
    second = run_tap(config, catalog=catalog, state=first.final_state)
    leaves = {c for c, _ in catalog_truth(sandbox)}
    assert {r["categoryId"] for r in second.records["products"]} >= leaves


LIST = "/products/v2/list"


@pytest.mark.parametrize("over_limit", ["clamp", "error"])
def test_pages_as_large_as_the_api_serves_whether_it_clamps_or_refuses_the_limit(
    make_sandbox: Callable[..., SandboxServer],
    caplog: pytest.LogCaptureFixture,
    over_limit: str,
) -> None:
    """page_size 200 (the default) on an API that serves 48: every product, at 48's cost."""
    server = make_sandbox(max_limit=48, over_limit=over_limit)
    twin = make_sandbox(max_limit=48, over_limit=over_limit)  # the same catalog, asked 48
    config = tap_config(server.url, server.api_key)
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    caplog.set_level(logging.INFO, logger="tap-asos")
    result = run_tap(config, catalog=catalog)
    at_48 = {**tap_config(twin.url, twin.api_key), "page_size": 48}
    run_tap(at_48, catalog=catalog)
    found = [r["id"] for r in result.records["products"]]
    assert len(found) == len(set(found))
    assert set(found) == ids(catalog_truth(twin))  # from the catalog, not paged by the API
    stats, asked_48 = server.stats(), twin.stats()["by_path"][LIST]
    if over_limit == "clamp":
        assert stats["by_path"][LIST] == asked_48
        assert caplog.text.count("The API serves at most 48 products a listing page") == 1
    else:  # one refused request, retried at 48, then every page at 48
        assert stats["by_status"].get("400") == 1
        assert stats["by_path"][LIST] == asked_48 + 1
        assert caplog.text.count("The API refused limit=200 (HTTP 400)") == 1


def test_the_default_page_of_200_reads_a_listing_in_a_quarter_of_the_requests(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server, twin = make_sandbox(products=3000), make_sandbox(products=3000)
    config = tap_config(server.url, server.api_key, category_ids=[8799, 4208])
    catalog = catalog_for(config, select=["products"], products_method="FULL_TABLE")
    large = run_tap(config, catalog=catalog)
    small = run_tap({**config, "api_url": twin.url, "page_size": 48}, catalog=catalog)
    assert {r["id"] for r in large.records["products"]} == {
        r["id"] for r in small.records["products"]
    }
    pages_200 = server.stats()["by_path"][LIST] - 2  # the trees: countries, categories
    pages_48 = twin.stats()["by_path"][LIST] - 2
    assert pages_200 * 3 < pages_48
