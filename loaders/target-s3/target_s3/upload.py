"""One S3 object written as a stream: compress in memory, upload in parts, then commit.

Bytes go from the record encoder through gzip into a bounded in-memory buffer; each
time the buffer reaches the part size it becomes one part of a multipart upload.  The
object exists only after ``complete()``; ``abort()`` (or a crash) leaves nothing
visible: S3 never shows an uncompleted multipart upload as an object.

Every call is retried by botocore, and all but one are safe to repeat: a part sent
again replaces itself, a repeated ``CompleteMultipartUpload`` answers as the first did.
``CreateMultipartUpload`` is the exception: when its answer is lost (a timeout, a reset
after S3 acted), the retry starts a second upload and the first one's id is never
known, an upload no abort reaches.  So a writer whose create was retried, or failed,
lists its key's uploads when it ends and aborts those that are not the object.
"""

from __future__ import annotations

import io
import logging
import typing as t
import zlib
from http import HTTPStatus

from botocore.exceptions import BotoCoreError, ClientError

S3Client = t.Any  # boto3 clients are generated at run time

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
# A clean-up call (abort, list) is tried up to this many rounds of botocore's attempts:
# it runs once, at the end of an object, and what it leaves stays until a lifecycle rule.
CLEANUP_ROUNDS = 3

logger = logging.getLogger(__name__)


class S3ObjectWriter:
    """Write one object of a multipart upload from an in-memory, bounded buffer."""

    def __init__(  # noqa: PLR0913
        self,
        client: S3Client,
        bucket: str,
        key: str,
        *,
        part_size: int,
        gzip_level: int | None,
        content_type: str = "application/x-ndjson",
    ) -> None:
        """Prepare the compressor; the upload starts with the first part or at commit."""
        self.client = client
        self.bucket = bucket
        self.key = key
        self.part_size = max(part_size, MIN_PART_SIZE)
        self.content_type = content_type
        # wbits 16+15: a gzip member, readable by gunzip and every lake engine.
        self._compressor = zlib.compressobj(gzip_level, zlib.DEFLATED, 31) if gzip_level else None
        self._buffer = io.BytesIO()
        self._upload_id: str | None = None
        # A CreateMultipartUpload was retried or failed: an upload of this key may exist
        # that this writer never heard of.
        self._strays = False
        self._parts: list[dict[str, t.Any]] = []
        self.records = 0
        self.raw_bytes = 0
        self.stored_bytes = 0

    def write(self, line: bytes) -> None:
        """Add one encoded record line."""
        self.records += 1
        self.raw_bytes += len(line)
        data = self._compressor.compress(line) if self._compressor else line
        if data:
            self._buffer.write(data)
            if self._buffer.tell() >= self.part_size:
                self._upload_part()

    def _upload_part(self) -> None:
        body = self._buffer.getvalue()
        self._buffer = io.BytesIO()
        if self._upload_id is None:
            self._strays = True  # until the answer says no attempt was lost
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self._upload_id = created["UploadId"]
            self._strays = bool(created.get("ResponseMetadata", {}).get("RetryAttempts"))
        number = len(self._parts) + 1
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        self.stored_bytes += len(body)

    def complete(self) -> None:
        """Flush and commit: the object becomes visible, whole, at once."""
        if self._compressor is not None:
            self._buffer.write(self._compressor.flush())
            self._compressor = None
        if self._upload_id is None:
            # Smaller than one part: a single PUT is atomic too.
            body = self._buffer.getvalue()
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, ContentType=self.content_type
            )
            self.stored_bytes += len(body)
        else:
            if self._buffer.tell():
                self._upload_part()
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            if self._strays:
                self._abort_strays(keep=self._upload_id)
        self._buffer = io.BytesIO()
        logger.info(
            "Wrote s3://%s/%s: %d records, %d bytes",
            self.bucket,
            self.key,
            self.records,
            self.stored_bytes,
        )

    def abort(self) -> None:
        """Drop everything written so far; no object appears."""
        self._buffer = io.BytesIO()
        if self._upload_id is not None:
            self._abort_upload(self._upload_id)
            self._upload_id = None
        if self._strays:
            self._abort_strays(keep=None)

    def _abort_strays(self, keep: str | None) -> None:
        """Abort the uploads of this key but ``keep``: those of lost create answers."""
        answer = self._cleanup(
            "list the uploads of",
            lambda: self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.key),
        )
        if answer is None:
            return
        for upload in answer.get("Uploads", []):
            if upload["Key"] == self.key and upload["UploadId"] != keep:
                self._abort_upload(upload["UploadId"])
        self._strays = False

    def _abort_upload(self, upload_id: str) -> None:
        self._cleanup(
            "abort the upload of",
            lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=upload_id
            ),
        )

    def _cleanup(
        self, what: str, call: t.Callable[[], dict[str, t.Any]]
    ) -> dict[str, t.Any] | None:
        """A clean-up call, tried again while S3 fails; its answer, or None.

        Best effort: a lifecycle rule (docs/loader.md) reclaims what is left.
        """
        reason = ""
        for _ in range(CLEANUP_ROUNDS):
            answer, reason, again = _attempt(call)
            if answer is not None:
                return answer
            if not again:
                break
        logger.warning(
            "Could not %s s3://%s/%s (%s); a lifecycle rule with "
            "AbortIncompleteMultipartUpload reclaims what is left",
            what,
            self.bucket,
            self.key,
            reason,
        )
        return None


def _attempt(call: t.Callable[[], dict[str, t.Any]]) -> tuple[dict[str, t.Any] | None, str, bool]:
    """The answer of ``call`` (botocore's retries included), or None, why, and whether to retry.

    ``NoSuchUpload`` answers ``{}``: the upload is gone (an abort whose answer was lost
    went through), which is what a clean-up wants.
    """
    try:
        return call(), "", False
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code"))
        if code == "NoSuchUpload":
            return {}, "", False
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        transient = status >= HTTPStatus.INTERNAL_SERVER_ERROR or code == "SlowDown"
        return None, f"{code}: {error.get('Message')}", transient
    except BotoCoreError as exc:  # connection errors and timeouts, after botocore's retries
        return None, str(exc), True
    except Exception as exc:  # noqa: BLE001 - a clean-up never hides the failure it follows
        return None, f"{type(exc).__name__}: {exc}", False
