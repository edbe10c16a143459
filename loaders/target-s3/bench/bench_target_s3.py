"""Throughput and peak memory of target-s3 on a large run against a local S3 (moto).

Usage: python loaders/target-s3/bench/bench_target_s3.py [--records 100000]
Feeds product-like records (about 1.2 KB of JSON each) through the real console script and
writes results.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

OUT = Path(__file__).with_name("results.md")
# Peak RSS must be read from a small parent: a child forked from this process would
# count the pages it shares with the benchmark's own (large) memory.
WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
    "sys.stderr.write(f'MAXRSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n'); "
    "sys.exit(rc)"
)
TARGET = str(Path(sys.executable).with_name("target-s3"))


def records(n: int) -> bytes:
    """SCHEMA + n RECORD lines + STATE, as bytes."""
    rng = random.Random(7)
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "price": {"type": "object", "properties": {"current": {"type": "object"}}},
            "imageUrl": {"type": "string"},
            "additionalImageUrls": {"type": "array", "items": {"type": "string"}},
            "facets": {"type": "array", "items": {"type": "integer"}},
        },
    }
    lines = [
        json.dumps(
            {"type": "SCHEMA", "stream": "products", "schema": schema, "key_properties": ["id"]}
        )
    ]
    for i in range(n):
        record = {
            "id": 200_000_000 + i,
            "name": f"ASOS DESIGN item {rng.random():.8f}",
            "price": {"current": {"value": round(rng.uniform(5, 200), 2), "text": ""}},
            "imageUrl": f"images.asos-media.com/products/x/{i}-{rng.getrandbits(64):x}",
            "additionalImageUrls": [f"images.asos-media.com/p/{i}-{k}" for k in range(4)],
            "facets": [rng.getrandbits(32) for _ in range(40)],
        }
        lines.append(json.dumps({"type": "RECORD", "stream": "products", "record": record}))
    lines.append(json.dumps({"type": "STATE", "value": {"n": n}}))
    return ("\n".join(lines) + "\n").encode()


def run(data: bytes, buffer_mib: int, url: str) -> dict[str, float]:
    """One run of the target; returns MB/s in and out and peak RSS."""
    bucket = f"bench-{buffer_mib}-{time.monotonic_ns()}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="b",
        aws_secret_access_key="b",
    )
    client.create_bucket(Bucket=bucket)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as config:
        json.dump(
            {
                "bucket": bucket,
                "endpoint_url": url,
                "buffer_size_mib": buffer_mib,
                "validate_records": False,
            },
            config,
        )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "b", "AWS_SECRET_ACCESS_KEY": "b"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, TARGET, "--config", config.name],
        input=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    status = result.returncode
    maxrss_kib = int(result.stderr.decode().rsplit("MAXRSS ", 1)[1].split()[0])
    os.unlink(config.name)
    stored = sum(o["Size"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert status == 0, status
    return {
        "seconds": elapsed,
        "in_mb_s": len(data) / elapsed / 1e6,
        "out_mb_s": stored / elapsed / 1e6,
        "rss_mib": maxrss_kib / 1024,
        "stored_mb": stored / 1e6,
    }


def main() -> None:
    """Run with two buffer sizes and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    data = records(args.records)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        rows = [(mib, run(data, mib, f"http://{host}:{port}")) for mib in (8, 32)]
    finally:
        server.stop()
    lines = [
        "# target-s3 throughput",
        "",
        f"Measured {datetime.now(tz=timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, moto server in the benchmark process. {args.records:,} "
        f"records, {len(data) / 1e6:,.0f} MB of Singer input, gzip level 6, validation off.",
        f"Command: `python loaders/target-s3/bench/bench_target_s3.py --records {args.records}`",
        "",
        "| buffer_size_mib | seconds | input MB/s | gzip output MB/s | stored MB | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {mib} | {r['seconds']:.1f} | {r['in_mb_s']:.1f} | {r['out_mb_s']:.1f} | "
            f"{r['stored_mb']:.1f} | {r['rss_mib']:.0f} |"
            for mib, r in rows
        ],
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
