"""target-s3: settings, S3 client, object naming, and clean-up on failure."""

from __future__ import annotations

import contextvars
import os
import secrets
import sys
import typing as t
from datetime import datetime, timezone
from functools import cached_property

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from singer_sdk import typing as th
from singer_sdk.target_base import Target
from typing_extensions import override

from target_s3.failures import EXIT_UNEXPECTED, BucketError, classify_failure
from target_s3.sinks import S3JsonlSink
from target_s3.stopping import GracefulInput, wait_until_read

if t.TYPE_CHECKING:
    from types import FrameType

    from target_s3.upload import S3ObjectWriter

DEFAULT_KEY_TEMPLATE = "{prefix}{stream}/dt={date}/{run_id}-{part:05d}.{ext}"


class TargetS3(Target):
    """Singer target writing (gzip) JSONL objects to S3 without touching local disk."""

    name = "target-s3"
    package_name = "asos-target-s3"
    default_sink_class = S3JsonlSink
    config_jsonschema = th.PropertiesList(
        th.Property(
            "bucket",
            th.StringType(min_length=3),
            required=True,
            title="Bucket",
            description="S3 bucket to write to.",
        ),
        th.Property(
            "prefix",
            th.StringType,
            default="",
            title="Prefix",
            description="Key prefix, e.g. 'asos/prod/'. Used as {prefix}.",
        ),
        th.Property(
            "key_template",
            th.StringType,
            default=DEFAULT_KEY_TEMPLATE,
            title="Key template",
            description="Object key. Placeholders: {prefix} {environment} {stream} "
            "{date} (UTC run date, YYYY-MM-DD) {run_id} (unique per run) {part} "
            "(object number per stream in the run) {ext}. Keep {run_id} and {part}: "
            "they make keys unique, so no run overwrites another.",
        ),
        th.Property(
            "environment",
            th.StringType,
            title="Environment",
            description="Value of {environment}; default: $MELTANO_ENVIRONMENT.",
        ),
        th.Property(
            "endpoint_url",
            th.StringType,
            title="Endpoint URL",
            description="S3 endpoint, for S3-compatible or local servers.",
        ),
        th.Property(
            "region",
            th.StringType,
            default="us-east-1",
            title="Region",
            description="AWS region of the bucket.",
        ),
        th.Property(
            "aws_access_key_id",
            th.StringType,
            secret=True,
            title="Access key id",
            description="Optional; default: boto3's chain (environment, profile, instance role).",
        ),
        th.Property(
            "aws_secret_access_key",
            th.StringType,
            secret=True,
            title="Secret access key",
            description="Optional, with aws_access_key_id.",
        ),
        th.Property(
            "aws_session_token",
            th.StringType,
            secret=True,
            title="Session token",
            description="Optional, for temporary credentials.",
        ),
        th.Property(
            "compression",
            th.StringType,
            default="gzip",
            allowed_values=["gzip", "none"],
            title="Compression",
            description="gzip (.jsonl.gz) or none (.jsonl).",
        ),
        th.Property(
            "gzip_level",
            th.IntegerType(minimum=1, maximum=9),
            default=6,
            title="Gzip level",
            description="1 (fast) to 9 (small).",
        ),
        th.Property(
            "max_batch_age_seconds",
            th.IntegerType(minimum=1),
            default=300,
            title="Max batch age (s)",
            description="Complete every open object and emit the latest STATE at least this "
            "often. Lower: fresher state, more objects.",
        ),
        th.Property(
            "buffer_size_mib",
            th.IntegerType(minimum=5, maximum=512),
            default=16,
            title="Buffer size (MiB)",
            description="Compressed bytes held in memory before they are uploaded "
            "as one multipart part (S3 needs at least 5). Bounds memory per stream.",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Fix the run's id and date; a command-line run checks the bucket first.

        Built by ``TargetS3.invoke`` (the command line), the target checks the bucket
        and the credentials before it reads a line, so a pipeline stops before the tap
        spends its run; built in-process, nothing touches S3 before the first record.
        """
        super().__init__(*args, **kwargs)
        now = datetime.now(tz=timezone.utc)
        self.run_date = now.strftime("%Y-%m-%d")
        self.run_id = os.environ.get("MELTANO_RUN_ID") or (
            f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        )
        self.open_writers: set[S3ObjectWriter] = set()
        # The SDK drains every sink (objects completed, then STATE emitted) when the
        # oldest pending record is older than this.
        self._MAX_RECORD_AGE_IN_MINUTES = float(self.config.get("max_batch_age_seconds", 300)) / 60
        self._parts: dict[str, int] = {}
        if (built := _BUILT.get()) is not None:
            built.append(self)
            self.check_bucket()

    def check_bucket(self) -> None:
        """Check that the bucket exists and the credentials may use it (one HeadBucket).

        HeadBucket needs only s3:ListBucket, which a run has anyway (multipart uploads
        are listed to clean up); it answers with a bare status, no error code.

        Raises:
            BucketError: The bucket does not exist, or access to it is denied.
            botocore.exceptions.NoCredentialsError: No credentials were found.
        """
        bucket = str(self.config["bucket"])
        where = self.config.get("endpoint_url") or f"AWS region {self.config.get('region')}"
        try:
            self.s3_client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchBucket"}:
                msg = (
                    f"Bucket {bucket!r} does not exist at {where}. Create it, or check "
                    "bucket, region and endpoint_url."
                )
                raise BucketError(msg) from None
            if code in {"403", "AccessDenied"}:
                msg = (
                    f"Access to bucket {bucket!r} at {where} denied (HeadBucket, which "
                    "needs s3:ListBucket). Check the credentials and the bucket's policy."
                )
                raise BucketError(msg) from None
            raise

    @cached_property
    def s3_client(self) -> t.Any:  # noqa: ANN401 - boto3 clients are dynamically typed
        """One S3 client for the run (thread-safe for uploads)."""
        keys = {
            "aws_access_key_id": self.config.get("aws_access_key_id"),
            "aws_secret_access_key": self.config.get("aws_secret_access_key"),
            "aws_session_token": self.config.get("aws_session_token"),
        }
        return boto3.client(
            "s3",
            endpoint_url=self.config.get("endpoint_url") or None,
            region_name=self.config.get("region") or None,
            config=Config(retries=self.retries()),
            **{k: v for k, v in keys.items() if v},
        )

    @staticmethod
    def retries() -> dict[str, t.Any]:
        """The S3 client's retries: 8 after the first, standard, unless AWS_* variables say.

        A value given here would hide botocore's own AWS_MAX_ATTEMPTS and AWS_RETRY_MODE,
        so each is set only when its variable is not. Standard, not adaptive: adaptive's
        client-side rate limit, switched on by the first SlowDown, then delays every
        later call of the run (clean-up included), though the loader sends one call at a
        time a stream; standard already waits 1 s, doubling, after each SlowDown. Under
        a 30 % fault storm adaptive cost more time a fault (bench/fault-storm.md).
        """
        retries: dict[str, t.Any] = {}
        if not os.environ.get("AWS_MAX_ATTEMPTS"):
            retries["max_attempts"] = 8  # retries after the first attempt
        if not os.environ.get("AWS_RETRY_MODE"):
            retries["mode"] = "standard"
        return retries

    def object_key(self, stream: str, *, gzip: bool) -> str:
        """The next object key of a stream in this run."""
        part = self._parts.get(stream, 0) + 1
        self._parts[stream] = part
        return str(self.config.get("key_template") or DEFAULT_KEY_TEMPLATE).format(
            prefix=self.config.get("prefix") or "",
            environment=self.config.get("environment")
            or os.environ.get("MELTANO_ENVIRONMENT", "default"),
            stream=stream,
            date=self.run_date,
            run_id=self.run_id,
            part=part,
            ext="jsonl.gz" if gzip else "jsonl",
        )

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK drains inside the handler; here the signal ends the input instead
        # (see target_s3.stopping) and the SDK's end of input drains.
        source = _INPUT.get()
        if source is None:
            raise SystemExit(128 + signum)
        source.on_stop(signum, frame)

    def abort_open_uploads(self) -> None:
        """Abort every unfinished object, so a failed run leaves none half-written."""
        for writer in list(self.open_writers):
            writer.abort()
        self.open_writers.clear()

    @override
    @classmethod
    def invoke(cls, **kwargs: t.Any) -> None:
        # Target.invoke builds the target and listens. If anything fails, the target
        # it built (see __init__) aborts its unfinished uploads, so a failed run leaves
        # no object half-written; a known failure then ends in one line and its exit
        # code. (SIGINT/SIGTERM are a graceful stop, see listen: every object is
        # completed, the final STATE emitted, nothing is left open to abort, then the exit
        # code is 128 + the signal.)
        built: list[TargetS3] = []
        token = _BUILT.set(built)
        source = GracefulInput(kwargs.get("file_input") or sys.stdin)
        input_token = _INPUT.set(source)
        source.install()
        try:
            super().invoke(**{**kwargs, "file_input": source})
            _exit_after_stop(source)
        except BaseException as exc:
            for target in built:
                target.abort_open_uploads()
            failure = classify_failure(exc)
            if not isinstance(exc, Exception) or failure.code == EXIT_UNEXPECTED:
                raise
            # The code in the line too: a pipeline that stops on the loader's failure
            # (Meltano, when the tap then breaks its pipe) may not report it.
            cls.logger.error("%s (exit %d)", failure.message, failure.code)  # noqa: TRY400
            raise SystemExit(failure.code) from None
        finally:
            source.uninstall()
            _INPUT.reset(input_token)
            _BUILT.reset(token)


def _exit_after_stop(source: GracefulInput) -> None:
    """After a stop by signal: exit 128 + its number once the final STATE was read."""
    if source.exit_code is not None:
        # meltano run stops reading the target's output when the target exits: the
        # final STATE must have left the pipe by then.
        wait_until_read(sys.stdout)
        raise SystemExit(source.exit_code)


# The input of the run under way: a signal ends it (TargetS3._handle_termination).
_INPUT: contextvars.ContextVar[GracefulInput | None] = contextvars.ContextVar(
    "target_s3_input", default=None
)
# The targets TargetS3.invoke built (Target.invoke does not hand them back).
_BUILT: contextvars.ContextVar[list[TargetS3] | None] = contextvars.ContextVar(
    "target_s3_built", default=None
)


if __name__ == "__main__":
    TargetS3.cli()
