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

Modules: harness.py (sandbox process, measuring), commands.py (each contender's command
line), report.py (ratios, markdown), charts.py (PNGs); this file holds the scenarios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import typing as t
from datetime import datetime, timezone
from pathlib import Path

# bench/ modules: the script's folder is on sys.path
import charts
import requests
from commands import SDK_DEFAULTS, dlt, floor, msdk, tap_asos
from harness import HERE, KEY, PY, WORK, Sandbox, attempt, measure, rates
from report import markdown, ratio_rows


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
                # Arrivals and restocks, by product: a daily run reads the arrival feeds
                # and lands them under the feed's categoryId, not their leaf's.
                new = {i for _c, i in listing_ids(box, cats) - before}
                row["new_in_listings"] = len(new)
                row["new_emitted"] = len(new & {i for _c, i in emitted_ids(out)})
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
