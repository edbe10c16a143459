"""orchestrate/elt_run.py, the one entry point of CI, Airflow and Autosys.

``plan`` is checked against meltano.yml; ``run`` end to end: the real Meltano against the
sandbox and a local S3 (moto), state in the S3 state backend, the run summary table in the
GitHub step summary, and the tap's exit code (2 fix the configuration, 3 retry later).
Parallel runs share the key's per-second rate: against one sandbox that limits the key, the
stores run at once with the share get (almost) no 429, and without it (the control: two taps
at the key's whole rate) they do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    catalog_for,
    catalog_truth,
    load_script,
    local_s3,
    pipeline_env,
    s3_objects,
    tap_config,
    with_plugins,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "orchestrate" / "elt_run.py"
TAP = str(Path(sys.executable).with_name("tap-asos"))
PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text())
BUCKET = "asos-lake-ci"


ELT = load_script(SCRIPT)


def _stores(environment: str) -> list[str]:
    env = next(e for e in PROJECT["environments"] if e["name"] == environment)
    tap = next(p for p in env["config"]["plugins"]["extractors"] if p["name"] == "tap-asos")
    return list(tap["config"]["stores"])


@pytest.mark.parametrize("schedule", PROJECT["schedules"], ids=lambda s: s["name"])
def test_a_cron_that_fired_runs_its_meltano_schedule_job(schedule: dict[str, str]) -> None:
    planned = ELT.plan(
        PROJECT, environment="prod", stores="", job="", schedule=schedule["interval"]
    )
    stores = _stores("prod")
    assert planned == {
        "environment": "prod",
        "job": schedule["job"],
        "stores": stores,
        "parallel": len(stores),  # no limit given: every store at once
    }


def test_hand_inputs_override_and_are_checked() -> None:
    planned = ELT.plan(
        PROJECT, environment="qa", stores="de, gb fr", job="", schedule="", parallel="2"
    )
    assert planned == {
        "environment": "qa",
        "job": "asos-to-s3",
        "stores": ["DE", "GB", "FR"],
        "parallel": 2,
    }
    assert ELT.plan(PROJECT, environment="qa", stores="", job="", schedule="")["stores"] == (
        _stores("qa")
    )
    one = ELT.plan(PROJECT, environment="qa", stores="US", job="", schedule="", parallel="3")
    assert one["parallel"] == 1  # never more runs at once than stores
    bad = [
        {"environment": "staging"},
        {"job": "asos-to-nowhere"},
        {"stores": "US; rm -rf /"},
        {"schedule": "0 5 * * *"},
        {"parallel": "two"},
        {"parallel": "-1"},
    ]
    for inputs in bad:
        args = {"environment": "prod", "stores": "", "job": "", "schedule": "", **inputs}
        with pytest.raises(ELT.UsageError):
            ELT.plan(PROJECT, **args)


def _environment_rate(environment: str) -> float:
    env = next(e for e in PROJECT["environments"] if e["name"] == environment)
    tap = next(p for p in env["config"]["plugins"]["extractors"] if p["name"] == "tap-asos")
    return float(tap["config"]["requests_per_second"])


def test_each_parallel_run_gets_the_keys_rate_divided_by_the_runs_at_once() -> None:
    share = ELT.rate_share(PROJECT, "prod", {"ASOS_KEY_RATE_PER_SECOND": "1"}, 4)
    assert share.per_run == 0.25
    assert share.describe() == (
        "0.25 req/s (key 1 req/s from ASOS_KEY_RATE_PER_SECOND / 4 parallel runs)"
    )
    # Without a key rate, the rate one run would be configured with is the key's.
    for environment in ("qa", "prod"):
        share = ELT.rate_share(PROJECT, environment, {}, 2)
        assert share.per_run == _environment_rate(environment) / 2
        assert share.source == f"meltano.yml {environment}"
    overridden = ELT.rate_share(PROJECT, "prod", {"TAP_ASOS_REQUESTS_PER_SECOND": "3"}, 2)
    assert overridden.per_run == 1.5
    assert ELT.rate_share(PROJECT, "prod", {"ASOS_KEY_RATE_PER_SECOND": "0"}, 3).per_run == 0
    for env, parallel in (
        ({"ASOS_KEY_RATE_PER_SECOND": "fast"}, 1),
        ({"ASOS_KEY_RATE_PER_SECOND": "nan"}, 1),
        ({"ASOS_KEY_RATE_PER_SECOND": "-1"}, 1),
        ({}, 0),
    ):
        with pytest.raises(ELT.UsageError):
            ELT.rate_share(PROJECT, "prod", env, parallel)
    # Every plugin that inherits tap-asos gets the share under its own name too.
    inheriting = [p for p in PROJECT["plugins"]["extractors"] if p.get("inherit_from")]
    assert inheriting
    assert ELT.rate_variables(PROJECT) == [
        "TAP_ASOS_REQUESTS_PER_SECOND",
        *(f"{p['name'].upper().replace('-', '_')}_REQUESTS_PER_SECOND" for p in inheriting),
    ]


@pytest.fixture(scope="module")
def meltano_sys(tmp_path_factory: pytest.TempPathFactory, installed_plugins: Path) -> Path:
    """One Meltano system dir for the module, over the run's installed plugins."""
    return with_plugins(installed_plugins, tmp_path_factory.mktemp("meltano-sys"))


@pytest.fixture
def s3_url() -> Iterator[str]:
    with local_s3(BUCKET) as url:
        yield url


def _env(sys_dir: Path, server: SandboxServer, s3_url: str, **extra: str) -> dict[str, str]:
    # What a CI job has: the key, the bucket (the state backend URI is derived from it),
    # AWS credentials; here the local S3's endpoint and the sandbox's URL besides.
    return pipeline_env(
        sys_dir,
        api_url=server.url,
        api_key=server.api_key,
        bucket=BUCKET,
        s3_url=s3_url,
        TAP_ASOS_ALERT_WEBHOOK_URL="",  # an unset optional secret reaches the job as ""
        **extra,
    )


def _command(*args: str) -> list[str]:
    return [sys.executable, str(SCRIPT), "run", "--environment=dev", *args]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _table(markdown: str) -> dict[str, str]:
    rows = [line.split("|")[1:-1] for line in markdown.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): cells[1].strip() for cells in rows if len(cells) == 2}


@pytest.mark.e2e
def test_run_lands_one_store_keeps_its_state_in_s3_and_reports_the_summary(
    make_sandbox: Callable[..., SandboxServer], s3_url: str, tmp_path: Path
) -> None:
    """Slow by nature: a real pipeline through elt_run, Meltano installing the plugins first.

    ``--install`` installs into a system dir of the test's own, not the shared plugins.
    """
    meltano_sys = tmp_path / "meltano-sys"
    server = make_sandbox(products=300)
    step_summary = tmp_path / "step_summary.md"
    env = _env(meltano_sys, server, s3_url, GITHUB_STEP_SUMMARY=str(step_summary))
    first = _run(env, "--install", "--store=COM")
    assert first.returncode == 0, first.stderr[-4000:]

    landed = s3_objects(s3_url, BUCKET, "asos/dev/")
    products = [r for key, rows in landed.items() if "/products/" in key for r in rows]
    keys = Counter((r["store"], r["id"]) for r in products)  # one record per product
    assert keys
    assert {store for store, _ in keys} == {"COM"}
    assert max(keys.values()) == 1
    table = _table(step_summary.read_text())
    assert table["status"] == "succeeded"
    assert table["state id"] == "`dev:tap-asos-to-target-s3:COM`"
    assert int(table["records"]) == sum(len(rows) for rows in landed.values())
    assert step_summary.read_text() in first.stdout  # the same table ends the log

    state_key = "meltano-state/dev/dev:tap-asos-to-target-s3:COM/state.json"
    state = s3_objects(s3_url, BUCKET, "meltano-state/")
    assert list(state) == [state_key]
    partitions = state[state_key][0]["completed"]["singer_state"]["bookmarks"]["products"]
    assert {p["context"]["store"] for p in partitions["partitions"]} == {"COM"}

    # Every product of the COM listings landed. The next run resuming from this S3 state is
    # test_meltano_e2e.py's (the same meltano run and state backend, without elt_run).
    assert {p for _, p in keys} == {p for _, p in catalog_truth(server, "COM")}
    assert server.api_key not in first.stdout + first.stderr


@pytest.mark.e2e
def test_run_fails_with_the_taps_exit_code_and_says_what_to_do(
    make_sandbox: Callable[..., SandboxServer], s3_url: str, meltano_sys: Path, tmp_path: Path
) -> None:
    """Slow by nature: three real pipelines through elt_run, each failing a different way."""
    server = make_sandbox(products=50)
    step_summary = tmp_path / "step_summary.md"
    base = _env(
        meltano_sys, server, s3_url, GITHUB_STEP_SUMMARY=str(step_summary), GITHUB_ACTIONS="true"
    )
    wrong_key = "wrong-key-123456"
    bad_key = _run({**base, "TAP_ASOS_API_KEY": wrong_key}, "--store=US")
    assert bad_key.returncode == 2, bad_key.stderr[-4000:]
    assert "::error title=tap-asos dev / US / asos-to-s3::exit 2: configuration error" in (
        bad_key.stdout
    )
    assert wrong_key not in bad_key.stdout + bad_key.stderr
    assert _table(step_summary.read_text())["status"] == "failed"

    unreachable = {"TAP_ASOS_API_URL": "http://127.0.0.1:9", "TAP_ASOS_MAX_RETRIES": "0"}
    down = _run({**base, **unreachable}, "--store=US")
    assert down.returncode == 3, down.stderr[-4000:]
    assert "exit 3: the API or S3 failed after retries: retry later" in down.stdout
    assert "| exit code | 3 (the API or S3 failed after retries" in step_summary.read_text()

    # The state stays in the real bucket; only the loader's bucket is wrong.
    state_uri = f"s3://{BUCKET}/meltano-state/dev"
    wrong_bucket = {"TARGET_S3_BUCKET": "no-such-lake", "MELTANO_STATE_BACKEND_URI": state_uri}
    no_bucket = _run({**base, **wrong_bucket}, "--store=US")
    assert no_bucket.returncode == 2, no_bucket.stderr[-4000:]  # the loader's code
    assert "exit 2: configuration error" in no_bucket.stdout
    assert "Bucket 'no-such-lake' does not exist" in no_bucket.stdout + no_bucket.stderr

    # Each run adds its own section to the step summary, none replaces another.
    assert len(step_summary.read_text().split("### ")) == 4

    missing = {k: v for k, v in base.items() if k != "TAP_ASOS_API_KEY"}
    no_key = _run(missing, "--store=US")
    assert no_key.returncode == 2
    assert "TAP_ASOS_API_KEY is not set" in no_key.stderr
    assert "--log-format=json" not in no_key.stderr  # stopped before Meltano started


# One sandbox key limited to KEY_LIMIT requests a second, as RapidAPI limits a plan; the key
# rate is set 20 % under it, as docs/operations-parallel.md advises (requests leave the
# runs evenly paced but reach the gateway bunched by scheduling jitter).
KEY_LIMIT, KEY_RATE = 10, 8
SHARED_STORES = ("US", "COM")
# 429s tolerated with the share: jitter can still bunch a few requests past the limit (none
# seen in the runs measured for docs/operations-parallel.md); without the share, far more.
TOLERATED_429 = 2


@pytest.mark.e2e
@pytest.mark.parametrize("shared", [True, False], ids=["with-share", "without-share"])
def test_parallel_stores_share_the_keys_rate_and_stay_under_its_limit(
    make_sandbox: Callable[..., SandboxServer],
    s3_url: str,
    meltano_sys: Path,
    tmp_path: Path,
    shared: bool,
) -> None:
    """Slow by nature: two real pipelines at once, paced under the key's per-second limit."""
    server = make_sandbox(products=300, rate_limit_per_second=KEY_LIMIT)
    # A 429's retry within 0.3 s, not the gateway's Retry-After of 1 s: the count of 429s
    # is the point, not the waits (with the share there are next to none).
    retries = {"backoff_max_seconds": 0.3, "max_retries": 20}
    if not shared:
        # The control: each run told it is alone on the key takes the key's whole rate, as
        # elt_run --parallel=1 sets it (test_each_parallel_run_gets_the_keys_rate_...).
        # Two taps straight, without Meltano around them: the same requests, less CPU.
        taps = []
        for store in SHARED_STORES:
            config = tap_config(
                server.url,
                server.api_key,
                stores=[store],
                requests_per_second=KEY_RATE,
                max_products_per_partition=2,
                **retries,
            )
            workdir = tmp_path / store
            workdir.mkdir()
            (workdir / "config.json").write_text(json.dumps(config))
            catalog = catalog_for(config, select=["products"])
            (workdir / "catalog.json").write_text(json.dumps(catalog))
            taps.append(
                subprocess.Popen(
                    [TAP, "--config", "config.json", "--catalog", "catalog.json"],
                    cwd=workdir,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for tap in taps:
            _, err = tap.communicate(timeout=600)
            assert tap.returncode == 0, err[-4000:]
        assert server.stats()["by_status"].get("429", 0) > TOLERATED_429, server.stats()
        return
    env = _env(
        meltano_sys,
        server,
        s3_url,
        ASOS_KEY_RATE_PER_SECOND=str(KEY_RATE),
        TAP_ASOS_MAX_PRODUCTS_PER_PARTITION="2",
        TAP_ASOS__SELECT='["products.*"]',  # about 30 requests a store: a listing page each
        TAP_ASOS_BACKOFF_MAX_SECONDS=str(retries["backoff_max_seconds"]),
        TAP_ASOS_MAX_RETRIES=str(retries["max_retries"]),
    )
    parallel = len(SHARED_STORES)
    runs = [
        subprocess.Popen(
            [*_command(f"--store={store}"), f"--parallel={parallel}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for store in SHARED_STORES
    ]
    tables = []
    for process in runs:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-4000:]
        tables.append(_table(out))
    rejected = server.stats()["by_status"].get("429", 0)
    # The sandbox's count of 429s is the one the runs' summaries report (the tap retried each).
    assert sum(int(table["429s"]) for table in tables) == rejected
    assert all(int(table["records"]) > 0 for table in tables)
    per_run = KEY_RATE / parallel
    for table in tables:
        assert table["rate"].startswith(f"{per_run:.4g} req/s (key {KEY_RATE} req/s from ")
    figures = f"{server.stats()['by_status']}, requests {[t['requests'] for t in tables]}"
    assert rejected <= TOLERATED_429, figures
