"""Promises of the docs that no other test held (issue 25): one test per promise, named so.

docs/promises.md maps each promise to its test. Faults the sandbox cannot inject (a
``Retry-After`` of one's choosing on the first request, a 404 for one product id) come
from a small local gateway in front of the sandbox (``tests/gateway.py``, the ``gateway``
fixture): it answers what a rule says and forwards everything else, and notes when it saw
each request.
"""

from __future__ import annotations

import json
import re
import threading
import typing as t

import pytest
import requests

from tap_asos.progress import ProgressReporter
from tap_asos.runtime import RunStats
from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, listed_ids, run_cli, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tap_asos.sandbox import SandboxServer
    from tests.gateway import Answer, Gateway, Rule


def _once(path: str, answer: Answer) -> Rule:
    """A rule that answers the first request of ``path`` with ``answer``."""
    fired = threading.Event()

    def rule(seen: str, _query: dict[str, list[str]]) -> Answer | None:
        if seen == path and not fired.is_set():
            fired.set()
            return answer
        return None

    return rule


def _per_second_429(retry_after: str) -> Answer:
    return 429, {"Retry-After": retry_after}, {"message": "You have exceeded the rate limit"}


def _run_countries(
    server: SandboxServer, front: Gateway, tmp_path: Path, **overrides: t.Any
) -> tuple[str, dict[str, t.Any]]:
    """Run the tap (countries only) through ``front``; return its log and run summary."""
    config = tap_config(front.url, server.api_key, **overrides)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_for(config, select=["countries"])))
    result = run_cli(config, tmp_path, "--catalog", str(catalog))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = re.search(r"Run summary: (\{.*\})", result.stderr)
    assert summary is not None, result.stderr[-3000:]
    return result.stderr, json.loads(summary[1])


def _retry_waits(log: str) -> list[float]:
    """The waits the tap logged before its retries ("Retrying <path> in 1.23s")."""
    return [float(w) for w in re.findall(r"Retrying \S+ in ([0-9.]+)s", log)]


# --- retries ---------------------------------------------------------------------------


def test_a_429s_retry_after_is_honoured(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=50)
    front = gateway(server.url, _once("/countries/list", _per_second_429("2")))
    log, summary = _run_countries(server, front, tmp_path, backoff_max_seconds=60)
    sent = front.times("/countries/list")
    assert len(sent) >= 2
    # The retry left no sooner than the header asked, as the gateway saw it.
    assert sent[1] - sent[0] >= 2.0
    assert _retry_waits(log) == [pytest.approx(_retry_waits(log)[0])]
    assert _retry_waits(log)[0] >= 2.0
    assert summary["retries"] == 1
    assert summary["rate_limited_429"] == 1


def test_backoff_max_seconds_caps_every_wait(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    # The waits the tap computes, jitter included: a 429 asking for more, and 5xx
    # backoff past the cap, all stay within backoff_max_seconds.
    cap = 1.0
    tap = TapAsos(
        config=tap_config(
            "http://127.0.0.1:9", "k" * 20, backoff_factor=0.4, backoff_max_seconds=cap
        ),
        parse_env_config=False,
    )
    stream = tap.streams["countries"]
    limited = requests.Response()
    limited.status_code, limited.headers["Retry-After"] = 429, "30"
    failed = requests.Response()
    failed.status_code = 503
    for response in (limited, failed):
        waits = stream.backoff_wait_generator()
        next(waits)
        error = requests.HTTPError(response=response)
        computed = [waits.send(error) for _ in range(12)]
        assert all(0 < wait <= cap for wait in computed), computed
        assert all(stream.backoff_jitter(wait) <= cap for wait in computed for _ in range(50))
    # End to end: a 429 asking for 30 s is retried after the cap, not after 30 s.
    server = make_sandbox(products=50)
    front = gateway(server.url, _once("/countries/list", _per_second_429("30")))
    log, summary = _run_countries(server, front, tmp_path, backoff_max_seconds=cap)
    sent = front.times("/countries/list")
    assert len(sent) >= 2
    assert sent[1] - sent[0] >= cap * 0.9  # backoff still waited
    assert sent[1] - sent[0] < 30  # not what the header asked
    assert _retry_waits(log)
    assert all(wait <= cap for wait in _retry_waits(log))
    assert summary["retries"] == 1


# --- progress ---------------------------------------------------------------------------


def test_the_eta_in_progress_lines_is_a_positive_time_that_shrinks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("tap_asos.progress.time.monotonic", lambda: clock[0])
    stats = RunStats(partitions_total=8)
    reporter = ProgressReporter(stats, interval=0, live=False)
    reporter.start()
    try:
        etas = []
        for seconds in (3.0, 1.0, 2.0, 2.0, 4.0, 1.0, 2.0):  # partitions of uneven length
            clock[0] += seconds / 2
            before = reporter.figures("interval")["eta_seconds"]
            clock[0] += seconds / 2
            stats.finish_partition()
            etas.append(reporter.figures("partition")["eta_seconds"])
            if before is not None:
                assert before > 0
        clock[0] += 2.0
        stats.finish_partition()
        last = reporter.figures("partition")["eta_seconds"]
    finally:
        reporter.stop()
    assert all(eta > 0 for eta in etas), etas
    # At a steady mean pace the ETA falls at each partition; it ends at 0.
    assert etas[0] > etas[-1]
    assert last == 0
    steady = RunStats(partitions_total=5)
    paced = ProgressReporter(steady, interval=0, live=False)
    paced.start()
    shrinking = []
    for _ in range(4):
        clock[0] += 1.5
        steady.finish_partition()
        shrinking.append(paced.figures("partition")["eta_seconds"])
    paced.stop()
    assert shrinking == sorted(shrinking, reverse=True)
    assert len(set(shrinking)) == len(shrinking)
    assert all(eta > 0 for eta in shrinking)


# --- child streams and state ------------------------------------------------------------

DETAIL = "/products/v3/detail"
CATEGORY = 8799


def _records(stdout: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_product_whose_detail_answers_404_is_skipped_and_the_run_goes_on(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=300)
    listed = listed_ids(server.url, server.api_key, "US", CATEGORY)
    assert len(listed) > 10
    gone = listed[3]

    def rule(path: str, query: dict[str, list[str]]) -> Answer | None:
        if path == DETAIL and query.get("id") == [str(gone)]:
            return 404, {}, {"message": "Product not found"}
        return None

    front = gateway(server.url, rule)
    config = tap_config(
        front.url, server.api_key, category_ids=[CATEGORY], max_products_per_partition=10
    )
    catalog = tmp_path / "catalog.json"
    selected = ["products", "product_details", "stock_prices"]
    catalog.write_text(json.dumps(catalog_for(config, select=selected)))
    result = run_cli(config, tmp_path, "--catalog", str(catalog))
    assert result.returncode == 0, result.stderr[-3000:]
    messages = _records(result.stdout)
    emitted = {
        name: [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == name]
        for name in selected
    }
    products = [r["id"] for r in emitted["products"]]
    assert gone in products
    assert len(products) == 10
    assert sorted(r["id"] for r in emitted["product_details"]) == sorted(set(products) - {gone})
    # Stock prices come in batches of ids: the gone product's batch was not lost.
    assert sorted(r["productId"] for r in emitted["stock_prices"]) == sorted(products)
    assert [line for line in result.stderr.splitlines() if f"Product {gone} " in line]
    assert messages[-1]["type"] == "STATE"


def _finished(state: dict[str, t.Any]) -> set[tuple[str, int]]:
    """The products partitions a STATE claims finished.

    A bookmark (``checked_at``), and no read left suspended (``backlog``).

    (The SDK's own ``replication_key_value`` is set when a partition's listing ends, before
    its last children ran; the tap reads a partition from ``checked_at`` and its anchors,
    and goes on with a suspended read from its backlog.)
    """
    partitions = state.get("bookmarks", {}).get("products", {}).get("partitions", [])
    return {
        (p["context"]["store"], p["context"]["categoryId"])
        for p in partitions
        if p.get("checked_at") and "backlog" not in p
    }


def test_a_state_never_reaches_the_target_before_the_records_it_covers(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    # The real command (its buffered writer on a real stdout); small child batches, so
    # that batches of ids straddle partitions and several STATEs interleave with records.
    server = make_sandbox(products=300)
    config = tap_config(server.url, server.api_key, id_batch_size=7, max_products_per_partition=25)
    catalog = tmp_path / "catalog.json"
    selected = ["products", "product_details", "stock_prices"]
    catalog.write_text(json.dumps(catalog_for(config, select=selected)))
    result = run_cli(config, tmp_path, "--catalog", str(catalog))
    assert result.returncode == 0, result.stderr[-3000:]
    messages = _records(result.stdout)
    # Where each partition is first claimed finished; where each record was written.
    claimed: dict[tuple[str, int], int] = {}
    for index, message in enumerate(messages):
        if message["type"] == "STATE":
            for partition in _finished(message["value"]):
                claimed.setdefault(partition, index)
    members: dict[tuple[str, int], list[tuple[int, int]]] = {}
    child_at: dict[str, dict[tuple[str, int], int]] = {"product_details": {}, "stock_prices": {}}
    for index, message in enumerate(messages):
        if message["type"] != "RECORD":
            continue
        record = message["record"]
        if message["stream"] == "products":
            key = (record["store"], record["categoryId"])
            members.setdefault(key, []).append((index, record["id"]))
        else:
            product = record["id" if message["stream"] == "product_details" else "productId"]
            child_at[message["stream"]].setdefault((record["store"], product), index)
    assert len(claimed) > 5
    assert set(members) <= set(claimed)  # every partition with products ends finished
    states = sum(m["type"] == "STATE" for m in messages)
    assert states > len(claimed)  # the check sees STATEs among records, not one at the end
    for (store, category), state_at in claimed.items():
        for record_at, product in members.get((store, category), []):
            assert record_at < state_at, f"product {product} after its partition's STATE"
            for stream, seen in child_at.items():
                assert seen[(store, product)] < state_at, (
                    f"{stream} of product {product} (category {category}) after the STATE"
                )
