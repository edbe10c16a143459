"""Requests a default tap run makes per store on a category tree of the real API's size.

Starts a sandbox with ``--tree real`` (573 leaf categories), runs ``tap-asos`` with default
settings for one store (every stream, every leaf), advances the catalog one day and runs
again from the first run's state: the first run and the daily incremental steady state.
Prints the requests per endpoint, as the sandbox counted them.

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


def _run(server: SandboxServer, work: Path, state: dict[str, object] | None) -> dict[str, object]:
    config = {
        "api_url": server.url,
        "api_key": server.api_key,
        "stores": ["US"],
        "requests_per_second": 0,  # counts do not depend on the pace
    }
    (work / "config.json").write_text(json.dumps(config))
    args = [TAP, "--config", "config.json"]
    if state is not None:
        (work / "state.json").write_text(json.dumps(state))
        args += ["--state", "state.json"]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=work)
    states = [
        m["value"] for m in map(json.loads, result.stdout.splitlines()) if m["type"] == "STATE"
    ]
    return states[-1]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--tree", default="real")
    args = parser.parse_args()
    config = SandboxConfig(products=args.products, tree=args.tree)
    with SandboxServer(config) as server, tempfile.TemporaryDirectory() as tmp:
        state = _run(server, Path(tmp), None)
        first = Counter(server.stats()["by_path"])
        arrived = server.advance(1)["new_products"]
        _run(server, Path(tmp), state)
        second = Counter(server.stats()["by_path"]) - first
    print(f"tree={args.tree} products={args.products}; new the next day: {arrived}")
    print(f"{'endpoint':34} {'first run':>10} {'next day':>10}")
    for path in sorted(first):
        print(f"{path:34} {first[path]:>10} {second[path]:>10}")
    total = (sum(first.values()), sum(second.values()))
    print(f"{'total':34} {total[0]:>10} {total[1]:>10}")


if __name__ == "__main__":
    main()
