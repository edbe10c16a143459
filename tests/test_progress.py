"""Progress lines of a run: at each partition's end and at a steady interval, no secrets."""

from __future__ import annotations

import json
import typing as t
from collections import Counter

from tap_asos.progress import ProgressReporter
from tap_asos.runtime import RequestPolicy, RunStats
from tests.helpers import ROOT, run_cli, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

    from tap_asos.sandbox import SandboxServer

JSON_LOGS = {"SINGER_SDK_LOG_CONFIG": str(ROOT / "orchestrate" / "logging-json.yaml")}


def _progress(stderr: str) -> list[dict[str, t.Any]]:
    """The progress figures of each JSON log line, in order."""
    lines = []
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        message = str(json.loads(line).get("message", ""))
        if message.startswith("Progress: "):
            lines.append(json.loads(message.removeprefix("Progress: ")))
    return lines


def test_a_line_at_each_partition_end_matches_the_api(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    server = make_sandbox(products=400, quota=10_000)
    config = tap_config(server.url, server.api_key, progress_interval_seconds=0)
    result = run_cli(config, tmp_path, env=JSON_LOGS)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = _progress(result.stderr)
    assert {line["reason"] for line in lines} == {"partition"}
    total = lines[0]["partitions_total"]
    assert total > 1
    assert [line["partitions_done"] for line in lines] == list(range(1, total + 1))
    assert {line["partitions_total"] for line in lines} == {total}
    assert lines[-1]["eta_seconds"] == 0
    requests = [line["requests"] for line in lines]
    assert requests == sorted(requests)
    # Every request of the run is made by the end of the last partition (children too).
    stats = server.stats()
    last = lines[-1]
    assert last["requests"] == stats["requests_total"]
    assert last["quota_remaining"] == 10_000 - stats["requests_total"]
    assert last["retries"] == 0
    assert last["rate_limited_429"] == 0
    emitted = Counter(
        json.loads(line)["stream"]
        for line in result.stdout.splitlines()
        if '"type":"RECORD"' in line
    )
    assert set(emitted) >= {"products", "product_details", "stock_prices"}
    for stream in ("products", "product_details", "stock_prices"):
        assert last["records"][stream] == emitted[stream]
    assert server.api_key not in result.stderr


def test_interval_lines_come_while_a_slow_run_goes_on(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    server = make_sandbox(products=200, latency_ms=(20, 30))
    config = tap_config(
        server.url,
        server.api_key,
        category_ids=[8799],
        requests_per_second=20,  # a run of a second or more
        progress_interval_seconds=0.2,
    )
    result = run_cli(config, tmp_path, env=JSON_LOGS)
    assert result.returncode == 0, result.stderr[-2000:]
    interval = [line for line in _progress(result.stderr) if line["reason"] == "interval"]
    assert len(interval) >= 3
    elapsed = [line["elapsed_seconds"] for line in interval]
    assert elapsed == sorted(elapsed)
    assert elapsed[1] - elapsed[0] >= 0.15
    assert interval[-1]["requests"] > interval[0]["requests"]
    assert interval[-1]["requests_per_second"] > 0
    assert server.api_key not in result.stderr


def test_on_a_terminal_the_figures_redraw_one_live_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = RunStats()
    state.partitions_total = 4
    reporter = ProgressReporter(state, 0, live=True)
    reporter.start()
    RequestPolicy(state).take_request_slot("products")
    state.count("products", "records", 7)
    state.finish_partition()
    state.finish_partition()
    reporter.stop()
    err = capsys.readouterr().err
    assert err.count("\r\x1b[K") == 2
    assert "\n" not in err.rstrip("\n")  # one line, redrawn
    assert "partitions 2/4" in err
    assert "requests 1 " in err
    assert "products=7" in err
