"""The sandbox's real-size category tree (``tree="real"``) against the real 2022 tree.

Its size and depth are compared with the figures measured on the real sample (not typed in),
its nodes with the real node shape, and the tap is shown to read every one of its leaves.
"""

from __future__ import annotations

import typing as t

from tap_asos.categories import flatten_tree, leaf_category_ids
from tap_asos.sandbox.tree import leaves as server_leaves
from tests.helpers import api_get, catalog_for, run_tap, tap_config
from tests.sandbox_shapes import fold_children, load, missing_paths, shape_errors, table
from tests.test_fidelity import CATEGORY_NULLABLE

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

REAL = load("categories-list-2022.json")
TOLERANCE = 0.05  # "about the real size": within 5 %


def figures(tree: dict[str, t.Any]) -> dict[str, int]:
    """Genders, depth, nodes per section and leaf categories of a /categories/list body."""
    records = list(flatten_tree(tree))
    navigation = [r for r in records if r["section"] == "navigation"]
    return {
        "genders": len(tree["navigation"]),
        "depth": 1 + max(r["depth"] for r in navigation),
        "navigation_nodes": len(navigation),
        "navigation_leaves": sum(r["isLeaf"] for r in navigation),
        "leaf_categories": len(leaf_category_ids(tree)),
        "brands_nodes": sum(r["section"] == "brands" for r in records),
        "brands_depth": 1 + max(r["depth"] for r in records if r["section"] == "brands"),
        "footer_nodes": sum(r["section"] == "footer" for r in records),
    }


def test_real_tree_has_the_real_size_depth_and_node_shape(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(tree="real", products=300)
    ours = api_get(server.url, server.api_key, "/categories/list", country="US")
    real, got = figures(REAL), figures(ours)
    assert (real["genders"], real["depth"], real["brands_depth"]) == (2, 5, 2)
    for name, value in real.items():
        assert abs(got[name] - value) <= value * TOLERANCE, (name, got[name], value)
    real_shape = table(REAL, fold=fold_children)
    assert shape_errors(real_shape, ours, nullable=CATEGORY_NULLABLE) == []
    assert missing_paths(real_shape, table(ours, fold=fold_children)) == []
    ids = [r["id"] for r in flatten_tree(ours)]
    assert len(ids) == len(set(ids))  # one GUID per node


def test_the_default_tree_stays_small(sandbox: SandboxServer) -> None:
    got = figures(api_get(sandbox.url, sandbox.api_key, "/categories/list", country="US"))
    # Depth 5 since New in > NEW PRODUCTS > View all sits where the real one does; 18
    # ordinary leaves and 10 feeds (View all, 3 department lists, Back in stock per gender).
    assert (got["genders"], got["depth"], got["leaf_categories"]) == (2, 5, 28)
    assert len(server_leaves("small")) == 18


def test_the_tap_reads_every_leaf_of_the_real_tree(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    server = make_sandbox(tree="real", products=300, max_offset=0)
    leaves = leaf_category_ids(
        api_get(server.url, server.api_key, "/categories/list", country="US")
    )
    # The real tree's 573 distinct leaf ids: the ordinary leaves and the 10 feeds.
    assert len(leaves) == len(leaf_category_ids(REAL)) == len(server_leaves("real")) + 10
    config = tap_config(server.url, server.api_key, page_size=200)
    result = run_tap(config, catalog=catalog_for(config, select=["products"]))
    by_path = server.stats()["by_path"]
    # One listing call per leaf: each holds at most a page (300 products; a gender's View
    # all holds about 140 of them).
    assert by_path["/products/v2/list"] == len(leaves) > 500
    assert {r["categoryId"] for r in result.records["products"]} <= set(leaves)
    listed = {(r["categoryId"], r["id"]) for r in result.records["products"]}
    assert len(listed) == len(result.records["products"]) >= 300 * 0.9  # ~8 % not sold in US
