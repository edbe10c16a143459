"""Benchmark: tap-asos against its peers and the floor, on the sandbox (`make bench`).

Scenarios (sizes are knobs; the defaults finish in a few minutes on 2 cores):
  A  full snapshot of the listings of --products-a products, no injected latency;
  B  listings + details + stock/prices for --products-b products, --latency-ms injected,
     the sandbox limited to --rate requests/s;
  C  the incremental run after the sandbox advances one day, and five (catalog of
     scenario A): requests, and how many of the products that entered were emitted;
  M  tap-asos peak RSS and state bytes per partition of a first incremental run (a full
     read) at 10k and 100k products (memory and state must stay flat).
Every contender runs in its own process (peers in their own virtualenvs from PyPI, built
under bench/work/), measured by a small wrapper for CPU seconds and peak RSS; requests
are counted by the sandbox. Writes bench/results.json and bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import charts  # bench/charts.py: the script's folder is on sys.path
import requests

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
ROOT = HERE.parent
PY = Path(sys.executable)
KEY = "sandbox-key"
PEERS = {
    "msdk": ["tap-rest-api-msdk==1.4.2", "setuptools<81"],  # needs pkg_resources
    "dlt": ["dlt==1.31.0"],
}
# Measures the contender from a small parent: CPU of the whole process tree, and a peak
# RSS that does not count pages shared with this (larger) process.
WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
    "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "sys.stderr.write(f'\\nRUSAGE {r.ru_maxrss} {r.ru_utime + r.ru_stime}\\n'); sys.exit(rc)"
)


def peer_python(name: str) -> Path:
    """The interpreter of a peer's virtualenv, created on first use."""
    venv = WORK / name
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "uv"], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "uv"),
                "pip",
                "install",
                "-q",
                "--python",
                str(python),
                *PEERS[name],
            ],
            check=True,
        )
    return python


class Sandbox:
    """The sandbox in its own process, so it never shares the contenders' CPU figures."""

    def __init__(self, products: int, latency: str = "0,0", rate: float = 0) -> None:
        """Start it and read its URL."""
        self.process = subprocess.Popen(
            [
                str(PY),
                "-m",
                "tap_asos.sandbox",
                "--port",
                "0",
                "--products",
                str(products),
                "--latency-ms",
                latency,
                "--rate-limit-per-second",
                str(rate),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip().rsplit(" ", 1)[1]

    def call(self, method: str, path: str) -> dict[str, object]:
        """Use a control endpoint."""
        return requests.request(method, f"{self.url}/_sandbox/{path}", timeout=30).json()

    def categories(self) -> list[int]:
        """Leaf category ids of store US."""
        tree = requests.get(
            f"{self.url}/categories/list",
            params={"country": "US"},
            headers={"X-RapidAPI-Key": KEY, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
            timeout=30,
        ).json()
        ids, stack = [], list(tree["navigation"])
        while stack:
            node = stack.pop()
            if not node["children"] and (node.get("link") or {}).get("linkType") == "category":
                ids.append(node["link"]["categoryId"])
            stack.extend(node["children"])
        return sorted(ids)

    def stop(self) -> None:
        """Terminate it."""
        self.process.terminate()
        self.process.wait(timeout=10)


def measure(
    command: list[str],
    sandbox: Sandbox,
    out: Path,
    *,
    reset: bool = True,
) -> dict[str, float]:
    """Run one contender: wall time, CPU, peak RSS, requests, records."""
    if reset:
        sandbox.call("POST", "reset")
    before = float(sandbox.call("GET", "stats")["requests_total"])
    start = time.perf_counter()
    with out.open("w") as sink:
        result = subprocess.run(
            [str(PY), "-c", WRAPPER, *command],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")
    maxrss, cpu = result.stderr.rsplit("RUSAGE ", 1)[1].split()[:2]
    stats = sandbox.call("GET", "stats")
    return {
        "seconds": seconds,
        "cpu_seconds": float(cpu),
        "peak_rss_mib": int(maxrss) / 1024,
        "requests": float(stats["requests_total"]) - before,
        "records": count_records(out),
    }


def count_records(out: Path) -> float:
    """RECORD messages in Singer output, or the count a non-Singer contender printed."""
    records = 0
    last = ""
    with out.open() as lines:
        for line in lines:
            if line.startswith(('{"type":"RECORD"', '{"type": "RECORD"')):
                records += 1
            elif line.strip():
                last = line
    if not records and last.startswith('{"records"'):
        return float(json.loads(last)["records"])
    return float(records)


def tap_asos(
    sandbox: Sandbox,
    tmp: Path,
    streams: list[str],
    method: str,
    rate: float = 0,
    state: Path | None = None,
) -> list[str]:
    """tap-asos command line for a scenario."""
    config = {
        "api_key": KEY,
        "api_url": sandbox.url,
        "stores": ["US"],
        "requests_per_second": rate,
        "max_concurrency": 8,
    }
    (tmp / "tap.json").write_text(json.dumps(config))
    tap = str(PY.with_name("tap-asos"))
    catalog = json.loads(
        subprocess.run(
            [tap, "--config", str(tmp / "tap.json"), "--discover"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
                if entry["tap_stream_id"] == "products":
                    meta["metadata"]["forced-replication-method"] = method
    (tmp / "catalog.json").write_text(json.dumps(catalog))
    command = [tap, "--config", str(tmp / "tap.json"), "--catalog", str(tmp / "catalog.json")]
    return [*command, "--state", str(state)] if state else command


# tap-asos as the SDK would run it out of the box: recursive type conformance and the
# standard library JSON writer (the "before" of the two per-record optimisations).
SDK_DEFAULTS = (
    "import sys; from singer_sdk.helpers.conform import TypeConformanceLevel; "
    "from singer_sdk.io_base import SingerWriter; "
    "from tap_asos.client import AsosStream; from tap_asos.tap import TapAsos; "
    "AsosStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE; "
    "TapAsos.message_writer_class = SingerWriter; sys.argv[0] = 'tap-asos'; TapAsos.cli()"
)


def msdk(sandbox: Sandbox, tmp: Path, categories: list[int]) -> list[str]:
    """tap-rest-api-msdk configured for the same listing endpoint, one stream per category."""
    schema = tmp / "products.schema.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "additionalProperties": True,
            }
        )
    )
    config = {
        "api_url": sandbox.url,
        "headers": {"X-RapidAPI-Key": KEY, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
        "pagination_request_style": "simple_offset_paginator",
        "pagination_response_style": "offset",
        "pagination_page_size": 48,
        "pagination_initial_offset": 0,
        "offset_records_jsonpath": "$.products",
        "streams": [
            {
                "name": f"products_{c}",
                "path": "/products/v2/list",
                "params": {"store": "US", "categoryId": c, "sort": "freshness"},
                "records_path": "$.products[*]",
                "primary_keys": ["id"],
                "schema": str(schema),
            }
            for c in categories
        ],
    }
    (tmp / "msdk.json").write_text(json.dumps(config))
    return [
        str(peer_python("msdk").with_name("tap-rest-api-msdk")),
        "--config",
        str(tmp / "msdk.json"),
    ]


def dlt(sandbox: Sandbox, tmp: Path, categories: list[int], *, details: bool = False) -> list[str]:
    """Command of dlt's rest_api source, to local JSONL files."""
    out = tmp / f"dlt-{time.monotonic_ns()}"
    return [
        str(peer_python("dlt")),
        str(HERE / "contenders" / "dlt_rest_api.py"),
        sandbox.url,
        KEY,
        "US",
        ",".join(map(str, categories)),
        "48",
        str(out),
        *(["details"] if details else []),
    ]


def floor(sandbox: Sandbox, tmp: Path, categories: list[int]) -> list[str]:
    """The floor: requests + json + JSONL, nothing else."""
    return [
        str(PY),
        str(HERE / "floor.py"),
        sandbox.url,
        KEY,
        "US",
        ",".join(map(str, categories)),
        "48",
        str(tmp / "floor.jsonl"),
    ]


def rates(row: dict[str, float]) -> dict[str, float]:
    """Add records/s and requests/s."""
    return {
        **row,
        "records_per_s": row["records"] / row["seconds"],
        "requests_per_s": row["requests"] / row["seconds"],
    }


def attempt(command: list[str], sandbox: Sandbox, out: Path) -> dict[str, t.Any]:
    """measure() + rates(), or the error that stopped the contender."""
    try:
        return rates(measure(command, sandbox, out))
    except RuntimeError as exc:
        return {"error": str(exc).splitlines()[-1][:200]}


def scenario_a(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, float]]:
    """Full snapshot of the listings, no latency."""
    box = Sandbox(args.products_a)
    try:
        cats = box.categories()
        return {
            "tap-asos": attempt(
                tap_asos(box, tmp, ["products"], "FULL_TABLE"), box, tmp / "a-tap.out"
            ),
            "tap-asos, SDK defaults (before)": attempt(
                [str(PY), "-c", SDK_DEFAULTS, *tap_asos(box, tmp, ["products"], "FULL_TABLE")[1:]],
                box,
                tmp / "a-tap-defaults.out",
            ),
            "tap-rest-api-msdk": attempt(msdk(box, tmp, cats), box, tmp / "a-msdk.out"),
            "dlt rest_api": attempt(dlt(box, tmp, cats), box, tmp / "a-dlt.out"),
            "floor": attempt(floor(box, tmp, cats), box, tmp / "a-floor.out"),
        }
    finally:
        box.stop()


def scenario_b(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, float]]:
    """Listings + details + stock under latency and a rate limit."""
    box = Sandbox(args.products_b, latency=args.latency_ms, rate=args.rate)
    try:
        cats = box.categories()
        tap = tap_asos(
            box, tmp, ["products", "product_details", "stock_prices"], "FULL_TABLE", rate=args.rate
        )
        return {
            "tap-asos": attempt(tap, box, tmp / "b-tap.out"),
            "dlt rest_api": attempt(dlt(box, tmp, cats, details=True), box, tmp / "b-dlt.out"),
        }
    finally:
        box.stop()


def listing_ids(sandbox: Sandbox, categories: list[int]) -> set[tuple[int, int]]:
    """(category, id) of every US listing, read straight from the sandbox's API."""
    found = set()
    for category in categories:
        offset = 0
        while True:
            page = requests.get(
                f"{sandbox.url}/products/v2/list",
                params={"store": "US", "categoryId": category, "offset": offset, "limit": 200},
                headers={"X-RapidAPI-Key": KEY, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
                timeout=30,
            ).json()
            found |= {(category, p["id"]) for p in page["products"]}
            offset += 200
            if offset >= page["itemCount"] or not page["products"]:
                break
    return found


def emitted_ids(out: Path) -> set[tuple[int, int]]:
    """(category, id) of the products records a run wrote."""
    found = set()
    for line in out.read_text().splitlines():
        if line.startswith('{"type":"RECORD","stream":"products"'):
            record = json.loads(line)["record"]
            found.add((record["categoryId"], record["id"]))
    return found


def last_state(out: Path) -> dict[str, t.Any]:
    """The value of the last STATE message a run wrote."""
    states = [line for line in out.read_text().splitlines() if '"type":"STATE"' in line]
    return t.cast("dict[str, t.Any]", json.loads(states[-1])["value"])


def scenario_c(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, float]]:
    """The incremental run after one day (and after five) of new arrivals and restocks."""
    box = Sandbox(args.products_a)
    try:
        cats = box.categories()
        first = tmp / "c-first.out"
        measure(tap_asos(box, tmp, ["products"], "INCREMENTAL"), box, first)
        state = tmp / "c-state.json"
        state.write_text(json.dumps(last_state(first)))
        before = listing_ids(box, cats)
        rows = {}
        incremental = tap_asos(box, tmp, ["products"], "INCREMENTAL", state=state)
        for name, days, command in (
            ("tap-asos", 1, incremental),
            ("tap-asos, five days on", 5, incremental),
            ("tap-rest-api-msdk", 1, msdk(box, tmp, cats)),
            ("floor", 1, floor(box, tmp, cats)),
        ):
            box.call("POST", "reset")
            box.call("POST", f"advance?days={days}")
            out = tmp / f"c-{name.split(',')[0]}-{days}.out"
            row = rates(measure(command, box, out, reset=False))
            if name.startswith("tap-asos"):
                new = listing_ids(box, cats) - before  # arrivals and restocks
                row["new_in_listings"] = len(new)
                row["new_emitted"] = len(new & emitted_ids(out))
            rows[name] = row
        return rows
    finally:
        box.stop()


def scenario_m(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, float]]:
    """tap-asos peak RSS and incremental state size at two catalog sizes.

    The run is the first incremental one, which reads every listing as a snapshot does.
    """
    rows = {}
    for size in (args.memory_small, args.memory_large):
        box = Sandbox(size)
        try:
            out = tmp / "m.out"
            row = rates(measure(tap_asos(box, tmp, ["products"], "INCREMENTAL"), box, out))
            partitions = last_state(out)["bookmarks"]["products"]["partitions"]
            sizes = [len(json.dumps(p, separators=(",", ":"))) for p in partitions]
            row["state_bytes_per_partition"] = max(sizes)
            rows[f"tap-asos {size:,} products"] = row
        finally:
            box.stop()
    return rows


def ratio_rows(results: dict[str, dict[str, dict[str, t.Any]]]) -> None:
    """Add time ratios to the floor and to tap-asos where both ran."""
    for rows in results.values():
        floor_s = rows.get("floor", {}).get("seconds")
        tap_s = rows.get("tap-asos", {}).get("seconds")
        for row in rows.values():
            if "error" in row:
                continue
            if floor_s:
                row["time_vs_floor"] = row["seconds"] / floor_s
            if tap_s:
                row["time_vs_tap_asos"] = row["seconds"] / tap_s


CANNOT = {
    ("B", "tap-rest-api-msdk"): "cannot express per-product detail fan-out or batched "
    "stock calls (one static path per stream)",
    ("B", "floor"): "not run: the floor is the bare listing loop of scenario A",
    ("C", "dlt rest_api"): "not run: its incremental cursor needs a persisted pipeline "
    "per run; a full re-read costs what scenario A shows",
}

TITLES = {
    "A": "A. full snapshot of the listings",
    "B": "B. listings + details + stock/prices, latency and a rate limit",
    "C": "C. incremental run after one day of new arrivals",
    "M": "M. tap-asos peak memory and state size, small vs large catalog",
}


def _ratio(row: dict[str, float], key: str) -> str:
    """A ratio cell: blank where the scenario has no floor or no tap-asos row to compare."""
    value = row.get(key)
    return "" if value is None else f"{value:.2f}"


def markdown(meta: dict[str, object], results: dict[str, dict[str, dict[str, float]]]) -> str:
    """The results as the markdown table the README quotes."""
    lines = [
        "# Benchmark results",
        "",
        f"{meta['date']} on {meta['machine']}; {meta['versions']}.",
        f"Command: `{meta['command']}`",
        "",
    ]
    for key, rows in results.items():
        lines += [
            f"### {TITLES[key]} ({meta['scenarios'][key]})",
            "",  # type: ignore[index]
            "| contender | seconds | records | records/s | requests | requests/s | "
            "CPU s | peak RSS MiB | time / floor | time / tap-asos |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in rows.items():
            if "error" in r:
                lines.append(f"| {name} | failed: {r['error']} | | | | | | | | |")
                continue
            lines.append(
                f"| {name} | {r['seconds']:.2f} | {r['records']:,.0f} | "
                f"{r['records_per_s']:,.0f} | {r['requests']:,.0f} | {r['requests_per_s']:.1f} | "
                f"{r['cpu_seconds']:.2f} | {r['peak_rss_mib']:.0f} | "
                f"{_ratio(r, 'time_vs_floor')} | {_ratio(r, 'time_vs_tap_asos')} |"
            )
        lines += [
            f"| {name} | {why} | | | | | | | | |" for (k, name), why in CANNOT.items() if k == key
        ]
        lines += [
            f"- {name}: {r['new_emitted']:,.0f} of the {r['new_in_listings']:,.0f} products "
            "that entered the listings since the last run emitted"
            for name, r in rows.items()
            if "new_in_listings" in r
        ]
        lines += [
            f"- {name}: incremental state {r['state_bytes_per_partition']:,.0f} bytes per "
            "partition (largest)"
            for name, r in rows.items()
            if "state_bytes_per_partition" in r
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Run the scenarios and write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products-a", type=int, default=20_000)
    parser.add_argument("--products-b", type=int, default=1_000)
    parser.add_argument("--latency-ms", default="50,100")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--memory-small", type=int, default=10_000)
    parser.add_argument("--memory-large", type=int, default=100_000)
    parser.add_argument("--scenarios", default="ABCM")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--charts-only",
        action="store_true",
        help="Redraw the charts from the existing results.json in --out; run nothing.",
    )
    args = parser.parse_args()
    if args.charts_only:
        for path in charts.draw(json.loads((args.out / "results.json").read_text()), args.out):
            print(path)
        return
    tmp = WORK / "runs"
    tmp.mkdir(parents=True, exist_ok=True)
    runners = {"A": scenario_a, "B": scenario_b, "C": scenario_c, "M": scenario_m}
    results = {key: runners[key](args, tmp) for key in args.scenarios}
    ratio_rows(results)
    meta = {
        "date": f"{datetime.now(tz=timezone.utc):%Y-%m-%d %H:%M} UTC",
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "versions": "tap-asos (this tree), tap-rest-api-msdk 1.4.2 (singer-sdk 0.40), "
        "dlt 1.31.0, floor = requests + json",
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "scenarios": {
            "A": f"{args.products_a:,} products, no latency, no rate limit",
            "B": f"{args.products_b:,} products, {args.latency_ms} ms latency, "
            f"{args.rate:g} requests/s allowed",
            "C": f"{args.products_a:,} products + one day (and + five)",
            "M": f"{args.memory_small:,} vs {args.memory_large:,} products",
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    (args.out / "results.md").write_text(markdown(meta, results))
    charts.draw({"meta": meta, "results": results}, args.out)
    print(markdown(meta, results))


if __name__ == "__main__":
    main()
