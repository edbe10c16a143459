"""Print what a pipeline run landed in S3: objects, record counts, a few records."""

from __future__ import annotations

import argparse
import gzip
import json
import os
from collections import Counter

import boto3
import requests


def main() -> None:
    """List the bucket prefix and summarise its JSONL objects."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--sandbox", help="sandbox URL, to print its request counts")
    parser.add_argument("--show", type=int, default=2, help="records to print per stream")
    args = parser.parse_args()

    s3 = boto3.client("s3", endpoint_url=os.environ.get("TARGET_S3_ENDPOINT_URL"))
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.prefix)
    counts: Counter[str] = Counter()
    samples: dict[str, list[dict[str, object]]] = {}
    print(f"== objects in s3://{args.bucket}/{args.prefix}")
    for page in pages:
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=args.bucket, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            lines = body.splitlines()
            stream = obj["Key"][len(args.prefix) :].split("/", 1)[0]
            counts[stream] += len(lines)
            samples.setdefault(stream, [json.loads(line) for line in lines[: args.show]])
            print(f"   {obj['Key']}  {obj['Size']:>9} bytes  {len(lines):>6} records")
    print("== records per stream (this run)")
    for stream, count in sorted(counts.items()):
        print(f"   {stream:<16} {count}")
    for stream, records in sorted(samples.items()):
        print(f"== first records of {stream}")
        for record in records:
            text = json.dumps(record, ensure_ascii=False)
            print(f"   {text[:300]}{'...' if len(text) > 300 else ''}")
    if args.sandbox:
        stats = requests.get(f"{args.sandbox}/_sandbox/stats", timeout=5).json()
        print(f"== API requests served by the sandbox: {stats.get('by_path')}")


if __name__ == "__main__":
    main()
