"""Quiet by default: a hand run at INFO logs its start, progress, warnings and summary.

The SDK's METRIC lines (one per HTTP request, and per partition) come back with
``metrics_log_level: INFO``, or at DEBUG with ``LOGLEVEL=DEBUG``.
"""

from __future__ import annotations

import json
import typing as t

from tests.helpers import metric_points, run_cli, tap_config

if t.TYPE_CHECKING:
    from pathlib import Path

    from tap_asos.sandbox import SandboxServer


def _run(sandbox: SandboxServer, workdir: Path, **settings: t.Any) -> tuple[str, dict[str, t.Any]]:
    loglevel = settings.pop("loglevel", "INFO")
    config = tap_config(sandbox.url, sandbox.api_key, max_products_per_partition=60)
    del config["metrics_log_level"]  # the default, as a person's config has it
    config.update(settings)
    result = run_cli(config, workdir, env={"LOGLEVEL": loglevel})
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stderr.split("Run summary: ", 1)[1].splitlines()[0])
    return result.stderr, summary


def test_a_run_at_info_has_no_metric_line_per_request(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    log, summary = _run(sandbox, tmp_path)
    assert summary["status"] == "succeeded"
    assert summary["requests"] > 20
    assert metric_points(log, "http_request_duration") == []
    assert metric_points(log, "record_count") == []
    assert "Progress: " in log
    # The summary's own metric points stay: one per stream.
    assert len(metric_points(log, "tap_asos_requests")) == len(summary["streams"])
    assert len(log.splitlines()) < summary["requests"]


def test_metrics_log_level_info_brings_back_one_line_per_request(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    log, summary = _run(sandbox, tmp_path, metrics_log_level="INFO")
    points = metric_points(log, "http_request_duration")
    assert len(points) == summary["requests"]
    assert all("| INFO " in line for line in log.splitlines() if "http_request_duration" in line)


def test_loglevel_debug_shows_them_at_debug(sandbox: SandboxServer, tmp_path: Path) -> None:
    log, summary = _run(sandbox, tmp_path, loglevel="DEBUG")
    lines = [line for line in log.splitlines() if '"http_request_duration"' in line]
    assert len(lines) == summary["requests"]
    assert all("| DEBUG " in line for line in lines)
