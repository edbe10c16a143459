"""A fault storm for target-s3: its input, the loader in a child process, what it left.

Shared by the fault-storm tests and ``bench/fault_storm.py``. The loader runs as its
console script does (``TargetS3.cli``), in a child process whose boto3 default session
carries a short read timeout: the proxy's held-back answers then cost a fraction of a
second, not botocore's 60 s default. Nothing of the loader is replaced.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import random
import subprocess
import sys
import time
import typing as t
import zlib
from dataclasses import dataclass, field

from helpers_s3 import SCHEMA

if t.TYPE_CHECKING:
    from pathlib import Path

# Records of three streams, round robin. A `products` record carries 40 KB of base64
# (random bytes: gzip keeps ~3/4), so ~170 of them fill a 5 MiB part, the loader's
# floor: a products object of a full batch is a multipart upload of two parts. The two
# other streams are small records: many single-PUT objects.
STREAMS = {"products": 400, "details": 1000, "stock": 1000}
BLOB_BYTES = 30_000
BATCH_SIZE_ROWS = 200
STATE_EVERY = 100  # input lines between two STATE messages
READ_TIMEOUT = 0.4  # seconds; the proxy holds a "slow" answer longer than this
SLOW_SECONDS = 0.6
# No {date}: the keys, and so the calls the proxy draws its faults for, are the same
# every day.
KEY_TEMPLATE = "{stream}/{run_id}-{part:05d}.{ext}"

# Runs target-s3 with a default S3 client config of short timeouts (botocore merges the
# loader's own config, its retries, over it).
_LOADER = """
import boto3, botocore.config, botocore.session
session = botocore.session.get_session()
session.set_default_client_config(
    botocore.config.Config(connect_timeout={timeout}, read_timeout={timeout})
)
boto3.setup_default_session(botocore_session=session)
from target_s3.target import TargetS3
TargetS3.cli()
"""


def storm_input(seed: int, streams: dict[str, int] | None = None) -> list[str]:
    """SCHEMA, RECORD and STATE lines; each STATE's value is the number of lines before it."""
    counts = STREAMS if streams is None else streams
    rng = random.Random(seed)  # noqa: S311 - test data
    lines = [
        json.dumps({"type": "SCHEMA", "stream": s, "schema": SCHEMA, "key_properties": ["id"]})
        for s in counts
    ]
    for i in range(max(counts.values())):
        for stream, n in counts.items():
            if i >= n:
                continue
            blob = rng.randbytes(BLOB_BYTES) if stream == "products" else b""
            record = {
                "id": i,
                "name": f"{stream} {i}",
                "price": i + 0.25,
                "blob": base64.b64encode(blob).decode() if blob else None,
            }
            lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": record}))
            if len(lines) % STATE_EVERY == 0:
                lines.append(json.dumps({"type": "STATE", "value": {"lines": len(lines)}}))
    lines.append(json.dumps({"type": "STATE", "value": {"lines": len(lines)}}))
    return lines


def records_before(lines: list[str], position: int) -> dict[str, set[int]]:
    """The ids of the records of each stream in ``lines[:position]``."""
    out: dict[str, set[int]] = {}
    for line in lines[:position]:
        message = json.loads(line)
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], set()).add(message["record"]["id"])
    return out


def loader_config(bucket: str, endpoint: str, *, max_age: int = 3) -> dict[str, t.Any]:
    """Many objects, 5 MiB parts; STATE (and every open object) drained every ``max_age`` s."""
    return {
        "bucket": bucket,
        "endpoint_url": endpoint,
        "key_template": KEY_TEMPLATE,
        "buffer_size_mib": 5,
        "gzip_level": 1,
        "batch_size_rows": BATCH_SIZE_ROWS,
        "max_batch_age_seconds": max_age,
    }


@dataclass
class Run:
    """One run of the loader: exit code, the STATE it echoed, its log's tail."""

    code: int
    states: list[dict[str, t.Any]]
    log_tail: str
    seconds: float
    proxy: dict[str, t.Any] = field(default_factory=dict)


class Loader:
    """target-s3 in a child process, fed by the caller; its log goes to a file."""

    def __init__(
        self,
        config: dict[str, t.Any],
        env: dict[str, str],
        work: Path,
        *,
        name: str,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        """Start it with ``config`` (written to ``work``) and ``env`` over this one's."""
        path = work / f"{name}.json"
        path.write_text(json.dumps(config))
        self.log = work / f"{name}.log"
        self.started = time.monotonic()
        self.states: list[dict[str, t.Any]] = []
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _LOADER.format(timeout=timeout), "--config", str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env={**_without_retry_settings(os.environ), **env},
                cwd=work,
            )

    def send(self, lines: list[str]) -> None:
        """Write lines to its input (a loader that has exited takes none)."""
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.write(("\n".join(lines) + "\n").encode())
            self.process.stdin.flush()

    def next_state(self) -> dict[str, t.Any] | None:
        """Wait for the next STATE it echoes; None if it ended first."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            return None
        self.states.append(json.loads(line))
        return self.states[-1]

    def close(self) -> None:
        """Kill it if it still runs (a test that failed half way leaves no process)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def finish(self, timeout: float = 300) -> Run:
        """End its input, wait for it; the run."""
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        while self.next_state() is not None:
            pass
        self.process.wait(timeout=timeout)
        return Run(
            code=self.process.returncode,
            states=self.states,
            log_tail=self.log.read_text(errors="replace")[-6000:],
            seconds=time.monotonic() - self.started,
        )


def _without_retry_settings(environ: t.Mapping[str, str]) -> dict[str, str]:
    # A developer's own botocore retry settings would change what a storm does.
    return {k: v for k, v in environ.items() if k not in {"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"}}


@dataclass
class Landed:
    """What a bucket holds after a run."""

    records: dict[str, list[dict[str, t.Any]]]  # by stream
    objects: int
    undecodable: dict[str, str]  # key: why it does not decode whole
    open_uploads: list[str]  # keys of multipart uploads neither completed nor aborted


def landed(client: t.Any, bucket: str, run_id: str | None = None) -> Landed:
    """Read back every object (of ``run_id``'s, if given) and the open uploads.

    Keys are ``{stream}/{run_id}-{part}.jsonl.gz`` (``KEY_TEMPLATE``).
    """
    records: dict[str, list[dict[str, t.Any]]] = {}
    undecodable: dict[str, str] = {}
    objects = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            stream, name = key.split("/", 1)
            if run_id is not None and not name.startswith(f"{run_id}-"):
                continue
            objects += 1
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            try:
                text = gzip.decompress(body) if key.endswith(".gz") else body
                if not text.endswith(b"\n"):
                    undecodable[key] = "the last line is cut"
                    continue
                rows = [json.loads(line) for line in text.splitlines()]
            except (OSError, EOFError, zlib.error, ValueError) as exc:
                undecodable[key] = f"{type(exc).__name__}: {exc}"
                continue
            records.setdefault(stream, []).extend(rows)
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return Landed(records, objects, undecodable, sorted(u["Key"] for u in uploads))


def _ids(landed: Landed) -> dict[str, set[int]]:
    return {stream: {r["id"] for r in rows} for stream, rows in landed.records.items()}


def state_gaps(lines: list[str], states: list[dict[str, t.Any]], after: Landed) -> list[str]:
    """Each echoed STATE that covers a record no object holds: what it misses."""
    ids = _ids(after)
    gaps = []
    for state in states:
        for stream, covered in records_before(lines, state["lines"]).items():
            if missing := covered - ids.get(stream, set()):
                gaps.append(f"STATE {state} covers {stream} {sorted(missing)[:5]}")
    return gaps


def same_records(one: Landed, other: Landed) -> bool:
    """Whether two runs landed the same records, stream by stream (order aside)."""

    def key(row: dict[str, t.Any]) -> int:
        return int(row["id"])

    return set(one.records) == set(other.records) and all(
        sorted(rows, key=key) == sorted(other.records[stream], key=key)
        for stream, rows in one.records.items()
    )


def lost(lines: list[str], *after: Landed) -> dict[str, list[int]]:
    """The input's records that none of ``after`` holds, by stream (a few of each)."""
    held: dict[str, set[int]] = {}
    for landed_ in after:
        for stream, ids in _ids(landed_).items():
            held.setdefault(stream, set()).update(ids)
    expected = records_before(lines, len(lines))
    return {
        stream: sorted(ids - held.get(stream, set()))[:5]
        for stream, ids in expected.items()
        if ids - held.get(stream, set())
    }
