"""target-s3: Singer records to S3 as (gzip) JSONL, from memory, with multipart uploads."""

from __future__ import annotations
