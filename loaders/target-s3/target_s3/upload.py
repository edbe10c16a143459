"""One S3 object written as a stream: compress in memory, upload in parts, then commit.

Bytes go from the record encoder through gzip into a bounded in-memory buffer; each
time the buffer reaches the part size it becomes one part of a multipart upload.  The
object exists only after ``complete()``; ``abort()`` (or a crash) leaves nothing
visible: S3 never shows an uncompleted multipart upload as an object.
"""

from __future__ import annotations

import io
import logging
import typing as t
import zlib

S3Client = t.Any  # boto3 clients are generated at run time

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last

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
            created = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self._upload_id = created["UploadId"]
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
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
                )
            except Exception:  # noqa: BLE001 - best effort; a lifecycle rule cleans up
                logger.warning("Could not abort the upload of s3://%s/%s", self.bucket, self.key)
            self._upload_id = None
