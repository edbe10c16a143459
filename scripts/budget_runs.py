"""Runs a daily budgeted job to the end: how many runs, and requests, a store's first read takes.

A sandbox store (``--products``, the real-size tree by default) is read by ``tap-asos``
runs of ``--max-requests`` each (every stream, as the qa environment's daily job), each
resumed from the last STATE of the one before, the catalog moving a day between runs
(``--new-per-day`` arrivals), until a run leaves nothing for the next.  Prints, and writes
to ``--out`` (default ``bench/budget-runs.md``): the runs, the requests per endpoint, what
each day's run delivered of that day's arrivals, and the first runs' own estimate of the
runs left.

    .venv/bin/python scripts/budget_runs.py [--products 80000] [--max-requests 2000]

``--sweep N``: instead, every budget from the smallest useful one (11 on the small tree)
to a full run's cost on a small catalog of ``N`` products, each to the end, against a
clean run (``bench/budget-sweep.md``): the property ``tests/test_partition_read.py``
samples.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import resource
import sys
import time
import typing as t
from collections import Counter
from pathlib import Path

import requests

from tap_asos.inputs import ConfigInput
from tap_asos.run import run_command
from tap_asos.sandbox import SandboxConfig, SandboxServer
from tap_asos.tap import TapAsos

ROOT = Path(__file__).resolve().parents[1]
# The in-process run and the catalog are the tests' (one way to run the command here).
sys.path.insert(0, str(ROOT))
from tests.helpers import catalog_for, run_command_here  # noqa: E402

STREAMS = ("countries", "categories", "products", "product_details", "stock_prices")


def _plan(config: dict[str, t.Any], catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    """``tap-asos --plan`` in this process: what it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run_command(
            TapAsos, ConfigInput(config), None, io.StringIO(json.dumps(catalog)), plan=True
        )
    if code:
        sys.exit(f"the plan failed (exit {code})")
    return t.cast("dict[str, t.Any]", json.loads(out.getvalue()))


def _run(
    config: dict[str, t.Any], catalog: dict[str, t.Any], state: dict[str, t.Any] | None
) -> tuple[list[dict[str, t.Any]], dict[str, t.Any], dict[str, t.Any]]:
    """One ``tap-asos`` run in this process: its RECORD messages, last STATE and run summary."""
    code, result = run_command_here(config, catalog=catalog, state=state)
    if code:
        sys.exit(f"a run failed (exit {code}): {result.stderr[-2000:]}")
    records = [m for m in result.messages if m["type"] == "RECORD"]
    return records, result.final_state or (state or {}), result.summary


def _listed(server: SandboxServer) -> set[int]:
    """Every product listed in the store today (the sandbox's control endpoint)."""
    answer = requests.get(f"{server.url}/_sandbox/products", params={"store": "US"}, timeout=60)
    answer.raise_for_status()
    return set(answer.json()["ids"])


def daily_job(args: argparse.Namespace) -> str:
    """The qa job's daily runs on a store until its first read is done."""
    sandbox = SandboxConfig(
        seed=args.seed, products=args.products, tree=args.tree, new_per_day=args.new_per_day
    )
    with SandboxServer(sandbox) as server:
        config = {
            "api_url": server.url,
            "api_key": server.api_key,
            "stores": ["US"],
            "requests_per_second": 0,
            "max_requests": args.max_requests,
        }
        catalog = catalog_for(config, select=STREAMS)
        plan = _plan(config, catalog)  # its first pages are not counted below
        state: dict[str, t.Any] | None = None
        by_path: Counter[str] = Counter()
        estimates: list[t.Any] = []
        late: list[int] = []
        started = time.monotonic()
        runs = 0
        while runs < args.max_runs:
            before = dict(server.stats()["by_path"])
            listed = _listed(server)
            if runs:
                server.advance(1)
            arrivals = _listed(server) - listed if runs else set()
            records, state, summary = _run(config, catalog, state)
            runs += 1
            for path, count in server.stats()["by_path"].items():
                by_path[path] += count - before.get(path, 0)
            emitted = {r["record"]["id"] for r in records if r["stream"] == "products"}
            late.append(len(arrivals - emitted))
            estimates.append(summary.get("runs_left_at_this_budget"))
            print(  # progress, and what each run said was left
                f"run {runs}: {summary['status']}, requests_left={summary.get('requests_left')}, "
                f"runs_left={estimates[-1]}, not started={summary.get('partitions_not_started')}",
                file=sys.stderr,
                flush=True,
            )
            if summary["status"] == "succeeded":
                break
        seconds = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    total = sum(by_path.values())
    lines = [
        (
            f"tree={args.tree} products={args.products:,} new per day={args.new_per_day}, "
            f"store US, every stream, max_requests={args.max_requests:,} a run (the qa job), "
            "each run resumed from the last one's STATE, the catalog a day on between runs."
        ),
        "",
        "| | |",
        "|---|---:|",
        f"| runs until a run left nothing | {runs} |",
        f"| requests in all | {total:,} |",
        *(f"| `{path}` | {count:,} |" for path, count in sorted(by_path.items())),
        f"| a day's arrivals a run did not deliver that day (all runs) | {sum(late):,} |",
        (
            f"| `--plan` before the first run: requests, runs at this budget | "
            f"{plan['requests_total']:,}, {plan['runs_at_this_budget']} |"
        ),
        (
            "| stopped runs whose summary priced what was left (the others had partitions "
            f"not started: `requests_left` null) | {sum(e is not None for e in estimates)} of "
            f"{runs - 1} |"
        ),
        (
            f"| days at one run a day, at 1 and 5 requests/s | {runs} "
            f"({math.ceil(args.max_requests / 3600)} h and "
            f"{math.ceil(args.max_requests / 5 / 60)} min a run) |"
        ),
        (
            "| wall time of all runs here (unpaced); peak RSS of this process (the sandbox, "
            f"the tap and each run's output held in memory) | {seconds:.0f} s; {rss} MB |"
        ),
        "",
        (
            "Produced by `.venv/bin/python scripts/budget_runs.py "
            f"--products {args.products} --tree {args.tree} --new-per-day {args.new_per_day} "
            f"--max-requests {args.max_requests}"
            + (f" --out {args.out}" if args.out else "")
            + "`."
        ),
    ]
    return "\n".join(lines)


def sweep(args: argparse.Namespace) -> str:
    """Every budget from the smallest useful one to a full run's cost, each to the end."""
    minimum = 11
    rows = []
    with SandboxServer(SandboxConfig(seed=args.seed, products=args.sweep, new_per_day=3)) as s:
        base = {"api_url": s.url, "api_key": s.api_key, "stores": ["US"], "requests_per_second": 0}
        catalog = catalog_for(base, select=STREAMS)
        before = s.stats()["requests_total"]
        _run(base, catalog, None)
        full = s.stats()["requests_total"] - before
        for budget in range(minimum, full + 1):
            s.reset()
            config = {**base, "max_requests": budget}
            union: dict[str, set[t.Any]] = {name: set() for name in STREAMS}
            state: dict[str, t.Any] | None = None
            runs = 0
            while runs < 400:
                if 0 < runs <= 2:
                    s.advance(1)
                records, state, summary = _run(config, catalog, state)
                runs += 1
                for r in records:
                    union[r["stream"]].add(_key(r["stream"], r["record"]))
                if runs > 2 and summary["status"] == "succeeded":
                    break
            clean_records, _state, _summary = _run(base, catalog, None)
            clean: dict[str, set[t.Any]] = {name: set() for name in STREAMS}
            for r in clean_records:
                clean[r["stream"]].add(_key(r["stream"], r["record"]))
            missing = sum(len(clean[name] - union[name]) for name in STREAMS)
            rows.append((budget, runs, missing))
            print(budget, runs, missing, flush=True)
    failed = [row for row in rows if row[2] or row[1] >= 400]
    lines = [
        (
            f"Every budget from {minimum} to a full run's cost ({full}) on the small tree, "
            f"{args.sweep} products, every stream, the catalog a day on before runs 2 and 3; "
            "each sequence of runs to the end, against a clean run of the last day."
        ),
        "",
        f"Budgets: {len(rows)}; sequences that missed a record or did not end: {len(failed)}"
        + (f" ({failed})" if failed else "")
        + f"; runs per sequence: {max(r[1] for r in rows)} at most "
        f"(budget {minimum}), {min(r[1] for r in rows)} at least.",
        "",
        f"Produced by `.venv/bin/python scripts/budget_runs.py --sweep {args.sweep}`.",
    ]
    return "\n".join(lines)


def _key(stream: str, record: dict[str, t.Any]) -> tuple[t.Any, ...]:
    """A record's identity across runs (products: any category, as the feeds emit them)."""
    return {
        "countries": lambda r: (r["country"],),
        "categories": lambda r: (r["store"], r["section"], r["id"]),
        "products": lambda r: (r["store"], r["id"]),
        "product_details": lambda r: (r["store"], r["id"]),
        "stock_prices": lambda r: (r["store"], r["productId"]),
    }[stream](record)


def main() -> None:
    """Run the daily job (or the sweep) and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=80_000)
    parser.add_argument("--tree", default="real")
    parser.add_argument("--new-per-day", type=int, default=210)
    parser.add_argument("--max-requests", type=int, default=2000)
    parser.add_argument("--max-runs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--sweep", type=int, default=0, help="sweep budgets on N products")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.sweep:
        text = sweep(args)
        out = args.out or ROOT / "bench" / "budget-sweep.md"
    else:
        text = daily_job(args)
        out = args.out or ROOT / "bench" / "budget-runs.md"
    print(text)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
