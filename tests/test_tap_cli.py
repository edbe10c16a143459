"""The tap's command line under bad input.

Bad config fails fast and clearly, secrets never leak, crashes lose nothing, schema drift
is kept or reported.
"""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.helpers import run_cli, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

TAP = str(Path(sys.executable).with_name("tap-asos"))
ALL_STREAMS = {"countries", "categories", "products", "product_details", "stock_prices"}
SECRET = "sk-live-7f3a9c1e5b2d4f60a8e1"


@pytest.mark.parametrize(
    ("overrides", "code", "needle"),
    [
        ({"api_key": None}, 2, "'api_key' is a required property"),
        ({"api_key": "wrong-key"}, 2, "Invalid API key"),
        ({"stores": ["XX"]}, 2, "Unknown store 'XX'"),
        ({"category_ids": [1]}, 2, "Unknown category_ids for store US: 1"),
        ({"api_url": "not-a-url"}, 2, "is not an http(s) URL"),
        ({"page_size": -5}, 2, "-5 is less than the minimum of 1"),
        ({"max_requests": 1, "category_ids": [8799]}, 2, "max_requests too small to start"),
        ({"api_url": "http://127.0.0.1:9", "max_retries": 0}, 3, "Giving up after retries"),
    ],
)
def test_bad_config_fails_before_any_output(
    sandbox: SandboxServer,
    tmp_path: Path,
    overrides: dict[str, t.Any],
    code: int,
    needle: str,
) -> None:
    config = {
        k: v
        for k, v in {**tap_config(sandbox.url, sandbox.api_key), **overrides}.items()
        if v is not None
    }
    result = run_cli(config, tmp_path)
    assert result.returncode == code, result.stderr[-2000:]
    assert result.stdout == ""
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_the_key_never_appears_in_output_logs_or_state(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=300, api_keys=(SECRET,))
    config = tap_config(server.url, SECRET, max_products_per_partition=20)
    debug = {"TAP_ASOS_LOGLEVEL": "DEBUG"}
    ok = run_cli(config, tmp_path, env=debug)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert '"type":"RECORD"' in ok.stdout
    assert "DEBUG" in ok.stderr
    server.set_faults({"rules": [{"kind": "503", "path": "/products/v2/list"}]})
    failing = run_cli({**config, "max_retries": 1}, tmp_path, env=debug)
    assert failing.returncode == 3
    bad_key = run_cli({**config, "api_key": SECRET[::-1]}, tmp_path, env=debug)
    assert bad_key.returncode == 2
    for result in (ok, failing, bad_key):
        assert SECRET not in result.stdout + result.stderr
        assert SECRET[::-1] not in result.stdout + result.stderr
    about = run_cli(config, tmp_path, "--about", "--format=json")
    assert SECRET not in about.stdout + about.stderr


def test_killed_run_resumes_from_its_last_state_without_loss(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=3000)
    config = tap_config(server.url, server.api_key, page_size=24)
    catalog = tmp_path / "catalog.json"
    discovered = run_cli(config, tmp_path, "--discover")
    entries = json.loads(discovered.stdout)
    for entry in entries["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == "products"
    catalog.write_text(json.dumps(entries))
    full = run_cli(config, tmp_path, "--catalog", str(catalog))
    all_keys = {
        (m["record"]["categoryId"], m["record"]["id"])
        for m in map(json.loads, full.stdout.splitlines())
        if m["type"] == "RECORD"
    }

    (tmp_path / "config.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [TAP, "--config", str(tmp_path / "config.json"), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    # A target commits records at each STATE: what came after the last one is lost.
    seen: set[tuple[int, int]] = set()
    committed: set[tuple[int, int]] = set()
    last_state: dict[str, t.Any] | None = None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            seen.add((message["record"]["categoryId"], message["record"]["id"]))
        elif message["type"] == "STATE":
            last_state = message["value"]
            committed = set(seen)
        if len(seen) >= len(all_keys) * 6 // 10:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert last_state is not None
    assert committed, "no STATE after any record: nothing to resume from"
    resumed = run_cli(config, tmp_path, "--catalog", str(catalog), state=last_state)
    assert resumed.returncode == 0
    again = {
        (m["record"]["categoryId"], m["record"]["id"])
        for m in map(json.loads, resumed.stdout.splitlines())
        if m["type"] == "RECORD"
    }
    missing = all_keys - committed - again
    assert not missing, f"{len(missing)} records lost, e.g. {sorted(missing)[:3]}"
    assert len(again) < len(all_keys), "the rerun started over instead of resuming"


def test_schema_drift_is_kept_or_reported_and_a_missing_field_is_tolerated(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=300)
    server.set_faults({"rules": [{"kind": "drift", "path": "/products/v2/list"}]})
    config = tap_config(server.url, server.api_key, category_ids=[8799])
    result = run_cli(config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    products = [
        m["record"]
        for m in map(json.loads, result.stdout.splitlines())
        if m["type"] == "RECORD" and m["stream"] == "products"
    ]
    assert products
    assert all("colour" not in p or p["colour"] is None for p in products)
    assert all(p["price"]["unitPrice"] == {"value": 1.0, "text": "1.00"} for p in products)
    assert "sustainabilityScore" in result.stderr  # dropped at the top level, but reported
    # ... and counted, so drift shows in the summary's dashboards and alerts.
    line = next(x for x in result.stderr.splitlines() if "Run summary: " in x)
    summary = json.loads(line.split("Run summary: ", 1)[1])
    assert summary["unknown_fields"] == {"products": {"sustainabilityScore": len(products)}}
    assert summary["streams"]["products"]["drifted_records"] == len(products)
    assert "drifted_records" not in summary["streams"]["product_details"]


def test_monthly_quota_exits_3_without_retrying(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=200, quota=3)
    result = run_cli(tap_config(server.url, server.api_key), tmp_path)
    assert result.returncode == 3
    assert "MONTHLY quota" in result.stderr
    assert result.stderr.count("Retrying") == 0
    assert server.stats()["by_status"]["429"] == 1


def test_batch_messages_carry_the_same_records_as_record_messages(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    plain = run_cli(config, tmp_path)
    assert plain.returncode == 0, plain.stderr[-2000:]
    expected: dict[str, list[str]] = {}
    for message in map(json.loads, plain.stdout.splitlines()):
        if message["type"] == "RECORD":
            expected.setdefault(message["stream"], []).append(json.dumps(message["record"]))
    batches = tmp_path / "batches"
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": batches.as_uri(), "prefix": "asos-"},
    }
    batched = run_cli({**config, "batch_config": batch_config}, tmp_path)
    assert batched.returncode == 0, batched.stderr[-2000:]
    messages = [json.loads(line) for line in batched.stdout.splitlines()]
    assert not [m for m in messages if m["type"] == "RECORD"]
    got: dict[str, list[str]] = {}
    for message in messages:
        if message["type"] == "BATCH":
            for uri in message["manifest"]:
                with gzip.open(Path(uri.removeprefix("file://"))) as lines:
                    got.setdefault(message["stream"], []).extend(
                        json.dumps(json.loads(line)) for line in lines
                    )
    assert set(got) == set(expected) == set(ALL_STREAMS)
    for stream, records in expected.items():
        # snapshotAt is the run's start: compare everything else.
        def strip(rows: list[str]) -> list[str]:
            return sorted(
                json.dumps({k: v for k, v in json.loads(r).items() if k != "snapshotAt"})
                for r in rows
            )

        assert strip(got[stream]) == strip(records), stream


def test_a_refused_deep_offset_exits_2_naming_the_setting(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    server = make_sandbox(products=600)
    # The first page is served; the next one (offset 24) is refused as upstream might.
    server.set_faults({"rules": [{"kind": "400", "path": "/products/v2/list", "after": 1}]})
    config = tap_config(server.url, server.api_key, category_ids=[8799], page_size=24)
    result = run_cli(config, tmp_path)
    assert result.returncode == 2
    assert "400 Bad Request for /products/v2/list" in result.stderr
    assert "set max_listing_offset to 24 or less" in result.stderr
