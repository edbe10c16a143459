"""Local stand-ins for the demo: the ASOS API sandbox and an S3 endpoint (moto).

Starts both on free 127.0.0.1 ports, creates the lake bucket, writes the
environment the ``dev`` Meltano environment reads to ``--env-file`` (shell
``export`` lines), then serves until SIGTERM/SIGINT.  Used by ``make demo``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from tap_asos.sandbox import SandboxConfig, SandboxServer

# moto accepts any credentials; these are placeholders, not secrets.
S3_KEY_ID = "local-demo"
S3_SECRET = "local-demo-secret"  # noqa: S105


def main() -> int:
    """Start the services, write the env file, serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--bucket", default="asos-lake")
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--advance-days", type=int, default=0, help="Start the sandbox this many days after day 0."
    )
    args = parser.parse_args()

    sandbox = SandboxServer(SandboxConfig(seed=args.seed, products=args.products)).start()
    if args.advance_days:
        sandbox.advance(args.advance_days)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    s3_url = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY_ID,
        aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=args.bucket)

    env = {
        "TAP_ASOS_API_URL": sandbox.url,
        "TAP_ASOS_API_KEY": sandbox.api_key,
        "SANDBOX_URL": sandbox.url,
        "TARGET_S3_BUCKET": args.bucket,
        "TARGET_S3_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_ENDPOINT_URL": s3_url,
    }
    tmp = args.env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"export {k}={v}\n" for k, v in env.items()))
    tmp.replace(args.env_file)  # readers never see a half-written file
    print(f"sandbox {sandbox.url}  s3 {s3_url}  pid {os.getpid()}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    moto.stop()
    sandbox.stop()
    args.env_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
