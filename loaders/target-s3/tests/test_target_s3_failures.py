"""target-s3 under failure: no local files, no partial objects, clean errors, no secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from collections import Counter

import boto3
import pytest
from botocore.config import Config
from conftest import SECRET
from helpers_s3 import TARGET, messages, read_objects, run_target, write_config

if t.TYPE_CHECKING:
    from pathlib import Path

    from conftest import S3

# Runs the target with an audit hook that records every file opened for writing.
AUDITED = """
import os, sys
writes = []
def hook(event, args):
    if event == "open" and args[0] is not None and not isinstance(args[0], int):
        mode, flags = args[1], args[2]
        writing = (mode and any(c in str(mode) for c in "wax+")) or (
            flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing:
            writes.append(str(args[0]))
sys.addaudithook(hook)
import atexit
atexit.register(lambda: sys.stderr.write("AUDIT-WRITES " + repr(writes) + "\\n"))
from target_s3.target import TargetS3
TargetS3.cli()
"""


def test_no_file_is_written_during_a_run(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url, buffer_size_mib=5
    )
    work = tmp_path / "cwd"
    work.mkdir()
    (tmp_path / "tmp").mkdir()
    lines = messages({"products": 3000, "details": 3000}, blob=3000)
    result = subprocess.run(
        [sys.executable, "-c", AUDITED, "--config", str(config)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=work,
        env={**os.environ, **s3.env(), "TMPDIR": str(tmp_path / "tmp")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    audit = next(x for x in result.stderr.splitlines() if x.startswith("AUDIT-WRITES"))
    assert audit == "AUDIT-WRITES []"
    assert not any(work.iterdir())
    assert not any((tmp_path / "tmp").iterdir())
    rows = [r for rows in read_objects(s3.client, s3.bucket).values() for r in rows]
    assert len(rows) == 6000  # 18 MB of hex: several multipart parts per stream


def test_killed_run_leaves_no_object_and_the_rerun_completes(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url, buffer_size_mib=5
    )
    lines = messages({"products": 4000}, blob=4000)
    process = subprocess.Popen(
        [TARGET, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **s3.env()},
        cwd=tmp_path,
    )
    assert process.stdin is not None
    try:
        for line in lines[: len(lines) * 3 // 4]:
            process.stdin.write(line + "\n")
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads"):
            assert time.monotonic() < deadline, "no part was ever uploaded"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert read_objects(s3.client, s3.bucket) == {}, "a killed run left a visible object"

    rerun = run_target(config, lines, s3.env(), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = [r for rows in read_objects(s3.client, s3.bucket).values() for r in rows]
    assert Counter(r["id"] for r in rows) == Counter(range(4000))


def test_failure_mid_stream_aborts_the_upload(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json", bucket=s3.bucket, endpoint_url=s3.url, buffer_size_mib=5
    )
    lines = messages({"products": 3000}, blob=4000)[:-1]
    result = run_target(config, [*lines, "{this is not json"], s3.env(), tmp_path)
    assert result.returncode == 1  # not a setting nor S3: the tap's output is broken
    assert "Traceback" in result.stderr
    assert read_objects(s3.client, s3.bucket) == {}
    assert not s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")
    assert not result.stdout.strip(), "STATE must not be emitted for lost data"


def test_missing_bucket_is_a_clear_config_error(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json",
        endpoint_url=s3.url,
        aws_secret_access_key=SECRET,
        aws_access_key_id="x",
    )
    result = run_target(config, messages({"p": 1}), {}, tmp_path)
    assert result.returncode == 2
    assert "'bucket' is a required property" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_bucket_that_does_not_exist_is_a_config_error(s3: S3, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.json", bucket="no-such-lake", endpoint_url=s3.url)
    result = run_target(config, messages({"p": 1}), s3.env(), tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Bucket 'no-such-lake' does not exist" in result.stderr
    assert "check bucket, region and endpoint_url" in result.stderr
    assert "Traceback" not in result.stderr
    assert not result.stdout.strip()


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, {"total_max_attempts": 9, "mode": "standard"}),
        (
            {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "adaptive"},
            {"total_max_attempts": 1, "mode": "adaptive"},
        ),
    ],
    ids=["defaults", "aws-variables"],
)
def test_botocores_retry_variables_win_over_the_targets_defaults(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: dict[str, t.Any]
) -> None:
    from target_s3.target import TargetS3

    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", region_name="us-east-1", config=Config(retries=TargetS3.retries()))
    assert client.meta.config.retries == expected


def test_unreachable_endpoint_fails_without_leaking_the_secret(s3: S3, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.json",
        bucket=s3.bucket,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key=SECRET,
    )
    result = run_target(config, messages({"p": 3}), {"AWS_MAX_ATTEMPTS": "1"}, tmp_path)
    assert result.returncode == 3  # retry later
    assert "S3 unreachable after retries" in result.stderr
    assert "127.0.0.1:9" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert json.dumps(SECRET) not in result.stderr
