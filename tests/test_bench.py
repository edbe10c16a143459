"""The benchmark runs end to end on a tiny catalog, so it cannot rot (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.bench


def test_tiny_benchmark_produces_every_scenario(tmp_path: Path) -> None:
    """Slow by nature: the real benchmark (sandboxes, peer virtualenvs, every scenario).

    That is what keeps it from rotting; the catalog is tiny.
    """
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--products-a",
            "1500",
            "--products-b",
            "60",
            "--latency-ms",
            "5,10",
            "--rate",
            "200",
            "--memory-small",
            "200",
            "--memory-large",
            "400",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "results.json").read_text())
    results = data["results"]
    assert set(results) == {"A", "B", "C", "M"}
    a = results["A"]
    assert {"tap-asos", "tap-rest-api-msdk", "dlt rest_api", "floor"} <= set(a)
    listed = a["floor"]["records"]
    for name in ("tap-rest-api-msdk", "dlt rest_api"):
        assert a[name]["records"] == listed, name  # same catalog, a record per listing
    # tap-asos emits each product once, however many listings hold it.
    assert a["tap-asos"]["records"] == a["floor"]["products"] == a["tap-asos"]["products"] > 0
    for name in ("tap-asos", "tap-rest-api-msdk", "dlt rest_api"):
        assert a[name]["peak_rss_mib"] > 0
    assert results["B"]["tap-asos"]["requests"] < results["B"]["dlt rest_api"]["requests"]
    c = results["C"]
    # The incremental run reads one page per category, the snapshot about four.
    assert c["tap-asos"]["requests"] * 3 < a["tap-asos"]["requests"]
    assert c["tap-asos"]["requests"] < c["floor"]["requests"]
    assert 0 < c["tap-asos"]["records"] < c["floor"]["records"]
    for name in ("tap-asos", "tap-asos, five days on"):
        assert c[name]["new_in_listings"] > 0
        assert c[name]["new_emitted"] == c[name]["new_in_listings"], name  # none lost
    later = c["tap-asos, five days on"]
    assert later["records"] > c["tap-asos"]["records"]
    assert later["requests"] >= c["tap-asos"]["requests"]
    m = results["M"]
    assert {r["state_bytes_per_partition"] for r in m.values()} <= set(range(100, 400))
    assert "| tap-asos |" in (tmp_path / "results.md").read_text()
    # make bench draws its charts too (their content: tests/test_bench_charts.py).
    assert sorted(p.name for p in tmp_path.glob("chart-*.png")) == [
        f"chart-{s}.png" for s in "ABCM"
    ]
