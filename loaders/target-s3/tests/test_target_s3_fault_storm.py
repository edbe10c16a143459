"""target-s3 under an S3 fault storm: every record lands, or the run exits 3 and its rerun does.

A local proxy (``s3_fault_proxy``) in front of a moto server answers about 30 % of the S3
calls with SlowDown (503), InternalError (500), a reset in the middle of the request
body, or an answer held back past the client's read timeout. One storm (run once per
test session and shared by the workers: the ``storm`` fixture) feeds the loader three
streams that make many objects, products ones in multipart parts:

- ``storm``: the whole input through the proxy, with the loader's own retries;
- ``failed``: through the proxy with three attempts a call (``AWS_MAX_ATTEMPTS=3``), fed
  in two chunks: after the first, a pause drains every object and echoes a STATE; then
  S3 stops committing (PutObject and CompleteMultipartUpload fail; parts, aborts and
  lists still pass through the storm), and the next drain fails (exit 3) with a
  multipart upload open;
- ``rerun``: the same input into the failed run's bucket, without faults: the rerun an
  operator makes, and the clean run the others are compared with (its own objects).

The tests below each check one promise on those runs; the last ones break single calls
on purpose, in-process, to pin the bugs the storm found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gzip
import json
import os
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from conftest import KEY_ID, SECRET
from helpers_storm import (
    READ_TIMEOUT,
    SLOW_SECONDS,
    Landed,
    Loader,
    Run,
    landed,
    loader_config,
    lost,
    same_records,
    state_gaps,
    storm_input,
)
from s3_fault_proxy import KINDS, FaultPlan, FaultProxy
from target_s3.upload import MIB, S3ObjectWriter

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import S3

INPUT_SEED = 5
# The storm's first faults fall on products' first multipart upload (the calls before
# it are the same in every run): its CreateMultipartUpload is reset, then answered too
# late (S3 started an upload the loader never hears of), and its second part is reset
# in the middle of its body.
STORM_SEED = 194
# The failed run's calls before S3 stops committing each pass within three attempts.
FAILED_SEED = 17
# The failed run's first chunk ends after its 3rd STATE: products' first object then
# holds ~100 records, less than a part.
FIRST_CHUNK_STATES = 3
AGE_PAUSE = 1.2  # > the failed run's max_batch_age_seconds: the next record drains all
COMMITS = ("PutObject", "CompleteMultipartUpload")


class Storm(t.NamedTuple):
    """The storm's input, each run, and what its bucket held after it."""

    lines: list[str]
    runs: dict[str, Run]
    landed: dict[str, Landed]  # storm, failed, rerun (the bucket), clean (the rerun's own)


def _env(run_id: str, **more: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "MELTANO_RUN_ID": run_id,
        **more,
    }


def _storm_run(lines: list[str], moto: str, work: Path) -> Run:
    with (
        FaultProxy(moto, FaultPlan(seed=STORM_SEED, slow_seconds=SLOW_SECONDS)) as proxy,
        contextlib.closing(
            Loader(loader_config("storm", proxy.url), _env("storm"), work, name="storm")
        ) as loader,
    ):
        loader.send(lines)
        run = loader.finish()
        run.proxy = proxy.summary()
    return run


def _chunks(lines: list[str]) -> tuple[list[str], list[str]]:
    states = [i for i, line in enumerate(lines) if '"type": "STATE"' in line]
    first = states[FIRST_CHUNK_STATES - 1] + 1
    return lines[:first], lines[first:]


def _failed_run(lines: list[str], moto: str, work: Path) -> Run:
    first, rest = _chunks(lines)
    with (
        FaultProxy(moto, FaultPlan(seed=FAILED_SEED, slow_seconds=SLOW_SECONDS)) as proxy,
        contextlib.closing(
            Loader(
                loader_config("failed", proxy.url, max_age=1),
                _env("failed", AWS_MAX_ATTEMPTS="3"),
                work,
                name="failed",
            )
        ) as loader,
    ):
        loader.send(first)
        time.sleep(AGE_PAUSE)
        loader.send(rest[:1])
        loader.next_state()  # the first chunk's objects are complete
        proxy.plan = dataclasses.replace(
            proxy.plan, script=dict.fromkeys(COMMITS, ("reset", "internal", "slowdown"))
        )
        loader.send(rest[1:])
        run = loader.finish()
        run.proxy = proxy.summary()
    return run


def _storm(moto: str, work: Path) -> Storm:
    """The storm run, beside the failed run then its rerun."""
    client = boto3.client(
        "s3",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    for bucket in ("storm", "failed"):
        client.create_bucket(Bucket=bucket)
    lines = storm_input(INPUT_SEED)
    with (
        ThreadPoolExecutor(1) as pool,
        # The rerun starts (imports, checks the bucket) now, to save a second; it reads
        # its first line after the failed run has ended.
        contextlib.closing(
            Loader(loader_config("failed", moto), _env("rerun"), work, name="rerun")
        ) as rerun,
    ):
        storm = pool.submit(_storm_run, lines, moto, work)
        failed = _failed_run(lines, moto, work)
        after_failed = landed(client, "failed")
        rerun.send(lines)
        runs = {"storm": storm.result(), "failed": failed, "rerun": rerun.finish()}
    return Storm(
        lines,
        runs,
        {
            "storm": landed(client, "storm"),
            "failed": after_failed,
            "rerun": landed(client, "failed"),
            "clean": landed(client, "failed", run_id="rerun"),
        },
    )


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def storm(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Storm:
    """The storm, run once per session: the first worker runs it, the other reads it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    results = shared / "target-s3-fault-storm.json"
    with _exclusive(shared / "target-s3-fault-storm.lock"):
        if not results.exists():
            done = _storm(moto_url, tmp_path_factory.mktemp("fault-storm"))
            results.write_text(
                json.dumps(
                    {
                        "lines": done.lines,
                        "runs": {k: dataclasses.asdict(v) for k, v in done.runs.items()},
                        "landed": {k: dataclasses.asdict(v) for k, v in done.landed.items()},
                    }
                )
            )
    data = json.loads(results.read_text())
    return Storm(
        data["lines"],
        {k: Run(**v) for k, v in data["runs"].items()},
        {k: Landed(**v) for k, v in data["landed"].items()},
    )


def _ids(landed: Landed) -> dict[str, set[int]]:
    return {stream: {r["id"] for r in rows} for stream, rows in landed.records.items()}


def test_a_fault_storm_lands_every_record_or_fails_with_its_exit_code(storm: Storm) -> None:
    clean = storm.landed["clean"]
    assert storm.runs["rerun"].code == 0, storm.runs["rerun"].log_tail
    assert lost(storm.lines, clean) == {}
    for name in ("storm", "failed"):
        run = storm.runs[name]
        assert run.code in {0, 3}, f"{name}: exit {run.code}\n{run.log_tail}"
        assert SECRET not in run.log_tail
        if run.code == 3:
            assert "Retry later. (exit 3)" in run.log_tail or "then retry. (exit 3)" in run.log_tail
        else:
            assert same_records(storm.landed[name], clean), f"{name} differs from the clean run"
    # Both ends of the promise were met: the storm landed everything, the other failed.
    assert storm.runs["storm"].code == 0, storm.runs["storm"].log_tail
    assert storm.runs["failed"].code == 3, storm.runs["failed"].log_tail


def test_no_multipart_upload_is_left_open_after_a_fault_storm(storm: Storm) -> None:
    for name in ("storm", "failed", "rerun"):
        assert storm.landed[name].open_uploads == [], name
    # The failed run did have one open when S3 stopped taking writes: it was aborted.
    assert storm.runs["failed"].proxy["requests"]["AbortMultipartUpload"] >= 1


def test_every_object_a_fault_storm_leaves_decodes_whole(storm: Storm) -> None:
    for name in ("storm", "failed", "rerun"):
        assert storm.landed[name].undecodable == {}, name
        assert storm.landed[name].objects > 0, name


def test_echoed_state_never_covers_a_record_not_in_a_completed_object(storm: Storm) -> None:
    for name in ("storm", "failed", "rerun"):
        run, after = storm.runs[name], storm.landed[name]
        assert state_gaps(storm.lines, run.states, after) == [], name
    # The failed run echoed the STATE of its first chunk before it failed, and none after.
    first, _ = _chunks(storm.lines)
    assert storm.runs["failed"].states == [json.loads(first[-1])["value"]]


def test_the_rerun_after_a_failed_storm_loses_nothing(storm: Storm) -> None:
    rerun = storm.runs["rerun"]
    assert rerun.code == 0, rerun.log_tail
    assert rerun.states[-1] == json.loads(storm.lines[-1])["value"]
    # The bucket holds the failed run's objects and the rerun's.
    assert lost(storm.lines, storm.landed["rerun"]) == {}
    # The failed run had landed some: records are duplicated across the runs, not lost.
    failed = _ids(storm.landed["failed"])
    assert failed
    assert all(ids <= _ids(storm.landed["rerun"])[s] for s, ids in failed.items())


def test_the_storm_injects_every_kind_of_fault_on_about_30_percent_of_calls(
    storm: Storm,
) -> None:
    proxy = storm.runs["storm"].proxy
    injected = sum(proxy["injected"].values())
    assert 0.1 <= injected / proxy["attempts"] <= 0.5, proxy
    assert set(proxy["injected"]) == set(KINDS), proxy
    assert proxy["retries"] >= injected, proxy
    # Many objects, multipart parts among them.
    assert storm.landed["storm"].objects >= 12
    assert proxy["requests"]["UploadPart"] >= 2, proxy
    assert storm.runs["storm"].states, "no STATE echoed"


# Single faults on purpose, in-process: an S3ObjectWriter through the proxy.


def _client(url: str, attempts: int = 9) -> t.Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(
            connect_timeout=READ_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"total_max_attempts": attempts, "mode": "standard"},
        ),
    )


def _write(writer: S3ObjectWriter, mib: int) -> None:
    # Incompressible lines: every MiB written is a MiB stored.
    for _ in range(mib * 16):
        writer.write(os.urandom(32 * 1024).hex().encode()[: 64 * 1024 - 1] + b"\n")


@pytest.fixture
def proxied(s3: S3) -> Iterator[t.Callable[[dict[str, tuple[str | None, ...]]], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def start(script: dict[str, tuple[str | None, ...]]) -> FaultProxy:
        proxies.append(FaultProxy(s3.url, FaultPlan(script=script, slow_seconds=SLOW_SECONDS)))
        return proxies[-1].start()

    yield start
    for proxy in proxies:
        proxy.stop()


def _open_uploads(s3: S3) -> list[str]:
    return [u["Key"] for u in s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])]


def test_a_create_whose_answer_was_lost_leaves_no_upload_open(s3: S3, proxied: t.Any) -> None:
    proxy = proxied({"CreateMultipartUpload": ("slow",)})
    writer = S3ObjectWriter(_client(proxy.url), s3.bucket, "k", part_size=5 * MIB, gzip_level=None)
    _write(writer, 6)
    writer.complete()
    assert proxy.injected == {"slow": 1}
    assert proxy.requests["CreateMultipartUpload"] == 2  # the first one did start an upload
    assert _open_uploads(s3) == []
    assert s3.client.head_object(Bucket=s3.bucket, Key="k")["ContentLength"] > 6 * MIB - 64


def test_an_aborted_object_leaves_no_upload_of_a_lost_create_open(s3: S3, proxied: t.Any) -> None:
    proxy = proxied({"CreateMultipartUpload": ("slow",), "UploadPart": ("internal",) * 3})
    writer = S3ObjectWriter(
        _client(proxy.url, attempts=3), s3.bucket, "k", part_size=5 * MIB, gzip_level=None
    )
    with pytest.raises(Exception, match="InternalError"):
        _write(writer, 6)
    writer.abort()
    assert proxy.requests["CreateMultipartUpload"] == 2
    assert _open_uploads(s3) == []


def test_a_create_that_failed_after_a_lost_answer_leaves_no_upload_open(
    s3: S3, proxied: t.Any
) -> None:
    proxy = proxied({"CreateMultipartUpload": ("slow", "internal")})
    writer = S3ObjectWriter(
        _client(proxy.url, attempts=2), s3.bucket, "k", part_size=5 * MIB, gzip_level=None
    )
    with pytest.raises(Exception, match="InternalError"):
        _write(writer, 6)
    writer.abort()
    assert _open_uploads(s3) == []


def test_a_reset_in_the_middle_of_a_part_upload_is_retried_whole(s3: S3, proxied: t.Any) -> None:
    proxy = proxied({"UploadPart": ("reset",)})
    writer = S3ObjectWriter(_client(proxy.url), s3.bucket, "k", part_size=5 * MIB, gzip_level=1)
    lines = [os.urandom(3000).hex().encode() + b"\n" for _ in range(2000)]  # ~12 MB, 2+ parts
    for line in lines:
        writer.write(line)
    writer.complete()
    assert proxy.injected == {"reset": proxy.requests["UploadPart"] // 2}
    assert proxy.injected["reset"] >= 2
    body = s3.client.get_object(Bucket=s3.bucket, Key="k")["Body"].read()
    assert gzip.decompress(body).splitlines(keepends=True) == lines
    assert _open_uploads(s3) == []
