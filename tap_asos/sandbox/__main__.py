"""Command line: ``asos-sandbox`` / ``python -m tap_asos.sandbox``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from tap_asos.sandbox.config import OVER_LIMIT, SandboxConfig
from tap_asos.sandbox.feeds import TREE_YEARS
from tap_asos.sandbox.server import SandboxServer
from tap_asos.sandbox.tree import TREES


def _latency(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition(",")
    return int(lo), int(hi or lo)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the README's sandbox section)."""
    parser = argparse.ArgumentParser(prog="asos-sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--products", type=int, default=5000, help="catalog size at day 0")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="accepted X-RapidAPI-Key (repeatable; default sandbox-key)",
    )
    parser.add_argument("--rate-limit-per-second", type=float, default=0.0)
    parser.add_argument("--quota", type=int, default=0, help="requests allowed; 0 = unlimited")
    parser.add_argument("--latency-ms", type=_latency, default=(0, 0), help="e.g. 50,100")
    parser.add_argument("--new-per-day", type=int, default=None)
    parser.add_argument(
        "--id-spread-days",
        type=float,
        default=SandboxConfig.id_spread_days,
        help="ids are given this many days of arrivals before going live (0: ids grow)",
    )
    parser.add_argument(
        "--restocks-per-day", type=int, default=None, help="products back on top each day"
    )
    parser.add_argument(
        "--freshness-facet-percent",
        type=int,
        default=SandboxConfig.freshness_facet_percent,
        help="share of category listings with the freshness_band facet",
    )
    parser.add_argument(
        "--max-offset",
        type=int,
        default=SandboxConfig.max_offset,
        help="deepest listing position served, as upstream caps deep offsets; 0 = no cap",
    )
    parser.add_argument(
        "--max-limit",
        type=int,
        default=SandboxConfig.max_limit,
        help="largest page (limit) served",
    )
    parser.add_argument(
        "--over-limit",
        choices=OVER_LIMIT,
        default=SandboxConfig.over_limit,
        help="a limit above --max-limit: clamp (a page of max-limit products; likely what "
        "the real API does) or error (400 naming limit)",
    )
    parser.add_argument(
        "--listings-per-product",
        type=float,
        default=None,
        help="mean number of navigation listings a product is on (default: 8 on the real "
        "tree, as real details; 1.2 on the small one)",
    )
    parser.add_argument(
        "--tree",
        choices=TREES,
        default=SandboxConfig.tree,
        help="category tree: small (18 leaves) or real (the real API's size: 573 leaves)",
    )
    parser.add_argument(
        "--tree-year",
        type=int,
        choices=TREE_YEARS,
        default=SandboxConfig.tree_year,
        help="shape of the New-in section: 2022 (with Back in stock), 2023 (without), "
        "2025 (other feed titles and ids, same aliases)",
    )
    parser.add_argument(
        "--new-in-days",
        type=int,
        default=SandboxConfig.new_in_days,
        help="days a product stays in New in after going live",
    )
    parser.add_argument(
        "--new-in-skip-percent",
        type=int,
        default=SandboxConfig.new_in_skip_percent,
        help="share of arrivals that never enter New in",
    )
    parser.add_argument(
        "--back-in-stock-days",
        type=int,
        default=SandboxConfig.back_in_stock_days,
        help="days a restocked product stays in Back in stock",
    )
    parser.add_argument("--advance-days", type=int, default=0, help="start this many days on")
    parser.add_argument("--faults", type=json.loads, default=None, help="fault spec JSON")
    parser.add_argument("--url-file", type=Path, help="write the URL here once listening")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    args = parse_args(argv)
    config = SandboxConfig(
        seed=args.seed,
        products=args.products,
        api_keys=tuple(args.api_keys or ("sandbox-key",)),
        rate_limit_per_second=args.rate_limit_per_second,
        quota=args.quota,
        latency_ms=args.latency_ms,
        new_per_day=args.new_per_day,
        id_spread_days=args.id_spread_days,
        restocks_per_day=args.restocks_per_day,
        freshness_facet_percent=args.freshness_facet_percent,
        max_offset=args.max_offset,
        max_limit=args.max_limit,
        over_limit=args.over_limit,
        listings_per_product=args.listings_per_product,
        tree=args.tree,
        tree_year=args.tree_year,
        new_in_days=args.new_in_days,
        new_in_skip_percent=args.new_in_skip_percent,
        back_in_stock_days=args.back_in_stock_days,
    )
    # Handlers first: whoever reads the URL below may send SIGTERM at once.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = SandboxServer(config, host=args.host, port=args.port).start()
    if args.advance_days:
        server.advance(args.advance_days)
    if args.faults:
        server.set_faults(args.faults)
    if args.url_file:
        args.url_file.write_text(server.url + "\n")
    sys.stdout.write(f"ASOS sandbox listening on {server.url}\n")
    sys.stdout.flush()
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
