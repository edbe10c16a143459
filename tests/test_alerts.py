"""Run summary and webhook alerts, against a local HTTP receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tap_asos.alerts import alert_reasons
from tests.helpers import api_get, catalog_for, run_cli, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

TAP = str(Path(sys.executable).with_name("tap-asos"))
SECRET = "sk-alert-test-5e6f7a8b9c"


class Receiver:
    """A webhook receiver on a free 127.0.0.1 port that keeps what it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, t.Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: t.Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/xyz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.stop()


def _run(config: dict[str, t.Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "c.json").write_text(json.dumps(config))
    return subprocess.run(
        [TAP, "--config", str(tmp_path / "c.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )


def _summary(stderr: str) -> dict[str, t.Any]:
    line = next(x for x in stderr.splitlines() if "Run summary: " in x)
    return json.loads(line.split("Run summary: ", 1)[1])


def test_summary_counts_per_stream_and_quota(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    server = make_sandbox(products=400, quota=10_000)
    config = tap_config(server.url, server.api_key, alert_webhook_url=receiver.url)
    result = _run(config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = _summary(result.stderr)
    stats = server.stats()
    assert summary["status"] == "succeeded"
    assert summary["requests"] == stats["requests_total"]
    assert (
        summary["streams"]["product_details"]["requests"] == stats["by_path"]["/products/v3/detail"]
    )
    assert summary["streams"]["products"]["pages"] == stats["by_path"]["/products/v2/list"]
    records = sum(1 for line in result.stdout.splitlines() if '"type":"RECORD"' in line)
    assert summary["records"] == records
    assert summary["quota_remaining"] == 10_000 - stats["requests_total"]
    assert summary["partitions_left"] == 0
    assert summary["partitions_done"] > 0
    assert '"metric":"tap_asos_records"' in result.stderr
    assert receiver.bodies == []  # nothing to alert about


def test_failure_low_quota_and_empty_runs_alert_without_secrets(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    server = make_sandbox(products=300, api_keys=(SECRET,), quota=100)
    base = tap_config(
        server.url,
        SECRET,
        alert_webhook_url=receiver.url,
        alert_quota_threshold=1000,
        category_ids=[8799],
        max_products_per_partition=5,
    )
    low = run_cli(base, tmp_path)
    assert low.returncode == 0
    assert '"type":"RECORD"' in low.stdout
    # Empty: a catalog with no product yet (an incremental run always re-reads the top
    # of a listing, so a listing that has products is never empty).
    bare = make_sandbox(products=0, api_keys=(SECRET,), quota=100)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(base, select=["products"])))
    catalog = ("--catalog", str(tmp_path / "catalog.json"))
    empty = run_cli({**base, "api_url": bare.url}, tmp_path, *catalog)
    assert empty.returncode == 0, empty.stderr[-2000:]
    assert '"type":"RECORD"' not in empty.stdout
    server.set_faults({"rules": [{"kind": "503", "path": "/products/v2/list"}]})
    failed = run_cli({**base, "max_retries": 1}, tmp_path)
    assert failed.returncode == 3
    # One alert per run, each with its reasons (named up to their first colon).
    assert [[r.split(":")[0] for r in body["reasons"]] for body in receiver.bodies] == [
        ["API quota low"],
        ["API quota low", "run extracted no records"],
        ["run failed", "API quota low"],
    ]
    assert "run extracted no records" in receiver.bodies[1]["text"]
    assert receiver.bodies[1]["summary"]["records"] == 0
    assert receiver.bodies[1]["summary"]["status"] == "succeeded"
    assert "run failed" in receiver.bodies[2]["text"]
    assert receiver.bodies[2]["summary"]["status"] == "failed"
    dump = json.dumps(receiver.bodies)
    assert SECRET not in dump
    assert receiver.url not in low.stderr + empty.stderr + failed.stderr


def test_reasons() -> None:
    assert alert_reasons({"records": 0}, failed=None, quota_threshold=0) == [
        "run extracted no records"
    ]
    assert (
        alert_reasons({"records": 0, "budget_exhausted": True}, failed=None, quota_threshold=0)
        == []
    )
    assert alert_reasons({"records": 5, "quota_remaining": 3}, failed="x", quota_threshold=10) == [
        "run failed: x",
        "API quota low: 3 requests left (< 10)",
    ]
    drift = {"records": 5, "unknown_fields": {"products": {"score": 4, "badge": 1}}}
    assert alert_reasons(drift, failed=None, quota_threshold=0) == [
        (
            "API drift: products records carry fields the schema does not declare, dropped: "
            "badge (1 records), score (4 records)"
        )
    ]
    unreachable = {"records": 5, "streams": {"products": {"unreachable_products": 7}}}
    (reason,) = alert_reasons(unreachable, failed=None, quota_threshold=0)
    assert reason.startswith("7 products lie deeper than max_listing_offset")


def test_products_an_ignored_facet_filter_leaves_out_are_counted_and_alerted(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    server = make_sandbox(max_offset=40)
    # The API answers the brand slices with the whole listing, as if it ignored the filter.
    server.set_faults({"rules": [{"kind": "ignore_filters", "path": "/products/v2/list"}]})
    config = tap_config(
        server.url,
        server.api_key,
        category_ids=[8799],
        max_listing_offset=40,
        page_size=16,
        alert_webhook_url=receiver.url,
    )
    total = api_get(
        server.url, server.api_key, "/products/v2/list", store="US", categoryId=8799, limit=1
    )["itemCount"]
    assert total > 40
    before = server.stats()["by_path"]["/products/v2/list"]
    result = _run(config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    products = [
        json.loads(line)["record"]
        for line in result.stdout.splitlines()
        if '"type":"RECORD"' in line.replace(" ", "") and '"stream":"products"' in line
    ]
    assert len(products) == len({p["id"] for p in products}) == 40
    # 3 pages to the cap, then one slice page shows the filter had no effect (the slice's
    # next page is not requested once it does): 4 requests, where slicing on would make
    # dozens.
    assert server.stats()["by_path"]["/products/v2/list"] - before == 4
    figures = _summary(result.stderr)["streams"]["products"]
    assert figures["unreachable_products"] == total - 40
    (alert,) = receiver.bodies
    assert f"{total - 40} products lie deeper than max_listing_offset" in alert["text"]


def test_products_a_listing_out_of_day_order_is_counted_and_alerted(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    server = make_sandbox(freshness_facet_percent=100, new_per_day=300)
    # Pages come reversed: ids fall inside Today's block, which the real API never does.
    server.set_faults({"rules": [{"kind": "unsorted", "path": "/products/v2/list"}]})
    config = tap_config(
        server.url, server.api_key, category_ids=[8799], alert_webhook_url=receiver.url
    )
    result = _run(config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = _summary(result.stderr)["streams"]["products"]
    assert figures["order_breaks"] > 0
    assert "breaks the listing order" in result.stderr
    (alert,) = receiver.bodies
    assert "breaks of the listing order incremental runs rely on" in alert["text"]

    # The same listing in its real order: nothing to report.
    server.clear_faults()
    receiver.bodies.clear()
    result = _run(config, tmp_path)
    assert "order_breaks" not in _summary(result.stderr)["streams"]["products"]
    assert not receiver.bodies


def test_feed_misses_of_a_snapshot_are_alerted() -> None:
    missed = {"records": 5, "streams": {"products": {"feed_misses": 3}}}
    (reason,) = alert_reasons(missed, failed=None, quota_threshold=0)
    assert reason.startswith("3 products entered a leaf category since the last snapshot")
    clean = {"records": 5, "streams": {"products": {"feed_misses": 0}}}
    assert alert_reasons(clean, failed=None, quota_threshold=0) == []


def test_cover_misses_alert_like_feed_misses() -> None:
    missed = {"records": 5, "streams": {"products": {"cover_misses": 4}}}
    (reason,) = alert_reasons(missed, failed=None, quota_threshold=0)
    assert reason.startswith("4 products were on no listing of the store's snapshot cover")
    clean = {"records": 5, "streams": {"products": {"cover_misses": 0}}}
    assert alert_reasons(clean, failed=None, quota_threshold=0) == []
