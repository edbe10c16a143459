"""Exit-code mapping of target-s3: each failure gets its code and a clear line."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from singer_sdk.exceptions import ConfigValidationError
from target_s3.failures import (
    EXIT_CONFIG,
    EXIT_STORE,
    EXIT_UNEXPECTED,
    BucketError,
    classify_failure,
)


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutObject")


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (
            ConfigValidationError("failed", errors=["'bucket' is a required property"]),
            EXIT_CONFIG,
            "'bucket' is a required property",
        ),
        (NoCredentialsError(), EXIT_CONFIG, "Set aws_access_key_id"),
        (BucketError("Bucket 'x' does not exist"), EXIT_CONFIG, "Bucket 'x' does not exist"),
        (_client_error("NoSuchBucket"), EXIT_CONFIG, "Check bucket, region"),
        (_client_error("AccessDenied"), EXIT_CONFIG, "AccessDenied"),
        (_client_error("InvalidAccessKeyId"), EXIT_CONFIG, "the credentials"),
        (_client_error("SlowDown"), EXIT_STORE, "S3 failed after retries"),
        (_client_error("InternalError"), EXIT_STORE, "Retry later"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            EXIT_STORE,
            "S3 unreachable after retries",
        ),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), EXIT_STORE, "endpoint_url"),
        (ValueError("bad line"), EXIT_UNEXPECTED, "ValueError: bad line"),
    ],
)
def test_each_failure_gets_its_exit_code_and_says_what_to_do(
    exc: BaseException, code: int, needle: str
) -> None:
    failure = classify_failure(exc)
    assert failure.code == code
    assert needle in failure.message
