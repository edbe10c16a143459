"""Benchmark harness: the sandbox in its own process, and one contender run measured."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import typing as t
from pathlib import Path

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
        # The project's own uv (beside this interpreter) makes the venv and installs: no
        # pip, no uv per peer.
        uv = Path(sys.executable).with_name("uv")
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [
                str(uv),
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
        return sorted(set(ids))  # a category is linked from several sections

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
        "products": count_products(out),
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


def count_products(out: Path) -> float:
    """Distinct product ids of a Singer output's ``products`` records, or the floor's count."""
    ids: set[object] = set()
    last = ""
    with out.open() as lines:
        for line in lines:
            if line.startswith(('{"type":"RECORD"', '{"type": "RECORD"')):
                message = json.loads(line)
                if message.get("stream") == "products":
                    ids.add(message["record"].get("id"))
            elif line.strip():
                last = line
    if not ids and last.startswith('{"records"'):  # the floor prints its own count
        return float(json.loads(last).get("products", 0))
    return float(len(ids))


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
