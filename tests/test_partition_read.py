"""A budgeted run always moves forward: reads resume where they stood, nothing is lost.

Each run below is resumed from the last STATE of the one before, as a scheduler runs
them, while the catalog moves between runs (a day of arrivals, restocks and products
leaving).  What the runs emit together is held against a clean run (no budget) per
stream.  ``scripts/budget_runs.py --sweep 60`` runs every budget from the smallest useful
one to a full run's cost (``bench/budget-sweep.md``); here a sample of them, drawn anew
each run (the seed is printed on a failure, as ``--hypothesis-seed``), beside fixed ones.
"""

from __future__ import annotations

import math
import typing as t
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tap_asos.sandbox import SandboxConfig, SandboxServer
from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_command_here, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.helpers import SyncResult

SEED, PRODUCTS = 23, 60  # the small tree: 28 partitions, 4 of them feeds
STREAMS = ("countries", "categories", "products", "product_details", "stock_prices")
# The requests every run makes before a partition: the countries (the stores' and the
# stream's) and the category tree (the partitions' and the stream's).
FIXED = 4
# What a run needs to move forward: its fixed requests, the four feeds' top reads (each
# day's arrivals first), a listing page, and one product's detail and stock call.
MINIMUM = FIXED + 4 + 1 + 2
RUNS = 400  # a sequence that has not finished by then is stuck


def _key(stream: str, record: dict[str, t.Any]) -> tuple[t.Any, ...]:
    """What identifies a record of ``stream``, whatever run emitted it."""
    return {
        "countries": lambda r: (r["country"],),
        "categories": lambda r: (r["store"], r["section"], r["id"]),
        "products": lambda r: (r["store"], r["categoryId"], r["id"]),
        "product_details": lambda r: (r["store"], r["id"]),
        "stock_prices": lambda r: (r["store"], r["productId"]),
    }[stream](record)


def _keys(result: SyncResult) -> dict[str, set[tuple[t.Any, ...]]]:
    return {s: {_key(s, r) for r in result.records.get(s, [])} for s in STREAMS}


def _left(result: SyncResult) -> bool:
    """Whether a run left work for the next (a read suspended, or a partition unread)."""
    partitions = result.final_state["bookmarks"]["products"]["partitions"]
    return any("backlog" in p or not p.get("checked_at") for p in partitions)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One sandbox for the module; each sequence starts from day 0 (reset)."""
    with SandboxServer(SandboxConfig(seed=SEED, products=PRODUCTS, new_per_day=3)) as s:
        yield s


def _sequence(
    server: SandboxServer,
    budget: int,
    *,
    days: int,
    method: str = "INCREMENTAL",
    **settings: t.Any,
) -> tuple[dict[str, set[tuple[t.Any, ...]]], list[SyncResult]]:
    """Budgeted runs from a fresh state until one leaves nothing.

    The catalog moves a day before each of the first ``days`` runs after the first.
    """
    config = tap_config(server.url, server.api_key, max_requests=budget, **settings)
    catalog = catalog_for(config, products_method=method)
    union: dict[str, set[tuple[t.Any, ...]]] = {s: set() for s in STREAMS}
    results: list[SyncResult] = []
    state = None
    for run in range(RUNS):
        if 0 < run <= days:
            server.advance(1)
        before = server.stats()["requests_total"]
        code, result = run_command_here(config, catalog=catalog, state=state)
        assert code == 0, result.stderr[-2000:]
        spent = server.stats()["requests_total"] - before
        assert spent <= budget, f"run {run} spent {spent} of {budget}"
        assert spent > FIXED or not _left(result), f"run {run} moved nothing forward"
        results.append(result)
        for stream, keys in _keys(result).items():
            union[stream] |= keys
        state = result.final_state
        if run >= days and not _left(result):
            return union, results
    pytest.fail(f"budget {budget}: {RUNS} runs and still work left")


def _clean(server: SandboxServer, method: str = "INCREMENTAL") -> dict[str, set[t.Any]]:
    config = tap_config(server.url, server.api_key)
    return _keys(run_tap(config, catalog=catalog_for(config, products_method=method)))


def _full_cost(server: SandboxServer) -> int:
    before = server.stats()["requests_total"]
    _clean(server)
    return int(server.stats()["requests_total"] - before)


# Derandomized no more: new budgets each run; the printed seed replays a failure.
@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(budget=MINIMUM)
@example(budget=MINIMUM + 9)
@given(budget=st.integers(MINIMUM, 90))
def test_budgeted_runs_together_emit_every_record_a_clean_run_emits(
    server: SandboxServer, budget: int
) -> None:
    """Slow by nature: the smallest budget takes some hundred runs to read the store.

    Any budget from the smallest useful one: every stream's records, the catalog moving.
    """
    server.reset()
    union, results = _sequence(server, budget, days=2)
    clean = _clean(server)  # a clean run of the last day: everything listed then
    # Daily runs emit an arrival under the feed they read it in (its leaves come with its
    # detail): a product counts as emitted under any category.
    for keys in (clean, union):
        keys["products"] = {(store, product) for store, _category, product in keys["products"]}
    for stream in STREAMS:
        missing = clean[stream] - union[stream]
        assert not missing, f"budget {budget}: {stream} never emitted {sorted(missing)[:5]}"
    assert len(results) > 1 or budget >= 60  # a small budget took several runs


def test_a_snapshot_spread_over_runs_by_its_budget_holds_every_product(
    server: SandboxServer,
) -> None:
    """A FULL_TABLE snapshot resumed run after run keeps one snapshotAt and misses nothing."""
    server.reset()
    start = _clean(server, "FULL_TABLE")["products"]
    union, results = _sequence(server, MINIMUM + 20, days=2, method="FULL_TABLE")
    listed_at_end = _clean(server, "FULL_TABLE")["products"]
    assert (start & listed_at_end) <= union["products"]
    snapshots = {r["snapshotAt"] for res in results[:-1] for r in res.records.get("products", [])}
    assert len(snapshots) == 1, "the snapshot was restarted instead of resumed"


def test_what_a_run_fetched_is_not_requested_again(server: SandboxServer) -> None:
    """The catalog still: no detail twice, and a stopped read re-reads about a page."""
    server.reset()
    budget = MINIMUM + 14
    _union, results = _sequence(server, budget, days=0)
    details = Counter(
        r["id"] for result in results for r in result.records.get("product_details", [])
    )
    assert details
    assert max(details.values()) == 1, [i for i, n in details.items() if n > 1][:5]
    reread = [r.summary["streams"]["products"].get("reread_products", 0) for r in results]
    page = 48
    assert max(reread) <= page * 2, reread  # a page, and what held an anchor back


def _timed_sequence(server: SandboxServer, gap: timedelta) -> list[dict[str, t.Any]]:
    """A budgeted first read, each run started ``gap`` after the one before: what each did."""
    server.reset()
    config = tap_config(server.url, server.api_key, max_requests=MINIMUM + 9)
    catalog = catalog_for(config)
    first = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)
    done: list[dict[str, t.Any]] = []
    state = None
    for run in range(RUNS):
        started = first + gap * (run + 1)

        class Timed(TapAsos):
            reads_started_at = started

        code, result = run_command_here(config, catalog=catalog, state=state, factory=Timed)
        assert code == 0, result.stderr[-2000:]
        summary = result.summary
        done.append({k: summary.get(k) for k in ("partitions_done", "records", "streams")})
        state = result.final_state
        if not _left(result):
            return done
    pytest.fail(f"{RUNS} runs and still work left")


def test_runs_started_in_one_second_keep_their_reads_apart(server: SandboxServer) -> None:
    """A read is known by its run's start to the microsecond, not the second.

    Runs in one second (a retry at once, a scheduler catching up, these tests) took
    each other's suspended reads for their own when they were known by the second: a
    budgeted sequence then went another way than the same runs a minute apart.
    """
    in_one_second = _timed_sequence(server, timedelta(milliseconds=1))
    a_minute_apart = _timed_sequence(server, timedelta(minutes=1))
    assert len(in_one_second) > 3
    assert in_one_second == a_minute_apart


def test_each_days_arrivals_come_that_day_while_the_first_read_is_spread_over_days(
    server: SandboxServer,
) -> None:
    """The feeds' top reads go first: a day's arrivals come the next run, backlog or not."""
    server.reset()
    config = tap_config(server.url, server.api_key, max_requests=MINIMUM + 12)
    catalog = catalog_for(config)
    result = run_tap(config, catalog=catalog)
    behind = 0  # days that began with the first read not done
    for day in range(1, 6):
        behind += _left(result)
        before = _catalog_ids(server)
        server.advance(1)
        arrivals = _catalog_ids(server) - before
        result = run_tap(config, catalog=catalog, state=result.final_state)
        emitted = {r["id"] for r in result.records.get("products", [])}
        assert arrivals, "the day brought no arrival"
        assert arrivals <= emitted, f"day {day}: {sorted(arrivals - emitted)} waited"
    assert behind >= 3, "the first read was done too soon to compete with the arrivals"


def _catalog_ids(server: SandboxServer) -> set[int]:
    catalog = server.sandbox.catalog
    return {
        catalog.product_id(k)
        for k in range(catalog.count)
        if catalog.in_store(k, "US") and not catalog.is_away(k)
    }


def test_the_summary_says_what_is_left_and_how_many_runs_it_takes(
    server: SandboxServer,
) -> None:
    """Free, from the state: the suspended reads' rest, and the runs it takes.

    A first read spread over runs leaves partitions no read has started: their cost is
    not guessed (``requests_left`` None, ``partitions_not_started`` counted exactly).
    A week of arrivals above the budget leaves suspended reads (their rest is counted)
    and partitions the run did not reach (at their last steady cost a day): the figure
    is within a factor of two of what the next runs spend.
    """
    server.reset()
    budget = math.ceil(_full_cost(server) / 5)
    server.reset()
    union, results = _sequence(server, budget, days=0)
    assert union["products"]
    stopped = [r.summary for r in results[:-1]]
    assert len(stopped) >= 3
    assert all(s["status"] == "stopped_at_budget" for s in stopped)
    started = [s["partitions_not_started"] for s in stopped]
    assert started == sorted(started, reverse=True)  # counted exactly: it only shrinks
    assert all(n > 0 for n in started)
    assert all(s["requests_left"] is None for s in stopped)
    assert all(s["runs_left_at_this_budget"] is None for s in stopped)
    assert "tap-asos --plan prices what is left" in results[0].stderr
    assert "requests_left" not in results[-1].summary

    # A week of arrivals after the first read, at a budget below what they cost.
    state = results[-1].final_state
    server.advance(7)
    config = tap_config(server.url, server.api_key, max_requests=MINIMUM + 10)
    catalog = catalog_for(config)
    later: list[SyncResult] = []
    while not later or _left(later[-1]):
        assert len(later) < RUNS
        code, result = run_command_here(config, catalog=catalog, state=state)
        assert code == 0, result.stderr[-2000:]
        later.append(result)
        state = result.final_state
    priced = [r.summary for r in later[:-1]]
    assert priced, "the week's arrivals fitted in one run: the test proves nothing"
    for index, left in enumerate(priced):
        after = later[index + 1 :]
        spent = sum(r.summary["streams"]["products"]["requests"] for r in after) + sum(
            r.summary["streams"].get(name, {}).get("requests", 0)
            for r in after
            for name in ("product_details", "stock_prices")
        )
        assert left["partitions_not_started"] == 0
        assert spent / 2 <= left["requests_left"] <= 2 * spent + 10, (index, left, spent)
        assert len(after) <= left["runs_left_at_this_budget"] + 1, (index, left)


def test_a_budget_spent_by_retries_loses_no_child(server: SandboxServer) -> None:
    """Retries eat the budget a run kept for its children.

    A read whose products did not all go to the children stays unfinished: its state
    moves only once they went (what did go counts, per child stream).
    """
    server.reset()
    server.set_faults({"rules": [{"kind": "500", "path": "/products/v3/detail", "rate": 0.4}]})
    try:  # enough retries that no request gives up: 0.4 ** 16 is about 4e-7
        union, _results = _sequence(server, MINIMUM + 12, days=0, max_retries=15)
    finally:
        server.clear_faults()
    clean = _clean(server)
    missing = clean["product_details"] - union["product_details"]
    assert not missing, sorted(missing)[:5]
    assert not clean["stock_prices"] - union["stock_prices"]
