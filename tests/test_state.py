"""The products state: one definition, a version in every STATE, every earlier shape read.

``tests/fixtures/state`` holds a state written by each earlier release (its README says
how); each is read, upgraded in place and resumed from with no arrival lost.
"""

from __future__ import annotations

import ast
import copy
import json
import typing as t
from datetime import datetime
from pathlib import Path

import pytest

from tap_asos.inputs import check_state
from tap_asos.state import (
    CONTEXT_KEYS,
    PARTITION_KEYS,
    STATE_VERSION,
    STREAM_KEYS,
    VERSION,
    ProductsState,
    StateVersionError,
    shape_of,
    upgrade,
)
from tests.helpers import catalog_for, listed_ids, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "state"
# Each file, and the shape it was written in (see tap_asos/state.py's docstring).
WRITTEN = {
    "v1-0.1.0-incremental": 1,
    "v1-0.1.0-snapshot-in-progress": 1,
    "v2-anchors-incremental": 2,
    "v2-anchors-snapshot-in-progress": 2,
    "v3-feeds-incremental": 3,
    "v3-feeds-snapshot-in-progress": 3,
}


def _written(name: str) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", json.loads((FIXTURES / f"{name}.json").read_text()))


def test_every_fixture_is_listed() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(WRITTEN)


@pytest.mark.parametrize(("name", "shape"), WRITTEN.items())
def test_each_earlier_shape_is_told_apart(name: str, shape: int) -> None:
    assert shape_of(_written(name)["bookmarks"]["products"]) == shape


@pytest.mark.parametrize("name", WRITTEN)
def test_each_earlier_shape_is_read_and_upgraded_in_place_keeping_every_bookmark(
    name: str,
) -> None:
    state = _written(name)
    before = copy.deepcopy(state["bookmarks"]["products"])
    check_state(json.dumps(state), f"{name}.json")  # the input check accepts it
    view = ProductsState(state["bookmarks"]["products"])
    assert view.raw[VERSION] == STATE_VERSION
    assert shape_of(view.raw) == STATE_VERSION
    partitions = view.partitions()
    assert len(partitions) == len(before["partitions"]) == 2
    for old, new in zip(before["partitions"], partitions, strict=True):
        assert (new.store, new.category_id) == (
            old["context"]["store"],
            old["context"]["categoryId"],
        )
        checked = old.get("checked_at")
        assert new.bookmark.checked_at == (datetime.fromisoformat(checked) if checked else None)
        assert new.bookmark.anchors == tuple(old.get("anchors", ()))
        assert new.bookmark.frozen == old.get("frozen")
        assert new.bookmark.fetched == frozenset(old.get("fetched", ()))
        assert new.costs == old.get("costs", {})
        assert new.snapshot_at == old.get("snapshot_at")
    # 0.1.0's id bookmark is gone: ids do not tell arrivals, and the SDK must not compare
    # an id with this release's replication key (snapshotAt).
    assert all(e.get("replication_key") != "id" for e in view.entries())
    again = copy.deepcopy(view.raw)
    upgrade(again)
    assert again == view.raw  # idempotent
    if "snapshot-in-progress" in name:
        assert view.resumed == before["snapshot_in_progress"]
        # The stopped snapshot finished the first partition, not the second.
        assert [view.done_in_snapshot(p) for p in partitions] == [True, False]
    else:
        assert view.resumed is None
        assert not any(view.done_in_snapshot(p) for p in partitions)


def test_a_state_written_by_a_newer_release_is_refused() -> None:
    newer = {"version": STATE_VERSION + 1, "partitions": []}
    with pytest.raises(StateVersionError, match="newer tap-asos"):
        ProductsState(newer)


@pytest.mark.parametrize("name", ["v1-0.1.0-incremental", "v3-feeds-snapshot-in-progress"])
def test_every_state_the_tap_writes_carries_the_version(sandbox: SandboxServer, name: str) -> None:
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799, 6455])
    method = "FULL_TABLE" if "snapshot" in name else "INCREMENTAL"
    catalog = catalog_for(config, select=["products"], products_method=method)
    result = run_tap(config, catalog=catalog, state=_written(name))
    versions = [s["bookmarks"]["products"].get("version") for s in result.states]
    assert versions
    assert set(versions) == {STATE_VERSION}  # the first STATE (the input's) included


def _as_written_in(shape: int, state: dict[str, t.Any]) -> dict[str, t.Any]:
    """This release's state, rewritten with the keys the release of ``shape`` wrote."""
    kept = {
        key
        for name, written in WRITTEN.items()
        if written == shape and "incremental" in name
        for entry in _written(name)["bookmarks"]["products"]["partitions"]
        for key in entry
    }
    old = copy.deepcopy(state)
    products = old["bookmarks"]["products"]
    products.pop(VERSION)
    for entry in products["partitions"]:
        for key in [k for k in entry if k not in kept]:
            del entry[key]
        if shape == 1:
            # 0.1.0's bookmark: the highest id seen, under replication key "id".
            entry.update(replication_key="id", replication_key_value=299_999_999)
    assert shape_of(products) == shape
    return old


@pytest.mark.parametrize("shape", [1, 2, 3])
def test_no_arrival_is_lost_resuming_from_a_state_of_each_earlier_shape(
    make_sandbox: Callable[..., SandboxServer], shape: int
) -> None:
    server = make_sandbox(products=1500, freshness_facet_percent=100)
    categories = [8799, 4169, 6455]
    config = tap_config(server.url, server.api_key, category_ids=categories)
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    before = _listed(server, categories)
    server.advance(1)
    resumed = run_tap(config, catalog=catalog, state=_as_written_in(shape, first.final_state))
    emitted = {(r["categoryId"], r["id"]) for r in resumed.records["products"]}
    arrivals = _listed(server, categories) - before
    assert arrivals  # the day brought arrivals (and restocks) to these listings
    assert arrivals <= emitted, sorted(arrivals - emitted)
    upgraded = resumed.final_state["bookmarks"]["products"]
    assert upgraded[VERSION] == STATE_VERSION
    assert all(p["anchors"] for p in upgraded["partitions"])


def _listed(server: SandboxServer, categories: list[int]) -> set[tuple[int, int]]:
    return {(c, i) for c in categories for i in listed_ids(server.url, server.api_key, "US", c)}


def test_no_module_but_state_names_a_state_key() -> None:
    # The keys only tap_asos/state.py may spell out (the context's store and categoryId
    # are also record fields, named everywhere; "partitions", the SDK's list, is a word
    # the plan's figures use too).
    keys = set(PARTITION_KEYS) | set(STREAM_KEYS) | {"bookmarks"}
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tap_asos").glob("*.py")):
        if path.name == "state.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in keys:
                found.setdefault(path.name, []).append(str(node.value))
    assert not found, f"state keys named outside tap_asos/state.py: {found}"


def test_the_state_keys_in_docs_are_the_state_modules() -> None:
    page = (ROOT / "docs" / "bad-input.md").read_text()
    start = page.index("<!-- state-keys:start")
    table = page[page.index("\n", start) + 1 : page.index("<!-- state-keys:end")]
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[2].strip()
        for line in table.splitlines()
        if line.startswith("| `")
    }
    expected = {
        **{f"context.{k}": v.expected for k, v in CONTEXT_KEYS.items()},
        **{k: v.expected for k, v in PARTITION_KEYS.items()},
        **{f"<stream>.{k}": v.expected for k, v in STREAM_KEYS.items()},
    }
    assert rows == expected
