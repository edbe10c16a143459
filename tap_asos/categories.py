"""Flattening of the ``/categories/list`` navigation trees."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SECTIONS = ("navigation", "brands", "footer")
PATH_SEPARATOR = " > "


def _title(node: Mapping[str, t.Any]) -> str:
    content = node.get("content") or {}
    return str(content.get("title") or node.get("alias") or node.get("id") or "")


def flatten_tree(tree: Mapping[str, t.Any]) -> Iterator[dict[str, t.Any]]:
    """Yield one record per node of every section, parents before children.

    Each record is the node without ``children``, plus ``section``, ``parentId``,
    ``depth``, ``path``, ``categoryId`` (``link.categoryId``), ``isLeaf`` and
    ``childCount``.  A node listed twice in one section is emitted once.
    """
    for section in SECTIONS:
        seen: set[str] = set()
        stack: list[tuple[Mapping[str, t.Any], str | None, int, str]] = [
            (node, None, 0, "") for node in reversed(tree.get(section) or [])
        ]
        while stack:
            node, parent_id, depth, parent_path = stack.pop()
            node_id = str(node.get("id"))
            if node_id in seen:
                continue
            seen.add(node_id)
            children = node.get("children") or []
            path = f"{parent_path}{PATH_SEPARATOR}{_title(node)}" if parent_path else _title(node)
            record = {k: v for k, v in node.items() if k != "children"}
            link = node.get("link") or {}
            record.update(
                id=node_id,
                section=section,
                parentId=parent_id,
                depth=depth,
                path=path,
                categoryId=link.get("categoryId"),
                isLeaf=not children,
                childCount=len(children),
            )
            yield record
            stack.extend((child, node_id, depth + 1, path) for child in reversed(children))


def leaf_category_ids(tree: Mapping[str, t.Any]) -> list[int]:
    """Category ids of the leaf ``linkType: category`` nodes of the navigation tree.

    Leaves only: a parent category lists its children's products too, so reading
    parents as well would fetch every product several times.
    """
    ids: list[int] = []
    for record in flatten_tree({"navigation": tree.get("navigation") or []}):
        link = record.get("link") or {}
        category_id = link.get("categoryId")
        if record["isLeaf"] and link.get("linkType") == "category" and category_id is not None:
            ids.append(int(category_id))
    return list(dict.fromkeys(ids))
