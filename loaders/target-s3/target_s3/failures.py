"""How a failed load ends: one clear line and an exit code an orchestrator can act on.

The same codes as tap-asos (whose ``tap_asos.failures`` this mirrors; the two are
separate distributions, so neither imports the other):

- ``EXIT_CONFIG`` (2): a setting is wrong (validation, credentials, a missing bucket or
  no access to it; the command line checks the last three at start). Retrying will not
  help.
- ``EXIT_STORE`` (3): S3 failed after botocore's retries (connection, timeouts,
  5xx, throttling). Retry later: no object of the run was completed, and the tap's
  state was not emitted past what was stored.
- ``EXIT_UNEXPECTED`` (1): a bug; the traceback is logged.
"""

from __future__ import annotations

import typing as t

from botocore.exceptions import (
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from singer_sdk.exceptions import ConfigValidationError

EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_STORE = 3
# S3 error codes no retry will change: the credentials, the bucket or the access to it.
_CONFIG_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidBucketName",
        "InvalidToken",
        "NoSuchBucket",
        "SignatureDoesNotMatch",
    }
)


class BucketError(ValueError):
    """The bucket does not exist or the credentials may not use it (checked at start)."""


class Failure(t.NamedTuple):
    """An exit code and the one line that says what to do."""

    code: int
    message: str


def classify_failure(exc: BaseException) -> Failure:
    """The exit code and message for an exception that ended a load.

    botocore's messages name the operation, bucket and endpoint, never the secret key.
    """
    if isinstance(exc, (ConfigValidationError, BucketError)):
        return Failure(
            EXIT_CONFIG,
            "Config validation failed: " + "; ".join(exc.errors)
            if isinstance(exc, ConfigValidationError)
            else str(exc),
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return Failure(
            EXIT_CONFIG,
            f"{exc}. Set aws_access_key_id and aws_secret_access_key, or the AWS_* "
            "environment variables, or a role the runner assumes.",
        )
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _CONFIG_CODES:
            return Failure(
                EXIT_CONFIG, f"{exc}. Check bucket, region, endpoint_url and the credentials."
            )
        return Failure(EXIT_STORE, f"S3 failed after retries: {exc}. Retry later.")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return Failure(
            EXIT_STORE,
            f"S3 unreachable after retries: {exc}. Check endpoint_url and the network, then retry.",
        )
    return Failure(EXIT_UNEXPECTED, f"{type(exc).__name__}: {exc}")
