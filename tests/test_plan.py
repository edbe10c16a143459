"""``tap-asos --plan``: the requests a run will make, estimated from first pages only."""

from __future__ import annotations

import json
import typing as t
from datetime import datetime, timedelta

import pytest

from tests.helpers import catalog_for, run_cli, run_command_here, sync_result, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tap_asos.sandbox import SandboxServer


def _plan_then_run(
    server: SandboxServer,
    config: dict[str, t.Any],
    workdir: Path,
    *,
    state: dict[str, t.Any] | None = None,
    catalog_args: tuple[str, ...] = (),
) -> tuple[dict[str, t.Any], int, int, dict[str, t.Any]]:
    """The plan, the requests it made, the requests the run then made, the run's state."""
    before = server.stats()["requests_total"]
    planned = run_cli(config, workdir, "--plan", *catalog_args, state=state)
    assert planned.returncode == 0, planned.stderr[-2000:]
    plan = json.loads(planned.stdout)  # only the plan on stdout: no record, no state
    middle = server.stats()["requests_total"]
    ran = run_cli(config, workdir, *catalog_args, state=state)
    assert ran.returncode == 0, ran.stderr[-2000:]
    after = server.stats()["requests_total"]
    assert server.api_key not in planned.stdout + planned.stderr
    return plan, middle - before, after - middle, sync_result(ran.stdout, "").final_state


@pytest.mark.parametrize("method", ["FULL_TABLE", "INCREMENTAL"])
def test_plan_is_within_ten_percent_of_the_run(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, method: str
) -> None:
    server = make_sandbox(products=600, quota=100_000)
    config = tap_config(server.url, server.api_key, page_size=20)
    catalog = catalog_for(config, products_method=method)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ("--catalog", str(tmp_path / "catalog.json"))

    plan, cost, actual, state = _plan_then_run(server, config, tmp_path, catalog_args=args)
    assert plan["plan_requests"] == cost
    assert cost < actual / 3
    assert abs(plan["requests_total"] - actual) <= 0.1 * actual, (plan, actual)
    assert plan["quota_remaining"] == 100_000 - cost
    assert plan["fits_quota"] is True
    assert plan["partitions"] > 1

    # A day later: the incremental run reads the arrivals; a snapshot reads everything again.
    server.advance(days=1, arrivals=60)
    plan, cost, actual, _ = _plan_then_run(server, config, tmp_path, state=state, catalog_args=args)
    assert abs(plan["requests_total"] - actual) <= 0.1 * actual, (plan, actual)
    assert plan["plan_requests"] == cost


LISTING = "/products/v2/list"


@pytest.mark.parametrize("method", ["FULL_TABLE", "INCREMENTAL"])
def test_listings_deeper_than_max_listing_offset_are_planned_by_their_facet_slices(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, method: str
) -> None:
    # The API serves 6 deep; these categories list 67-90 products, most brands 5-11 of
    # them: each is read to 6, then by brand, and brands deeper than 6 by colour.
    server = make_sandbox(max_offset=6, quota=100_000)
    config = tap_config(
        server.url,
        server.api_key,
        page_size=4,
        max_listing_offset=6,
        category_ids=[3630, 4169, 19855, 2637],
    )
    catalog = catalog_for(config, products_method=method)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ("--catalog", str(tmp_path / "catalog.json"))
    state = None
    for day in (0, 1):  # a first run; a day later (with a bookmark, deep again)
        before = server.stats()
        planned = run_cli(config, tmp_path, "--plan", *args, state=state)
        assert planned.returncode == 0, planned.stderr[-2000:]
        plan = json.loads(planned.stdout)
        middle = server.stats()
        ran = run_cli(config, tmp_path, *args, state=state)
        assert ran.returncode == 0, ran.stderr[-2000:]
        after = server.stats()
        assert "reading it by brand" in ran.stderr
        assert "reading it by base_colour" in ran.stderr
        assert "not extracted" not in ran.stderr  # every product reached
        listing = after["by_path"][LISTING] - middle["by_path"][LISTING]
        total = after["requests_total"] - middle["requests_total"]
        assert plan["plan_requests"] == middle["requests_total"] - before["requests_total"]
        assert abs(plan["requests"]["products"] - listing) <= 0.1 * listing, (day, plan, listing)
        assert abs(plan["requests_total"] - total) <= 0.1 * total, (day, plan, total)
        state = sync_result(ran.stdout, "").final_state
        server.advance(days=1, arrivals=60)


def _logged(stderr: str, prefix: str) -> dict[str, t.Any]:
    line = next(x for x in stderr.splitlines() if prefix in x)
    return t.cast("dict[str, t.Any]", json.loads(line.split(prefix, 1)[1]))


def test_a_budget_below_the_plan_names_the_partitions_it_leaves(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    server = make_sandbox(products=600)
    config = tap_config(server.url, server.api_key, page_size=20)
    plan = json.loads(run_cli(config, tmp_path, "--plan").stdout)
    config["max_requests"] = plan["requests_total"] // 2
    unplanned = run_cli(config, tmp_path)  # the plan costs requests: only when asked
    assert unplanned.returncode == 0, unplanned.stderr[-2000:]
    assert "no estimate at start" in unplanned.stderr
    assert "this run leaves" not in unplanned.stderr
    config["plan_before_run"] = True
    ran = run_cli(config, tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    budget = _logged(ran.stderr, "Budget: ")
    named = [(p["store"], p["categoryId"]) for p in budget["partitions_left_for_next_run"]]
    assert budget["partitions"] == plan["partitions"]
    assert 0 < len(named) < budget["partitions"]
    assert "this run leaves" in ran.stderr
    state = sync_result(ran.stdout, "").final_state
    finished = {  # a bookmark, and no read left suspended
        (p["context"]["store"], p["context"]["categoryId"])
        for p in state["bookmarks"]["products"]["partitions"]
        if p.get("checked_at") and "backlog" not in p
    }
    assert finished
    assert not finished & set(named)
    # The estimate may misplace the boundary by one partition, no more.
    assert abs(len(finished) + len(named) - budget["partitions"]) <= 1


def test_a_budget_below_the_last_runs_costs_names_the_partitions_it_leaves(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    # No plan (no extra request): each partition's cost in its last steady run (not the
    # first read, which reads everything) is in its state.
    server = make_sandbox(products=600, new_per_day=60)
    # Many partitions, each with its cost: the per-leaf reading (a feed run has four).
    config = tap_config(server.url, server.api_key, page_size=5, read_feeds=False)
    first = run_cli(config, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    state = sync_result(first.stdout, "").final_state
    assert not any("costs" in p for p in state["bookmarks"]["products"]["partitions"])
    server.advance(days=1)
    steady = run_cli(config, tmp_path, state=state)
    assert steady.returncode == 0, steady.stderr[-2000:]
    assert "Budget: " not in steady.stderr  # no max_requests
    history = sync_result(steady.stdout, "").final_state
    partitions = history["bookmarks"]["products"]["partitions"]
    costs = [p["costs"]["incremental"] for p in partitions]
    assert len(costs) > 4
    assert all(c > 0 for c in costs)
    assert sum(costs) < _logged(first.stderr, "Run summary: ")["requests"] / 2

    # checked_at has one-second resolution (the run's start): on a fast machine the next
    # run starts in the same second, and the partitions it finishes would look untouched.
    # One second earlier, as if the steady run had started a moment sooner.
    for partition in partitions:
        checked_at = datetime.fromisoformat(partition["checked_at"]) - timedelta(seconds=1)
        partition["checked_at"] = checked_at.isoformat()
    server.advance(days=1)
    config["max_requests"] = _logged(steady.stderr, "Run summary: ")["requests"] // 2
    before = server.stats()["requests_total"]
    ran = run_cli(config, tmp_path, state=history)
    assert ran.returncode == 0, ran.stderr[-2000:]
    # At most the budget, and all of it but what one more page and its children need.
    spent = server.stats()["requests_total"] - before
    assert config["max_requests"] - 3 <= spent <= config["max_requests"]
    budget = _logged(ran.stderr, "Budget: ")
    assert budget["estimated_from"] == "last_run_costs"
    assert budget["partitions_without_history"] == 0
    named = [(p["store"], p["categoryId"]) for p in budget["partitions_left_for_next_run"]]
    assert 0 < len(named) < budget["partitions"]
    assert "this run leaves" in ran.stderr
    checked = {_key(p): p["checked_at"] for p in partitions}
    finished = {  # a new bookmark, and no read left suspended
        _key(p)
        for p in sync_result(ran.stdout, "").final_state["bookmarks"]["products"]["partitions"]
        if p["checked_at"] != checked[_key(p)] and "backlog" not in p
    }
    assert finished
    # A day's arrivals move the costs a little: the boundary by one partition at most.
    assert len(finished & set(named)) <= 1
    assert abs(len(finished) + len(named) - budget["partitions"]) <= 1


def _key(partition: dict[str, t.Any]) -> tuple[str, int]:
    return partition["context"]["store"], partition["context"]["categoryId"]


def test_any_plan_prices_a_month_as_the_schedules_run_it_within_10_percent(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    """Slow by nature: the daily and the snapshot jobs run for real, and planned from each.

    The daily job (every stream, incremental) runs a first run and the next day; the
    snapshot job (products and stock_prices) its first snapshot and, a week later, a
    snapshot of the cover.  A month of them, 30 daily runs and 52/12 snapshots, is what
    the snapshot job's plan before any run, the daily job's plan after its first run, and
    the snapshot job's plan with its cover each price: within 10 % from a cover (either
    job's state has one once it read every listing), within 30 % before any run.
    """
    server = make_sandbox(products=3000, tree="real", quota=1_000_000)
    config = tap_config(server.url, server.api_key)
    daily_job = catalog_for(config)
    snapshot_job = catalog_for(
        config,
        select=["countries", "categories", "products", "stock_prices"],
        products_method="FULL_TABLE",
    )
    for name, catalog in (("daily", daily_job), ("snapshot", snapshot_job)):
        (tmp_path / f"{name}.json").write_text(json.dumps(catalog))

    def plan(job: str, state: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        planned = run_cli(
            config, tmp_path, "--plan", "--catalog", str(tmp_path / f"{job}.json"), state=state
        )
        assert planned.returncode == 0, planned.stderr[-2000:]
        return t.cast("dict[str, t.Any]", json.loads(planned.stdout)["month_of_default_schedules"])

    def run(job: str, state: dict[str, t.Any] | None = None) -> tuple[dict[str, t.Any], int]:
        before = server.stats()["requests_total"]
        done = run_cli(config, tmp_path, "--catalog", str(tmp_path / f"{job}.json"), state=state)
        assert done.returncode == 0, done.stderr[-2000:]
        return sync_result(done.stdout, "").final_state, server.stats()["requests_total"] - before

    before_any_run = plan("snapshot")
    assert before_any_run["weekly_snapshot_priced_from"] == {"US": "products"}
    daily_state, _ = run("daily")
    after_first_run = plan("daily", daily_state)
    snapshot_state, _ = run("snapshot")
    with_cover = plan("snapshot", snapshot_state)
    assert with_cover["weekly_snapshot_priced_from"] == {"US": "cover"}
    server.advance(days=1)
    _, daily = run("daily", daily_state)
    server.advance(days=6)
    _, snapshot = run("snapshot", snapshot_state)
    measured = 30 * daily + 52 / 12 * snapshot
    for month in (before_any_run, after_first_run, with_cover):
        assert month["quota_limit"] == 1_000_000
        assert month["fits_quota"] is True
        assert month["requests_per_month"] == round(
            30 * month["daily_run"] + 52 / 12 * month["weekly_snapshot"]
        )
        assert abs(month["daily_run"] - daily) <= 0.1 * daily
    # A plan with a cover in its job's state (the daily job learns one in its first run).
    for month in (after_first_run, with_cover):
        assert month["weekly_snapshot_priced_from"] == {"US": "cover"}
        assert abs(month["requests_per_month"] - measured) <= 0.1 * measured, (month, measured)
    # Before any run, from the products its first pages estimate: no cover to go by, the
    # cover's listings guessed (a page each per ten leaves, and each empty one).
    assert abs(before_any_run["requests_per_month"] - measured) <= 0.3 * measured


@pytest.mark.parametrize("budget", [20, 45])
def test_the_plan_says_how_many_runs_a_budget_takes(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, budget: int
) -> None:
    """``--plan`` with max_requests: the runs a first read takes, each resumed from the last."""
    server = make_sandbox(products=60, seed=23, new_per_day=3)
    config = tap_config(server.url, server.api_key, max_requests=budget)
    planned = run_cli(config, tmp_path, "--plan")
    assert planned.returncode == 0, planned.stderr[-2000:]
    plan = json.loads(planned.stdout)
    assert plan["requests_left_after_this_run"] == max(0, plan["requests_total"] - budget)
    catalog = catalog_for(config)
    state, runs = None, 0
    while runs < 30:
        code, result = run_command_here(config, catalog=catalog, state=state)
        assert code == 0, result.stderr[-2000:]
        runs += 1
        state = result.final_state
        if result.summary["status"] == "succeeded":
            break
    assert abs(runs - plan["runs_at_this_budget"]) <= max(1, runs // 5), (runs, plan)
