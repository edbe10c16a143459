"""Test helpers: run the tap in-process against a sandbox and collect its messages."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import importlib.util
import io
import itertools
import json
import logging
import os
import subprocess
import sys
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tap_asos.tap import TapAsos
from tap_asos.writer import BufferedMsgSpecWriter

ROOT = Path(__file__).resolve().parents[1]

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import ModuleType

    import pytest

    from tap_asos.sandbox import SandboxServer


def tap_config(url: str, api_key: str, **overrides: t.Any) -> dict[str, t.Any]:
    """A fast tap config for a local sandbox: no client-side rate limit, short backoff."""
    config: dict[str, t.Any] = {
        "api_key": api_key,
        "api_url": url,
        "stores": ["US"],
        "requests_per_second": 0,
        "backoff_factor": 0.01,
        "backoff_max_seconds": 0.1,
        "timeout": 5,
        # Tests read the SDK's per-request metric points (requested_partitions); a run
        # leaves them out by default (tests/test_logs.py checks that default).
        "metrics_log_level": "INFO",
    }
    config.update(overrides)
    return config


def catalog_for(
    config: dict[str, t.Any],
    *,
    select: Iterable[str] | None = None,
    products_method: str | None = None,
) -> dict[str, t.Any]:
    """Discover the catalog, select some streams and force the products method."""
    catalog = TapAsos(config=config, parse_env_config=False).catalog_dict
    wanted = set(select) if select is not None else None
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                if wanted is not None:
                    meta["metadata"]["selected"] = entry["tap_stream_id"] in wanted
                if products_method and entry["tap_stream_id"] == "products":
                    meta["metadata"]["forced-replication-method"] = products_method
        if products_method and entry["tap_stream_id"] == "products":
            entry["replication_method"] = products_method
    return catalog


@dataclass
class SyncResult:
    """What one run of the tap wrote."""

    messages: list[dict[str, t.Any]]
    stderr: str
    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    states: list[dict[str, t.Any]] = field(default_factory=list)

    @property
    def final_state(self) -> dict[str, t.Any]:
        """The value of the last STATE message."""
        return self.states[-1] if self.states else {}

    @property
    def summary(self) -> dict[str, t.Any]:
        """The run summary the command logged (``Run summary: {...}``)."""
        line = next(x for x in self.stderr.splitlines() if "Run summary: " in x)
        return t.cast("dict[str, t.Any]", json.loads(line.split("Run summary: ", 1)[1]))


def run_command_here(
    config: dict[str, t.Any],
    *,
    catalog: dict[str, t.Any] | None = None,
    state: dict[str, t.Any] | None = None,
    factory: t.Any = TapAsos,
) -> tuple[int, SyncResult]:
    """The ``tap-asos`` command's run (``tap_asos.run``), in this process.

    Its exit code and what it wrote, its log lines (the run summary among them) included.
    """
    from tap_asos.inputs import ConfigInput
    from tap_asos.run import run_command

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    handler = logging.StreamHandler(err)
    logger = logging.getLogger("tap-asos")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)  # the run summary's level, as the command logs it
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_command(
                factory,
                ConfigInput(config),
                None if state is None else io.StringIO(json.dumps(state)),
                None if catalog is None else io.StringIO(json.dumps(catalog)),
                plan=False,
            )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    out.flush()
    out.seek(0)
    return code, sync_result(out.read(), err.getvalue())


def run_tap(
    config: dict[str, t.Any],
    *,
    catalog: dict[str, t.Any] | None = None,
    state: dict[str, t.Any] | None = None,
) -> SyncResult:
    """Run a full sync in-process, capturing stdout (Singer messages) and stderr.

    With the writer ``tap-asos`` uses, flushed where its sync ends (``tap_asos.run``);
    the preflight, budget and summary of the command are left out.
    """
    # Deep copies: the SDK updates the state it is given in place.
    writer = BufferedMsgSpecWriter()
    tap = TapAsos(
        config=config,
        catalog=copy.deepcopy(catalog),
        state=copy.deepcopy(state),
        parse_env_config=False,
        message_writer=writer,
    )
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        tap.sync_all()
        writer.flush()
    out.flush()
    out.seek(0)
    return sync_result(out.read(), err.getvalue())


def sync_result(stdout: str, stderr: str) -> SyncResult:
    """Sort a run's Singer output into records per stream and STATE values."""
    messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    records: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    states = []
    for message in messages:
        if message["type"] == "RECORD":
            records[message["stream"]].append(message["record"])
        elif message["type"] == "STATE":
            states.append(message["value"])
    return SyncResult(messages=messages, stderr=stderr, records=dict(records), states=states)


def run_cli(
    config: dict[str, t.Any],
    workdir: Path,
    *args: str,
    state: dict[str, t.Any] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the ``tap-asos`` command (config and state as files in ``workdir``)."""
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    extra: list[str] = []
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        extra = ["--state", str(workdir / "state.json")]
    return subprocess.run(
        [str(Path(sys.executable).with_name("tap-asos")), "--config", str(path), *extra, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=workdir,
    )


def metric_points(log_text: str, metric: str) -> list[dict[str, t.Any]]:
    """The SDK metric points named ``metric`` in a run's log, in order.

    The SDK logs one ``http_request_duration`` point per HTTP request, tagged with the
    endpoint and the partition (``context``) it was made for.
    """
    points = []
    for line in log_text.splitlines():
        _, marker, body = line.partition("METRIC: ")
        if marker and (point := json.loads(body))["metric"] == metric:
            points.append(point)
    return points


def api_get(url: str, api_key: str, path: str, **params: t.Any) -> t.Any:
    """Call the sandbox like a client would (RapidAPI headers) and decode JSON."""
    import requests

    response = requests.get(
        f"{url}{path}",
        params=params,
        headers={"X-RapidAPI-Key": api_key, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def listed_ids(url: str, api_key: str, store: str, category_id: int) -> list[int]:
    """Every product id of one store x category, read straight from the API."""
    ids: list[int] = []
    offset = 0
    while True:
        page = api_get(
            url,
            api_key,
            "/products/v2/list",
            store=store,
            categoryId=category_id,
            offset=offset,
            limit=200,
            sort="freshness",
        )
        ids.extend(p["id"] for p in page["products"])
        offset += 200
        if offset >= page["itemCount"] or not page["products"]:
            return ids


def catalog_truth(
    server: SandboxServer, store: str = "US", since_day: int | None = None
) -> set[tuple[int, int]]:
    """(category, id) of every listing of a store, from the sandbox's catalog, not its API.

    ``since_day``: only products listed on that day or later (arrivals and restocks).
    """
    catalog = server.sandbox.catalog
    return {
        (category, catalog.product_id(k))
        for k in range(catalog.count)
        if catalog.in_store(k, store)
        and not catalog.is_away(k)
        and (since_day is None or catalog.listed_day(k) >= since_day)
        for category in catalog.categories_of(k)
    }


def on_leaves(
    server: SandboxServer, keys: t.Iterable[tuple[t.Any, ...]], at: int = -2
) -> set[tuple[t.Any, ...]]:
    """The keys whose category (``key[at]``) is an ordinary leaf, not a New-in list.

    A run that reads every leaf reads the feeds too (they are leaves of the tree), but
    ``catalog_truth`` knows the products' own leaves only.
    """
    leaves = server.sandbox.catalog.leaf_by_id
    return {key for key in keys if key[at] in leaves}


def ids(keys: t.Iterable[tuple[t.Any, ...]]) -> set[int]:
    """The product ids of (..., categoryId, id) keys.

    A daily run lands arrivals under their feed, not their leaf.
    """
    return {int(key[-1]) for key in keys}


def load_script(path: Path) -> ModuleType:
    """A script of the repository (not a package module), imported for its functions."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def plugin_about(executable: str) -> dict[str, t.Any]:
    """``<executable> --about --format json``, from the virtualenv running the tests."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name(executable)), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return t.cast("dict[str, t.Any]", json.loads(out))


def meltano_env(sys_dir: Path, **settings: str) -> dict[str, str]:
    """Environment for a test's Meltano: a private system dir, no inherited plugin settings."""
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAP_ASOS", "TARGET_", "MELTANO_"))
        },
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        **settings,
    }


def pipeline_env(  # noqa: PLR0913 - the pipeline's places, all named
    sys_dir: Path,
    *,
    api_url: str,
    api_key: str,
    bucket: str,
    s3_url: str,
    state_prefix: str | None = None,
    **settings: str,
) -> dict[str, str]:
    """``meltano_env`` for tap-asos into target-s3: the API (a sandbox), a local S3 bucket.

    ``state_prefix``: Meltano keeps the state in that bucket under it (the S3 backend).
    """
    if state_prefix is not None:
        settings = {
            "MELTANO_STATE_BACKEND_URI": f"s3://{bucket}/{state_prefix}",
            "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": s3_url,
            "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": "e2e",
            "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": "e2e-secret",
            **settings,
        }
    return meltano_env(
        sys_dir,
        TAP_ASOS_API_URL=api_url,
        TAP_ASOS_API_KEY=api_key,
        TARGET_S3_BUCKET=bucket,
        TARGET_S3_ENDPOINT_URL=s3_url,
        AWS_ACCESS_KEY_ID="e2e",
        AWS_SECRET_ACCESS_KEY="e2e-secret",
        AWS_DEFAULT_REGION="us-east-1",
        **settings,
    )


def with_plugins(installed: Path, sys_dir: Path) -> Path:
    """``sys_dir``, a Meltano system dir of its own that uses ``installed``'s plugins.

    The plugins' directories are linked, the system database and run files are not: runs
    and state stay the test's own.
    """
    sys_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders"):
        (sys_dir / kind).symlink_to(installed / kind, target_is_directory=True)
    return sys_dir


def run_meltano(
    *args: str, env: dict[str, str], wrapper: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the project's Meltano (from the test's virtualenv) in the repository root.

    ``wrapper``: a command that runs Meltano itself (``... -- meltano ...``).
    """
    return subprocess.run(
        [*wrapper, str(Path(sys.executable).with_name("meltano")), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created): one test worker at a time inside.

    The two workers of ``make test`` may reach the same one-time build together.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def once(done: Path) -> Iterator[bool]:
    """Whether the caller must build what ``done`` marks, under a lock beside it.

    Yields True to the first caller only (``done`` is written when its block ends without
    error); a second worker arriving meanwhile waits, then gets False.
    """
    with exclusive(done.with_name(done.name + ".lock")):
        needed = not done.exists()
        yield needed
        if needed:
            done.touch()


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of this pytest run that every test worker shares.

    Under xdist each worker's base directory is ``popen-gwN`` inside it; alone, it is the
    base directory itself (its parent holds earlier runs).
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def side_venv(venv: Path, *packages: str) -> Path:
    """A virtualenv of its own for a tool the tests drive (built once); its python.

    A stamp in it names the packages, so a venv whose install failed or whose pins changed
    is completed rather than trusted. A lock beside it keeps a second worker from building
    it at the same time (it waits, then finds the stamp).
    """
    python = venv / "bin" / "python"
    stamp = venv / (".installed-" + "-".join(sorted(packages)).replace("/", "_")[:200])
    # The lock is beside the venv, not in it: uv will not make a venv in a directory.
    with exclusive(venv.with_name(venv.name + ".lock")):
        if not stamp.exists():
            uv = Path(sys.executable).with_name("uv")
            if not python.exists():
                subprocess.run(
                    [str(uv), "venv", "--python", sys.executable, str(venv)],
                    check=True,
                    capture_output=True,
                )
            subprocess.run(
                [str(uv), "pip", "install", "--python", str(python), *packages],
                check=True,
                capture_output=True,
                timeout=900,
            )
            stamp.touch()
    return python


def requested_partitions(log_text: str, stream: str, key: str) -> list[t.Any]:
    """The partition ``key`` of each HTTP request a stream made for a partition, in order."""
    # Requests made outside a partition (category discovery) carry no context tag.
    return [
        p["tags"]["context"][key]
        for p in metric_points(log_text, "http_request_duration")
        if p["tags"]["stream"] == stream and "context" in p["tags"]
    ]


@dataclass
class PartitionRounds:
    """Which partitions successive runs finished, from the order they request them in.

    A partition is finished once a run requests another one after it: the last one a
    run requests may have been cut short (by a budget) and resumed by the next run.
    """

    partitions: set[t.Any]
    done: set[t.Any] = field(default_factory=set)
    current: t.Any = None

    def rereads(self, order: Iterable[t.Any]) -> list[t.Any]:
        """Finished partitions a run requested again before every partition was finished."""
        again = []
        for partition, _ in itertools.groupby(order):
            if self.current is not None and partition != self.current:
                self.done.add(self.current)
            if self.done == self.partitions:
                break  # the round is over: the next one checks every partition again
            if partition in self.done:
                again.append(partition)
            self.current = partition
        return again


@contextlib.contextmanager
def local_s3(bucket: str) -> Iterator[str]:
    """A moto S3 server on a free 127.0.0.1 port, empty but for ``bucket``; its URL."""
    import requests
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # moto keeps its data per process, not per server: start from an empty S3.
        requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
        s3_client(url).create_bucket(Bucket=bucket)
        yield url
    finally:
        server.stop()


def s3_client(url: str) -> t.Any:
    """A boto3 S3 client for a local S3 (moto takes any credentials)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e-secret",
    )


def s3_objects(url: str, bucket: str, prefix: str) -> dict[str, list[dict[str, t.Any]]]:
    """Every JSONL object under ``prefix`` (gzip or not), decoded: key -> rows."""
    import gzip

    s3 = s3_client(url)
    out: dict[str, list[dict[str, t.Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            out[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return out
