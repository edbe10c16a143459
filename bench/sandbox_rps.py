"""Requests per second the sandbox serves on this machine (keep-alive clients).

Usage: python bench/sandbox_rps.py [--requests 3000] [--threads 4] [--products 20000]
Starts `python -m tap_asos.sandbox` in its own process, drives it with client
threads (listing pages of 48 and product details), writes bench/sandbox-results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

HEADERS = {"X-RapidAPI-Key": "sandbox-key", "X-RapidAPI-Host": "asos2.p.rapidapi.com"}
OUT = Path(__file__).with_name("sandbox-results.md")


def drive(url: str, path: str, params: list[dict[str, object]], threads: int) -> float:
    """Send every request over `threads` keep-alive sessions; return requests/s."""
    chunks = [params[i::threads] for i in range(threads)]

    def work(chunk: list[dict[str, object]]) -> None:
        with requests.Session() as session:
            session.trust_env = False
            for query in chunk:
                session.get(
                    f"{url}{path}", params=query, headers=HEADERS, timeout=30
                ).raise_for_status()

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(params) / (time.perf_counter() - start)


def main() -> None:
    """Run the measurement and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--products", type=int, default=20000)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "tap_asos.sandbox", "--port", "0", "--products", str(args.products)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().rsplit(" ", 1)[1]
        listing = [
            {
                "store": "US",
                "categoryId": 8799,
                "offset": (i * 48) % 1200,
                "limit": 48,
                "sort": "freshness",
            }
            for i in range(args.requests)
        ]
        ids = [
            p["id"]
            for p in requests.get(
                f"{url}/products/v2/list",
                headers=HEADERS,
                params={**listing[0], "limit": 200},
                timeout=30,
            ).json()["products"]
        ]
        details = [{"store": "US", "id": ids[i % len(ids)]} for i in range(args.requests)]
        rows = [
            (
                "/products/v2/list (48 per page)",
                drive(url, "/products/v2/list", listing, args.threads),
            ),
            ("/products/v3/detail", drive(url, "/products/v3/detail", details, args.threads)),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
    lines = [
        "# Sandbox throughput",
        "",
        f"Measured {datetime.now(tz=timezone.utc):%Y-%m-%d} on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.products} products, {args.threads} "
        f"keep-alive client threads in another process, {args.requests} requests per row.",
        f"Command: `python bench/sandbox_rps.py --requests {args.requests} --threads "
        f"{args.threads} --products {args.products}`",
        "",
        "| endpoint | requests/s |",
        "|---|---:|",
        *[f"| {name} | {rate:,.0f} |" for name, rate in rows],
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
