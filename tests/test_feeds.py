"""The arrival feeds are found in real trees, in every language, and when titles and ids move."""

from __future__ import annotations

import copy
import json
import typing as t
from pathlib import Path

import pytest

from tap_asos.feeds import BACK_IN_STOCK, NEW_IN, FeedNotFoundError, find_feeds

REAL_TREE = Path(__file__).parent / "fixtures" / "real" / "categories-list-2022.json"


@pytest.fixture
def tree() -> dict[str, t.Any]:
    return json.loads(REAL_TREE.read_text())


def _nodes(node: dict[str, t.Any]) -> t.Iterator[dict[str, t.Any]]:
    yield node
    for child in node.get("children") or []:
        yield from _nodes(child)


def _every_node(tree: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [n for top in tree["navigation"] for n in _nodes(top)]


def test_the_2022_tree_gives_each_genders_new_in_view_all_and_back_in_stock(
    tree: dict[str, t.Any],
) -> None:
    feeds = find_feeds(tree, "US")
    assert {(f.category_id, f.kind, f.gender) for f in feeds} == {
        (27110, NEW_IN, "Men"),
        (17010, BACK_IN_STOCK, "Men"),
        (27108, NEW_IN, "Women"),
        (17204, BACK_IN_STOCK, "Women"),
    }


def test_feeds_are_found_whatever_the_language_of_the_titles(tree: dict[str, t.Any]) -> None:
    german = {"New in": "Neuheiten", "View all": "Alle anzeigen", "Back in stock": "Wieder da"}
    for node in _every_node(tree):
        content = node.get("content") or {}
        content["title"] = german.get(content.get("title"), f"Titel {node.get('id')}")
    ids = sorted(f.category_id for f in find_feeds(tree, "DE"))
    assert ids == [17010, 17204, 27108, 27110]


def test_feeds_are_found_by_alias_when_titles_and_ids_changed(tree: dict[str, t.Any]) -> None:
    moved = {27108: 31108, 27110: 31110, 17204: 18204, 17010: 18010}
    for node in _every_node(tree):
        content = node.get("content") or {}
        if content.get("title") == "Back in stock":
            content["title"] = "Restocked"
        elif content.get("title"):
            content["title"] = f"Renamed {content['title']}"
        link = node.get("link") or {}
        if link.get("categoryId") in moved:
            link["categoryId"] = moved[link["categoryId"]]
    feeds = find_feeds(tree, "US")
    assert sorted((f.category_id, f.kind) for f in feeds) == [
        (18010, BACK_IN_STOCK),
        (18204, BACK_IN_STOCK),
        (31108, NEW_IN),
        (31110, NEW_IN),
    ]


def test_without_aliases_the_new_in_section_is_found_by_title_and_view_all_leads_it(
    tree: dict[str, t.Any],
) -> None:
    for node in _every_node(tree):
        node["alias"] = None
    ids = sorted(f.category_id for f in find_feeds(tree, "US") if f.kind == NEW_IN)
    assert ids == [27108, 27110]


def test_a_tree_without_back_in_stock_has_new_in_feeds_only(tree: dict[str, t.Any]) -> None:
    for node in _every_node(tree):
        for child in list(node.get("children") or []):
            if (child.get("content") or {}).get("title") == "Back in stock":
                node["children"].remove(child)
    feeds = find_feeds(tree, "US")
    assert sorted((f.category_id, f.kind) for f in feeds) == [(27108, NEW_IN), (27110, NEW_IN)]


def test_a_gender_without_a_new_in_feed_is_an_error_naming_the_setting(
    tree: dict[str, t.Any],
) -> None:
    broken = copy.deepcopy(tree)
    women = broken["navigation"][1]
    for node in _nodes(women):
        node["alias"] = None
        node.setdefault("content", {})["title"] = f"Node {node.get('id')}"
    with pytest.raises(FeedNotFoundError, match="feed_category_ids") as info:
        find_feeds(broken, "US")
    assert "read_feeds" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.server  # the replay server
def test_an_incremental_run_on_a_tree_without_new_in_exits_2_naming_the_setting(
    tree: dict[str, t.Any], tmp_path: Path
) -> None:
    """A tree with no New in stops an incremental run at start, exit 2.

    The real 2022 tree without its New-in sections, served by the replay server: one
    line naming feed_category_ids, before any listing call.
    """
    from tests.helpers import run_cli, tap_config
    from tests.replay_server import ReplayServer

    for top in tree["navigation"]:
        for node in _nodes(top):
            node["children"] = [
                c for c in node.get("children") or [] if not str(c.get("alias")).endswith("_NI")
            ]
    with ReplayServer() as server:
        server.raw["/categories/list"] = json.dumps(tree).encode()
        config = tap_config(server.url, "replay-key", stores=["US"])
        result = run_cli(config, tmp_path)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "feed_category_ids" in result.stderr
        assert "/products/v2/list" not in server.requests
