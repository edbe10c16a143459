"""End to end: the real `meltano run tap-asos target-s3` against the sandbox and moto.

The plugins are the run's (``installed_plugins``, a temporary system dir, so the
developer's .meltano is untouched); Meltano keeps state in the S3 state backend on the same
local S3, and the test reads the bucket back with boto3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import (
    api_get,
    catalog_truth,
    ids,
    local_s3,
    pipeline_env,
    run_meltano,
    s3_objects,
    with_plugins,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "asos-lake-e2e"
pytestmark = pytest.mark.e2e


@pytest.fixture
def s3_server() -> Iterator[str]:
    with local_s3(BUCKET) as url:
        yield url


@pytest.fixture(scope="module")
def meltano_sys(tmp_path_factory: pytest.TempPathFactory, installed_plugins: Path) -> Path:
    """One Meltano system dir for the module, over the run's installed plugins."""
    return with_plugins(installed_plugins, tmp_path_factory.mktemp("meltano-sys"))


def _env(sys_dir: Path, server: SandboxServer, s3_url: str, **extra: str) -> dict[str, str]:
    return pipeline_env(
        sys_dir,
        api_url=server.url,
        api_key=server.api_key,
        bucket=BUCKET,
        s3_url=s3_url,
        MELTANO_ENVIRONMENT="dev",
        state_prefix="meltano-state",
        **extra,
    )


MELTANO = Path(sys.executable).with_name("meltano")


def _meltano(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_meltano(*args, env=env)


def test_meltano_run_lands_every_record_once_and_resumes_from_s3_state(
    make_sandbox: Callable[..., SandboxServer],
    s3_server: str,
    meltano_sys: Path,
) -> None:
    """Slow by nature: real meltano runs, twice, with the state in a real (local) S3."""
    server = make_sandbox(products=400)
    secret_key = server.api_key
    env = _env(meltano_sys, server, s3_server)
    first = _meltano(["run", "tap-asos", "target-s3"], env)
    assert first.returncode == 0, first.stderr[-4000:]
    landed = s3_objects(s3_server, BUCKET, "asos/dev/")
    products = [r for key, rows in landed.items() if "/products/" in key for r in rows]
    keys = Counter(r["id"] for r in products)  # one record per product
    assert keys
    assert max(keys.values()) == 1
    truth = catalog_truth(server)  # every leaf's listing, from the sandbox's own catalog
    assert set(keys) == {pid for _, pid in truth}
    assert {r["store"] for r in products} == {"US"}
    details = Counter(
        r["id"] for key, rows in landed.items() if "/product_details/" in key for r in rows
    )
    assert set(details) == set(keys)
    assert max(details.values()) == 1

    state_objects = s3_objects(s3_server, BUCKET, "meltano-state/")
    assert any("dev:tap-asos-to-target-s3" in key for key in state_objects)

    server.advance(1)
    second = _meltano(["run", "tap-asos", "target-s3"], env)
    assert second.returncode == 0, second.stderr[-4000:]
    after = s3_objects(s3_server, BUCKET, "asos/dev/")
    new_keys = set(after) - set(landed)
    assert not set(landed) - set(after), "an earlier object was overwritten or removed"
    new_products = [r for key in new_keys if "/products/" in key for r in after[key]]
    # The daily run reads the arrival feeds: arrivals land under their feed's categoryId.
    emitted = {r["id"] for r in new_products}
    assert ids(catalog_truth(server) - truth) <= emitted  # every arrival and restock
    # At-least-once: the last run's day block again, and each feed's anchor pair.
    older = emitted - ids(catalog_truth(server, since_day=server.sandbox.catalog.day - 1))
    assert len(older) <= 3 * len({c for c, _ in truth})

    for output in (first.stdout + first.stderr, second.stdout + second.stderr):
        assert secret_key not in output
    for rows in after.values():
        assert secret_key not in json.dumps(rows)


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_tap_killed_mid_run_loses_nothing_in_the_bucket(
    make_sandbox: Callable[..., SandboxServer],
    s3_server: str,
    meltano_sys: Path,
) -> None:
    """Slow by nature: a real meltano run killed mid-way, then the rerun that makes up for it."""
    server = make_sandbox(products=3000)
    env = _env(
        meltano_sys,
        server,
        s3_server,
        TAP_ASOS__SELECT='["products.*"]',
        TAP_ASOS_REQUESTS_PER_SECOND="15",
        TAP_ASOS_PAGE_SIZE="24",
        TARGET_S3_MAX_BATCH_AGE_SECONDS="1",
        TARGET_S3_PREFIX="asos/crash/",
    )
    run = subprocess.Popen(
        [str(MELTANO), "run", "tap-asos", "target-s3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill the tap (SIGKILL: no clean-up of its own) once it has listed ~half the pages.
        killed = False
        deadline = time.monotonic() + 300
        while not killed and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            if server.stats()["by_path"].get("/products/v2/list", 0) < 60:
                continue
            for pid in _children(run.pid):
                if "tap-asos" in _cmdline(pid) and "--config" in _cmdline(pid):
                    os.kill(pid, signal.SIGKILL)
                    killed = True
        assert killed, "the tap finished before it could be killed"
        assert run.wait(timeout=300) != 0
    finally:
        if run.poll() is None:
            run.kill()
    interrupted = s3_objects(s3_server, BUCKET, "asos/crash/")
    assert interrupted, "nothing was made durable before the kill"

    # The rerun unthrottled: what it reads again, not how fast, is the point.
    resumed = _meltano(
        ["run", "tap-asos", "target-s3"], {**env, "TAP_ASOS_REQUESTS_PER_SECOND": "0"}
    )
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    landed = s3_objects(s3_server, BUCKET, "asos/crash/")
    assert not set(interrupted) - set(landed)
    keys = Counter(
        (r["store"], r["id"]) for key, rows in landed.items() if "/products/" in key for r in rows
    )
    truth = {("US", pid) for _, pid in catalog_truth(server)}  # every leaf's products
    assert set(keys) == truth  # nothing lost
    # At-least-once: only records of partitions unfinished at the kill come twice.
    resumed_only = {k for key in set(landed) - set(interrupted) for k in _keys(landed[key])}
    assert len(resumed_only) < len(truth), "the rerun started over instead of resuming"


def _keys(rows: list[dict[str, t.Any]]) -> set[tuple[str, int]]:
    return {(r["store"], r["id"]) for r in rows}


def test_a_budgeted_meltano_run_goes_on_where_it_stood_from_the_s3_state(
    make_sandbox: Callable[..., SandboxServer],
    s3_server: str,
    meltano_sys: Path,
) -> None:
    """Slow by nature: real meltano runs with a budget, each resumed from the S3 state."""
    server = make_sandbox(products=60, seed=23, new_per_day=3)
    env = _env(meltano_sys, server, s3_server, TAP_ASOS_MAX_REQUESTS="40")
    statuses = []
    for run in range(8):
        if run == 1:
            server.advance(1)  # the catalog moves between the runs
        result = _meltano(["run", "tap-asos", "target-s3"], env)
        assert result.returncode == 0, result.stderr[-4000:]
        summary = json.loads(result.stderr.split("Run summary: ", 1)[1].splitlines()[0])
        assert summary["requests"] <= 40
        statuses.append(summary["status"])
        if summary["status"] == "succeeded":
            break
    assert statuses[0] == "stopped_at_budget"
    assert statuses[-1] == "succeeded", statuses
    landed = s3_objects(s3_server, BUCKET, "asos/dev/")
    got = {
        stream: {
            (r["store"], r.get("id", r.get("productId")))
            for k, rows in landed.items()
            if f"/{stream}/" in k
            for r in rows
        }
        for stream in ("products", "product_details", "stock_prices")
    }
    listed = api_get(server.url, "", "/_sandbox/products", store="US")["ids"]
    for stream, keys in got.items():
        missing = {("US", i) for i in listed} - keys
        assert not missing, f"{stream}: {sorted(missing)[:5]}"
