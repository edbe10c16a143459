"""Requests a default tap run makes per store on a category tree of the real API's size.

Starts a sandbox with ``--tree real`` (573 leaf categories and the New-in / Back-in-stock
feeds), runs ``tap-asos`` with default settings for one store (every stream), advances the
catalog one day and runs again from the first run's state (the daily run, which reads the
arrival feeds), then takes a weekly snapshot as ``meltano.yml``'s snapshot job selects it
(products and stock_prices, FULL_TABLE), which reads every listing and learns the store's
cover, and a week later the next snapshot from its state, which reads the cover (see
tap_asos/cover.py); each snapshot's products are checked against the sandbox's
``/_sandbox/products``.  Prints the requests per endpoint, as the sandbox counted them, and
a month of the default schedules (30 daily runs, 52/12 weekly snapshots at the cover's
cost), and the month each job's ``--plan`` prices; writes the same tables to ``--out``
(default ``bench/tree_requests-<products>-<max-limit>.md``).

    .venv/bin/python scripts/tree_requests.py [--products 5000] [--tree real] [--max-limit 48]

``--max-limit``: the largest page the sandbox serves (it clamps larger ``limit``s); the tap
asks its default ``page_size`` (200).  48 is the largest page any saved real response holds.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import typing as t
import urllib.request
from collections import Counter
from pathlib import Path

from tap_asos.month import SNAPSHOT_JOB
from tap_asos.sandbox import SandboxConfig, SandboxServer

ROOT = Path(__file__).resolve().parents[1]
# The snapshot job's catalog is built as the tests build one.
sys.path.insert(0, str(ROOT))
from tests.helpers import catalog_for  # noqa: E402

TAP = str(Path(sys.executable).with_name("tap-asos"))
# A small interpreter runs each tap run and reports its peak RSS: a child forked from this
# process (which holds the sandbox's catalog) would count this one's pages as its own.
RSS = (
    "import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
    "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "sys.stderr.write(f'\\nPEAK_RSS_KB {r.ru_maxrss}\\n'); sys.exit(rc)"
)
PEAKS: list[int] = []
DEFAULT_OUT = "bench/tree_requests-{products}-{max_limit}.md"


def _args(
    server: SandboxServer, work: Path, state: dict[str, object] | None, *, snapshot: bool
) -> list[str]:
    """The tap's command line for a job in ``work``: its config, catalog and state files.

    The snapshot job's catalog is ``meltano.yml``'s selection (``catalog_for``, as the
    tests build one), written once per work directory.
    """
    config = {
        "api_url": server.url,
        "api_key": server.api_key,
        "stores": ["US"],
        "requests_per_second": 0,  # counts do not depend on the pace
    }
    (work / "config.json").write_text(json.dumps(config))
    args = [TAP, "--config", "config.json"]
    if snapshot:
        catalog = work / "catalog.json"
        if not catalog.exists():
            selected = catalog_for(config, select=SNAPSHOT_JOB, products_method="FULL_TABLE")
            catalog.write_text(json.dumps(selected))
        args += ["--catalog", catalog.name]
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        args += ["--state", "state.json"]
    return args


def _run(
    server: SandboxServer,
    work: Path,
    state: dict[str, object] | None,
    *,
    snapshot: bool = False,
) -> tuple[dict[str, object], set[int], int]:
    """One tap run: its last STATE, the products it emitted, and its products records."""
    args = _args(server, work, state, snapshot=snapshot)
    result = subprocess.run(
        [sys.executable, "-c", RSS, *args], capture_output=True, text=True, check=True, cwd=work
    )
    PEAKS.append(int(result.stderr.rsplit("PEAK_RSS_KB ", 1)[1].split()[0]))
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    products = [
        m["record"]["id"] for m in messages if m["type"] == "RECORD" and m["stream"] == "products"
    ]
    return states[-1], set(products), len(products)


def _plan(
    server: SandboxServer, work: Path, state: dict[str, object] | None, *, snapshot: bool
) -> dict[str, object]:
    """The month a job's ``--plan`` prices (with the files ``_run`` gives the job)."""
    args = [*_args(server, work, state, snapshot=snapshot), "--plan"]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=work)
    return t.cast("dict[str, object]", json.loads(result.stdout)["month_of_default_schedules"])


def _peak_rss_mib() -> float:
    """The largest resident set of the tap runs so far."""
    return max(PEAKS) / 1024


def _n(value: object) -> str:
    return "null" if value is None else f"{value:,}"


def _off(planned: object, measured: int) -> str:
    if not isinstance(planned, int):
        return "-"
    return f"{(planned - measured) / measured:+.0%}"


def _hours(requests: int, per_second: float) -> str:
    minutes = math.ceil(requests / per_second / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _missing(server: SandboxServer, emitted: set[int]) -> int:
    """Products listed in the store today that a snapshot did not emit."""
    with urllib.request.urlopen(f"{server.url}/_sandbox/products?store=US") as response:  # noqa: S310
        listed = set(json.load(response)["ids"])
    return len(listed - emitted)


def main() -> None:
    """Measure, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--tree", default="real")
    parser.add_argument("--max-limit", type=int, default=48)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    config = SandboxConfig(products=args.products, tree=args.tree, max_limit=args.max_limit)
    plans: dict[str, object] = {}
    with (
        SandboxServer(config) as server,
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory() as snap,
    ):
        mark = Counter[str]()

        def spent() -> Counter[str]:
            """Requests per endpoint since the last call (a plan's are left out)."""
            nonlocal mark
            now = Counter(server.stats()["by_path"])
            delta, mark = now - mark, now
            return delta

        # The snapshot job's catalog, then its plan before any run.
        plans["snapshot job's --plan before any run"] = _plan(
            server, Path(snap), None, snapshot=True
        )
        spent()
        state, _, _ = _run(server, Path(tmp), None)
        first = spent()
        plans["daily job's --plan after its first run"] = _plan(
            server, Path(tmp), state, snapshot=False
        )
        spent()
        arrived = server.advance(1)["new_products"]
        state, _, _ = _run(server, Path(tmp), state)
        second = spent()
        snap_state, emitted, records = _run(server, Path(snap), None, snapshot=True)
        learning = spent()
        missing = [(_missing(server, emitted), len(emitted), records)]
        plans["snapshot job's --plan with its cover"] = _plan(
            server, Path(snap), snap_state, snapshot=True
        )
        spent()
        server.advance(7)
        _, emitted, records = _run(server, Path(snap), snap_state, snapshot=True)
        third = spent()
        missing.append((_missing(server, emitted), len(emitted), records))
        state_bytes = len(json.dumps(state))
    rss = _peak_rss_mib()
    paths = sorted(set(first) | set(third) | set(learning))
    rows = [(p, first[p], second[p], learning[p], third[p]) for p in paths]
    total = tuple(sum(r[i] for r in rows) for i in (1, 2, 3, 4))
    month = round(30 * total[1] + 52 / 12 * total[3])
    # What the data needs: each arrival's detail, stock batch and listing share a day; a
    # snapshot's products once, at a served page (the tap asks 200) and 50 a stock call.
    page = min(args.max_limit, 200)
    products = missing[1][1]
    needs = round(
        30 * (arrived + math.ceil(arrived / 50) + math.ceil(arrived / page))
        + 52 / 12 * (math.ceil(products / page) + math.ceil(products / 50))
    )
    floor = math.ceil(products / page) + math.ceil(products / 50)
    lines = [
        (
            f"tree={args.tree} products={args.products} max_limit={args.max_limit} (the largest "
            f"page served), store US, default settings; "
            f"new the next day: {arrived}"
        ),
        "",
        (
            "| endpoint | first run | next day | first snapshot (learns the cover) "
            "| weekly snapshot (the cover) |"
        ),
        "|---|---:|---:|---:|---:|",
        *(f"| `{p}` | {a:,} | {b:,} | {c:,} | {d:,} |" for p, a, b, c, d in rows),
        f"| total | {total[0]:,} | {total[1]:,} | {total[2]:,} | {total[3]:,} |",
        "",
        *(
            f"- {name}: {products:,} products emitted in {records:,} `products` records; "
            f"{miss:,} of the store's products (`/_sandbox/products`) missing."
            for name, (miss, products, records) in zip(
                ("First snapshot", "Weekly snapshot"), missing, strict=True
            )
        ),
        "",
        (
            f"A month of the default schedules (30 daily runs + 52/12 weekly snapshots at the "
            f"cover's cost): {month:,} requests per store, {month / needs:.2f} x what the data "
            f"needs ({needs:,}: each arrival's detail, its share of a stock call and a listing "
            f"page, and 52/12 times the store's products at {page} a page and 50 a stock "
            "call). "
            f"The weekly snapshot: {total[3]:,} requests against a floor of {floor:,}. State "
            f"after the daily run: {state_bytes:,} bytes. Peak RSS of a tap run: {rss:.0f} MiB."
        ),
        "",
        f"A month as `--plan` prices it (the measured month: {month:,}):",
        "",
        "| plan | daily run | weekly snapshot | a month | off by |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {_n(m['daily_run'])} | {_n(m['weekly_snapshot'])} "
            f"| {_n(m['requests_per_month'])} | {_off(m['requests_per_month'], month)} |"
            for name, m in ((name, t.cast("dict[str, t.Any]", m)) for name, m in plans.items())
        ),
        "",
        "| at | first run | next day | weekly snapshot | a month |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {rate:g} request/s | {_hours(total[0], rate)} | {_hours(total[1], rate)} "
            f"| {_hours(total[3], rate)} | {_hours(month, rate)} |"
            for rate in (1, 5)
        ),
        "",
        (
            f"Produced by `.venv/bin/python scripts/tree_requests.py --products {args.products} "
            f"--tree {args.tree} --max-limit {args.max_limit}"
            + ("" if args.out is None else f" --out {args.out}")
            + "`."
        ),
    ]
    text = "\n".join(lines)
    print(text)
    out = args.out or DEFAULT_OUT.format(products=args.products, max_limit=args.max_limit)
    Path(out).write_text(text + "\n")


if __name__ == "__main__":
    main()
