"""Charts of the benchmark: one PNG per scenario, drawn from results.json.

Each chart puts the contenders side by side on the figures that matter for a run:
wall time, requests sent and peak memory (scenario M: state size per partition too).
"""

from __future__ import annotations

import typing as t

import matplotlib as mpl

mpl.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

if t.TYPE_CHECKING:
    from pathlib import Path

PANELS = (
    ("seconds", "wall time (s)"),
    ("requests", "requests sent"),
    ("peak_rss_mib", "peak memory (MiB)"),
)
STATE_PANEL = ("state_bytes_per_partition", "state (bytes / partition)")


def draw(results: dict[str, t.Any], out: Path) -> list[Path]:
    """Write ``chart-<scenario>.png`` into ``out`` for each scenario; return the paths."""
    meta = results.get("meta", {})
    paths = []
    for scenario, rows in results["results"].items():
        names = list(rows)
        panels = [p for p in (*PANELS, STATE_PANEL) if any(p[0] in row for row in rows.values())]
        fig, axes = plt.subplots(
            1, len(panels), figsize=(4.2 * len(panels), 0.55 * len(names) + 1.6), squeeze=False
        )
        for ax, (key, label) in zip(axes[0], panels, strict=True):
            values = [float(rows[name].get(key, 0) or 0) for name in names]
            colours = ["tab:blue" if name.startswith("tap-asos") else "tab:gray" for name in names]
            bars = ax.barh(names, values, color=colours)
            ax.bar_label(bars, labels=[_short(v) for v in values], padding=3, fontsize=8)
            ax.set_title(label, fontsize=10)
            ax.invert_yaxis()
            ax.margins(x=0.25)
            ax.tick_params(labelsize=8)
            if ax is not axes[0][0]:
                ax.set_yticklabels([])
        title = meta.get("scenarios", {}).get(scenario, "")
        fig.suptitle(f"Scenario {scenario}: {title}", fontsize=11)
        fig.tight_layout()
        path = out / f"chart-{scenario}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _short(value: float) -> str:
    """A bar's figure: integers as such, small numbers with one or two decimals."""
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"
