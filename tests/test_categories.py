"""Unit tests of the navigation-tree flattening."""

from __future__ import annotations

import typing as t

from tap_asos.categories import flatten_tree, leaf_category_ids


def _node(
    node_id: str,
    title: str,
    category_id: int | None = None,
    children: list[dict[str, t.Any]] | None = None,
) -> dict[str, t.Any]:
    link = {"linkType": "category", "categoryId": category_id} if category_id else None
    return {"id": node_id, "content": {"title": title}, "link": link, "children": children or []}


TREE = {
    "navigation": [
        _node(
            "w",
            "Women",
            children=[
                _node(
                    "w-shoes",
                    "Shoes",
                    4172,
                    children=[
                        _node("w-boots", "Boots", 4209),
                        _node("w-trainers", "Trainers", 6456),
                    ],
                ),
                _node("w-dresses", "Dresses", 8799),
            ],
        ),
        _node("m", "Men", children=[_node("m-boots", "Boots", 5774)]),
    ],
    "brands": [_node("b", "Brands")],
    "footer": [],
}


def test_flatten_emits_every_node_once_with_parents_first() -> None:
    records = list(flatten_tree(TREE))
    ids = [r["id"] for r in records]
    assert ids == ["w", "w-shoes", "w-boots", "w-trainers", "w-dresses", "m", "m-boots", "b"]
    by_id = {r["id"]: r for r in records}
    assert by_id["w-boots"]["parentId"] == "w-shoes"
    assert by_id["w-boots"]["depth"] == 2
    assert by_id["w-boots"]["path"] == "Women > Shoes > Boots"
    assert by_id["w-boots"]["categoryId"] == 4209
    assert by_id["w-shoes"]["isLeaf"] is False
    assert by_id["w-shoes"]["childCount"] == 2
    assert "children" not in by_id["w"]
    assert by_id["b"]["section"] == "brands"


def test_duplicate_nodes_are_emitted_once() -> None:
    tree = {"navigation": [_node("a", "A"), _node("a", "A again")]}
    assert [r["content"]["title"] for r in flatten_tree(tree)] == ["A"]


def test_leaf_category_ids_skip_parents_and_non_category_links() -> None:
    assert leaf_category_ids(TREE) == [4209, 6456, 8799, 5774]
