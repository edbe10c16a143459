"""How fast the sandbox starts and serves on this machine (keep-alive clients), and its memory.

Usage: python bench/sandbox_rps.py [--products 80000] [--tree real] [--requests 3000]
       [--threads 4] [--out bench/sandbox-results.md] [--label "this commit"]

Starts ``python -m tap_asos.sandbox`` (the ``tap_asos`` of the current directory first, so
an older checkout can be measured with this script) in its own process and measures:

- startup: from launching the process to its "listing on" line (imports and catalog);
- cold pass: the first page (48) of every leaf category of the US tree, once each, so
  that every listing is built (what a first tap run pays);
- warm listing pages of 48 (pages 1-3 of 100 listings already built) and details, from
  ``--threads`` keep-alive clients;
- the server's CPU time in each phase (user + system, from /proc: steady under load);
- the server's peak resident memory (VmHWM) at the end.

Appends a row to ``--out`` (a markdown table; the header is written when the file is new).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import requests

HEADERS = {"X-RapidAPI-Key": "sandbox-key", "X-RapidAPI-Host": "asos2.p.rapidapi.com"}
OUT = Path(__file__).with_name("sandbox-results.md")
WARM_LISTINGS = 100
HEADER = (
    "| when | what | products | tree | startup s | cold pass s (server CPU s) "
    "| listing pages/s (CPU ms each) | details/s (CPU ms each) | peak RSS MiB |\n"
    "|---|---|---:|---|---:|---:|---:|---:|---:|\n"
)


def drive(url: str, path: str, params: list[dict[str, t.Any]], threads: int) -> float:
    """Send every request over `threads` keep-alive sessions; return requests/s."""
    chunks = [params[i::threads] for i in range(threads)]

    def work(chunk: list[dict[str, t.Any]]) -> None:
        with requests.Session() as session:
            session.trust_env = False
            for query in chunk:
                session.get(
                    f"{url}{path}", params=query, headers=HEADERS, timeout=60
                ).raise_for_status()

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(params) / (time.perf_counter() - start)


def leaf_ids(node: dict[str, t.Any]) -> list[int]:
    """Category ids of the leaves under a navigation node, first seen first."""
    link = node.get("link") or {}
    if not node["children"]:
        cid = link.get("categoryId")
        return [cid] if link.get("linkType") == "category" and cid else []
    return [cid for child in node["children"] for cid in leaf_ids(child)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds.

    Unlike rates, it does not move with the machine's load: the server's own cost.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size of a process (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    """Run the measurement and append its row to the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--products", type=int, default=80000)
    parser.add_argument("--tree", default="real")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--label", default="this commit")
    args = parser.parse_args()
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_asos.sandbox",
            "--port",
            "0",
            "--products",
            str(args.products),
            "--tree",
            args.tree,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().rsplit(" ", 1)[1]
        startup = time.perf_counter() - started
        with requests.Session() as session:
            tree = session.get(
                f"{url}/categories/list", headers=HEADERS, params={"country": "US"}, timeout=60
            ).json()
            leaves = list(dict.fromkeys(c for g in tree["navigation"] for c in leaf_ids(g)))
            start, cpu = time.perf_counter(), cpu_seconds(server.pid)
            firsts = [
                session.get(
                    f"{url}/products/v2/list",
                    headers=HEADERS,
                    params={"store": "US", "categoryId": c, "limit": 48, "sort": "freshness"},
                    timeout=120,
                ).json()
                for c in leaves
            ]
            cold = time.perf_counter() - start
            cold_cpu = cpu_seconds(server.pid) - cpu
        ids = [p["id"] for page in firsts for p in page["products"][:3]]
        # Warm: pages 1-3 of 100 listings, which stay in the listing cache after the pass.
        warm = leaves[:WARM_LISTINGS]
        listing = [
            {
                "store": "US",
                "categoryId": warm[i % len(warm)],
                "offset": 48 * (i // len(warm) % 3),
                "limit": 48,
                "sort": "freshness",
            }
            for i in range(args.requests)
        ]
        details = [{"store": "US", "id": ids[i * 7 % len(ids)]} for i in range(args.requests)]
        before = cpu_seconds(server.pid)
        pages = drive(url, "/products/v2/list", listing, args.threads)
        middle = cpu_seconds(server.pid)
        detail_rate = drive(url, "/products/v3/detail", details, args.threads)
        page_cpu, detail_cpu = middle - before, cpu_seconds(server.pid) - middle
        rss = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    row = (
        f"| {datetime.now(tz=timezone.utc):%Y-%m-%d} | {args.label} | {args.products:,} "
        f"| {args.tree} | {startup:.2f} | {cold:.1f} ({cold_cpu:.1f}) | {pages:,.0f} "
        f"({1000 * page_cpu / len(listing):.2f}) | {detail_rate:,.0f} "
        f"({1000 * detail_cpu / len(details):.2f}) | {rss:,.0f} |\n"
    )
    if not args.out.exists() or HEADER not in args.out.read_text():
        args.out.write_text(
            "# Sandbox startup, throughput and memory\n\n"
            f"`python bench/sandbox_rps.py` on {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {args.threads} keep-alive client threads in "
            f"another process, {args.requests} requests per rate. Cold pass: the first page of "
            "every leaf category of the US tree (573 on the real tree, 28 on the small one), "
            "once each, so every listing is built. Rates move with the machine's load; the "
            "server's CPU time (in brackets) does not.\n\n" + HEADER
        )
    with args.out.open("a") as out:
        out.write(row)
    sys.stdout.write(row)


if __name__ == "__main__":
    main()
