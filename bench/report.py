"""Benchmark report: ratios to the floor and to tap-asos, and the markdown table."""

from __future__ import annotations

import typing as t


def ratio_rows(results: dict[str, dict[str, dict[str, t.Any]]]) -> None:
    """Add time ratios to the floor and to tap-asos where both ran."""
    for rows in results.values():
        floor_s = rows.get("floor", {}).get("seconds")
        tap_s = rows.get("tap-asos", {}).get("seconds")
        for row in rows.values():
            if "error" in row:
                continue
            if floor_s:
                row["time_vs_floor"] = row["seconds"] / floor_s
            if tap_s:
                row["time_vs_tap_asos"] = row["seconds"] / tap_s


CANNOT = {
    ("B", "tap-rest-api-msdk"): "cannot express per-product detail fan-out or batched "
    "stock calls (one static path per stream)",
    ("B", "floor"): "not run: the floor is the bare listing loop of scenario A",
    ("C", "dlt rest_api"): "not run: its incremental cursor needs a persisted pipeline "
    "per run; a full re-read costs what scenario A shows",
}

TITLES = {
    "A": "A. full snapshot of the listings",
    "B": "B. listings + details + stock/prices, latency and a rate limit",
    "C": "C. incremental run after one day of new arrivals",
    "M": "M. tap-asos peak memory and state size, small vs large catalog",
}


def _ratio(row: dict[str, float], key: str) -> str:
    """A ratio cell: blank where the scenario has no floor or no tap-asos row to compare."""
    value = row.get(key)
    return "" if value is None else f"{value:.2f}"


def markdown(meta: dict[str, object], results: dict[str, dict[str, dict[str, float]]]) -> str:
    """The results as the markdown table the README quotes."""
    lines = [
        "# Benchmark results",
        "",
        f"{meta['date']} on {meta['machine']}; {meta['versions']}.",
        f"Command: `{meta['command']}`",
        "",
    ]
    for key, rows in results.items():
        lines += [
            f"### {TITLES[key]} ({meta['scenarios'][key]})",
            "",  # type: ignore[index]
            "| contender | seconds | records | records/s | requests | requests/s | "
            "CPU s | peak RSS MiB | time / floor | time / tap-asos |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in rows.items():
            if "error" in r:
                lines.append(f"| {name} | failed: {r['error']} | | | | | | | | |")
                continue
            lines.append(
                f"| {name} | {r['seconds']:.2f} | {r['records']:,.0f} | "
                f"{r['records_per_s']:,.0f} | {r['requests']:,.0f} | {r['requests_per_s']:.1f} | "
                f"{r['cpu_seconds']:.2f} | {r['peak_rss_mib']:.0f} | "
                f"{_ratio(r, 'time_vs_floor')} | {_ratio(r, 'time_vs_tap_asos')} |"
            )
        lines += [
            f"| {name} | {why} | | | | | | | | |" for (k, name), why in CANNOT.items() if k == key
        ]
        lines += [
            f"- {name}: {r['new_emitted']:,.0f} of the {r['new_in_listings']:,.0f} products "
            "that entered the listings since the last run emitted"
            for name, r in rows.items()
            if "new_in_listings" in r
        ]
        lines += [
            f"- {name}: incremental state {r['state_bytes_per_partition']:,.0f} bytes per "
            "partition (largest)"
            for name, r in rows.items()
            if "state_bytes_per_partition" in r
        ]
        lines.append("")
    return "\n".join(lines)
