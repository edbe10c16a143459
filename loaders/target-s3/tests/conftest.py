"""Fixtures of the target-s3 tests: a real moto S3 server on a free 127.0.0.1 port."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

if t.TYPE_CHECKING:
    from collections.abc import Iterator

KEY_ID = "target-s3-test"
SECRET = "target-s3-test-secret-value"


@dataclass
class S3:
    """A running S3 endpoint with one bucket."""

    url: str
    bucket: str
    client: t.Any

    def env(self) -> dict[str, str]:
        """Credentials for a child process."""
        return {
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_url: str, request: pytest.FixtureRequest) -> S3:
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    bucket = "lake-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    client.create_bucket(Bucket=bucket)
    return S3(url=moto_url, bucket=bucket, client=client)
