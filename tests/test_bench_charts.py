"""The benchmark's charts: one PNG per scenario, redrawn from results.json alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import typing as t

from PIL import Image

from tests.helpers import ROOT

if t.TYPE_CHECKING:
    from pathlib import Path


def test_charts_only_draws_one_png_per_scenario(tmp_path: Path) -> None:
    shutil.copy(ROOT / "bench" / "results.json", tmp_path / "results.json")
    scenarios = list(json.loads((tmp_path / "results.json").read_text())["results"])
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--charts-only", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("chart-*.png")) == sorted(
        f"chart-{s}.png" for s in scenarios
    )
    assert len(scenarios) >= 2
    sizes = set()
    for scenario in scenarios:
        with Image.open(tmp_path / f"chart-{scenario}.png") as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width > 600
            assert height > 200
            # Not blank: the bars and labels use many colours.
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 10
            sizes.add((width, height))
    assert len(sizes) > 1  # one chart per scenario, not one image copied
    assert not (tmp_path / "results.md").exists()  # nothing was rerun
