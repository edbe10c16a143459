"""The tap end to end on real ASOS responses (tests/replay_server.py), not on the sandbox.

``tap-asos`` runs as a user runs it, against a server that answers with the verbatim real
samples: it exits 0, every record is valid against its SCHEMA message, no real field path
is dropped from the records, and the categories stream has one record per real node.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from collections import defaultdict
from pathlib import Path

import jsonschema

from tests.helpers import catalog_for, tap_config
from tests.replay_server import ReplayServer
from tests.sandbox_shapes import fold_children, load, table

TAP = str(Path(sys.executable).with_name("tap-asos"))
# Stock prices have no real sample (the reference gives their shape as likely only).
STREAMS = ("countries", "categories", "products", "product_details")
SECTIONS = ("navigation", "brands", "footer")  # of the real tree


def _strip(paths: t.Iterable[str], prefix: str) -> set[str]:
    """Paths below ``prefix``, re-rooted at ``$``."""
    return {"$" + p[len(prefix) :] for p in paths if p.startswith(prefix) and p != prefix}


def _run(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], ReplayServer]:
    with ReplayServer() as server:
        config = tap_config(
            server.url, "replay-key", stores=["US"], category_ids=sorted(server.pages)
        )
        (tmp_path / "config.json").write_text(json.dumps(config))
        catalog = catalog_for(config, select=STREAMS)
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        result = subprocess.run(
            [TAP, "--config", "config.json", "--catalog", "catalog.json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
        )
    return result, server


def test_the_tap_keeps_every_real_field_of_real_responses(tmp_path: Path) -> None:
    result, server = _run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    validators: dict[str, jsonschema.Draft7Validator] = {}
    records: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
    for message in map(json.loads, result.stdout.splitlines()):
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = jsonschema.Draft7Validator(message["schema"])
        elif message["type"] == "RECORD":
            validators[message["stream"]].validate(message["record"])
            records[message["stream"]].append(message["record"])
    assert set(records) == set(STREAMS)

    listed = [p for page in server.pages.values() for p in page["products"]]
    assert len(records["products"]) == len(listed) == 48 + 5 + 2
    assert len(records["product_details"]) == len(listed)
    tree = load("categories-list-2022.json")
    real = {
        "countries": _strip(table(load("countries-list.json")).paths(), "$[]"),
        "products": _strip(table({"products": listed}).paths(), "$.products[]"),
        "product_details": _strip(table(load("products-v3-detail-2023.json")).paths(), "$"),
        "categories": {
            path
            for section in SECTIONS
            for path in _strip(table(tree, fold=fold_children).paths(), f"$.{section}[]")
            if not path.startswith("$.children")  # the tree is flattened: parentId, depth
        },
    }
    for stream, paths in real.items():
        kept = table(*records[stream]).paths()
        assert sorted(paths - kept) == [], f"{stream} records drop real fields"

    def nodes(section: str) -> t.Iterator[dict[str, t.Any]]:
        stack = list(tree[section])
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node["children"])

    real_nodes = sorted((s, n["id"]) for s in SECTIONS for n in nodes(s))
    assert len(real_nodes) == 2368  # 1,034 navigation + 1,316 brands + 18 footer
    assert sorted((r["section"], r["id"]) for r in records["categories"]) == real_nodes
    assert "not in the schema" not in result.stderr  # no drift on real responses
    assert server.requests.count("/products/v3/detail") == len(listed)
