"""End to end: the real `meltano run tap-asos target-s3` against the sandbox and moto.

Meltano installs the plugins into a temporary system dir (so the developer's .meltano
is untouched), keeps state in the S3 state backend on the same local S3, and the test
reads the bucket back with boto3.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import typing as t
from collections import Counter
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.helpers import listed_ids

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "asos-lake-e2e"
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("meltano")]


@pytest.fixture
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e-secret",
    ).create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.stop()


def _meltano(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    meltano = Path(sys.executable).with_name("meltano")
    return subprocess.run(
        [str(meltano), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _objects(s3_url: str, prefix: str) -> dict[str, list[dict[str, t.Any]]]:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e-secret",
    )
    out: dict[str, list[dict[str, t.Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            out[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return out


def test_meltano_run_lands_every_record_once_and_resumes_from_s3_state(
    make_sandbox: Callable[..., SandboxServer],
    s3_server: str,
    tmp_path: Path,
) -> None:
    server = make_sandbox(products=400)
    secret_key = server.api_key
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAP_ASOS", "TARGET_S3", "MELTANO_"))
        },
        "MELTANO_SYS_DIR_ROOT": str(tmp_path / "meltano-sys"),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_ENVIRONMENT": "dev",
        "TAP_ASOS_API_URL": server.url,
        "TAP_ASOS_API_KEY": secret_key,
        "TARGET_S3_BUCKET": BUCKET,
        "TARGET_S3_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "e2e",
        "AWS_SECRET_ACCESS_KEY": "e2e-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/meltano-state",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": s3_server,
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": "e2e",
        "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": "e2e-secret",
    }
    first = _meltano(["run", "--install", "tap-asos", "target-s3"], env)
    assert first.returncode == 0, first.stderr[-4000:]
    landed = _objects(s3_server, "asos/dev/")
    products = [r for key, rows in landed.items() if "/products/" in key for r in rows]
    keys = Counter((r["store"], r["categoryId"], r["id"]) for r in products)
    assert keys
    assert max(keys.values()) == 1
    categories = sorted({cid for _, cid, _ in keys})
    truth = {
        ("US", cid, pid)
        for cid in categories
        for pid in listed_ids(server.url, server.api_key, "US", cid)
    }
    assert set(keys) == truth
    details = Counter(
        r["id"] for key, rows in landed.items() if "/product_details/" in key for r in rows
    )
    assert set(details) == {pid for _, _, pid in keys}
    assert max(details.values()) == 1

    state_objects = _objects(s3_server, "meltano-state/")
    assert any("dev:tap-asos-to-target-s3" in key for key in state_objects)

    server.advance(1)
    second = _meltano(["run", "tap-asos", "target-s3"], env)
    assert second.returncode == 0, second.stderr[-4000:]
    after = _objects(s3_server, "asos/dev/")
    new_keys = set(after) - set(landed)
    assert not set(landed) - set(after), "an earlier object was overwritten or removed"
    new_products = [r for key in new_keys if "/products/" in key for r in after[key]]
    now = {
        ("US", cid, pid)
        for cid in categories
        for pid in listed_ids(server.url, server.api_key, "US", cid)
    }
    assert {(r["store"], r["categoryId"], r["id"]) for r in new_products} == now - truth

    for output in (first.stdout + first.stderr, second.stdout + second.stderr):
        assert secret_key not in output
    for rows in after.values():
        assert secret_key not in json.dumps(rows)
