"""More promises of docs/reliability.md, docs/operations.md and the README that no test held.

Issue 25, item 7: one test per promise, named after it (docs/promises.md lists them). The
local gateway of tests/gateway.py (the ``gateway`` fixture) stands in front of the sandbox
where a fault must be chosen per request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import typing as t

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_asos.alerts import send_alert
from tap_asos.progress import ProgressReporter
from tap_asos.runtime import RunStats
from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_cli, tap_config

if t.TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from pathlib import Path

    from tap_asos.sandbox import SandboxServer
    from tests.gateway import Answer, Gateway, Rule

LIST = "/products/v2/list"
DETAIL = "/products/v3/detail"


def _pass(_path: str, _query: dict[str, list[str]]) -> Answer | None:
    return None


def _run(
    config: dict[str, t.Any], tmp_path: Path, streams: list[str]
) -> subprocess.CompletedProcess[str]:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_for(config, select=streams)))
    return run_cli(config, tmp_path, "--catalog", str(catalog))


def test_a_429_without_retry_after_waits_about_a_second(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    # RapidAPI's per-second 429 carries no Retry-After: the tap waits ~1 s, not its
    # (here 10 ms) exponential backoff, which would only meet the limit again.
    server = make_sandbox(products=50)
    fired = threading.Event()

    def rule(path: str, _query: dict[str, list[str]]) -> Answer | None:
        if path == "/countries/list" and not fired.is_set():
            fired.set()
            return 429, {}, {"message": "You have exceeded the rate limit per second"}
        return None

    front = gateway(server.url, rule)
    config = tap_config(front.url, server.api_key, backoff_max_seconds=60)
    result = _run(config, tmp_path, ["countries"])
    assert result.returncode == 0, result.stderr[-3000:]
    sent = front.times("/countries/list")
    assert len(sent) >= 2
    assert sent[1] - sent[0] >= 1.0


def test_a_429_pauses_every_stream_sharing_the_rate_limit() -> None:
    # The gateway's per-second limit is the key's, not the stream's: after a 429 no
    # request of any stream or thread leaves before Retry-After (with a client rate set).
    tap = TapAsos(
        config=tap_config(
            "http://127.0.0.1:9", "k" * 20, requests_per_second=100, backoff_max_seconds=60
        ),
        parse_env_config=False,
    )
    limited = requests.Response()
    limited.status_code, limited.headers["Retry-After"] = 429, "0.5"
    limited.url = "http://127.0.0.1:9/products/v3/detail?id=1"
    limited._content = b'{"message": "You have exceeded the rate limit per second"}'
    with pytest.raises(RetriableAPIError):
        tap.streams["product_details"].validate_response(limited)
    start = time.monotonic()
    tap.request_policy.take_request_slot("stock_prices")  # another stream, same key
    assert time.monotonic() - start >= 0.45


def test_detail_requests_in_flight_never_exceed_max_concurrency(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=300, latency_ms=(30, 40))
    front = gateway(server.url, _pass)
    config = tap_config(
        front.url,
        server.api_key,
        category_ids=[8799],
        max_products_per_partition=24,
        max_concurrency=3,
    )
    result = _run(config, tmp_path, ["products", "product_details"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(front.times(DETAIL)) >= 12
    # At most max_concurrency at once; and it did run them concurrently.
    assert 2 <= front.peak[DETAIL] <= 3


def test_an_api_error_names_status_reason_and_path_never_the_query_string(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=50)

    def rule(path: str, _query: dict[str, list[str]]) -> Answer | None:
        if path == LIST:
            return 400, {}, {"message": "Invalid store"}
        return None

    front = gateway(server.url, rule)
    config = tap_config(front.url, server.api_key, category_ids=[8799])
    result = _run(config, tmp_path, ["products"])
    assert result.returncode == 2, result.stderr[-3000:]  # a 4xx: fix the configuration
    errors = [line for line in result.stderr.splitlines() if f"400 Bad Request for {LIST}" in line]
    assert errors, result.stderr[-3000:]
    for line in errors:
        assert f"400 Bad Request for {LIST}: Invalid store." in line
        assert "?" not in line
        assert "store=" not in line
        assert "currency=" not in line
    assert server.api_key not in result.stderr


def test_a_failed_alert_delivery_is_logged_without_the_url(
    make_sandbox: Callable[..., SandboxServer],
    gateway: Callable[[str, Rule], Gateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Slack webhook URLs embed their token: a delivery that fails must not log it.
    server = make_sandbox(products=50)

    def refuse(_path: str, _query: dict[str, list[str]]) -> Answer | None:
        return 500, {}, {"message": "no"}

    hook = gateway(server.url, refuse)
    token = "T0001/B0002/XyZsecretHookToken"
    for url in (f"{hook.url}/services/{token}", f"http://127.0.0.1:9/services/{token}"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="tap-asos"):
            delivered = send_alert(url, ["run failed"], {"status": "failed"})
        assert delivered is False
        failed = [r.getMessage() for r in caplog.records if "delivery failed" in r.getMessage()]
        assert failed, caplog.text
        assert token not in caplog.text
        assert "XyZsecret" not in caplog.text
    assert hook.times(f"/services/{token}")  # the first one did reach the hook


def test_the_eta_is_null_before_the_first_partition_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [50.0]
    monkeypatch.setattr("tap_asos.progress.time.monotonic", lambda: clock[0])
    stats = RunStats(partitions_total=4)
    reporter = ProgressReporter(stats, interval=0, live=False)
    reporter.start()
    clock[0] += 30.0
    stats.requests = 12  # requests made, no partition finished: no estimate yet
    before = reporter.figures("interval")
    clock[0] += 10.0
    stats.finish_partition()
    after = reporter.figures("partition")
    reporter.stop()
    assert before["eta_seconds"] is None
    assert before["partitions_done"] == 0
    assert after["eta_seconds"] == pytest.approx(120.0)
