"""README.md, meltano.yml, the config schema and `--about` agree on settings and streams."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tap_asos.settings import CONFIG_SCHEMA
from tap_asos.tap import STREAM_TYPES
from tests.helpers import plugin_about

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MELTANO = yaml.safe_load((ROOT / "meltano.yml").read_text())


def _plugin(kind: str, name: str) -> dict[str, object]:
    return next(p for p in MELTANO["plugins"][kind] if p["name"] == name)


def test_meltano_settings_match_the_config_schema() -> None:
    settings = {s["name"]: s for s in _plugin("extractors", "tap-asos")["settings"]}
    assert set(settings) == set(CONFIG_SCHEMA["properties"])
    for name, prop in CONFIG_SCHEMA["properties"].items():
        setting = settings[name]
        assert setting.get("label") == prop["title"], name
        assert setting.get("description"), name
        assert bool(setting.get("sensitive")) == bool(prop.get("writeOnly")), name
        if "default" in prop:
            assert setting.get("value") == prop["default"], name


def test_readme_settings_table_is_the_about_output() -> None:
    about = subprocess.run(
        [str(Path(sys.executable).with_name("tap-asos")), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "TAP_ASOS_API_KEY": "x"},
    ).stdout
    rows = [
        line
        for line in about.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip() in CONFIG_SCHEMA["properties"]
    ]
    assert len(rows) == len(CONFIG_SCHEMA["properties"])
    for row in rows:
        assert row in README, f"README settings table is stale: {row[:60]}"


def test_about_json_lists_every_setting_and_capability() -> None:
    about = plugin_about("tap-asos")
    assert set(CONFIG_SCHEMA["properties"]) <= set(about["settings"]["properties"])
    declared = set(_plugin("extractors", "tap-asos")["capabilities"])
    assert declared == set(about["capabilities"])


def test_readme_streams_table_names_every_stream_and_key() -> None:
    for stream in STREAM_TYPES:
        row = next(line for line in README.splitlines() if line.startswith(f"| `{stream.name}` |"))
        for key in stream.primary_keys or []:
            assert f"`{key}`" in row, (stream.name, key)


def test_loader_settings_exist_in_the_loader() -> None:
    about = plugin_about("target-s3")
    declared = {s["name"] for s in _plugin("loaders", "target-s3")["settings"]}
    assert declared <= set(about["settings"]["properties"])
    # validate-records is not in Meltano 4.4.1's meltano.yml schema (tests/test_hub_definitions.py).
    capabilities = set(about["capabilities"]) - {"validate-records"}
    assert set(_plugin("loaders", "target-s3")["capabilities"]) == capabilities


def test_readme_and_about_state_the_same_incremental_semantics() -> None:
    about = plugin_about("tap-asos")["description"]
    readme = (ROOT / "README.md").read_text()
    for fact in ("given at creation", "at least once", "two adjacent ids", "ceil((new + "):
        assert fact in " ".join(about.split()), fact
    for fact in (
        "given when a product is created",
        "at-least-once",
        "next to each other",
        "ceil((new + last_today + 2) / page_size)",
    ):
        assert fact in " ".join(readme.split()), fact


def test_the_slow_tests_say_why_and_the_docs_quote_the_last_fresh_clone_timing() -> None:
    """bench/suite-time.md is what scripts/time-fresh-clone.sh last measured."""
    timing = (ROOT / "bench" / "suite-time.md").read_text()
    seconds = re.search(r"wall time: \*\*(\d+) s\*\* \(exit code 0\)", timing)
    assert seconds is not None
    development = (ROOT / "docs" / "development.md").read_text()
    assert f"`make test` took {seconds[1]} s on 2 idle cores" in development
    slowest = re.findall(
        r"^([0-9.]+)s (call|setup|teardown)\s+(\S+?)::(\w+)", timing, flags=re.MULTILINE
    )
    assert len(slowest) == 15
    for took, when, path, name in slowest:
        if float(took) < 8 or when != "call":  # the slow end-to-end tests, not the rest
            continue
        tree = ast.parse((ROOT / path).read_text())
        functions = (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef))
        test = next(node for node in functions if node.name == name)
        assert (ast.get_docstring(test) or "").startswith("Slow by nature: "), f"{path}::{name}"
