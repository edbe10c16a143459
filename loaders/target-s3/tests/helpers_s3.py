"""Singer message builders and S3 readers shared by the target-s3 tests."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterable

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "price": {"type": ["number", "null"]},
        "blob": {"type": ["string", "null"]},
    },
}
TARGET = str(Path(sys.executable).with_name("target-s3"))


def messages(streams: dict[str, int], *, blob: int = 0, states: int = 1) -> list[str]:
    """SCHEMA, RECORD and STATE lines: ``n`` records per stream, ids 0..n-1."""
    lines = [
        json.dumps({"type": "SCHEMA", "stream": s, "schema": SCHEMA, "key_properties": ["id"]})
        for s in streams
    ]
    total = max(streams.values(), default=0)
    for i in range(total):
        for stream, n in streams.items():
            if i < n:
                record = {
                    "id": i,
                    "name": f"{stream} {i}",
                    "price": i + 0.99,
                    "blob": os.urandom(blob // 2).hex() if blob else None,
                }
                lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": record}))
        if states and i and i % max(1, total // states) == 0:
            lines.append(json.dumps({"type": "STATE", "value": {"upto": i}}))
    lines.append(json.dumps({"type": "STATE", "value": {"upto": total}}))
    return lines


def write_config(path: Path, **config: t.Any) -> Path:
    """Write a target config file."""
    path.write_text(json.dumps(config))
    return path


def run_target(
    config: Path,
    lines: Iterable[str],
    env: dict[str, str],
    cwd: Path,
) -> subprocess.CompletedProcess[str]:
    """Run the target-s3 console script on the given lines."""
    return subprocess.run(
        [TARGET, "--config", str(config)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def read_objects(client: t.Any, bucket: str, prefix: str = "") -> dict[str, list[dict[str, t.Any]]]:
    """Every object under a prefix, decoded as JSONL."""
    out: dict[str, list[dict[str, t.Any]]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            out[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return out
