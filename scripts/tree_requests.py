"""Requests a default tap run makes per store on a category tree of the real API's size.

Starts a sandbox with ``--tree real`` (573 leaf categories and the New-in / Back-in-stock
feeds), runs ``tap-asos`` with default settings for one store (every stream), advances the
catalog one day and runs again from the first run's state (the daily run, which reads the
arrival feeds), then takes a weekly snapshot as ``meltano.yml``'s snapshot job selects it
(products and stock_prices, FULL_TABLE).  Prints the requests per endpoint, as the sandbox
counted them, and a month of the default schedules (30 daily runs, 52/12 snapshots);
writes the same table to ``--out`` (default ``bench/tree_requests.md``).

    .venv/bin/python scripts/tree_requests.py [--products 5000] [--tree real]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tap_asos.sandbox import SandboxConfig, SandboxServer

TAP = str(Path(sys.executable).with_name("tap-asos"))
SNAPSHOT_STREAMS = ("countries", "categories", "products", "stock_prices")


def _run(
    server: SandboxServer, work: Path, state: dict[str, object] | None, *, snapshot: bool = False
) -> dict[str, object]:
    config = {
        "api_url": server.url,
        "api_key": server.api_key,
        "stores": ["US"],
        "requests_per_second": 0,  # counts do not depend on the pace
    }
    (work / "config.json").write_text(json.dumps(config))
    args = [TAP, "--config", "config.json"]
    if snapshot:
        discovered = subprocess.run(
            [*args, "--discover"], capture_output=True, text=True, check=True, cwd=work
        )
        catalog = json.loads(discovered.stdout)
        for entry in catalog["streams"]:
            chosen = entry["tap_stream_id"] in SNAPSHOT_STREAMS
            for meta in entry["metadata"]:
                if not meta["breadcrumb"]:
                    meta["metadata"]["selected"] = chosen
                    if entry["tap_stream_id"] == "products":
                        meta["metadata"]["forced-replication-method"] = "FULL_TABLE"
            if entry["tap_stream_id"] == "products":
                entry["replication_method"] = "FULL_TABLE"
        (work / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", "catalog.json"]
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        args += ["--state", "state.json"]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=work)
    states = [
        m["value"] for m in map(json.loads, result.stdout.splitlines()) if m["type"] == "STATE"
    ]
    return states[-1]


def main() -> None:
    """Measure, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--tree", default="real")
    parser.add_argument("--out", default="bench/tree_requests.md")
    args = parser.parse_args()
    config = SandboxConfig(products=args.products, tree=args.tree)
    with SandboxServer(config) as server, tempfile.TemporaryDirectory() as tmp:
        state = _run(server, Path(tmp), None)
        first = Counter(server.stats()["by_path"])
        arrived = server.advance(1)["new_products"]
        state = _run(server, Path(tmp), state)
        second = Counter(server.stats()["by_path"]) - first
        with tempfile.TemporaryDirectory() as snap:
            _run(server, Path(snap), None, snapshot=True)
        third = Counter(server.stats()["by_path"]) - first - second
        state_bytes = len(json.dumps(state))
    paths = sorted(set(first) | set(third))
    rows = [(p, first[p], second[p], third[p]) for p in paths]
    total = tuple(sum(r[i] for r in rows) for i in (1, 2, 3))
    month = round(30 * total[1] + 52 / 12 * total[2])
    lines = [
        (
            f"tree={args.tree} products={args.products}, store US, default settings; "
            f"new the next day: {arrived}"
        ),
        "",
        "| endpoint | first run | next day | weekly snapshot |",
        "|---|---:|---:|---:|",
        *(f"| `{p}` | {a:,} | {b:,} | {c:,} |" for p, a, b, c in rows),
        f"| total | {total[0]:,} | {total[1]:,} | {total[2]:,} |",
        "",
        (
            f"A month of the default schedules (30 daily runs + 52/12 weekly snapshots): "
            f"{month:,} requests per store. State after the daily run: {state_bytes:,} bytes."
        ),
        "",
        (
            f"Produced by `.venv/bin/python scripts/tree_requests.py --products {args.products} "
            f"--tree {args.tree}`."
        ),
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
